//! Amplitude HTTP V2 `POST /2/httpapi`, Batch `POST /batch`, Identify `POST /identify`.
//! Every JSON body carries `code` equal to the HTTP status: the SDKs read `code`.

use super::{ClientIp, project_for_key};
use crate::api::Api;
use crate::error::with_retry_after;
use crate::routes::raw_body;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_ENCODING;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde_json::{Value, json};
use sextant_core::{ErrorKind, InputMode};
use sextant_ingest::wire::amplitude::{UploadError, parse_identify, parse_upload};
use sextant_ingest::{IngestError, Throttled, decode_body};

/// `/2/httpapi` limits (`/batch` has only the server's body limit).
const HTTPAPI_MAX_EVENTS: usize = 2000;
const HTTPAPI_MAX_BYTES: usize = 1 << 20;

pub(crate) fn api() -> Api {
    Api::new()
        .add(
            super::operation(
                Method::POST,
                "/2/httpapi",
                "amplitude",
                "Amplitude HTTP V2 API upload",
            )
            .also(&[413]),
            httpapi,
        )
        .add(
            super::operation(Method::POST, "/identify", "amplitude", "Amplitude Identify API"),
            identify,
        )
}

async fn httpapi(
    state: State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    upload(state, ip, headers, body, Some((HTTPAPI_MAX_EVENTS, HTTPAPI_MAX_BYTES))).await
}

async fn upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limits: Option<(usize, usize)>,
) -> Response {
    let body = match raw_body(body) {
        Ok(body) => body,
        Err(e) => return error(e),
    };
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let body = match decode_body(body, encoding, state.limits.max_body_bytes) {
        Ok(body) => body,
        Err(e) => return error(e.into()),
    };
    upload_decoded(&state, ip, body, limits).await
}

/// An upload whose body is already decompressed (`/batch` arrives here after dispatch).
pub(crate) async fn upload_decoded(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    body: Bytes,
    limits: Option<(usize, usize)>,
) -> Response {
    let too_large = || reply(StatusCode::PAYLOAD_TOO_LARGE, json!({"error": "Payload too large"}));
    if limits.is_some_and(|(_, max_bytes)| body.len() >= max_bytes) {
        return too_large();
    }
    let mut upload = match parse_upload(&body, ip) {
        Ok(upload) => upload,
        Err(e) => return upload_error(e),
    };
    if limits.is_some_and(|(max_events, _)| upload.events.len() > max_events) {
        return too_large();
    }
    let project = match project_for_key(state, &upload.api_key).await {
        Ok(project) => project,
        Err(e) if e.kind == ErrorKind::Unauthenticated || e.kind == ErrorKind::Forbidden => {
            return reply(StatusCode::BAD_REQUEST, json!({"error": "Invalid API key"}));
        }
        Err(e) => return error(e),
    };
    let received = upload.events.len();
    let prepared = match state.ingestor.prepare(&project, upload.events, InputMode::Api).await {
        Ok(prepared) => prepared,
        Err(IngestError::RateLimited(throttled)) => return rate_limited(&throttled),
        Err(e) => return error(e.into()),
    };
    for rejected in &prepared.report.errors {
        for field_error in &rejected.errors {
            let missing = field_error.code == "missing_field";
            upload.problems.add_native(&field_error.field, missing, rejected.index);
        }
    }
    if !upload.problems.is_empty() {
        let mut body = serde_json::to_value(&upload.problems).unwrap_or_default();
        body["error"] = json!("Invalid field values on some events");
        return reply(StatusCode::BAD_REQUEST, body);
    }
    if let Err(e) = state.ingestor.commit(prepared).await {
        return error(e.into());
    }
    reply(
        StatusCode::OK,
        json!({
            "events_ingested": received,
            "payload_size_bytes": body.len(),
            "server_upload_time": Utc::now().timestamp_millis(),
        }),
    )
}

/// The Identify API answers `success` in plain text.
async fn identify(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match raw_body(body) {
        Ok(body) => body,
        Err(e) => return error(e),
    };
    let (key, events) = match parse_identify(&body) {
        Ok(parsed) => parsed,
        Err(e) => return upload_error(e),
    };
    let Ok(project) = project_for_key(&state, &key).await else {
        return reply(StatusCode::BAD_REQUEST, json!({"error": "Invalid API key"}));
    };
    match state.ingestor.ingest(&project, events, InputMode::Api).await {
        Ok(report) if report.rejected == 0 => (StatusCode::OK, "success").into_response(),
        Ok(report) => reply(
            StatusCode::BAD_REQUEST,
            json!({"error": "Invalid identification", "errors": report.errors}),
        ),
        Err(e) => error(e.into()),
    }
}

/// Amplitude's 429: the threshold, who was throttled and which events to send again later.
fn rate_limited(throttled: &Throttled) -> Response {
    let users: serde_json::Map<String, Value> =
        throttled.users.iter().map(|u| (u.clone(), json!(throttled.threshold))).collect();
    let response = reply(
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "error": "Too many requests for some devices and users",
            "eps_threshold": throttled.threshold,
            "throttled_devices": {},
            "throttled_users": users,
            "throttled_events": throttled.indices,
        }),
    );
    with_retry_after(response, Some(throttled.retry_after))
}

fn upload_error(e: UploadError) -> Response {
    match e {
        UploadError::MissingField(field) => reply(
            StatusCode::BAD_REQUEST,
            json!({"error": "Request missing required field", "missing_field": field}),
        ),
        UploadError::Invalid(message) => reply(StatusCode::BAD_REQUEST, json!({"error": message})),
    }
}

/// Any other failure, in Amplitude's shape with our status mapping (503 + Retry-After for
/// overload and storage outages, which the SDKs retry).
fn error(e: ApiError) -> Response {
    let public = e.public();
    with_retry_after(reply(public.status, json!({"error": public.message})), public.retry_after)
}

fn reply(status: StatusCode, mut body: Value) -> Response {
    body["code"] = json!(status.as_u16());
    (status, Json(body)).into_response()
}
