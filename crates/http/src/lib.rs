//! The HTTP API on axum. Each resource has its own router; authentication and authorisation
//! live in one module (`auth`) and error→status mapping in one function (`error`), so later
//! features (roles, compat endpoints, UI) extend rather than repeat them.

mod auth;
mod error;
mod observe;
mod routes;
mod state;

pub use auth::KEY_CACHE_TTL;
pub use error::ApiError;
pub use routes::admin::DEFAULT_ORG;
pub use state::{AppState, HttpLimits};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The whole application: every route, with the shared layers.
pub fn app(state: AppState) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .merge(routes::health::router())
        .merge(routes::events::router())
        .merge(routes::query::router())
        .merge(routes::admin::router())
        .merge(routes::wire::router())
        .merge(routes::amplitude::router())
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::count_responses))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout.max(Duration::from_millis(1)),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(error::panic_response))
        .with_state(state)
}
