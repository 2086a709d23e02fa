//! Claims on scheduled jobs' slots. One `INSERT .. ON CONFLICT DO UPDATE .. WHERE` decides a
//! claim atomically on both SQLite (one writer at a time) and PostgreSQL (the conflicting row
//! is locked and the condition re-checked), so two nodes can never both win a slot.

use crate::{db_error, rows};
use chrono::{DateTime, Utc};
use sextant_store::{JobOutcome, JobRun, StoreError};
use sqlx::AnyPool;
use sqlx::any::AnyRow;

/// Most runs one listing returns.
const MAX_LIST: usize = 1_000;

pub(crate) async fn claim(
    pool: &AnyPool,
    job: &str,
    slot: &str,
    node: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO job_runs (job, slot, node, started_at, lease_until, attempts) \
         VALUES ($1, $2, $3, $4, $5, 1) \
         ON CONFLICT (job, slot) DO UPDATE SET node = excluded.node, \
           started_at = excluded.started_at, lease_until = excluded.lease_until, \
           attempts = job_runs.attempts + 1 \
         WHERE job_runs.finished_at IS NULL AND job_runs.lease_until <= excluded.started_at",
    )
    .bind(job)
    .bind(slot)
    .bind(node)
    .bind(now.timestamp_micros())
    .bind(lease_until.timestamp_micros())
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(claimed.rows_affected() == 1)
}

pub(crate) async fn renew(
    pool: &AnyPool,
    job: &str,
    slot: &str,
    node: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let renewed = sqlx::query(
        "UPDATE job_runs SET lease_until = $1 \
         WHERE job = $2 AND slot = $3 AND node = $4 AND finished_at IS NULL",
    )
    .bind(lease_until.timestamp_micros())
    .bind(job)
    .bind(slot)
    .bind(node)
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(renewed.rows_affected() == 1)
}

pub(crate) async fn finish(
    pool: &AnyPool,
    job: &str,
    slot: &str,
    node: &str,
    at: DateTime<Utc>,
    outcome: &JobOutcome,
) -> Result<bool, StoreError> {
    let finished = sqlx::query(
        "UPDATE job_runs SET finished_at = $1, outcome = $2, detail = $3 \
         WHERE job = $4 AND slot = $5 AND node = $6 AND finished_at IS NULL",
    )
    .bind(at.timestamp_micros())
    .bind(if outcome.ok { "ok" } else { "error" })
    .bind(&outcome.detail)
    .bind(job)
    .bind(slot)
    .bind(node)
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(finished.rows_affected() == 1)
}

pub(crate) async fn list(pool: &AnyPool, limit: usize) -> Result<Vec<JobRun>, StoreError> {
    let limit = i64::try_from(limit.clamp(1, MAX_LIST)).unwrap_or(1);
    let found = sqlx::query(
        "SELECT job, slot, node, started_at, lease_until, attempts, finished_at, outcome, detail \
         FROM job_runs ORDER BY started_at DESC, job LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    found.iter().map(run).collect()
}

/// Deletes the runs started before `before`.
pub(crate) async fn purge(pool: &AnyPool, before: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM job_runs WHERE started_at < $1 AND finished_at IS NOT NULL")
        .bind(before.timestamp_micros())
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

fn run(row: &AnyRow) -> Result<JobRun, StoreError> {
    let attempts: i64 = rows::get(row, "attempts")?;
    Ok(JobRun {
        job: rows::get(row, "job")?,
        slot: rows::get(row, "slot")?,
        node: rows::get(row, "node")?,
        started_at: rows::time(row, "started_at")?,
        lease_until: rows::time(row, "lease_until")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        finished_at: rows::get::<Option<i64>>(row, "finished_at")?
            .map(rows::micros_to_time)
            .transpose()?,
        outcome: rows::get(row, "outcome")?,
        detail: rows::get(row, "detail")?,
    })
}
