//! Projects, their keys and their settings.

use crate::api::{Api, Operation, schema_of};
use crate::auth::Caller;
use crate::routes::{json_body, raw_body, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sextant_access::Permission;
use sextant_core::{ErrorKind, Role};
use sextant_store::{ApiKey, CreatedKey, KeyKind, NewKey, Project, ProjectSettings};

/// Organization used when a request names none.
pub const DEFAULT_ORG: &str = "default";

pub(crate) fn api() -> Api {
    let project = |op: Operation| op.path_param("project", "Project id").tag(tags::ADMIN);
    Api::new()
        .add(
            Operation::get("/api/v1/projects", "list_projects", "Projects the caller holds a role on")
                .tag(tags::ADMIN)
                .ok(200, Some(schema_of::<ProjectList>())),
            list_projects,
        )
        .add(
            Operation::post("/api/v1/projects", "create_project", "Create a project and its first write key (organization admin)")
                .tag(tags::ADMIN)
                .json_body(schema_of::<NewProject>())
                .ok(201, Some(schema_of::<CreatedProject>()))
                .also(&[409]),
            create_project,
        )
        .add(
            project(Operation::get("/api/v1/projects/{project}/keys", "list_keys", "A project's keys (project admin)"))
                .ok(200, Some(schema_of::<KeyList>())),
            list_keys,
        )
        .add(
            project(Operation::post("/api/v1/projects/{project}/keys", "create_key", "Create a write key or a secret key with a role; the secret is shown only now (project admin)"))
                .json_body(schema_of::<NewProjectKey>())
                .ok(201, Some(schema_of::<CreatedKey>())),
            create_key,
        )
        .add(
            project(Operation::get("/api/v1/projects/{project}/settings", "get_settings", "A project's ingestion policy (project admin)"))
                .ok(200, Some(schema_of::<ProjectSettings>())),
            get_settings,
        )
        .add(
            project(Operation::new(Method::PATCH, "/api/v1/projects/{project}/settings", "patch_settings", "Change some settings (project admin)"))
                .changes()
                .json_body(settings_patch)
                .ok(200, Some(schema_of::<ProjectSettings>())),
            patch_settings,
        )
        .add(
            Operation::new(Method::DELETE, "/api/v1/keys/{key}", "revoke_key", "Revoke a key (admin of its project); revoking twice is not an error")
                .changes()
                .tag(tags::ADMIN)
                .path_param("key", "Key id (key_...)")
                .ok(200, Some(schema_of::<ApiKey>()))
                .also(&[409]),
            revoke_key,
        )
}

#[derive(Serialize, schemars::JsonSchema)]
struct ProjectList {
    projects: Vec<Project>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewProject {
    /// 1 to 200 characters, unique in the organization.
    name: String,
    /// Organization id or name: only instance admin keys choose (default: `default`);
    /// organization admins create projects in their own.
    #[serde(default)]
    organization: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct CreatedProject {
    project: Project,
    /// The project's first write key (public: it goes into SDKs).
    write_key: String,
}

async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CreatedProject>), ApiError> {
    let request: NewProject = json_body(&raw_body(body)?)?;
    let org = match (
        caller.organization(&state, request.organization.as_deref()).await,
        &request.organization,
    ) {
        // An instance admin may create an organization by naming it.
        (Err(e), Some(name)) if e.kind == ErrorKind::NotFound && caller.instance().is_ok() => {
            state.meta.ensure_org(name).await?
        }
        (outcome, _) => outcome?,
    };
    let (project, write_key) = state.meta.create_project(&org.id, &request.name).await?;
    tracing::info!(project = %project.id, org = %org.id, "project created");
    Ok((StatusCode::CREATED, Json(CreatedProject { project, write_key: write_key.secret })))
}

async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProjectList>, ApiError> {
    Ok(Json(ProjectList { projects: caller.visible_projects(&state).await? }))
}

#[derive(Serialize, schemars::JsonSchema)]
struct KeyList {
    keys: Vec<ApiKey>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewProjectKey {
    /// `write` (public, sending only) or `secret` (a service token with `role`).
    kind: KeyKind,
    name: String,
    /// Required for secret keys: what the token may do on the project.
    #[serde(default)]
    role: Option<Role>,
}

async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let access = caller.project(&state, Some(&project), Permission::Administer).await?;
    let request: NewProjectKey = json_body(&raw_body(body)?)?;
    let role = match (request.kind, request.role) {
        (KeyKind::Admin, _) => {
            return Err(ApiError::invalid(
                "instance admin keys are created with `sextant key create --admin` on the server",
            ));
        }
        (KeyKind::Secret, None) => {
            return Err(ApiError::invalid(
                "secret keys need a `role`: admin, analyst, viewer or business_viewer",
            ));
        }
        (KeyKind::Write, Some(_)) => {
            return Err(ApiError::invalid("write keys only send events; they take no `role`"));
        }
        (_, role) => role,
    };
    let created = state
        .meta
        .create_key(NewKey {
            kind: request.kind,
            project_id: Some(access.project.id),
            name: request.name,
            role,
        })
        .await?;
    tracing::info!(key = %created.key.id, kind = created.key.kind.as_str(), "key created");
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Json<KeyList>, ApiError> {
    let access = caller.project(&state, Some(&project), Permission::Administer).await?;
    Ok(Json(KeyList { keys: state.meta.list_keys(Some(&access.project.id)).await? }))
}

async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    let missing = || ApiError::new(ErrorKind::NotFound, format!("no key with id {key}"));
    let target =
        state.meta.list_keys(None).await?.into_iter().find(|k| k.id == key).ok_or_else(missing)?;
    match &target.project_id {
        Some(project) => {
            caller
                .project(&state, Some(project.as_str()), Permission::Administer)
                .await
                .map_err(|e| if e.kind == ErrorKind::NotFound { missing() } else { e })?;
        }
        None => caller.instance().map_err(|_| missing())?,
    }
    if caller.key().is_some_and(|k| k.id == key) {
        return Err(ApiError::new(ErrorKind::Conflict, "a key cannot revoke itself"));
    }
    let revoked = state.meta.revoke_key(&key).await?;
    state.credentials.forget_owner(&revoked.id);
    tracing::info!(key = %revoked.id, "key revoked");
    Ok(Json(revoked))
}

async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Json<ProjectSettings>, ApiError> {
    let access = caller.project(&state, Some(&project), Permission::Administer).await?;
    Ok(Json(state.meta.project_settings(&access.project.id).await?))
}

/// The settings patch: any settings to change, plus `add_internal_users` /
/// `remove_internal_users` (ids or emails in clear, of which only digests are kept).
fn settings_patch(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    use schemars::JsonSchema;
    let mut schema = ProjectSettings::json_schema(generator);
    let ids = serde_json::json!({"type": "array", "items": {"type": "string"}});
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert("add_internal_users".into(), ids.clone());
        properties.insert("remove_internal_users".into(), ids);
    }
    schema
}

/// Merges the given keys over the current settings.
async fn patch_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ProjectSettings>, ApiError> {
    let access = caller.project(&state, Some(&project), Permission::Administer).await?;
    let project = access.project.id;
    let Value::Object(patch) = json_body::<Value>(&raw_body(body)?)? else {
        return Err(ApiError::invalid("the body must be a JSON object of settings to change"));
    };
    let current = state.meta.project_settings(&project).await?;
    let settings =
        current.patched(patch).map_err(|e| ApiError::invalid(e).with_code("invalid_settings"))?;
    state.meta.set_project_settings(&project, &settings).await?;
    state.ingestor.settings_changed(&project);
    state.domains.invalidate();
    tracing::info!(project = %project, "project settings changed");
    Ok(Json(settings))
}
