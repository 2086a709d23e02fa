//! Administration with an admin key: projects and their keys.

use crate::auth::{Action, Caller};
use crate::routes::{json_body, raw_body};
use crate::{ApiError, AppState};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use sextant_core::{ErrorKind, ProjectId};
use sextant_store::{KeyKind, NewKey, ProjectSettings};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(list_projects).post(create_project))
        .route("/api/v1/projects/{project}/keys", get(list_keys).post(create_key))
        .route("/api/v1/projects/{project}/settings", get(get_settings).patch(patch_settings))
        .route("/api/v1/keys/{key}", delete(revoke_key))
}

/// Organization used when a request names none.
pub const DEFAULT_ORG: &str = "default";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProject {
    name: String,
    #[serde(default)]
    organization: Option<String>,
}

async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Action::Admin)?;
    let request: NewProject = json_body(&raw_body(body)?)?;
    let org = state.meta.ensure_org(request.organization.as_deref().unwrap_or(DEFAULT_ORG)).await?;
    let (project, write_key) = state.meta.create_project(&org.id, &request.name).await?;
    tracing::info!(project = %project.id, org = %org.id, "project created");
    Ok((StatusCode::CREATED, Json(json!({"project": project, "write_key": write_key.secret}))))
}

async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Action::Admin)?;
    Ok(Json(json!({"projects": state.meta.list_projects().await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProjectKey {
    kind: KeyKind,
    name: String,
}

async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Action::Admin)?;
    let request: NewProjectKey = json_body(&raw_body(body)?)?;
    if request.kind == KeyKind::Admin {
        return Err(ApiError::invalid(
            "admin keys are created with `sextant key create --admin` on the server",
        ));
    }
    let project = existing_project(&state, &project).await?;
    let created = state
        .meta
        .create_key(NewKey { kind: request.kind, project_id: Some(project), name: request.name })
        .await?;
    tracing::info!(key = %created.key.id, kind = created.key.kind.as_str(), "key created");
    Ok((StatusCode::CREATED, Json(json!(created))))
}

async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Action::Admin)?;
    let project = existing_project(&state, &project).await?;
    Ok(Json(json!({"keys": state.meta.list_keys(Some(&project)).await?})))
}

async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Action::Admin)?;
    if key == caller.key.id {
        return Err(ApiError::new(ErrorKind::Conflict, "a key cannot revoke itself"));
    }
    let revoked = state.meta.revoke_key(&key).await?;
    state.keys.forget(&revoked.id);
    tracing::info!(key = %revoked.id, "key revoked");
    Ok(Json(json!(revoked)))
}

async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Json<ProjectSettings>, ApiError> {
    caller.require(Action::Admin)?;
    let project = existing_project(&state, &project).await?;
    Ok(Json(state.meta.project_settings(&project).await?))
}

/// Merges the given keys over the current settings. `add_internal_users` /
/// `remove_internal_users` take ids or emails in clear and store only their digests.
async fn patch_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ProjectSettings>, ApiError> {
    caller.require(Action::Admin)?;
    let project = existing_project(&state, &project).await?;
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

pub(crate) async fn existing_project(state: &AppState, id: &str) -> Result<ProjectId, ApiError> {
    match state.meta.find_project(id).await? {
        Some(project) if project.id.as_str() == id => Ok(project.id),
        _ => Err(ApiError::new(ErrorKind::NotFound, format!("no project with id {id}"))),
    }
}
