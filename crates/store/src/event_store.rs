//! The events side of storage: durable batch appends, planned reads, retention deletes.

use crate::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sextant_core::{Event, ProjectId};
use sextant_query::{
    Cell, Dialect, EventListQuery, EventPage, ExportPlan, PlanOptions, Query, QueryResult,
    Statement, TimeRange,
};
use std::sync::{Arc, Mutex};

/// Receives result rows one at a time, on whatever thread the backend reads them.
pub type RowSink = Box<dyn FnMut(Vec<Cell>) -> Result<(), StoreError> + Send>;

/// What a backend knows about one project's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProjectStats {
    pub events: u64,
    pub oldest: Option<DateTime<Utc>>,
    pub newest: Option<DateTime<Utc>>,
}

/// What an append did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Appended {
    pub stored: usize,
    /// Events whose `(project_id, insert_id)` was already stored within the dedup window (or
    /// earlier in the same batch): acknowledged, not stored again.
    pub duplicates: usize,
}

/// An events backend.
///
/// **Invariant:** when `append` returns `Ok`, the events survive a crash of the process
/// (and, where the filesystem honours fsync, of the machine).
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// The SQL flavour plans must be written in for this backend.
    fn dialect(&self) -> Dialect;

    /// Whether a reader sees one append's events all at once. Backends spread over several
    /// servers (a sharded ClickHouse) make them visible server by server, within moments;
    /// every backend acknowledges an append only once all of it is stored.
    fn atomic_appends(&self) -> bool {
        true
    }

    /// Stores `events` atomically and durably, except those whose `(project_id, insert_id)` was
    /// stored within the backend's dedup window: SDKs retry, and a retried event must count
    /// once. Callers batch (see the ingest crate's group committer); backends should not
    /// assume small batches.
    async fn append(&self, events: Vec<Event>) -> Result<Appended, StoreError>;

    /// Runs a read-only planned statement, feeding each row to `sink`. `limited` applies the
    /// backend's query time limit (interactive queries); exports pass `false`.
    async fn stream_rows(
        &self,
        statement: Statement,
        limited: bool,
        sink: RowSink,
    ) -> Result<(), StoreError>;

    /// Deletes a project's events with `timestamp` in `range`; returns how many went.
    async fn delete_range(&self, project: &ProjectId, range: TimeRange) -> Result<u64, StoreError>;

    async fn project_stats(&self, project: &ProjectId) -> Result<ProjectStats, StoreError>;

    /// Cheap liveness check for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Flushes and releases the backend. Later calls fail.
    async fn close(&self) -> Result<(), StoreError>;

    /// Runs a planned statement with the time limit and collects its rows.
    async fn execute(&self, statement: Statement) -> Result<Vec<Vec<Cell>>, StoreError> {
        let rows = Arc::new(Mutex::new(Vec::new()));
        let sink_rows = Arc::clone(&rows);
        self.stream_rows(
            statement,
            true,
            Box::new(move |row| {
                sink_rows
                    .lock()
                    .map_err(|_| StoreError::Internal("row buffer poisoned".into()))?
                    .push(row);
                Ok(())
            }),
        )
        .await?;
        let mut rows =
            rows.lock().map_err(|_| StoreError::Internal("row buffer poisoned".into()))?;
        Ok(std::mem::take(&mut *rows))
    }

    /// Plans `query` for this backend, runs its statements and shapes the answer.
    async fn query(&self, query: &Query, opts: &PlanOptions) -> Result<QueryResult, StoreError> {
        let plan = sextant_query::plan(query, opts, self.dialect())?;
        let mut results = Vec::with_capacity(plan.statements().len());
        for statement in plan.statements() {
            results.push(self.execute(statement.clone()).await?);
        }
        Ok(plan.assemble(results)?)
    }

    /// Every event of `project` (within `range` if given), oldest first, one at a time.
    async fn export(
        &self,
        project: &ProjectId,
        range: Option<TimeRange>,
        mut on_event: Box<dyn FnMut(Event) -> Result<(), StoreError> + Send>,
    ) -> Result<(), StoreError> {
        let plan = ExportPlan::new(project, range, self.dialect());
        let statement = plan.statement.clone();
        self.stream_rows(statement, false, Box::new(move |row| on_event(plan.event(row)?))).await
    }

    /// A page of raw events, newest first.
    async fn list_events(
        &self,
        query: &EventListQuery,
        opts: &PlanOptions,
    ) -> Result<EventPage, StoreError> {
        let plan = sextant_query::plan_event_list(query, opts, self.dialect())?;
        let rows = self.execute(plan.statement.clone()).await?;
        Ok(plan.assemble(rows)?)
    }
}
