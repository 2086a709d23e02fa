//! Other tools' ingestion endpoints. Each module answers in exactly the shape its official SDKs
//! parse; the status for an error still comes from `error::status_of`, so the kind → status
//! mapping stays in one place.

pub(crate) mod amplitude;
pub(crate) mod domains;
pub(crate) mod graphql;
pub(crate) mod mixpanel;
pub(crate) mod plausible;
pub(crate) mod posthog;
pub(crate) mod segment;
pub(crate) mod shared;

use crate::api::{Api, Operation};
use crate::auth;
use crate::error::with_retry_after;
use crate::routes::tags;
use crate::{ApiError, AppState};
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sextant_core::ProjectId;
use sextant_ingest::IngestReport;
use std::net::{IpAddr, SocketAddr};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// Every wire format's operations.
pub(crate) fn api() -> Api {
    // Browser SDKs (posthog-js, Plausible's tracker) send from any site: mirror the origin.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(std::time::Duration::from_secs(86_400));
    Api::new()
        .merge(amplitude::api())
        .merge(posthog::api())
        .merge(segment::api())
        .merge(plausible::api())
        .merge(shared::api())
        .merge(graphql::api())
        .layer(cors)
}

/// An ingestion operation of another tool's wire format: its SDKs decide the body (JSON,
/// form-encoded, base64, gzip), so the body is described loosely and `docs/api.md` has the
/// details. The id is made unique per method and path.
pub(crate) fn operation(
    method: Method,
    path: &'static str,
    name: &str,
    summary: &'static str,
) -> Operation {
    let slug: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let trailing = if path.len() > 1 && path.ends_with('/') { "_slash" } else { "" };
    let id = format!("{name}_{}_{slug}{trailing}", method.as_str().to_ascii_lowercase());
    let op = Operation::new(method.clone(), path, id, summary).tag(tags::WIRE);
    match method {
        // The CORS layer answers preflights itself, with 200.
        Method::OPTIONS => op.public().ok(200, None),
        Method::GET => op.ingest().ok(200, None),
        _ => op
            .ingest()
            .changes()
            .any_body(
                &["application/json", "application/x-www-form-urlencoded", "text/plain"],
                json!({"description": "As the tool's SDKs send it; see docs/api.md"}),
            )
            .ok(200, None),
    }
}

/// CORS preflight: the wire CORS layer answers it (200); this only makes the method routed.
pub(crate) async fn preflight() -> axum::http::StatusCode {
    axum::http::StatusCode::OK
}

/// A plain-text error (PostHog, Mixpanel and Plausible SDKs log the text), with the status from
/// the one kind → status mapping and `Retry-After` when retrying helps.
pub(crate) fn text_error(e: ApiError) -> Response {
    let public = e.public();
    with_retry_after((public.status, public.message).into_response(), public.retry_after)
}

/// Every refused event of a request, by index: the wire format's own findings first, then
/// what the shared validation refused among the others.
pub(crate) fn refused(
    own: impl IntoIterator<Item = (usize, String)>,
    report: &IngestReport,
) -> Vec<(usize, String)> {
    let mut refused: Vec<(usize, String)> = own.into_iter().collect();
    for r in &report.errors {
        if !refused.iter().any(|(i, _)| *i == r.index) {
            let reasons: Vec<&str> = r.errors.iter().map(|e| e.message.as_str()).collect();
            refused.push((r.index, reasons.join("; ")));
        }
    }
    refused
}

/// `refused` as one 400 message naming each (`noun` 3: reason), or `Ok` when none was.
pub(crate) fn refused_error(refused: &[(usize, String)], noun: &str) -> Result<(), ApiError> {
    if refused.is_empty() {
        return Ok(());
    }
    let each: Vec<String> =
        refused.iter().map(|(i, reason)| format!("{noun} {i}: {reason}")).collect();
    Err(ApiError::invalid(format!(
        "{} {noun}s were refused (the others were stored): {}",
        refused.len(),
        each.join(" | ")
    )))
}

/// The project a write key sends to.
pub(crate) async fn project_for_key(state: &AppState, key: &str) -> Result<ProjectId, ApiError> {
    auth::ingest_project(state, key).await
}

/// The visitor's address: the first valid `X-Forwarded-For` entry (Sextant usually runs
/// behind a proxy), else `X-Real-IP`, else the peer. Only ever used for the visitor hash.
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientIp(forwarded_ip(&parts.headers).or(peer)))
    }
}

pub(crate) fn forwarded_ip(headers: &HeaderMap) -> Option<IpAddr> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-forwarded-for")
        .and_then(|list| list.split(',').find_map(|part| part.trim().parse().ok()))
        .or_else(|| header("x-real-ip").and_then(|v| v.trim().parse().ok()))
}
