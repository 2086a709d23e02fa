//! Metadata on SQL through sqlx's `Any` driver: SQLite by default, PostgreSQL for clusters,
//! on one code path (portable SQL, one set of migrations), both held to the same conformance
//! suite.

mod audit;
mod job_runs;
mod keys;
mod rows;
mod users;

use async_trait::async_trait;
use chrono::DateTime;
use chrono::Utc;
use sextant_core::{OrgId, ProjectId};
use sextant_store::{
    ApiKey, AuditFilter, AuditRecord, CreatedKey, JobOutcome, JobRun, KeyKind, MetaStore, NewKey,
    NewUser, Organization, Project, ProjectSettings, StoreError, User, UserChange, UserCredentials,
};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};
use std::str::FromStr;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct SqlMetaStore {
    pool: AnyPool,
}

impl SqlMetaStore {
    /// Connects to `url` (`sqlite://./sextant-data/meta.sqlite`, creating the file if
    /// needed, or `postgres://user:password@host/database`) and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = prepare_url(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Invalid(format!("invalid metadata URL: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // WAL lets CLI commands read and write while a server runs; FULL sync
                        // because metadata writes are rare and must not be lost.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open the metadata database: {e}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Internal(format!("metadata migration failed: {e}")))?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQLite URLs get `mode=rwc` (create if missing) and their directory is created.
fn prepare_url(url: &str) -> Result<String, StoreError> {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(url.to_owned());
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

fn db_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::NotFound(d.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(format!("metadata query failed: {e}")),
    }
}

fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

const KEY_COLUMNS: &str =
    "id, kind, project_id, name, prefix, public_key, role, created_at, revoked_at, last_used_at";

#[async_trait]
impl MetaStore for SqlMetaStore {
    async fn ensure_org(&self, name: &str) -> Result<Organization, StoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("organization name must not be empty".into()));
        }
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(keys::new_id("org"))
            .bind(name)
            .bind(now_micros())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let row = sqlx::query("SELECT id, name, created_at FROM organizations WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        rows::organization(&row)
    }

    async fn list_orgs(&self) -> Result<Vec<Organization>, StoreError> {
        let rows = sqlx::query("SELECT id, name, created_at FROM organizations ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(rows::organization).collect()
    }

    async fn create_project(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<(Project, CreatedKey), StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid("project name must be 1 to 200 characters".into()));
        }
        let project = Project {
            id: ProjectId::new(keys::new_id("prj")),
            org_id: org.clone(),
            name: name.to_owned(),
            created_at: rows::micros_to_time(now_micros())?,
        };
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("INSERT INTO projects (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(project.id.as_str())
            .bind(org.as_str())
            .bind(name)
            .bind(project.created_at.timestamp_micros())
            .execute(&mut *tx)
            .await
            .map_err(|e| match db_error(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "a project named `{name}` already exists in this organization"
                )),
                StoreError::NotFound(_) => {
                    StoreError::NotFound(format!("organization {org} does not exist"))
                }
                other => other,
            })?;
        let write_key = insert_key(
            &mut tx,
            &NewKey {
                kind: KeyKind::Write,
                project_id: Some(project.id.clone()),
                name: "default write key".into(),
                role: None,
            },
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok((project, write_key))
    }

    async fn list_projects(&self) -> Result<Vec<Project>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, created_at FROM projects ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(rows::project).collect()
    }

    async fn find_project(&self, id_or_name: &str) -> Result<Option<Project>, StoreError> {
        let rows = sqlx::query("SELECT id, org_id, name, created_at FROM projects WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC")
            .bind(id_or_name)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let projects = rows.iter().map(rows::project).collect::<Result<Vec<_>, _>>()?;
        match projects.as_slice() {
            [] => Ok(None),
            [first, ..] if first.id.as_str() == id_or_name => Ok(Some(first.clone())),
            [only] => Ok(Some(only.clone())),
            _ => Err(StoreError::Conflict(format!(
                "several projects are named `{id_or_name}`; use the project id"
            ))),
        }
    }

    async fn project_settings(&self, project: &ProjectId) -> Result<ProjectSettings, StoreError> {
        let row = sqlx::query("SELECT settings FROM projects WHERE id = $1")
            .bind(project.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
            .ok_or_else(|| StoreError::NotFound(format!("no project `{project}`")))?;
        let text: String = row.try_get("settings").map_err(db_error)?;
        serde_json::from_str(&text).map_err(|e| {
            StoreError::Internal(format!("stored settings of project `{project}` are invalid: {e}"))
        })
    }

    async fn set_project_settings(
        &self,
        project: &ProjectId,
        settings: &ProjectSettings,
    ) -> Result<(), StoreError> {
        settings.validate().map_err(StoreError::Invalid)?;
        let text = serde_json::to_string(settings)
            .map_err(|e| StoreError::Internal(format!("cannot encode settings: {e}")))?;
        let updated = sqlx::query("UPDATE projects SET settings = $1 WHERE id = $2")
            .bind(text)
            .bind(project.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("no project `{project}`")));
        }
        Ok(())
    }

    async fn create_key(&self, key: NewKey) -> Result<CreatedKey, StoreError> {
        if (key.kind == KeyKind::Admin) != key.project_id.is_none() {
            return Err(StoreError::Invalid(
                "admin keys have no project; write and secret keys need one".into(),
            ));
        }
        if (key.kind == KeyKind::Secret) != key.role.is_some() {
            return Err(StoreError::Invalid(
                "secret keys need a role; write and admin keys have none".into(),
            ));
        }
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        insert_key(&mut conn, &key).await
    }

    async fn list_keys(&self, project: Option<&ProjectId>) -> Result<Vec<ApiKey>, StoreError> {
        let rows = match project {
            Some(project) => {
                let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE project_id = $1 ORDER BY created_at, id");
                sqlx::query(&sql).bind(project.as_str()).fetch_all(&self.pool).await
            }
            None => {
                let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
                sqlx::query(&sql).fetch_all(&self.pool).await
            }
        }
        .map_err(db_error)?;
        rows.iter().map(rows::api_key).collect()
    }

    async fn revoke_key(&self, id: &str) -> Result<ApiKey, StoreError> {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_micros())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await.map_err(db_error)?;
        row.as_ref()
            .map(rows::api_key)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("no key with id {id}")))
    }

    async fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(keys::hash_key(secret))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(rows::api_key).transpose()
    }

    async fn touch_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at.timestamp_micros())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        users::create(&self.pool, user).await
    }

    async fn list_users(&self, org: &OrgId) -> Result<Vec<User>, StoreError> {
        users::list(&self.pool, org).await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        users::get(&self.pool, id).await
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError> {
        users::by_email(&self.pool, email).await
    }

    async fn update_user(&self, id: &str, change: UserChange) -> Result<User, StoreError> {
        users::update(&self.pool, id, change).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        users::create_session(&self.pool, token_hash, user_id, expires_at).await
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        users::session_user(&self.pool, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM user_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_error)
            .map(drop)
    }

    async fn append_audit(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        audit::append(&self.pool, records).await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        audit::list(&self.pool, filter).await
    }

    async fn purge_expired(
        &self,
        audit_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        job_runs::purge(&self.pool, audit_before).await?;
        audit::purge(&self.pool, audit_before, now).await
    }

    async fn claim_job_run(
        &self,
        job: &str,
        slot: &str,
        node: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        job_runs::claim(&self.pool, job, slot, node, now, lease_until).await
    }

    async fn renew_job_run(
        &self,
        job: &str,
        slot: &str,
        node: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        job_runs::renew(&self.pool, job, slot, node, lease_until).await
    }

    async fn finish_job_run(
        &self,
        job: &str,
        slot: &str,
        node: &str,
        at: DateTime<Utc>,
        outcome: &JobOutcome,
    ) -> Result<bool, StoreError> {
        job_runs::finish(&self.pool, job, slot, node, at, outcome).await
    }

    async fn list_job_runs(&self, limit: usize) -> Result<Vec<JobRun>, StoreError> {
        job_runs::list(&self.pool, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_error).map(drop)
    }
}

async fn insert_key(
    conn: &mut sqlx::AnyConnection,
    key: &NewKey,
) -> Result<CreatedKey, StoreError> {
    let name = key.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::Invalid("key name must be 1 to 200 characters".into()));
    }
    let (secret, prefix, hash) = keys::new_key(key.kind);
    let public_key = (key.kind == KeyKind::Write).then(|| secret.clone());
    let stored = ApiKey {
        id: keys::new_id("key"),
        kind: key.kind,
        project_id: key.project_id.clone(),
        name: name.to_owned(),
        prefix,
        public_key,
        role: key.role,
        created_at: rows::micros_to_time(now_micros())?,
        revoked_at: None,
        last_used_at: None,
    };
    sqlx::query("INSERT INTO api_keys (id, kind, project_id, name, prefix, key_hash, public_key, role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&stored.id)
        .bind(stored.kind.as_str())
        .bind(stored.project_id.as_ref().map(ProjectId::as_str))
        .bind(&stored.name)
        .bind(&stored.prefix)
        .bind(hash)
        .bind(stored.public_key.as_deref())
        .bind(stored.role.map(sextant_core::Role::as_str))
        .bind(stored.created_at.timestamp_micros())
        .execute(conn)
        .await
        .map_err(|e| match db_error(e) {
            StoreError::NotFound(_) => StoreError::NotFound("that project does not exist".into()),
            other => other,
        })?;
    Ok(CreatedKey { key: stored, secret })
}
