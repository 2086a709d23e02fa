//! `POST /graphql`: the `trackEvent`/`trackEvents` mutations (a write key) and the `events`
//! query (raw events: the `read_events` permission on the named project), answered as GraphQL
//! over HTTP expects: `{"data": ...}` or `{"errors": [{"message", "extensions": {"code"}}]}`,
//! with the status of the error's kind.

use crate::api::Api;
use crate::auth::Caller;
use crate::routes::{json_body, raw_body, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde_json::{Map, Value, json};
use sextant_core::InputMode;
use sextant_ingest::RawEvent;
use sextant_ingest::wire::graphql::{Operation, RootField, plan, shape};
use sextant_query::{EventListQuery, PlanOptions};

pub(crate) fn api() -> Api {
    Api::new().add(
        crate::api::Operation::post(
            "/graphql",
            "graphql",
            "GraphQL: trackEvent/trackEvents mutations and the events query",
        )
        .tag(tags::INGESTION)
        .json_body(|_| {
            schemars::json_schema!({
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string"},
                    "variables": {"type": "object"},
                    "operationName": {"type": "string"},
                },
            })
        })
        .ok(200, None),
        graphql,
    )
}

async fn graphql(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match run(&state, caller, body).await {
        Ok(data) => Json(json!({"data": data})).into_response(),
        Err(e) => {
            let p = e.public();
            let errors = json!([{"message": p.message, "extensions": {"code": p.code}}]);
            (p.status, Json(json!({"data": null, "errors": errors}))).into_response()
        }
    }
}

async fn run(
    state: &AppState,
    caller: Result<Caller, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let request: Value = json_body(&raw_body(body)?)?;
    let (_, fields) =
        plan(&request).map_err(|m| ApiError::invalid(m).with_code("invalid_graphql"))?;
    let caller = caller?;
    let reads = fields.iter().any(|f| matches!(f.operation, Operation::Events { .. }));
    if let (false, Some(slot)) = (reads, &caller.audit) {
        // Ingestion only: counted by the ingestion metrics, not the audit log.
        slot.skip();
    }
    let mut data = Map::new();
    for field in fields {
        let answer = resolve(state, &caller, &field).await?;
        data.insert(field.key, answer);
    }
    Ok(Value::Object(data))
}

async fn resolve(state: &AppState, caller: &Caller, field: &RootField) -> Result<Value, ApiError> {
    match &field.operation {
        Operation::Typename(name) => Ok(Value::from(*name)),
        Operation::Track(events) => {
            let project = caller.ingest_project()?;
            let events = events.iter().cloned().map(RawEvent::from).collect();
            let report = state.ingestor.ingest(&project, events, InputMode::Api).await?;
            // Every field, even those the REST answer omits when empty.
            let report = json!({
                "accepted": report.accepted, "rejected": report.rejected,
                "dropped": report.dropped, "errors": report.errors,
            });
            Ok(shape(&report, &field.selection, "IngestReport"))
        }
        Operation::Events { project, limit, cursor, event } => {
            let access = caller
                .project(state, Some(project), sextant_access::Permission::ReadEvents)
                .await?;
            let project = access.project.id;
            let query = EventListQuery {
                limit: limit.map(|l| l as usize),
                cursor: cursor.clone(),
                event: event.clone(),
                ..EventListQuery::default()
            };
            let opts = PlanOptions {
                project_id: project,
                now: sextant_core::truncate_to_micros(Utc::now()),
                max_buckets: state.limits.max_buckets,
                rollups: true,
            };
            let page = state.events.list_events(&query, &opts).await?;
            let page = serde_json::to_value(&page).unwrap_or_default();
            Ok(shape(&page, &field.selection, "EventPage"))
        }
    }
}
