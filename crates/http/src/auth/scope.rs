//! Authorisation: which project or organization a caller may act on, and with which role.
//! Every route asks here; a project the caller has no role on answers 404, as if it did not
//! exist, so ids of other tenants cannot be probed.

use super::{Caller, Principal};
use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sextant_access::{Permission, resolve_role, role_allows};
use sextant_core::{ErrorKind, OrgId, Role};
use sextant_store::{KeyKind, Organization, Project};

/// A project the caller may act on, and the role they act with (`None`: a write key, which
/// may only send events).
#[derive(Debug, Clone)]
pub(crate) struct ProjectAccess {
    pub(crate) project: Project,
    pub(crate) role: Option<Role>,
}

/// The `project` query parameter (`?project=prj_...`), which callers that may see several
/// projects (people, instance admin keys) use to pick one.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProjectParam(pub(crate) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ProjectParam {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts.uri.query().and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "project")
                .map(|(_, value)| value.into_owned())
        });
        Ok(ProjectParam(value))
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorKind::NotFound, format!("no project with id {id}"))
}

fn denied(role: Option<Role>, need: Permission) -> ApiError {
    let holders: Vec<&str> =
        Role::ALL.iter().filter(|r| role_allows(**r, need)).map(|r| r.as_str()).collect();
    let who = role.map_or_else(|| "a write key".to_owned(), |r| format!("the role `{r}`"));
    ApiError::new(
        ErrorKind::Forbidden,
        format!(
            "{who} does not allow `{}` on this project (roles that do: {})",
            need.as_str(),
            holders.join(", ")
        ),
    )
}

impl Caller {
    /// Authorises `need` on a project: the one a project key belongs to, or the one
    /// `requested` names (a path segment or `?project=`) for everyone else.
    pub(crate) async fn project(
        &self,
        state: &AppState,
        requested: Option<&str>,
        need: Permission,
    ) -> Result<ProjectAccess, ApiError> {
        let (id, role) = match &*self.principal {
            Principal::ProjectKey { key, project } => {
                if requested.is_some_and(|r| r != project.as_str()) {
                    return Err(not_found(requested.unwrap_or_default()));
                }
                let role = match key.kind {
                    KeyKind::Secret => key.role,
                    _ => None,
                };
                (project.as_str().to_owned(), role)
            }
            Principal::Instance { .. } | Principal::Person { .. } => {
                let id = requested.ok_or_else(|| {
                    ApiError::invalid(
                        "name the project: add `?project=<project id>` (ids are listed by GET /api/v1/projects)",
                    )
                    .with_code("project_required")
                })?;
                (id.to_owned(), Some(Role::Admin))
            }
        };
        let project = match state.meta.find_project(&id).await {
            Ok(Some(project)) if project.id.as_str() == id => project,
            Ok(_) => return Err(not_found(&id)),
            // Only ids are accepted here, so an ambiguous name is simply not an id.
            Err(e) if e.kind() == ErrorKind::Conflict => return Err(not_found(&id)),
            Err(e) => return Err(e.into()),
        };
        let role = match &*self.principal {
            Principal::Person { user } => {
                if user.org_id != project.org_id {
                    return Err(not_found(&id));
                }
                Some(resolve_role(&user.grants, &project.id).ok_or_else(|| not_found(&id))?)
            }
            _ => role,
        };
        if let Some(slot) = &self.audit {
            slot.scope(Some(project.org_id.clone()), Some(project.id.clone()));
        }
        let allowed = match role {
            Some(role) => role_allows(role, need),
            None => need == Permission::Ingest,
        };
        if !allowed {
            return Err(denied(role, need));
        }
        Ok(ProjectAccess { project, role })
    }

    /// Authorises organization administration (users, new projects, the organization's audit
    /// log): an organization admin on their own organization, or an instance admin key on
    /// `requested` (an organization id or name; the default organization when absent).
    pub(crate) async fn organization(
        &self,
        state: &AppState,
        requested: Option<&str>,
    ) -> Result<Organization, ApiError> {
        let orgs = state.meta.list_orgs().await?;
        let find = |wanted: &str| {
            orgs.iter().find(|o| o.id.as_str() == wanted || o.name == wanted).cloned()
        };
        let missing = |wanted: &str| {
            ApiError::new(ErrorKind::NotFound, format!("no organization `{wanted}`"))
        };
        let org = match &*self.principal {
            Principal::Instance { .. } => {
                let wanted = requested.unwrap_or(crate::DEFAULT_ORG);
                find(wanted).ok_or_else(|| missing(wanted))?
            }
            Principal::Person { user } => {
                let own = orgs
                    .iter()
                    .find(|o| o.id == user.org_id)
                    .cloned()
                    .ok_or_else(|| missing(user.org_id.as_str()))?;
                if requested.is_some_and(|r| r != own.id.as_str() && r != own.name) {
                    return Err(missing(requested.unwrap_or_default()));
                }
                let org_admin =
                    user.grants.iter().any(|g| g.project.is_none() && g.role == Role::Admin);
                if !org_admin {
                    return Err(ApiError::new(
                        ErrorKind::Forbidden,
                        "this needs the `admin` role on the organization",
                    ));
                }
                own
            }
            Principal::ProjectKey { .. } => {
                return Err(ApiError::new(
                    ErrorKind::Forbidden,
                    "project keys cannot administer organizations; use an organization admin's login or an instance admin key",
                ));
            }
        };
        if let Some(slot) = &self.audit {
            slot.scope(Some(org.id.clone()), None);
        }
        Ok(org)
    }

    /// Authorises instance administration: only instance admin keys.
    pub(crate) fn instance(&self) -> Result<(), ApiError> {
        match &*self.principal {
            Principal::Instance { .. } => Ok(()),
            _ => Err(ApiError::new(
                ErrorKind::Forbidden,
                "this needs an instance admin key (sx_ak_..., created with `sextant key create --admin`)",
            )),
        }
    }

    /// Projects the caller holds any role on.
    pub(crate) async fn visible_projects(
        &self,
        state: &AppState,
    ) -> Result<Vec<Project>, ApiError> {
        let all = state.meta.list_projects().await?;
        Ok(match &*self.principal {
            Principal::Instance { .. } => all,
            Principal::ProjectKey { project, .. } => {
                all.into_iter().filter(|p| &p.id == project).collect()
            }
            Principal::Person { user } => all
                .into_iter()
                .filter(|p| p.org_id == user.org_id && resolve_role(&user.grants, &p.id).is_some())
                .collect(),
        })
    }

    /// The caller's organization, for people; `None` for keys.
    pub(crate) fn person_org(&self) -> Option<&OrgId> {
        match &*self.principal {
            Principal::Person { user } => Some(&user.org_id),
            _ => None,
        }
    }
}
