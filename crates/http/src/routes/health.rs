//! Liveness, readiness and metrics.

use crate::auth::{Action, Caller};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up. Says nothing about storage.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Both stores answer; load balancers should send traffic.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (meta, events) = tokio::join!(state.meta.ping(), state.events.ping());
    let check =
        |r: &Result<(), sextant_store::StoreError>| if r.is_ok() { "ok" } else { "unavailable" };
    let body = json!({
        "status": if meta.is_ok() && events.is_ok() { "ready" } else { "unavailable" },
        "checks": {"metadata": check(&meta), "events": check(&events)},
    });
    for error in [meta.err(), events.err()].into_iter().flatten() {
        tracing::warn!(%error, "readiness check failed");
    }
    let status =
        if body["status"] == "ready" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}

/// Prometheus text format; needs an admin key (the numbers describe every project).
async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Action::Admin)?;
    Ok((
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.encode(),
    ))
}
