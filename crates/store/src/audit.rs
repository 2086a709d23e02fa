//! The audit log: who read or changed what, when, with which credential. Kept in the metadata
//! store, newest first, purged after the configured retention. Client addresses appear only as
//! keyed hashes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sextant_core::{OrgId, ProjectId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AuditRecord {
    /// Time-ordered (UUIDv7), so it doubles as the pagination cursor.
    pub id: String,
    pub at: DateTime<Utc>,
    pub org_id: Option<OrgId>,
    pub project_id: Option<ProjectId>,
    /// `user:<id>`, `key:<id>`, or `anonymous` for requests that failed authentication.
    pub actor: String,
    /// The user's email or the key's name, as they were at the time.
    pub actor_name: Option<String>,
    /// The key behind the request, when one was used.
    pub key_id: Option<String>,
    /// How the caller authenticated: `api_key`, `session`, `jwt`, or `none`.
    pub via: String,
    /// The operation (its OpenAPI `operationId`), e.g. `run_query`.
    pub action: String,
    pub method: String,
    /// The request path, without its query string.
    pub path: String,
    pub status: u16,
    /// HMAC of the client address with a server secret: equal addresses give equal hashes,
    /// and the address itself is never stored.
    pub ip_hash: Option<String>,
}

/// Which records to list: all given conditions hold; newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this organization's records (and its projects').
    pub org_id: Option<OrgId>,
    pub project_id: Option<ProjectId>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Records strictly older than this id (the previous page's last).
    pub before_id: Option<String>,
    pub limit: usize,
}
