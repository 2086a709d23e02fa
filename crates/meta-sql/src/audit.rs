//! The audit log's table: batched appends, filtered newest-first pages, retention purges.

use crate::{db_error, rows};
use chrono::{DateTime, Utc};
use sextant_core::{OrgId, ProjectId};
use sextant_store::{AuditFilter, AuditRecord, StoreError};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

const COLUMNS: &str = "id, at, org_id, project_id, actor, actor_name, key_id, via, action, method, path, status, ip_hash";
/// Most records one call returns.
const MAX_PAGE: usize = 10_000;

pub(crate) async fn append(pool: &AnyPool, records: &[AuditRecord]) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_error)?;
    let sql = format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    for r in records {
        sqlx::query(&sql)
            .bind(&r.id)
            .bind(r.at.timestamp_micros())
            .bind(r.org_id.as_ref().map(OrgId::as_str))
            .bind(r.project_id.as_ref().map(ProjectId::as_str))
            .bind(&r.actor)
            .bind(r.actor_name.as_deref())
            .bind(r.key_id.as_deref())
            .bind(&r.via)
            .bind(&r.action)
            .bind(&r.method)
            .bind(&r.path)
            .bind(i64::from(r.status))
            .bind(r.ip_hash.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)
}

/// Each filter adds a fixed condition with its own bound parameter: the SQL text depends only
/// on which filters are present, never on their values.
pub(crate) async fn list(
    pool: &AnyPool,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut conditions: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut times: Vec<i64> = Vec::new();
    let mut text = |column: &str, value: &str, conditions: &mut Vec<String>, op: &str| {
        texts.push(value.to_owned());
        conditions.push(format!("{column} {op} ${}", texts.len()));
    };
    if let Some(org) = &filter.org_id {
        text("org_id", org.as_str(), &mut conditions, "=");
    }
    if let Some(project) = &filter.project_id {
        text("project_id", project.as_str(), &mut conditions, "=");
    }
    if let Some(actor) = &filter.actor {
        text("actor", actor, &mut conditions, "=");
    }
    if let Some(action) = &filter.action {
        text("action", action, &mut conditions, "=");
    }
    if let Some(before) = &filter.before_id {
        text("id", before, &mut conditions, "<");
    }
    let first_time = texts.len();
    if let Some(since) = filter.since {
        times.push(since.timestamp_micros());
        conditions.push(format!("at >= ${}", first_time + times.len()));
    }
    if let Some(until) = filter.until {
        times.push(until.timestamp_micros());
        conditions.push(format!("at < ${}", first_time + times.len()));
    }
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log{} ORDER BY id DESC LIMIT {limit}",
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        },
    );
    let mut query = sqlx::query(&sql);
    for t in &texts {
        query = query.bind(t);
    }
    for t in &times {
        query = query.bind(*t);
    }
    let rows = query.fetch_all(pool).await.map_err(db_error)?;
    rows.iter().map(record).collect()
}

pub(crate) async fn purge(
    pool: &AnyPool,
    audit_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM user_sessions WHERE expires_at <= $1")
        .bind(now.timestamp_micros())
        .execute(pool)
        .await
        .map_err(db_error)?;
    let deleted = sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(audit_before.timestamp_micros())
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(deleted.rows_affected())
}

fn record(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    let get_text = |column: &str| -> Result<Option<String>, StoreError> {
        row.try_get::<Option<String>, _>(column)
            .map_err(|e| StoreError::Internal(format!("audit column {column}: {e}")))
    };
    let required = |column: &str| -> Result<String, StoreError> {
        get_text(column)?
            .ok_or_else(|| StoreError::Internal(format!("audit column {column} is empty")))
    };
    let at: i64 = row.try_get("at").map_err(db_error)?;
    let status: i64 = row.try_get("status").map_err(db_error)?;
    Ok(AuditRecord {
        id: required("id")?,
        at: rows::micros_to_time(at)?,
        org_id: get_text("org_id")?.map(OrgId::new),
        project_id: get_text("project_id")?.map(ProjectId::new),
        actor: required("actor")?,
        actor_name: get_text("actor_name")?,
        key_id: get_text("key_id")?,
        via: required("via")?,
        action: required("action")?,
        method: required("method")?,
        path: required("path")?,
        status: u16::try_from(status).unwrap_or(0),
        ip_hash: get_text("ip_hash")?,
    })
}
