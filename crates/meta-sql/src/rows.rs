//! Rows → metadata types. Times are stored as microseconds since the epoch.

use chrono::{DateTime, Utc};
use sextant_core::{Grant, OrgId, ProjectId, Role, micros_to_datetime};
use sextant_store::{ApiKey, KeyKind, Organization, Project, StoreError, User};
use sqlx::Row;
use sqlx::any::AnyRow;

pub(crate) fn get<'r, T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>>(
    row: &'r AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    row.try_get(column).map_err(|e| StoreError::Internal(format!("metadata column {column}: {e}")))
}

pub(crate) fn micros_to_time(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    micros_to_datetime(micros)
        .ok_or_else(|| StoreError::Internal(format!("stored time {micros} is out of range")))
}

pub(crate) fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    micros_to_time(get(row, column)?)
}

pub(crate) fn organization(row: &AnyRow) -> Result<Organization, StoreError> {
    Ok(Organization {
        id: OrgId::new(get::<String>(row, "id")?),
        name: get(row, "name")?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn project(row: &AnyRow) -> Result<Project, StoreError> {
    Ok(Project {
        id: ProjectId::new(get::<String>(row, "id")?),
        org_id: OrgId::new(get::<String>(row, "org_id")?),
        name: get(row, "name")?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn api_key(row: &AnyRow) -> Result<ApiKey, StoreError> {
    let kind: String = get(row, "kind")?;
    Ok(ApiKey {
        id: get(row, "id")?,
        kind: KeyKind::parse(&kind)
            .ok_or_else(|| StoreError::Internal(format!("unknown key kind `{kind}`")))?,
        project_id: get::<Option<String>>(row, "project_id")?.map(ProjectId::new),
        name: get(row, "name")?,
        prefix: get(row, "prefix")?,
        public_key: get(row, "public_key")?,
        role: get::<Option<String>>(row, "role")?.map(|r| role(&r)).transpose()?,
        created_at: time(row, "created_at")?,
        revoked_at: optional_time(row, "revoked_at")?,
        last_used_at: optional_time(row, "last_used_at")?,
    })
}

fn optional_time(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    get::<Option<i64>>(row, column)?.map(micros_to_time).transpose()
}

pub(crate) fn role(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Internal(format!("unknown role `{text}`")))
}

/// A `user_roles` row: scope `''` is the whole organization.
pub(crate) fn grant(row: &AnyRow) -> Result<(String, Grant), StoreError> {
    let scope: String = get(row, "scope")?;
    Ok((
        get(row, "user_id")?,
        Grant {
            project: (!scope.is_empty()).then(|| ProjectId::new(scope)),
            role: role(&get::<String>(row, "role")?)?,
        },
    ))
}

/// A `users` row (selected with `USER_COLUMNS`); grants are filled in by the caller.
pub(crate) fn user(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: get(row, "id")?,
        org_id: OrgId::new(get::<String>(row, "org_id")?),
        email: get(row, "email")?,
        name: get(row, "name")?,
        created_at: time(row, "created_at")?,
        disabled_at: optional_time(row, "disabled_at")?,
        has_password: get::<Option<String>>(row, "password_hash")?.is_some(),
        grants: Vec::new(),
    })
}
