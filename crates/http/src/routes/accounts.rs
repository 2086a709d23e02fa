//! Organizations and their users: instance admins manage organizations; organization admins
//! manage the users of theirs and the roles they hold.

use crate::api::{Api, Operation, schema_of};
use crate::auth::Caller;
use crate::routes::{json_body, query_params, raw_body, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sextant_access::hash_password;
use sextant_core::{ErrorKind, Grant};
use sextant_store::{NewUser, Organization, User, UserChange};

pub(crate) fn api() -> Api {
    let org_param = |op: Operation| {
        op.query(
            "organization",
            "Organization id or name (instance admin keys only; organization admins act on their own)",
            json!({"type": "string"}),
        )
    };
    Api::new()
        .add(
            Operation::get("/api/v1/organizations", "list_organizations", "Organizations: all for instance admins, one's own for people")
                .tag(tags::ACCOUNTS)
                .ok(200, Some(schema_of::<OrganizationList>())),
            list_organizations,
        )
        .add(
            Operation::post("/api/v1/organizations", "create_organization", "Create an organization (instance admin key)")
                .tag(tags::ACCOUNTS)
                .json_body(schema_of::<NewOrganization>())
                .ok(201, Some(schema_of::<Organization>())),
            create_organization,
        )
        .add(
            org_param(Operation::get("/api/v1/users", "list_users", "The organization's users and their roles (organization admin)"))
                .tag(tags::ACCOUNTS)
                .ok(200, Some(schema_of::<UserList>())),
            list_users,
        )
        .add(
            org_param(Operation::post("/api/v1/users", "create_user", "Add a user with a password and roles (organization admin)"))
                .tag(tags::ACCOUNTS)
                .json_body(schema_of::<NewUserRequest>())
                .ok(201, Some(schema_of::<User>()))
                .also(&[409]),
            create_user,
        )
        .add(
            Operation::get("/api/v1/users/{user}", "get_user", "One user (organization admin)")
                .tag(tags::ACCOUNTS)
                .path_param("user", "User id (usr_...)")
                .ok(200, Some(schema_of::<User>())),
            get_user,
        )
        .add(
            Operation::new(Method::PATCH, "/api/v1/users/{user}", "update_user", "Rename, disable, reset the password of, or change the roles of a user (organization admin)")
                .changes()
                .tag(tags::ACCOUNTS)
                .path_param("user", "User id (usr_...)")
                .json_body(schema_of::<UserPatch>())
                .ok(200, Some(schema_of::<User>()))
                .also(&[409]),
            update_user,
        )
}

#[derive(Serialize, schemars::JsonSchema)]
struct OrganizationList {
    organizations: Vec<Organization>,
}

async fn list_organizations(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<OrganizationList>, ApiError> {
    let all = state.meta.list_orgs().await?;
    let organizations = if caller.instance().is_ok() {
        all
    } else {
        let own = caller.person_org().ok_or_else(|| {
            ApiError::new(
                ErrorKind::Forbidden,
                "project keys do not belong to a listing of organizations",
            )
        })?;
        all.into_iter().filter(|o| &o.id == own).collect()
    };
    Ok(Json(OrganizationList { organizations }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewOrganization {
    name: String,
}

async fn create_organization(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Organization>), ApiError> {
    caller.instance()?;
    let request: NewOrganization = json_body(&raw_body(body)?)?;
    if request.name.trim().is_empty() || request.name.chars().count() > 200 {
        return Err(ApiError::invalid("organization names are 1 to 200 characters"));
    }
    let org = state.meta.ensure_org(&request.name).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[derive(Deserialize)]
struct OrgQuery {
    #[serde(default)]
    organization: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct UserList {
    users: Vec<User>,
}

async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<OrgQuery>, QueryRejection>,
) -> Result<Json<UserList>, ApiError> {
    let query = query_params(query)?;
    let org = caller.organization(&state, query.organization.as_deref()).await?;
    Ok(Json(UserList { users: state.meta.list_users(&org.id).await? }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewUserRequest {
    email: String,
    #[serde(default)]
    name: Option<String>,
    /// At least 10 characters. Without one, the user can only come through a gateway JWT.
    #[serde(default)]
    password: Option<String>,
    /// Roles on the organization (no `project`) or on its projects.
    #[serde(default)]
    roles: Vec<Grant>,
}

async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<OrgQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let query = query_params(query)?;
    let org = caller.organization(&state, query.organization.as_deref()).await?;
    let request: NewUserRequest = json_body(&raw_body(body)?)?;
    let password_hash = match request.password {
        Some(password) => Some(hashed(password).await?),
        None => None,
    };
    let user = state
        .meta
        .create_user(NewUser {
            org_id: org.id,
            email: request.email,
            name: request.name,
            password_hash,
            grants: request.roles,
        })
        .await?;
    tracing::info!(user = %user.id, "user created");
    Ok((StatusCode::CREATED, Json(user)))
}

/// A user the caller administers: in the caller's organization (or any, for instance admins).
async fn administered(state: &AppState, caller: &Caller, id: &str) -> Result<User, ApiError> {
    let missing = || ApiError::new(ErrorKind::NotFound, format!("no user with id {id}"));
    let user = state.meta.get_user(id).await?.ok_or_else(missing)?;
    let org = user.org_id.as_str().to_owned();
    caller
        .organization(state, Some(&org))
        .await
        .map_err(|e| if e.kind == ErrorKind::NotFound { missing() } else { e })?;
    Ok(user)
}

async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(administered(&state, &caller, &id).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    #[serde(default)]
    name: Option<String>,
    /// A new password; ends the user's sessions.
    #[serde(default)]
    password: Option<String>,
    /// Disabling ends the user's sessions and refuses their logins and JWTs.
    #[serde(default)]
    disabled: Option<bool>,
    /// Replaces every role of the user.
    #[serde(default)]
    roles: Option<Vec<Grant>>,
}

async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<User>, ApiError> {
    let user = administered(&state, &caller, &id).await?;
    let patch: UserPatch = json_body(&raw_body(body)?)?;
    let is_self = caller.actor() == format!("user:{}", user.id);
    if is_self && (patch.disabled == Some(true) || patch.roles.is_some()) {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            "you cannot disable yourself or change your own roles; ask another admin",
        ));
    }
    let password_hash = match patch.password {
        Some(password) => Some(hashed(password).await?),
        None => None,
    };
    let change = UserChange {
        name: patch.name,
        password_hash,
        disabled: patch.disabled,
        grants: patch.roles,
    };
    let updated = state.meta.update_user(&user.id, change).await?;
    state.credentials.forget_owner(&user.id);
    tracing::info!(user = %user.id, "user changed");
    Ok(Json(updated))
}

/// Argon2 is deliberately slow: off the executor threads.
pub(crate) async fn hashed(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::new(ErrorKind::Internal, format!("hashing task failed: {e}")))?
        .map(|h| h.as_str().to_owned())
        .map_err(|e| ApiError::new(e.kind(), e.to_string()))
}
