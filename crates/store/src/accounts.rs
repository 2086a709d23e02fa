//! People and their sessions: users of an organization, the roles they hold, and the web
//! sessions they log in with. Passwords are only ever stored as Argon2 hashes
//! (`sextant-access`), session tokens only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sextant_core::{Grant, OrgId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct User {
    pub id: String,
    pub org_id: OrgId,
    pub email: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Disabled users cannot log in, and their sessions and tokens stop working.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Whether the user can log in with a password (gateway users have none).
    pub has_password: bool,
    /// Roles on the organization (no project) or on single projects of it.
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: OrgId,
    pub email: String,
    pub name: Option<String>,
    /// A PHC-format hash; `None` for users who only come through a gateway.
    pub password_hash: Option<String>,
    pub grants: Vec<Grant>,
}

/// What to change about a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
    /// Replaces every grant.
    pub grants: Option<Vec<Grant>>,
}

/// A user looked up for a password login: the stored hash comes along.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: Option<String>,
}
