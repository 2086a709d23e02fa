//! The metadata side of storage: organizations, projects, API keys, users and their
//! sessions, the audit log, and the runs of scheduled jobs.

use crate::{
    AuditFilter, AuditRecord, JobOutcome, JobRun, NewUser, ProjectSettings, StoreError, User,
    UserChange, UserCredentials,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sextant_core::{OrgId, ProjectId, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Project {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// What a key is for; secret keys also carry a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Public, per project: may only send events. Safe to embed in web pages and apps.
    Write,
    /// Secret, per project: a service token acting with its role on that project.
    Secret,
    /// Secret, instance-wide: manages organizations, projects and keys.
    Admin,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Write => "write",
            KeyKind::Secret => "secret",
            KeyKind::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [KeyKind::Write, KeyKind::Secret, KeyKind::Admin].into_iter().find(|k| k.as_str() == text)
    }
}

/// A stored key. The secret itself is never stored for secret and admin keys, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ApiKey {
    pub id: String,
    pub kind: KeyKind,
    /// `None` for admin keys.
    pub project_id: Option<ProjectId>,
    pub name: String,
    /// First characters of the key, to recognise it in lists.
    pub prefix: String,
    /// The whole key, for public write keys only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// The role of a secret key on its project; `None` for write and admin keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last successful authentication, to the minute (see `MetaStore::touch_key`).
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewKey {
    pub kind: KeyKind,
    pub project_id: Option<ProjectId>,
    pub name: String,
    /// Required for secret keys, refused for the others.
    pub role: Option<Role>,
}

/// A key just created: the only moment its secret is known.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

/// A metadata backend.
#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    /// Creates the organization, or returns it if one with that name exists.
    async fn ensure_org(&self, name: &str) -> Result<Organization, StoreError>;
    async fn list_orgs(&self) -> Result<Vec<Organization>, StoreError>;

    /// Creates a project and its first write key. Names are unique within an organization.
    async fn create_project(
        &self,
        org: &OrgId,
        name: &str,
    ) -> Result<(Project, CreatedKey), StoreError>;
    async fn list_projects(&self) -> Result<Vec<Project>, StoreError>;
    /// Finds a project by id, or by name when the name is unique across organizations.
    async fn find_project(&self, id_or_name: &str) -> Result<Option<Project>, StoreError>;

    /// The project's ingestion policy (defaults until someone changes it).
    async fn project_settings(&self, project: &ProjectId) -> Result<ProjectSettings, StoreError>;
    async fn set_project_settings(
        &self,
        project: &ProjectId,
        settings: &ProjectSettings,
    ) -> Result<(), StoreError>;

    async fn create_key(&self, key: NewKey) -> Result<CreatedKey, StoreError>;
    async fn list_keys(&self, project: Option<&ProjectId>) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a key by id; revoking twice is not an error.
    async fn revoke_key(&self, id: &str) -> Result<ApiKey, StoreError>;
    /// The live (unrevoked) key with this secret, if any.
    async fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>, StoreError>;

    /// Records that a key authenticated at `at` (callers throttle this to about once a
    /// minute per key).
    async fn touch_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Creates a user; emails are unique across the instance (stored lowercase).
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    async fn list_users(&self, org: &OrgId) -> Result<Vec<User>, StoreError>;
    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The user with this email (any case) and their password hash, for logins.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError>;
    /// Changes a user. Disabling or changing the password ends their sessions.
    async fn update_user(&self, id: &str, change: UserChange) -> Result<User, StoreError>;

    /// Stores a web session (by the SHA-256 of its token) until `expires_at`.
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The user of a live session: not expired at `now`, user not disabled.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    async fn append_audit(&self, records: &[AuditRecord]) -> Result<(), StoreError>;
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError>;
    /// Deletes audit records and finished job runs older than `audit_before`, and sessions
    /// expired at `now`; returns how many audit records went.
    async fn purge_expired(
        &self,
        audit_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Claims `slot` of `job` for `node` until `lease_until`: true when the slot was never
    /// claimed, or its holder left it unfinished and the lease expired by `now`. Exactly one
    /// of several concurrent callers gets true.
    async fn claim_job_run(
        &self,
        job: &str,
        slot: &str,
        node: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Extends `node`'s claim; false when the claim was lost (another node took the slot over
    /// after the lease expired) or the run is finished.
    async fn renew_job_run(
        &self,
        job: &str,
        slot: &str,
        node: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records the end of `node`'s run; false when `node` no longer held the claim.
    async fn finish_job_run(
        &self,
        job: &str,
        slot: &str,
        node: &str,
        at: DateTime<Utc>,
        outcome: &JobOutcome,
    ) -> Result<bool, StoreError>;
    /// The latest runs (by start), newest first, at most `limit`.
    async fn list_job_runs(&self, limit: usize) -> Result<Vec<JobRun>, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
}
