//! Prometheus metrics: one registry shared by ingest, query and HTTP, exposed at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `accepted`, `rejected`, `duplicate`, `bot`, `internal_user`, `rate_limited`, and the
    /// hygiene counters `pii_key_stripped` and `value_capped`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueryLabels {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The route template (`/api/v1/events`), never the raw path, to bound cardinality.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone)]
struct Buckets(fn() -> Histogram);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        (self.0)()
    }
}

fn seconds_histogram() -> Histogram {
    // 0.5 ms .. ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every metric Sextant exports.
pub struct Metrics {
    registry: Registry,
    pub ingest_events: Family<OutcomeLabels, Counter>,
    pub ingest_overloaded: Counter,
    pub ingest_pending_events: Gauge,
    pub commit_batch_events: Histogram,
    pub commit_seconds: Histogram,
    pub commit_failures: Counter,
    query_seconds: Family<QueryLabels, Histogram, Buckets>,
    pub http_requests: Family<HttpLabels, Counter>,
    pub retention_deleted_events: Counter,
    pub retention_last_run: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sextant");
        let ingest_events = Family::<OutcomeLabels, Counter>::default();
        registry.register("ingest_events", "Events received, by outcome", ingest_events.clone());
        let ingest_overloaded = Counter::default();
        registry.register(
            "ingest_overloaded_requests",
            "Ingest requests answered 503 because the commit queue was full",
            ingest_overloaded.clone(),
        );
        let ingest_pending_events = Gauge::default();
        registry.register(
            "ingest_pending_events",
            "Events accepted into the commit queue and not yet durable",
            ingest_pending_events.clone(),
        );
        let commit_batch_events = Histogram::new(exponential_buckets(1.0, 4.0, 10));
        registry.register(
            "commit_batch_events",
            "Events per group commit",
            commit_batch_events.clone(),
        );
        let commit_seconds = seconds_histogram();
        registry.register(
            "commit_seconds",
            "Time to make one group commit durable",
            commit_seconds.clone(),
        );
        let commit_failures = Counter::default();
        registry.register(
            "commit_failures",
            "Group commits that failed (their requests got 503)",
            commit_failures.clone(),
        );
        let query_seconds = Family::new_with_constructor(Buckets(seconds_histogram));
        registry.register("query_seconds", "Query latency by query kind", query_seconds.clone());
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP responses by route, method and status",
            http_requests.clone(),
        );
        let retention_deleted_events = Counter::default();
        registry.register(
            "retention_deleted_events",
            "Raw events deleted by the retention job because they were older than their project's retention",
            retention_deleted_events.clone(),
        );
        let retention_last_run = Gauge::default();
        registry.register(
            "retention_last_run_timestamp_seconds",
            "When the retention job last completed, in seconds since the epoch",
            retention_last_run.clone(),
        );
        Self {
            registry,
            ingest_events,
            ingest_overloaded,
            ingest_pending_events,
            commit_batch_events,
            commit_seconds,
            commit_failures,
            query_seconds,
            http_requests,
            retention_deleted_events,
            retention_last_run,
        }
    }

    pub fn record_query(&self, kind: &'static str, seconds: f64) {
        self.query_seconds.get_or_create(&QueryLabels { kind }).observe(seconds);
    }

    /// The Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_prometheus_text() {
        let m = Metrics::new();
        m.ingest_events.get_or_create(&OutcomeLabels { outcome: "accepted" }).inc_by(3);
        m.commit_batch_events.observe(3.0);
        m.record_query("trends", 0.012);
        m.http_requests
            .get_or_create(&HttpLabels {
                route: "/api/v1/events".into(),
                method: "POST".into(),
                status: 200,
            })
            .inc();
        let text = m.encode();
        assert!(text.contains("sextant_ingest_events_total{outcome=\"accepted\"} 3"), "{text}");
        assert!(text.contains("sextant_commit_batch_events_count 1"), "{text}");
        assert!(text.contains("sextant_query_seconds_count{kind=\"trends\"} 1"), "{text}");
        assert!(text.contains("sextant_http_requests_total{route=\"/api/v1/events\",method=\"POST\",status=\"200\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
