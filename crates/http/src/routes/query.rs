//! `POST /api/v1/query`: run any query spec against the caller's project. Also the one place
//! where a route runs a query (`execute`), so every query is timed, counted and logged alike.

use crate::auth::{Action, Caller};
use crate::routes::{json_body, raw_body};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, header::HeaderName};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use chrono::Utc;
use sextant_core::ProjectId;
use sextant_query::{PlanOptions, Query, QueryResult};
use std::time::Instant;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/query", post(run))
}

async fn run(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let project = caller.project(Action::Read)?;
    let query: Query = json_body(&raw_body(body)?).map_err(|e| e.with_code("invalid_query"))?;
    let (result, elapsed) = execute(&state, &plan_options(&state, project), &query).await?;
    let mut response = Json(result).into_response();
    if let Ok(timing) = HeaderValue::from_str(&format!("query;dur={:.3}", elapsed * 1e3)) {
        response.headers_mut().insert(HeaderName::from_static("server-timing"), timing);
    }
    Ok(response)
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
