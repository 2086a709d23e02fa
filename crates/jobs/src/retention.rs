//! Raw events older than their project's `retention_days` (180 by default) are deleted once a
//! day (one slot per UTC day, see the scheduler), as one range delete per project (a whole-partition drop on backends that partition by
//! time); so are audit records older than `audit.retention_days` and expired web sessions. The
//! outcome is logged and exported in `/metrics`.

use crate::{Job, JobError};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sextant_query::TimeRange;
use sextant_store::{EventStore, MetaStore};
use sextant_telemetry::Metrics;
use std::sync::Arc;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub projects: usize,
    pub deleted_events: u64,
    pub deleted_audit_records: u64,
}

/// Deletes, for every project, the events stamped before `now - retention_days`, and the
/// audit records older than `audit_retention_days`.
pub async fn enforce_retention(
    meta: &dyn MetaStore,
    events: &dyn EventStore,
    now: DateTime<Utc>,
    audit_retention_days: u32,
    metrics: &Metrics,
) -> Result<RetentionReport, JobError> {
    let mut report = RetentionReport::default();
    // The earliest instant any backend stores; nothing older can exist.
    let beginning =
        DateTime::<Utc>::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::UNIX_EPOCH);
    for project in meta.list_projects().await? {
        let settings = meta.project_settings(&project.id).await?;
        let cutoff = now - Duration::days(i64::from(settings.retention_days));
        let deleted =
            events.delete_range(&project.id, TimeRange { from: beginning, to: cutoff }).await?;
        if deleted > 0 {
            tracing::info!(project = %project.id, deleted, %cutoff, "retention deleted old events");
        }
        report.projects += 1;
        report.deleted_events += deleted;
    }
    let audit_cutoff = now - Duration::days(i64::from(audit_retention_days));
    report.deleted_audit_records = meta.purge_expired(audit_cutoff, now).await?;
    metrics.retention_deleted_events.inc_by(report.deleted_events);
    metrics.retention_last_run.set(now.timestamp());
    Ok(report)
}

/// Retention as a scheduled job: one slot per UTC day.
pub struct RetentionJob {
    pub meta: Arc<dyn MetaStore>,
    pub events: Arc<dyn EventStore>,
    pub audit_retention_days: u32,
    pub metrics: Arc<Metrics>,
}

#[async_trait]
impl Job for RetentionJob {
    fn name(&self) -> &'static str {
        "retention"
    }

    fn slot(&self, now: DateTime<Utc>) -> String {
        now.date_naive().to_string()
    }

    async fn run(&self, now: DateTime<Utc>) -> Result<String, JobError> {
        let report = enforce_retention(
            self.meta.as_ref(),
            self.events.as_ref(),
            now,
            self.audit_retention_days,
            &self.metrics,
        )
        .await?;
        Ok(format!(
            "{} projects, {} events and {} audit records deleted",
            report.projects, report.deleted_events, report.deleted_audit_records
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_meta_sql::SqlMetaStore;
    use sextant_store::ProjectSettings;
    use sextant_store_duckdb::{DuckDbOptions, DuckDbStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn old_events_go_per_project_retention() {
        let dir = tempfile::tempdir().unwrap();
        let meta = SqlMetaStore::connect(&format!("sqlite://{}/meta.sqlite", dir.path().display()))
            .await
            .unwrap();
        let events = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
        let org = meta.ensure_org("o").await.unwrap();
        let (short, _) = meta.create_project(&org.id, "short").await.unwrap();
        let (default, _) = meta.create_project(&org.id, "default").await.unwrap();
        let settings = ProjectSettings { retention_days: 30, ..ProjectSettings::default() };
        meta.set_project_settings(&short.id, &settings).await.unwrap();

        let now = Utc::now();
        let event = |project: &sextant_core::ProjectId, days_ago: i64, n: usize| {
            serde_json::from_value::<sextant_core::Event>(serde_json::json!({
                "project_id": project.as_str(), "event": "e",
                "timestamp": (now - Duration::days(days_ago)).to_rfc3339(),
                "received_at": now.to_rfc3339(), "insert_id": format!("{project}-{n}")
            }))
            .unwrap()
        };
        let mut batch = Vec::new();
        for (n, days_ago) in [1, 29, 31, 179, 181, 400].into_iter().enumerate() {
            batch.push(event(&short.id, days_ago, n));
            batch.push(event(&default.id, days_ago, n));
        }
        events.append(batch).await.unwrap();

        let audit = |id: &str, days_ago: i64| sextant_store::AuditRecord {
            id: id.into(),
            at: now - Duration::days(days_ago),
            org_id: None,
            project_id: None,
            actor: "key:key_x".into(),
            actor_name: None,
            key_id: Some("key_x".into()),
            via: "api_key".into(),
            action: "run_query".into(),
            method: "POST".into(),
            path: "/api/v1/query".into(),
            status: 200,
            ip_hash: None,
        };
        meta.append_audit(&[audit("0190-a", 400), audit("0190-b", 10)]).await.unwrap();

        let metrics = Metrics::new();
        let report = enforce_retention(&meta, &events, now, 365, &metrics).await.unwrap();
        assert_eq!(
            report,
            RetentionReport { projects: 2, deleted_events: 4 + 2, deleted_audit_records: 1 }
        );
        let kept = meta
            .list_audit(&sextant_store::AuditFilter { limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(kept.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["0190-b"]);
        assert_eq!(events.project_stats(&short.id).await.unwrap().events, 2);
        assert_eq!(events.project_stats(&default.id).await.unwrap().events, 4);
        let text = metrics.encode();
        assert!(text.contains("sextant_retention_deleted_events_total 6"), "{text}");
        // A second run finds nothing more.
        let again = enforce_retention(&meta, &events, now, 365, &metrics).await.unwrap();
        assert_eq!(again.deleted_events, 0);
    }
}
