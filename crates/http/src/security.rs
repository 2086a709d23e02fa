//! Hardening shared by every route: security headers, CORS for the API (strict: only
//! configured origins), rate limits per caller on the API and per email and address on logins.

use crate::auth::Caller;
use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use sextant_core::{ErrorKind, KeyedBuckets};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Headers every response carries; the API documentation page gets a policy that lets its own
/// script and styles run (and nothing from elsewhere).
pub(crate) async fn headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let docs = request.uri().path().starts_with("/docs");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        if docs {
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
        } else {
            "default-src 'none'; frame-ancestors 'none'"
        },
    );
    set(headers, header::CACHE_CONTROL, "no-store");
    if state.security.https {
        set(headers, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    response
}

/// CORS for Sextant's own API: browsers may call it only from the configured origins (with
/// credentials, so the web UI's session works). With none configured, no CORS headers are sent
/// and browsers keep other sites out.
pub(crate) fn api_cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> =
        origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-csrf-token"),
        ])
        .allow_credentials(true)
        .max_age(Duration::from_secs(3600))
}

/// Requests per second per caller on the API (ingestion has its own limits).
#[derive(Debug)]
pub(crate) struct ApiLimiter {
    buckets: Option<Mutex<KeyedBuckets<String>>>,
}

impl ApiLimiter {
    /// `per_second` sustained, bursts of twice as many; 0 turns the limit off.
    pub(crate) fn new(per_second: u64) -> Self {
        let rate = per_second as f64;
        Self { buckets: (per_second > 0).then(|| Mutex::new(KeyedBuckets::new(rate, 2.0 * rate))) }
    }

    pub(crate) fn admit(&self, caller: &Caller) -> Result<(), ApiError> {
        let Some(buckets) = &self.buckets else { return Ok(()) };
        let Ok(mut buckets) = buckets.lock() else { return Ok(()) };
        buckets.admit(&caller.actor(), 1.0, Instant::now()).map_err(|wait| ApiError {
            retry_after: Some(wait.max(Duration::from_secs(1))),
            ..ApiError::new(
                ErrorKind::RateLimited,
                "too many requests with this credential; slow down",
            )
        })
    }
}

/// Password attempts per minute, per email and per client address hash: slows guessing
/// without locking anyone out for long.
#[derive(Debug)]
pub(crate) struct LoginLimiter {
    buckets: Mutex<KeyedBuckets<String>>,
}

impl LoginLimiter {
    pub(crate) fn new(per_minute: u64) -> Self {
        let per_minute = per_minute.max(1) as f64;
        Self { buckets: Mutex::new(KeyedBuckets::new(per_minute / 60.0, per_minute)) }
    }

    pub(crate) fn admit(&self, email: &str, address: Option<&str>) -> Result<(), ApiError> {
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        let now = Instant::now();
        let keys: Vec<String> = std::iter::once(format!("email:{email}"))
            .chain(address.map(|a| format!("address:{a}")))
            .collect();
        let mut wait = Duration::ZERO;
        for key in &keys {
            if let Err(w) = buckets.check(key, 1.0, now) {
                wait = wait.max(w);
            }
        }
        if !wait.is_zero() {
            return Err(ApiError {
                retry_after: Some(wait.max(Duration::from_secs(1))),
                ..ApiError::new(ErrorKind::RateLimited, "too many login attempts; wait and retry")
            });
        }
        for key in &keys {
            buckets.take(key, 1.0, now);
        }
        Ok(())
    }
}

/// Security-related server state.
#[derive(Debug)]
pub(crate) struct Security {
    pub(crate) https: bool,
    pub(crate) session_ttl: Duration,
    pub(crate) login: LoginLimiter,
}
