//! `POST /graphql`: the `trackEvent`/`trackEvents` mutations (write key) and the admin-only
//! `events` query, answered as GraphQL over HTTP expects: `{"data": ...}` or
//! `{"errors": [{"message", "extensions": {"code"}}]}`, with the status of the error's kind.

use crate::auth::{self, Action, Caller};
use crate::routes::admin::existing_project;
use crate::routes::{json_body, raw_body};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use chrono::Utc;
use serde_json::{Map, Value, json};
use sextant_core::{ErrorKind, InputMode};
use sextant_ingest::RawEvent;
use sextant_ingest::wire::graphql::{Operation, RootField, plan, shape};
use sextant_query::{EventListQuery, PlanOptions};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/graphql", post(graphql))
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match run(&state, &headers, body).await {
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
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let request: Value = json_body(&raw_body(body)?)?;
    let (_, fields) =
        plan(&request).map_err(|m| ApiError::invalid(m).with_code("invalid_graphql"))?;
    let token = auth::bearer(headers)?.ok_or_else(|| {
        ApiError::new(ErrorKind::Unauthenticated, "send a key as `Authorization: Bearer <key>`")
    })?;
    let caller = auth::authenticate(state, token).await?;
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
            let project = caller.project(Action::Ingest)?;
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
            caller.require(Action::Admin)?;
            let project = existing_project(state, project).await?;
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
