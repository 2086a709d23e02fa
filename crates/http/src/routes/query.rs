//! `POST /api/v1/query`: run any query spec against the caller's project.

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
use sextant_query::{PlanOptions, Query};
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
    let opts = PlanOptions {
        project_id: project.clone(),
        now: Utc::now(),
        max_buckets: state.limits.max_buckets,
    };
    let started = Instant::now();
    let result = state.events.query(&query, &opts).await;
    let elapsed = started.elapsed().as_secs_f64();
    state.metrics.record_query(query.kind(), elapsed);
    tracing::info!(project = %project, kind = query.kind(), elapsed_ms = elapsed * 1e3, ok = result.is_ok(), "query");
    let mut response = Json(result?).into_response();
    if let Ok(timing) = HeaderValue::from_str(&format!("query;dur={:.3}", elapsed * 1e3)) {
        response.headers_mut().insert(HeaderName::from_static("server-timing"), timing);
    }
    Ok(response)
}
