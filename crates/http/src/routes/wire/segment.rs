//! Segment HTTP Tracking API `/v1/{track,identify,page,screen,group,alias,batch}`. The write key
//! comes as HTTP Basic `base64(writeKey + ":")` or as `writeKey` in the body. Success is
//! `200 {"success": true}`; errors are `{"success": false, "code", "message"}`, which the SDKs
//! log (4xx, not retried) or retry (503).

use super::{project_for_key, refused, refused_error};
use crate::api::Api;
use crate::error::with_retry_after;
use crate::routes::raw_body;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_ENCODING;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use sextant_core::{ErrorKind, InputMode};
use sextant_ingest::decode_body;
use sextant_ingest::wire::segment::{MAX_BATCH_BYTES, parse};

const CALLS: [&str; 7] = ["track", "identify", "page", "screen", "group", "alias", "batch"];

pub(crate) fn api() -> Api {
    Api::new().add(
        super::operation(
            Method::POST,
            "/v1/{call}",
            "segment",
            "Segment HTTP Tracking API: identify, track, page, screen, group, alias, batch",
        )
        .path_choice(
            "call",
            "The Segment call",
            &["identify", "track", "page", "screen", "group", "alias", "batch"],
        )
        // Another call name (the description's enum tells clients which exist).
        .also(&[404]),
        call,
    )
}

async fn call(
    State(state): State<AppState>,
    Path(call): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match handle(&state, &call, &headers, body).await {
        Ok(()) => (StatusCode::OK, Json(json!({"success": true}))).into_response(),
        Err(e) => error(e),
    }
}

async fn handle(
    state: &AppState,
    call: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(), ApiError> {
    if !CALLS.contains(&call) {
        return Err(ApiError::new(ErrorKind::NotFound, format!("no Segment call `{call}`")));
    }
    let body = raw_body(body)?;
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let body = decode_body(body, encoding, state.limits.max_body_bytes)?;
    if body.len() > MAX_BATCH_BYTES {
        return Err(ApiError::invalid(format!(
            "the body is {} bytes; Segment's limit is {MAX_BATCH_BYTES}",
            body.len()
        )));
    }
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("invalid JSON: {e}")))?;
    let batch = parse(call, payload).map_err(ApiError::invalid)?;
    let key = basic_username(headers).or(batch.write_key).ok_or_else(|| {
        ApiError::new(ErrorKind::Unauthenticated, "send the write key as Basic auth or `writeKey`")
    })?;
    let project = project_for_key(state, &key)
        .await
        .map_err(|_| ApiError::new(ErrorKind::Unauthenticated, "invalid write key"))?;
    let report = state.ingestor.ingest(&project, batch.events, InputMode::Api).await?;
    refused_error(&refused(batch.problems, &report), "message")
}

/// `Authorization: Basic base64(user:password)` → user.
pub(crate) fn basic_username(headers: &HeaderMap) -> Option<String> {
    crate::auth::basic(headers).map(|(user, _)| user).filter(|user| !user.is_empty())
}

fn error(e: ApiError) -> Response {
    let public = e.public();
    let body = json!({"success": false, "code": public.code, "message": public.message});
    with_retry_after((public.status, Json(body)).into_response(), public.retry_after)
}
