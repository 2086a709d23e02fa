//! The embedded events backend: one DuckDB file, one writer thread (group-committed batches,
//! durable on return), a pool of read connections on blocking threads.

mod convert;
mod dedup;
mod error;
mod links;
mod persons;
mod reader;
mod rollup;
mod schema;
mod writer;

use async_trait::async_trait;
use duckdb::{Config, Connection};
use reader::ReaderPool;
use sextant_core::{Event, ProjectId};
use sextant_query::{Cell, Dialect, Param, Statement, TimeRange};
use sextant_store::{Appended, EventStore, ProjectStats, RowSink, StoreError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;

/// File name of the events database inside the data directory.
pub const EVENTS_FILE: &str = "events.duckdb";

#[derive(Debug, Clone)]
pub struct DuckDbOptions {
    /// DuckDB worker threads; `None` = every core.
    pub threads: Option<usize>,
    /// Bytes; `None` = DuckDB's default.
    pub memory_limit: Option<u64>,
    /// Concurrent queries.
    pub readers: usize,
    /// Limit for interactive queries.
    pub query_timeout: Duration,
    /// WAL size (bytes) that triggers a checkpoint. DuckDB's 16 MiB default checkpoints more
    /// than once a second under steady ingest, which costs ~25% of ingest throughput and puts
    /// 400 ms stalls in p99 (sextant-bench); a larger WAL only makes restarts replay longer.
    pub checkpoint_threshold: u64,
    /// How long an `insert_id` is remembered for deduplication.
    pub dedup_window: Duration,
}

impl Default for DuckDbOptions {
    fn default() -> Self {
        Self {
            threads: None,
            memory_limit: None,
            readers: 4,
            query_timeout: Duration::from_secs(30),
            checkpoint_threshold: 256 << 20,
            dedup_window: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

pub struct DuckDbStore {
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<writer::Command>>>,
    readers: Arc<ReaderPool>,
    query_timeout: Duration,
}

impl DuckDbStore {
    /// Opens (creating if needed) `dir/events.duckdb` and migrates it. Blocking: call it from
    /// start-up code or `spawn_blocking`.
    pub fn open(dir: &Path, options: &DuckDbOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
        let path = dir.join(EVENTS_FILE);
        let config = Self::config(options).map_err(error::internal)?;
        let conn = Connection::open_with_flags(&path, config).map_err(|e| error::open(&path, e))?;
        let version = schema::migrate(&conn).map_err(error::internal)?;
        let readers = (0..options.readers.max(1))
            .map(|_| conn.try_clone())
            .collect::<Result<Vec<_>, _>>()
            .map_err(error::internal)?;
        let window = i64::try_from(options.dedup_window.as_micros()).unwrap_or(i64::MAX);
        let recent = dedup::load(&conn, window, chrono::Utc::now().timestamp_micros())
            .map_err(error::internal)?;
        let links = links::load(&conn).map_err(error::internal)?;
        tracing::debug!(ids = recent.len(), "dedup window loaded");
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("duckdb-writer".into())
            .spawn(move || writer::run(conn, recent, links, rx))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        tracing::info!(path = %path.display(), schema_version = version, readers = readers.len(), "event store open");
        Ok(Self {
            path,
            writer: Mutex::new(Some(tx)),
            readers: ReaderPool::new(readers),
            query_timeout: options.query_timeout,
        })
    }

    fn config(options: &DuckDbOptions) -> duckdb::Result<Config> {
        // No file access from SQL and no extension downloads: queries see only our tables.
        let mut config =
            Config::default().enable_autoload_extension(false)?.enable_external_access(false)?;
        config = config.with(
            "checkpoint_threshold",
            format!("{}MiB", (options.checkpoint_threshold >> 20).max(1)),
        )?;
        if let Some(threads) = options.threads {
            config = config.threads(i64::try_from(threads).unwrap_or(i64::MAX))?;
        }
        if let Some(bytes) = options.memory_limit {
            config = config.max_memory(&format!("{}MiB", (bytes >> 20).max(1)))?;
        }
        Ok(config)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn send<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> writer::Command,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        {
            let writer = self
                .writer
                .lock()
                .map_err(|_| StoreError::Internal("writer handle poisoned".into()))?;
            let sender = writer
                .as_ref()
                .ok_or_else(|| StoreError::Unavailable("the event store is closed".into()))?;
            sender
                .send(make(reply))
                .map_err(|_| StoreError::Unavailable("the writer thread stopped".into()))?;
        }
        answer.await.map_err(|_| StoreError::Unavailable("the writer thread stopped".into()))?
    }
}

#[async_trait]
impl EventStore for DuckDbStore {
    fn dialect(&self) -> Dialect {
        Dialect::DuckDb
    }

    async fn append(&self, events: Vec<Event>) -> Result<Appended, StoreError> {
        self.send(|reply| writer::Command::Append { events, reply }).await
    }

    async fn stream_rows(
        &self,
        statement: Statement,
        limited: bool,
        sink: RowSink,
    ) -> Result<(), StoreError> {
        self.readers.stream(statement, limited.then_some(self.query_timeout), sink).await
    }

    async fn delete_range(&self, project: &ProjectId, range: TimeRange) -> Result<u64, StoreError> {
        let project = project.clone();
        self.send(|reply| writer::Command::Delete { project, range, reply }).await
    }

    async fn project_stats(&self, project: &ProjectId) -> Result<ProjectStats, StoreError> {
        let statement = Statement {
            sql:
                "SELECT count(*), min(timestamp), max(timestamp) FROM events WHERE project_id = $1"
                    .into(),
            params: vec![Param::Text(project.to_string())],
        };
        let rows = self.execute(statement).await?;
        let mut cells = rows.into_iter().next().unwrap_or_default().into_iter();
        let events = cells.next().and_then(|c| c.as_i64()).unwrap_or(0);
        let mut time = || match cells.next() {
            Some(Cell::Timestamp(micros)) => sextant_core::micros_to_datetime(micros),
            _ => None,
        };
        let (oldest, newest) = (time(), time());
        Ok(ProjectStats { events: u64::try_from(events).unwrap_or(0), oldest, newest })
    }

    /// Both sides must answer: a reader runs `SELECT 1`, the writer thread acknowledges.
    async fn ping(&self) -> Result<(), StoreError> {
        self.execute(Statement { sql: "SELECT 1".into(), params: vec![] }).await?;
        self.send(|reply| writer::Command::Ping { reply }).await
    }

    async fn close(&self) -> Result<(), StoreError> {
        self.readers.close().await;
        let result = self.send(|reply| writer::Command::Close { reply }).await;
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
        tracing::info!(path = %self.path.display(), "event store closed");
        result
    }
}
