//! The metadata side of storage: organizations, projects, API keys and users.

use crate::{ProjectSettings, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sextant_core::{OrgId, ProjectId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// What a key may do. Later issues add roles; the kinds stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Public, per project: may only send events. Safe to embed in web pages and apps.
    Write,
    /// Secret, per project: reads and queries that project.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewKey {
    pub kind: KeyKind,
    pub project_id: Option<ProjectId>,
    pub name: String,
}

/// A key just created: the only moment its secret is known.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub org_id: OrgId,
    pub email: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
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

    async fn create_user(
        &self,
        org: &OrgId,
        email: &str,
        name: Option<&str>,
    ) -> Result<User, StoreError>;
    async fn list_users(&self, org: &OrgId) -> Result<Vec<User>, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
}
