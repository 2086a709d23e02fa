//! Per-response metrics, labelled by route template so cardinality stays bounded.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use sextant_telemetry::HttpLabels;

pub(crate) async fn count_responses(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    state
        .metrics
        .http_requests
        .get_or_create(&HttpLabels { route, method, status: response.status().as_u16() })
        .inc();
    response
}
