//! Paths two tools share, told apart by the payload: `/batch` (Amplitude's `{"api_key",
//! "events"}` or PostHog's `{"api_key", "batch"}`), `/track` and `/engage` (Mixpanel's, unless
//! the payload is PostHog's), plus Mixpanel's `/import`.

use super::{ClientIp, amplitude, mixpanel, posthog, text_error};
use crate::api::Api;
use crate::routes::raw_body;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use sextant_ingest::decode_body;
use sextant_ingest::wire::payload::Envelope;
use sextant_ingest::wire::posthog::looks_like_posthog;

pub(crate) fn api() -> Api {
    let op = super::operation;
    let mut api = Api::new();
    for path in ["/batch", "/batch/"] {
        api = api
            .add(
                op(
                    Method::POST,
                    path,
                    "batch",
                    "PostHog /batch/ or Segment-style batch, by payload",
                ),
                batch,
            )
            .add(op(Method::OPTIONS, path, "batch", "CORS preflight"), super::preflight);
    }
    for path in ["/track", "/track/"] {
        api = api
            .add(
                op(Method::GET, path, "track", "Mixpanel /track (GET) or PostHog, by payload"),
                track,
            )
            .add(op(Method::POST, path, "track", "Mixpanel /track or PostHog, by payload"), track)
            .add(op(Method::OPTIONS, path, "track", "CORS preflight"), super::preflight);
    }
    for path in ["/engage", "/engage/"] {
        api = api
            .add(
                op(Method::GET, path, "engage", "Mixpanel /engage (GET) or PostHog, by payload"),
                engage,
            )
            .add(
                op(Method::POST, path, "engage", "Mixpanel /engage or PostHog, by payload"),
                engage,
            )
            .add(op(Method::OPTIONS, path, "engage", "CORS preflight"), super::preflight);
    }
    api.add(
        op(Method::POST, "/import", "mixpanel", "Mixpanel /import (project token as Basic user)"),
        import,
    )
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
