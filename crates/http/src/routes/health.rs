//! Liveness, readiness and metrics.

use crate::api::{Api, Operation};
use crate::auth::Caller;
use crate::routes::tags;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

pub(crate) fn api() -> Api {
    Api::new()
        .add(
            Operation::get("/healthz", "healthz", "The process is up (says nothing about storage)")
                .tag(tags::HEALTH)
                .public(),
            healthz,
        )
        .add(
            Operation::get("/readyz", "readyz", "Both stores answer: send traffic here")
                .tag(tags::HEALTH)
                .public()
                .also(&[503]),
            readyz,
        )
        .add(
            Operation::get(
                "/metrics",
                "metrics",
                "Prometheus metrics of the whole server (instance admin key)",
            )
            .tag(tags::HEALTH),
            metrics,
        )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

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

/// Prometheus text format; needs an instance admin key (the numbers describe every project).
async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.instance()?;
    Ok((
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.encode(),
    ))
}
