//! Paths two tools share, told apart by the payload: `/batch` (Amplitude's `{"api_key",
//! "events"}` or PostHog's `{"api_key", "batch"}`), `/track` and `/engage` (Mixpanel's, unless
//! the payload is PostHog's), plus Mixpanel's `/import`.

use super::{ClientIp, amplitude, mixpanel, posthog, text_error};
use crate::routes::raw_body;
use crate::{ApiError, AppState};
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{Value, json};
use sextant_ingest::decode_body;
use sextant_ingest::wire::payload::Envelope;
use sextant_ingest::wire::posthog::looks_like_posthog;

pub(crate) fn router() -> Router<AppState> {
    let mut router = Router::new();
    for path in ["/batch", "/batch/"] {
        router = router.route(path, post(batch).options(posthog::preflight));
    }
    for path in ["/track", "/track/"] {
        router = router.route(path, get(track).post(track).options(posthog::preflight));
    }
    for path in ["/engage", "/engage/"] {
        router = router.route(path, get(engage).post(engage).options(posthog::preflight));
    }
    router.route("/import", post(import))
}

/// The decoded body and the JSON payload inside whatever envelope carried it.
fn unwrap(
    state: &AppState,
    query: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Bytes, Value), ApiError> {
    let body = raw_body(body)?;
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let body = decode_body(body, encoding, state.limits.max_body_bytes)?;
    let payload = envelope(&body, query, headers, state).json().map_err(ApiError::invalid)?;
    Ok((body, payload))
}

fn envelope<'a>(
    body: &'a [u8],
    query: &'a str,
    headers: &'a HeaderMap,
    state: &AppState,
) -> Envelope<'a> {
    Envelope {
        body,
        content_type: headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        query,
        max_bytes: state.limits.max_body_bytes,
    }
}

async fn batch(
    State(state): State<AppState>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query.unwrap_or_default();
    let (body, payload) = match unwrap(&state, &query, &headers, body) {
        Ok(decoded) => decoded,
        Err(e) => return text_error(e),
    };
    let amplitude = payload.get("events").is_some() && payload.get("batch").is_none();
    if amplitude {
        return amplitude::upload_decoded(&state, ip.0, body, None).await;
    }
    match posthog::ingest(&state, ip.0, &headers, payload).await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "Ok"}))).into_response(),
        Err(e) => text_error(e),
    }
}

async fn track(
    state: State<AppState>,
    ip: ClientIp,
    query: RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    track_or_engage(state, ip, query, headers, body, false).await
}

async fn engage(
    state: State<AppState>,
    ip: ClientIp,
    query: RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    track_or_engage(state, ip, query, headers, body, true).await
}

async fn track_or_engage(
    State(state): State<AppState>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    engage: bool,
) -> Response {
    let query = query.unwrap_or_default();
    let (body, payload) = match unwrap(&state, &query, &headers, body) {
        Ok(decoded) => decoded,
        // Mixpanel's clients read `0`; PostHog's log any non-2xx.
        Err(e) => return (e.public().status, "0").into_response(),
    };
    let mixpanel_engage =
        engage && (payload.get("$token").is_some() || payload.pointer("/0/$token").is_some());
    if !mixpanel_engage && looks_like_posthog(&payload) {
        return match posthog::ingest(&state, ip.0, &headers, payload).await {
            Ok(()) => (StatusCode::OK, Json(json!({"status": "Ok"}))).into_response(),
            Err(e) => text_error(e),
        };
    }
    let envelope = envelope(&body, &query, &headers, &state);
    mixpanel::track_or_engage(&state, ip, &envelope, payload, engage).await
}

async fn import(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let query = query.unwrap_or_default();
    let payload = match unwrap(&state, &query, &headers, body) {
        Ok((_, payload)) => payload,
        Err(e) => {
            let p = e.public();
            let body = json!({"code": p.status.as_u16(), "status": "Error", "error": p.message});
            return (p.status, Json(body)).into_response();
        }
    };
    mixpanel::import(&state, &headers, payload).await
}
