//! What every handler can reach.

use crate::auth::KeyCache;
use crate::routes::amplitude::Running;
use crate::routes::wire::domains::DomainMap;
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

#[derive(Clone)]
pub struct AppState {
    pub(crate) meta: Arc<dyn MetaStore>,
    pub(crate) events: Arc<dyn EventStore>,
    pub(crate) ingestor: Arc<Ingestor>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) limits: HttpLimits,
    pub(crate) keys: Arc<KeyCache>,
    pub(crate) domains: Arc<DomainMap>,
    /// Amplitude Dashboard API requests running, per project.
    pub(crate) amplitude_running: Arc<Running>,
}

impl AppState {
    pub fn new(
        meta: Arc<dyn MetaStore>,
        events: Arc<dyn EventStore>,
        ingestor: Arc<Ingestor>,
        metrics: Arc<Metrics>,
        limits: HttpLimits,
    ) -> Self {
        Self {
            meta,
            events,
            ingestor,
            metrics,
            limits,
            keys: Arc::default(),
            domains: Arc::default(),
            amplitude_running: Arc::default(),
        }
    }
}
