//! The HTTP API on axum. Each resource has its own module registering its operations through
//! `api::Api` (route and OpenAPI description in one call); who may do what is decided in
//! `auth`, error kinds become statuses in `error`, and every authenticated operation is
//! recorded by `audit`.

mod api;
mod audit;
mod auth;
mod error;
mod observe;
mod routes;
mod security;
mod state;

pub use api::Routes;
pub use auth::{CREDENTIAL_CACHE_TTL, Gateway};
pub use error::ApiError;
pub use routes::admin::DEFAULT_ORG;
pub use state::{AccessOptions, AppState, HttpLimits};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// Every operation, with the layers its group needs: CORS open to any site for the ingestion
/// wire formats (browser SDKs), strict for Sextant's own API.
fn operations(state: &AppState) -> api::Api {
    let api = api::Api::new()
        .merge(routes::health::api())
        .merge(routes::events::api())
        .merge(routes::query::api())
        .merge(routes::admin::api())
        .merge(routes::accounts::api())
        .merge(routes::session::api())
        .merge(routes::audit::api())
        .merge(routes::jobs::api())
        .merge(routes::amplitude::api())
        .merge(routes::docs::api())
        .layer(security::api_cors(&state.cors_allowed_origins));
    api.merge(routes::wire::api())
}

/// The whole application: every route, with the shared layers.
pub fn app(mut state: AppState) -> Router {
    let (router, routes) = operations(&state).finish();
    state.routes = routes;
    let limits = state.limits.clone();
    router
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::count_responses))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout.max(Duration::from_millis(1)),
        ))
        // Spans name the method and path only: query strings can carry keys (PostHog's
        // `?api_key=`), and keys never reach logs.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::extract::Request| {
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
                })
                .on_response(DefaultOnResponse::new()),
        )
        .layer(CatchPanicLayer::custom(error::panic_response))
        .with_state(state)
}

/// The OpenAPI document of the whole API, without a running server (tests, `sextant`).
pub fn openapi(state: &AppState) -> Arc<Routes> {
    operations(state).finish().1
}
