//! `POST /api/v1/query`: run any query spec against a project. Also the one place where a
//! route authorises and runs a query (`authorize`, `execute`), so every query is checked
//! against the caller's role, timed, counted and logged alike.

use crate::api::{Api, Operation, schema_of};
use crate::auth::{Caller, ProjectAccess, ProjectParam};
use crate::routes::{json_body, raw_body, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, header::HeaderName};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use sextant_access::{Permission, business_query_allowed};
use sextant_core::{ErrorKind, ProjectId, Role};
use sextant_query::{PlanOptions, Query, QueryResult};
use std::time::Instant;

pub(crate) fn api() -> Api {
    Api::new().add(
        Operation::post(
            "/api/v1/query",
            "run_query",
            "Run a query spec (trends, funnel, retention, ...; docs/queries.md)",
        )
        .reads()
        .tag(tags::QUERIES)
        .project_param()
        .json_body(schema_of::<Query>())
        .ok(200, Some(schema_of::<QueryResult>())),
        run,
    )
}

async fn run(
    State(state): State<AppState>,
    caller: Caller,
    ProjectParam(project): ProjectParam,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let query: Query = json_body(&raw_body(body)?).map_err(|e| e.with_code("invalid_query"))?;
    let access = authorize(&state, &caller, project.as_deref(), &query).await?;
    let (result, elapsed) =
        execute(&state, &plan_options(&state, access.project.id), &query).await?;
    let mut response = Json(result).into_response();
    if let Ok(timing) = HeaderValue::from_str(&format!("query;dur={:.3}", elapsed * 1e3)) {
        response.headers_mut().insert(HeaderName::from_static("server-timing"), timing);
    }
    Ok(response)
}

/// Whether `caller` may run `query` on a project: people-level kinds need `read_events`, the
/// others `query`; business viewers are further held to the project's business events.
pub(crate) async fn authorize(
    state: &AppState,
    caller: &Caller,
    project: Option<&str>,
    query: &Query,
) -> Result<ProjectAccess, ApiError> {
    let need = match query {
        Query::FunnelPersons(_) => Permission::ReadEvents,
        _ => Permission::Query,
    };
    let access = caller.project(state, project, need).await?;
    if access.role == Some(Role::BusinessViewer) {
        let settings = state.meta.project_settings(&access.project.id).await?;
        business_query_allowed(query, settings.business_events.as_deref())
            .map_err(|reason| ApiError::new(ErrorKind::Forbidden, reason))?;
    }
    Ok(access)
}

/// The plan options of a query run now for `project`.
pub(crate) fn plan_options(state: &AppState, project: ProjectId) -> PlanOptions {
    PlanOptions {
        project_id: project,
        now: sextant_core::truncate_to_micros(Utc::now()),
        max_buckets: state.limits.max_buckets,
        rollups: true,
    }
}

/// Runs `query`, recording its duration (the metric and a log line); returns the result and
/// the seconds it took.
pub(crate) async fn execute(
    state: &AppState,
    opts: &PlanOptions,
    query: &Query,
) -> Result<(QueryResult, f64), ApiError> {
    let started = Instant::now();
    let result = state.events.query(query, opts).await;
    let elapsed = started.elapsed().as_secs_f64();
    state.metrics.record_query(query.kind(), elapsed);
    tracing::info!(project = %opts.project_id, kind = query.kind(), elapsed_ms = elapsed * 1e3, ok = result.is_ok(), "query");
    Ok((result?, elapsed))
}
