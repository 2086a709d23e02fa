//! PostHog capture endpoints, with and without trailing slash, GET/POST, CORS for posthog-js.
//! Success is exactly `200 {"status":"Ok"}` (posthog-python accepts nothing else), or 204 for
//! `beacon=1`; errors are plain text, which PostHog's SDKs log and do not retry (4xx) or retry
//! (503).

use super::{ClientIp, project_for_key, refused, refused_error, text_error};
use crate::api::Api;
use crate::routes::raw_body;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use sextant_core::{ErrorKind, InputMode};
use sextant_ingest::wire::payload::Envelope;
use sextant_ingest::wire::posthog::{CaptureError, parse};
use sextant_ingest::{ClientHints, decode_body};

const PATHS: [&str; 6] = ["/e", "/e/", "/i/v0/e", "/i/v0/e/", "/capture", "/capture/"];

pub(crate) fn api() -> Api {
    PATHS.iter().fold(Api::new(), |api, path| {
        api.add(
            super::operation(Method::GET, path, "posthog", "PostHog capture (GET)").also(&[204]),
            capture,
        )
        .add(
            super::operation(Method::POST, path, "posthog", "PostHog capture").also(&[204]),
            capture,
        )
        .add(super::operation(Method::OPTIONS, path, "posthog", "CORS preflight"), super::preflight)
    })
}

/// One capture request, whichever path it came to.
pub(crate) async fn capture(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query.unwrap_or_default();
    match handle(&state, ip, &query, &headers, body).await {
        Ok(())
            if sextant_ingest::wire::payload::param(&query, "beacon").as_deref() == Some("1") =>
        {
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(()) => (StatusCode::OK, Json(json!({"status": "Ok"}))).into_response(),
        Err(e) => text_error(e),
    }
}

/// Decodes and maps a payload already known to be PostHog's; also used by the shared
/// `/track`, `/engage` and `/batch` dispatchers.
pub(crate) async fn handle(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    query: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(), ApiError> {
    let payload = decode(state, query, headers, body)?;
    ingest(state, ip, headers, payload).await
}

pub(crate) fn decode(
    state: &AppState,
    query: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let body = raw_body(body)?;
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let body = decode_body(body, encoding, state.limits.max_body_bytes)?;
    let envelope = Envelope {
        body: &body,
        content_type: headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        query,
        max_bytes: state.limits.max_body_bytes,
    };
    envelope.json().map_err(ApiError::invalid)
}

pub(crate) async fn ingest(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    payload: Value,
) -> Result<(), ApiError> {
    let user_agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let capture = parse(payload, &ClientHints { ip, user_agent }).map_err(|e| match e {
        CaptureError::Invalid(message) => ApiError::invalid(message),
        CaptureError::Token(message) => ApiError::new(ErrorKind::Unauthenticated, message),
    })?;
    let project = project_for_key(state, &capture.token)
        .await
        .map_err(|_| ApiError::new(ErrorKind::Unauthenticated, "invalid project token"))?;
    let report = state.ingestor.ingest(&project, capture.events, InputMode::Api).await?;
    refused_error(&refused(capture.problems, &report), "event")
}
