//! What every handler can reach.

use crate::api::Routes;
use crate::audit::AuditLog;
use crate::auth::{CredentialCache, Gateway};
use crate::routes::amplitude::Running;
use crate::routes::wire::domains::DomainMap;
use crate::security::{ApiLimiter, LoginLimiter, Security};
use sextant_ingest::Ingestor;
use sextant_store::{EventStore, MetaStore};
use sextant_telemetry::Metrics;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body, compressed or not.
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Most time buckets in one query answer.
    pub max_buckets: usize,
}

/// How callers sign in and what protects the API; `Default` is what tests and a fresh install
/// get.
#[derive(Debug)]
pub struct AccessOptions {
    /// Sustained API requests per second per key or user (bursts of twice as many); 0 = off.
    pub api_requests_per_second: u64,
    pub login_attempts_per_minute: u64,
    pub session_ttl: Duration,
    /// Served over https: session cookies get `Secure`, responses HSTS.
    pub https: bool,
    /// Browser origins allowed to call the API (CORS).
    pub cors_allowed_origins: Vec<String>,
    pub gateway: Option<Gateway>,
    /// Keys the client address hashes of the audit log.
    pub audit_ip_key: Vec<u8>,
}

impl Default for AccessOptions {
    fn default() -> Self {
        Self {
            api_requests_per_second: 50,
            login_attempts_per_minute: 10,
            session_ttl: Duration::from_secs(7 * 86_400),
            https: false,
            cors_allowed_origins: Vec::new(),
            gateway: None,
            audit_ip_key: b"sextant-audit-default-key".to_vec(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub(crate) meta: Arc<dyn MetaStore>,
    pub(crate) events: Arc<dyn EventStore>,
    pub(crate) ingestor: Arc<Ingestor>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) limits: HttpLimits,
    pub(crate) credentials: Arc<CredentialCache>,
    pub(crate) domains: Arc<DomainMap>,
    /// Amplitude Dashboard API requests running, per project.
    pub(crate) amplitude_running: Arc<Running>,
    pub(crate) gateway: Option<Arc<Gateway>>,
    pub(crate) api_limiter: Arc<ApiLimiter>,
    pub(crate) security: Arc<Security>,
    pub(crate) cors_allowed_origins: Arc<Vec<String>>,
    pub(crate) audit: AuditLog,
    /// Every operation; filled in by `app` from the routes it registers.
    pub(crate) routes: Arc<Routes>,
}

impl AppState {
    pub fn new(
        meta: Arc<dyn MetaStore>,
        events: Arc<dyn EventStore>,
        ingestor: Arc<Ingestor>,
        metrics: Arc<Metrics>,
        limits: HttpLimits,
        access: AccessOptions,
    ) -> Self {
        let audit = AuditLog::start(Arc::clone(&meta), access.audit_ip_key);
        Self {
            meta,
            events,
            ingestor,
            metrics,
            limits,
            credentials: Arc::default(),
            domains: Arc::default(),
            amplitude_running: Arc::default(),
            gateway: access.gateway.map(Arc::new),
            api_limiter: Arc::new(ApiLimiter::new(access.api_requests_per_second)),
            security: Arc::new(Security {
                https: access.https,
                session_ttl: access.session_ttl,
                login: LoginLimiter::new(access.login_attempts_per_minute),
            }),
            cors_allowed_origins: Arc::new(access.cors_allowed_origins),
            audit,
            routes: Arc::default(),
        }
    }
}
