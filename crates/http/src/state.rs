//! What every handler can reach.

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
    pub meta: Arc<dyn MetaStore>,
    pub events: Arc<dyn EventStore>,
    pub ingestor: Arc<Ingestor>,
    pub metrics: Arc<Metrics>,
    pub limits: HttpLimits,
}
