//! Mixpanel `/track`, `/engage` (both GET `?data=` or POST form/JSON, token inside the
//! payload) and `/import` (Basic auth with the key as user name). Replies: `1`/`0`, or with
//! `verbose=1` `{"status": 1|0, "error"}`; `/import` answers
//! `{"code", "num_records_imported", "status"}` with `failed_records` on 400.

use super::segment::basic_username;
use super::{ClientIp, project_for_key, refused, refused_error};
use crate::{ApiError, AppState};
use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sextant_core::{ErrorKind, InputMode};
use sextant_ingest::wire::mixpanel::{Batch, Endpoint, parse_engage, parse_events};
use sextant_ingest::wire::payload::Envelope;

/// `/track` or `/engage` with an already decoded payload.
pub(crate) async fn track_or_engage(
    state: &AppState,
    ClientIp(ip): ClientIp,
    envelope: &Envelope<'_>,
    payload: Value,
    engage: bool,
) -> Response {
    let verbose = envelope.param("verbose").as_deref() == Some("1");
    let use_ip = envelope.param("ip").as_deref() == Some("1");
    let batch = if engage {
        parse_engage(payload)
    } else {
        parse_events(payload, Endpoint::Track, ip.filter(|_| use_ip))
    };
    let result = match batch.token.clone() {
        None => Err(ApiError::new(ErrorKind::Unauthenticated, "no project token in the payload")),
        Some(token) => store(state, &token, batch)
            .await
            .and_then(|(_, refused)| refused_error(&refused, "event")),
    };
    match (result, verbose) {
        (Ok(()), true) => Json(json!({"status": 1, "error": null})).into_response(),
        (Ok(()), false) => "1".into_response(),
        (Err(e), true) => {
            let p = e.public();
            (p.status, Json(json!({"status": 0, "error": p.message}))).into_response()
        }
        (Err(e), false) => (e.public().status, "0").into_response(),
    }
}

/// `/import`: the key in Basic auth (or the events' token), strict validation of each record.
pub(crate) async fn import(state: &AppState, headers: &HeaderMap, payload: Value) -> Response {
    let batch = parse_events(payload, Endpoint::Import, None);
    let key = basic_username(headers).or_else(|| batch.token.clone());
    let outcome = match key {
        None => {
            Err(ApiError::new(ErrorKind::Unauthenticated, "send the key as Basic auth user name"))
        }
        Some(key) => store(state, &key, batch).await,
    };
    match outcome {
        Ok((imported, refused)) if refused.is_empty() => {
            Json(json!({"code": 200, "num_records_imported": imported, "status": "OK"}))
                .into_response()
        }
        Ok((imported, refused)) => {
            let failed: Vec<Value> = refused
                .iter()
                .map(|(index, message)| json!({"index": index, "message": message}))
                .collect();
            (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 400, "num_records_imported": imported, "status": "Bad Request", "failed_records": failed})),
            )
                .into_response()
        }
        Err(e) => {
            let p = e.public();
            let body = json!({"code": p.status.as_u16(), "status": "Error", "error": p.message});
            (p.status, Json(body)).into_response()
        }
    }
}

/// Stores what is valid; returns how many events were stored and every refused one (index,
/// reason). Errs only when nothing could be done (bad key, storage).
async fn store(
    state: &AppState,
    key: &str,
    batch: Batch,
) -> Result<(usize, Vec<(usize, String)>), ApiError> {
    let project = project_for_key(state, key)
        .await
        .map_err(|_| ApiError::new(ErrorKind::Unauthenticated, "invalid project token"))?;
    let report = state.ingestor.ingest(&project, batch.events, InputMode::Api).await?;
    let own = batch.problems.iter().map(|(i, field, m)| (*i, format!("{field}: {m}")));
    Ok((report.accepted, refused(own, &report)))
}
