//! Read connections, lent out one query at a time and used only on blocking threads, so
//! queries run beside ingestion (DuckDB's MVCC) without blocking it or the executor.

use crate::{convert, error};
use duckdb::Connection;
use sextant_query::Statement;
use sextant_store::{RowSink, StoreError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(crate) struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    size: u32,
}

/// A connection on loan; goes back to the pool when dropped.
struct Lease {
    conn: Option<Connection>,
    pool: Arc<ReaderPool>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.pool.idle.lock()) {
            idle.push(conn);
        }
    }
}

impl ReaderPool {
    pub(crate) fn new(conns: Vec<Connection>) -> Arc<Self> {
        let permits = Arc::new(Semaphore::new(conns.len()));
        let size = u32::try_from(conns.len()).unwrap_or(u32::MAX);
        Arc::new(Self { idle: Mutex::new(conns), permits, size })
    }

    async fn lease(self: &Arc<Self>) -> Result<Lease, StoreError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the event store is closed".into()))?;
        let conn = self
            .idle
            .lock()
            .map_err(|_| StoreError::Internal("reader pool poisoned".into()))?
            .pop()
            .ok_or_else(|| StoreError::Internal("reader pool is empty despite a permit".into()))?;
        Ok(Lease { conn: Some(conn), pool: Arc::clone(self), _permit: permit })
    }

    /// Runs `statement` on a blocking thread. With a `limit`, the query is interrupted when it
    /// runs over.
    pub(crate) async fn stream(
        self: &Arc<Self>,
        statement: Statement,
        limit: Option<Duration>,
        sink: RowSink,
    ) -> Result<(), StoreError> {
        let lease = self.lease().await?;
        let interrupt = lease
            .conn
            .as_ref()
            .ok_or_else(|| StoreError::Internal("empty lease".into()))?
            .interrupt_handle();
        // The lease moves into the task and returns its connection on drop, even if reading
        // the result panics inside the driver.
        let mut task = tokio::task::spawn_blocking(move || match &lease.conn {
            Some(conn) => run(conn, &statement, sink),
            None => Err(StoreError::Internal("empty lease".into())),
        });
        let joined = match limit {
            None => (&mut task).await,
            Some(limit) => match tokio::time::timeout(limit, &mut task).await {
                Ok(joined) => joined,
                Err(_) => {
                    interrupt.interrupt();
                    let _ = task.await;
                    return Err(StoreError::Timeout(limit));
                }
            },
        };
        joined.map_err(|e| StoreError::Internal(format!("query task failed: {e}")))?
    }

    /// Takes every connection out of the pool, waiting for running queries, and closes them.
    pub(crate) async fn close(&self) {
        if let Ok(all) = self.permits.acquire_many(self.size).await {
            all.forget();
        }
        self.permits.close();
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }
}

fn run(conn: &Connection, statement: &Statement, mut sink: RowSink) -> Result<(), StoreError> {
    let mut prepared = conn.prepare(&statement.sql).map_err(error::query)?;
    let params = statement.params.iter().map(convert::param_value);
    let mut rows = prepared.query(duckdb::params_from_iter(params)).map_err(error::query)?;
    let columns = rows.as_ref().map_or(0, duckdb::Statement::column_count);
    while let Some(row) = rows.next().map_err(error::query)? {
        let mut cells = Vec::with_capacity(columns);
        for i in 0..columns {
            let value = row.get_ref(i).map_err(error::query)?;
            cells.push(convert::cell(value).map_err(StoreError::Internal)?);
        }
        sink(cells)?;
    }
    Ok(())
}
