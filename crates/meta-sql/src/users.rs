//! Users, their grants and their web sessions.

use crate::{db_error, keys, now_micros, rows};
use chrono::{DateTime, Utc};
use sextant_core::{Grant, OrgId};
use sextant_store::{NewUser, StoreError, User, UserChange, UserCredentials};
use sqlx::{AnyPool, Row};

const USER_COLUMNS: &str = "users.id, users.org_id, users.email, users.name, users.created_at, users.disabled_at, users.password_hash";

pub(crate) async fn create(pool: &AnyPool, new: NewUser) -> Result<User, StoreError> {
    let email = normalized_email(&new.email)?;
    if new.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(StoreError::Invalid("user names are at most 200 characters".into()));
    }
    let id = keys::new_id("usr");
    let mut tx = pool.begin().await.map_err(db_error)?;
    sqlx::query("INSERT INTO users (id, org_id, email, name, created_at, password_hash) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(new.org_id.as_str())
        .bind(&email)
        .bind(new.name.as_deref())
        .bind(now_micros())
        .bind(new.password_hash.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| match db_error(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("a user with email {email} already exists"))
            }
            StoreError::NotFound(_) => {
                StoreError::NotFound(format!("organization {} does not exist", new.org_id))
            }
            other => other,
        })?;
    replace_grants(&mut tx, &id, &new.org_id, &new.grants).await?;
    tx.commit().await.map_err(db_error)?;
    get(pool, &id).await?.ok_or_else(|| StoreError::Internal("created user vanished".into()))
}

pub(crate) async fn list(pool: &AnyPool, org: &OrgId) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY email");
    let rows = sqlx::query(&sql).bind(org.as_str()).fetch_all(pool).await.map_err(db_error)?;
    let mut users = rows.iter().map(rows::user).collect::<Result<Vec<_>, _>>()?;
    let grants = sqlx::query("SELECT user_roles.user_id, user_roles.scope, user_roles.role FROM user_roles JOIN users ON users.id = user_roles.user_id WHERE users.org_id = $1 ORDER BY user_roles.scope")
        .bind(org.as_str())
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    for row in &grants {
        let (user_id, grant) = rows::grant(row)?;
        if let Some(user) = users.iter_mut().find(|u| u.id == user_id) {
            user.grants.push(grant);
        }
    }
    Ok(users)
}

pub(crate) async fn get(pool: &AnyPool, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await.map_err(db_error)?;
    match row {
        Some(row) => Ok(Some(with_grants(pool, rows::user(&row)?).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn by_email(
    pool: &AnyPool,
    email: &str,
) -> Result<Option<UserCredentials>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    let row = sqlx::query(&sql)
        .bind(email.trim().to_lowercase())
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let password_hash: Option<String> =
        row.try_get("password_hash").map_err(|e| StoreError::Internal(e.to_string()))?;
    let user = with_grants(pool, rows::user(&row)?).await?;
    Ok(Some(UserCredentials { user, password_hash }))
}

pub(crate) async fn update(
    pool: &AnyPool,
    id: &str,
    change: UserChange,
) -> Result<User, StoreError> {
    let Some(current) = get(pool, id).await? else {
        return Err(StoreError::NotFound(format!("no user with id {id}")));
    };
    if change.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(StoreError::Invalid("user names are at most 200 characters".into()));
    }
    let mut tx = pool.begin().await.map_err(db_error)?;
    if let Some(name) = &change.name {
        sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    let mut end_sessions = false;
    if let Some(hash) = &change.password_hash {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        end_sessions = true;
    }
    if let Some(disabled) = change.disabled {
        // Disabling keeps the first time; enabling clears it.
        sqlx::query("UPDATE users SET disabled_at = CASE WHEN $1 = 1 THEN coalesce(disabled_at, $2) ELSE NULL END WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(now_micros())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        end_sessions |= disabled;
    }
    if let Some(grants) = &change.grants {
        replace_grants(&mut tx, id, &current.org_id, grants).await?;
    }
    if end_sessions {
        sqlx::query("DELETE FROM user_sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    get(pool, id).await?.ok_or_else(|| StoreError::NotFound(format!("no user with id {id}")))
}

pub(crate) async fn create_session(
    pool: &AnyPool,
    token_hash: &str,
    user_id: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO user_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now_micros())
        .bind(expires_at.timestamp_micros())
        .execute(pool)
        .await
        .map_err(|e| match db_error(e) {
            StoreError::NotFound(_) => StoreError::NotFound(format!("no user with id {user_id}")),
            other => other,
        })
        .map(drop)
}

pub(crate) async fn session_user(
    pool: &AnyPool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM user_sessions JOIN users ON users.id = user_sessions.user_id WHERE user_sessions.token_hash = $1 AND user_sessions.expires_at > $2 AND users.disabled_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(now.timestamp_micros())
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    match row {
        Some(row) => Ok(Some(with_grants(pool, rows::user(&row)?).await?)),
        None => Ok(None),
    }
}

async fn with_grants(pool: &AnyPool, mut user: User) -> Result<User, StoreError> {
    let rows = sqlx::query(
        "SELECT user_id, scope, role FROM user_roles WHERE user_id = $1 ORDER BY scope",
    )
    .bind(&user.id)
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    user.grants = rows.iter().map(|r| rows::grant(r).map(|(_, g)| g)).collect::<Result<_, _>>()?;
    Ok(user)
}

/// Replaces a user's grants; every project named must belong to the user's organization.
async fn replace_grants(
    tx: &mut sqlx::AnyConnection,
    user_id: &str,
    org: &OrgId,
    grants: &[Grant],
) -> Result<(), StoreError> {
    let mut scopes = std::collections::HashSet::new();
    for grant in grants {
        let scope = grant.project.as_ref().map_or("", |p| p.as_str());
        if !scopes.insert(scope) {
            return Err(StoreError::Invalid(format!(
                "more than one role for {}",
                if scope.is_empty() { "the organization" } else { scope }
            )));
        }
        if let Some(project) = &grant.project {
            let owner = sqlx::query("SELECT org_id FROM projects WHERE id = $1")
                .bind(project.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
            let owner: Option<String> =
                owner.map(|row| row.try_get("org_id")).transpose().map_err(db_error)?;
            if owner.as_deref() != Some(org.as_str()) {
                return Err(StoreError::NotFound(format!(
                    "no project {project} in the user's organization"
                )));
            }
        }
    }
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    for grant in grants {
        sqlx::query("INSERT INTO user_roles (user_id, scope, role) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(grant.project.as_ref().map_or("", |p| p.as_str()))
            .bind(grant.role.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

fn normalized_email(email: &str) -> Result<String, StoreError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 320
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(StoreError::Invalid(format!("`{email}` is not an email address")))
    }
}
