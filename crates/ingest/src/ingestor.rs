//! Validation plus commit for one request: bad events are reported by index and never stop
//! the good ones of the same batch.

use crate::{Committer, IngestError};
use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use sextant_core::{EventInput, FieldError, InputMode, Limits, ProjectId};
use sextant_telemetry::{Metrics, OutcomeLabels};
use std::sync::Arc;

/// One rejected event: its position in the request and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedEvent {
    pub index: usize,
    pub errors: Vec<FieldError>,
}

/// What happened to a request's events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestReport {
    pub accepted: usize,
    pub rejected: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RejectedEvent>,
}

pub struct Ingestor {
    committer: Committer,
    limits: Limits,
    max_events_per_request: usize,
    metrics: Arc<Metrics>,
}

impl Ingestor {
    pub fn new(
        committer: Committer,
        limits: Limits,
        max_events_per_request: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self { committer, limits, max_events_per_request, metrics }
    }

    /// Validates `items` for `project` and durably stores the valid ones. `Ok` means every
    /// accepted event is durable; `Err` means none of them was stored.
    pub async fn ingest(
        &self,
        project: &ProjectId,
        items: Vec<Value>,
        mode: InputMode,
    ) -> Result<IngestReport, IngestError> {
        if items.is_empty() {
            return Err(IngestError::Invalid("the request contains no events".into()));
        }
        if items.len() > self.max_events_per_request {
            return Err(IngestError::TooLarge(format!(
                "{} events in one request; the limit is {}",
                items.len(),
                self.max_events_per_request
            )));
        }
        let input =
            EventInput { project_id: project, received_at: Utc::now(), limits: &self.limits, mode };
        let mut events = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            match input.parse(item) {
                Ok(event) => events.push(event),
                Err(field_errors) => errors.push(RejectedEvent { index, errors: field_errors }),
            }
        }
        let report = IngestReport { accepted: events.len(), rejected: errors.len(), errors };
        self.committer.commit(events).await?;
        self.count("accepted", report.accepted);
        self.count("rejected", report.rejected);
        Ok(report)
    }

    fn count(&self, outcome: &'static str, n: usize) {
        if n > 0 {
            self.metrics.ingest_events.get_or_create(&OutcomeLabels { outcome }).inc_by(n as u64);
        }
    }
}
