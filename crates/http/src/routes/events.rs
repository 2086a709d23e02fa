//! `POST /api/v1/events` (ingest), `GET /api/v1/events` (raw events, newest first) and
//! `GET /api/v1/stats`.

use crate::api::{Api, Operation, schema_of};
use crate::auth::{self, Caller, ProjectParam};
use crate::routes::{query_params, raw_body, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_ENCODING;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use sextant_access::Permission;
use sextant_core::{ErrorKind, InputMode};
use sextant_ingest::{IngestReport, RawEvent, decode_body, parse_native};
use sextant_query::{EventListQuery, EventPage};
use sextant_store::ProjectStats;

pub(crate) fn api() -> Api {
    Api::new()
        .add(
            Operation::post("/api/v1/events", "ingest_events", "Send one event, an array, or {write_key, events}")
                .tag(tags::INGESTION)
                .ingest()
                .any_body(
                    &["application/json"],
                    json!({"description": "An event object, an array of them, or {\"write_key\", \"events\"}; gzip with Content-Encoding. Fields: docs/api.md"}),
                )
                .ok(200, Some(schema_of::<IngestReport>())),
            ingest,
        )
        .add(
            Operation::get("/api/v1/events", "list_events", "Raw events, newest first, with cursor pagination")
                .tag(tags::QUERIES)
                .project_param()
                .query("limit", "Page size, 1 to 1000 (default 100)", json!({"type": "integer", "minimum": 1, "maximum": 1000}))
                .query("cursor", "The previous page's next_cursor", json!({"type": "string"}))
                .query("event", "Only this event type", json!({"type": "string"}))
                .query("from", "Start: RFC 3339, a date, or relative such as -7d", json!({"type": "string"}))
                .query("to", "End (exclusive)", json!({"type": "string"}))
                .ok(200, Some(schema_of::<EventPage>())),
            list,
        )
        .add(
            Operation::get("/api/v1/stats", "project_stats", "How many events a project holds, oldest and newest")
                .tag(tags::QUERIES)
                .project_param()
                .ok(200, Some(schema_of::<ProjectStats>())),
            stats,
        )
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
        Some(token) => Some(auth::ingest_project(&state, token).await?),
        None => None,
    };
    let body = raw_body(body)?;
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let decoded = decode_body(body, encoding, state.limits.max_body_bytes)?;
    let batch = parse_native(&decoded)?;
    let project = match (from_header, batch.write_key.as_deref()) {
        (Some(project), _) => project,
        (None, Some(token)) => auth::ingest_project(&state, token).await?,
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

/// The query string of `GET /api/v1/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let p = query_params(params)?;
    let access = caller.project(&state, p.project.as_deref(), Permission::ReadEvents).await?;
    let query =
        EventListQuery { limit: p.limit, cursor: p.cursor, event: p.event, from: p.from, to: p.to };
    let opts = crate::routes::query::plan_options(&state, access.project.id);
    Ok(Json(state.events.list_events(&query, &opts).await?))
}

async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    ProjectParam(project): ProjectParam,
) -> Result<Json<ProjectStats>, ApiError> {
    let access = caller.project(&state, project.as_deref(), Permission::ReadSystem).await?;
    Ok(Json(state.events.project_stats(&access.project.id).await?))
}
