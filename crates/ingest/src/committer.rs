//! Group commit. Requests hand their validated events to one committer task, which appends
//! everything waiting as one durable batch and then acknowledges each request. While a commit
//! is in flight the next batch accumulates, so throughput grows with load instead of paying
//! one fsync per request. Memory is bounded: events waiting or in flight are counted against a
//! budget, and a request that does not fit is refused at once (503 + Retry-After) rather than
//! queued.

use crate::IngestError;
use sextant_core::{ErrorKind, Event};
use sextant_store::EventStore;
use sextant_telemetry::{Metrics, OutcomeLabels};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct CommitterSettings {
    /// Most events in one append.
    pub max_batch_events: usize,
    /// Most events accepted and not yet durable.
    pub max_pending_events: usize,
    /// Sent to clients refused for lack of room.
    pub retry_after: Duration,
}

/// Why a commit failed, shared by every request in the batch.
#[derive(Debug, Clone)]
struct CommitFailure {
    kind: ErrorKind,
    message: String,
}

struct Pending {
    events: Vec<Event>,
    done: oneshot::Sender<Result<(), CommitFailure>>,
    budget: OwnedSemaphorePermit,
}

/// Handle used by request handlers; cheap to clone.
#[derive(Clone)]
pub struct Committer {
    queue: mpsc::UnboundedSender<Pending>,
    budget: Arc<Semaphore>,
    settings: CommitterSettings,
    metrics: Arc<Metrics>,
}

impl Committer {
    /// Starts the committer task. It ends once every `Committer` clone is dropped and the
    /// queue is drained; await the handle before closing the store.
    pub fn start(
        store: Arc<dyn EventStore>,
        settings: CommitterSettings,
        metrics: Arc<Metrics>,
    ) -> (Self, JoinHandle<()>) {
        let (queue, rx) = mpsc::unbounded_channel();
        let budget = Arc::new(Semaphore::new(settings.max_pending_events));
        let task = tokio::spawn(run(
            store,
            rx,
            settings.max_batch_events,
            Arc::clone(&budget),
            settings.max_pending_events,
            Arc::clone(&metrics),
        ));
        (Self { queue, budget, settings, metrics }, task)
    }

    /// Returns once `events` are durable, or with the reason nothing of them was stored.
    pub async fn commit(&self, events: Vec<Event>) -> Result<(), IngestError> {
        if events.is_empty() {
            return Ok(());
        }
        let overloaded = || IngestError::Overloaded { retry_after: self.settings.retry_after };
        let needed = u32::try_from(events.len()).map_err(|_| overloaded())?;
        let Ok(budget) = Arc::clone(&self.budget).try_acquire_many_owned(needed) else {
            self.metrics.ingest_overloaded.inc();
            return Err(overloaded());
        };
        self.update_pending_gauge();
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { events, done, budget })
            .map_err(|_| IngestError::Unavailable("the server is shutting down".into()))?;
        let result =
            outcome.await.map_err(|_| IngestError::Unavailable("the committer stopped".into()))?;
        self.update_pending_gauge();
        result.map_err(|failure| match failure.kind {
            ErrorKind::Overloaded => overloaded(),
            _ => IngestError::Unavailable(failure.message),
        })
    }

    fn update_pending_gauge(&self) {
        let pending =
            self.settings.max_pending_events.saturating_sub(self.budget.available_permits());
        self.metrics.ingest_pending_events.set(i64::try_from(pending).unwrap_or(i64::MAX));
    }
}

async fn run(
    store: Arc<dyn EventStore>,
    mut queue: mpsc::UnboundedReceiver<Pending>,
    max_batch_events: usize,
    budget: Arc<Semaphore>,
    max_pending: usize,
    metrics: Arc<Metrics>,
) {
    while let Some(first) = queue.recv().await {
        let mut size = first.events.len();
        let mut batch = vec![first];
        while size < max_batch_events {
            match queue.try_recv() {
                Ok(next) => {
                    size += next.events.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let mut events = Vec::with_capacity(size);
        let mut waiters = Vec::with_capacity(batch.len());
        for pending in batch {
            events.extend(pending.events);
            waiters.push((pending.done, pending.budget));
        }

        let started = Instant::now();
        let result = match store.append(events).await {
            Ok(appended) => {
                if appended.duplicates > 0 {
                    let labels = OutcomeLabels { outcome: "duplicate" };
                    metrics.ingest_events.get_or_create(&labels).inc_by(appended.duplicates as u64);
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, events = size, "group commit failed");
                metrics.commit_failures.inc();
                Err(CommitFailure { kind: e.kind(), message: e.to_string() })
            }
        };
        let elapsed = started.elapsed().as_secs_f64();
        metrics.commit_batch_events.observe(size as f64);
        metrics.commit_seconds.observe(elapsed);
        tracing::debug!(
            events = size,
            requests = waiters.len(),
            elapsed_ms = elapsed * 1e3,
            "group commit"
        );
        for (done, budget) in waiters {
            drop(budget);
            let _ = done.send(result.clone());
        }
        let pending = max_pending.saturating_sub(budget.available_permits());
        metrics.ingest_pending_events.set(i64::try_from(pending).unwrap_or(i64::MAX));
    }
}

#[cfg(test)]
mod tests;
