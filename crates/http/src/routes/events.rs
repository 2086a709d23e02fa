//! `POST /api/v1/events` (ingest) and `GET /api/v1/events` (raw events, newest first).

use crate::auth::{self, Action, Caller};
use crate::routes::raw_body;
use crate::{ApiError, AppState};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_ENCODING;
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use chrono::Utc;
use sextant_core::{ErrorKind, InputMode};
use sextant_ingest::{IngestReport, RawEvent, decode_body, parse_native};
use sextant_query::{EventListQuery, EventPage, PlanOptions};
use sextant_store::ProjectStats;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(list).post(ingest)).route("/api/v1/stats", get(stats))
}

/// Accepts one event, an array, or `{"write_key", "events"}`; the key may also come as
/// `Authorization: Bearer`. Answers 200 with per-event errors when at least one event was
/// stored, 400 when none was.
async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReport>, ApiError> {
    // A key in the header is checked before the body is decompressed and parsed.
    let from_header = match auth::bearer(&headers)? {
        Some(token) => Some(auth::authenticate(&state, token).await?.project(Action::Ingest)?),
        None => None,
    };
    let body = raw_body(body)?;
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let decoded = decode_body(body, encoding, state.limits.max_body_bytes)?;
    let batch = parse_native(&decoded)?;
    let project = match (from_header, batch.write_key.as_deref()) {
        (Some(project), _) => project,
        (None, Some(token)) => auth::authenticate(&state, token).await?.project(Action::Ingest)?,
        (None, None) => {
            return Err(ApiError::new(
                ErrorKind::Unauthenticated,
                "send the project's write key as `Authorization: Bearer <key>` or as `write_key` in the body",
            ));
        }
    };

    let events = batch.events.into_iter().map(RawEvent::from_native).collect();
    let report = state.ingestor.ingest(&project, events, InputMode::Api).await?;
    if report.accepted == 0 {
        let mut error = ApiError::invalid(format!(
            "all {} events were rejected; see `errors`",
            report.rejected
        ))
        .with_code("invalid_events");
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&report) {
            error.extra = Some(fields);
        }
        return Err(error);
    }
    Ok(Json(report))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<EventListQuery>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let project = caller.project(Action::Read)?;
    let Query(query) =
        query.map_err(|e| ApiError::invalid(e.body_text()).with_code("invalid_parameters"))?;
    let opts = PlanOptions {
        project_id: project,
        now: sextant_core::truncate_to_micros(Utc::now()),
        max_buckets: state.limits.max_buckets,
        rollups: true,
    };
    Ok(Json(state.events.list_events(&query, &opts).await?))
}

async fn stats(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProjectStats>, ApiError> {
    let project = caller.project(Action::Read)?;
    Ok(Json(state.events.project_stats(&project).await?))
}
