//! Authentication (who is calling) and the one place where every route's authorisation is
//! decided (`Caller::project`, `Caller::organization`, `Caller::instance`, with the rules of
//! `sextant_access`). Credentials, in order: `Authorization: Bearer` with an API key or a
//! gateway JWT, HTTP Basic `write_key:secret_key` (Amplitude's Dashboard API), the gateway's
//! own JWT header, and the web UI's session cookie (with a CSRF token on unsafe methods).

mod cache;
mod credentials;
mod gateway;
mod scope;

pub use cache::CREDENTIAL_CACHE_TTL;
pub(crate) use cache::CredentialCache;
pub(crate) use credentials::{SESSION_COOKIE, basic, bearer, cookie};
pub use gateway::Gateway;
pub(crate) use scope::{ProjectAccess, ProjectParam};

use crate::audit::AuditSlot;
use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sextant_access::{SessionToken, constant_time_eq, csrf_token, sha256_hex};
use sextant_core::{ErrorKind, ProjectId};
use sextant_store::{ApiKey, KeyKind, User};
use std::sync::Arc;

/// Who is calling, once their credential checked out.
#[derive(Debug)]
pub(crate) enum Principal {
    /// An instance-wide admin key: every organization and project.
    Instance { key: ApiKey },
    /// A write key (ingestion only) or a secret key acting with its role, on one project.
    ProjectKey { key: ApiKey, project: ProjectId },
    /// A person, from a web session or a gateway JWT.
    Person { user: User },
}

/// How the caller authenticated (recorded in the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    ApiKey,
    Session,
    Jwt,
}

impl Via {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Via::ApiKey => "api_key",
            Via::Session => "session",
            Via::Jwt => "jwt",
        }
    }
}

/// An authenticated caller. Routes take it as an extractor and ask it for the scope they
/// need; it reports what it resolved to the audit log.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) principal: Arc<Principal>,
    pub(crate) via: Via,
    pub(crate) audit: Option<AuditSlot>,
}

impl Caller {
    /// `user:<id>` or `key:<id>`.
    pub(crate) fn actor(&self) -> String {
        match &*self.principal {
            Principal::Instance { key } | Principal::ProjectKey { key, .. } => {
                format!("key:{}", key.id)
            }
            Principal::Person { user } => format!("user:{}", user.id),
        }
    }

    pub(crate) fn key(&self) -> Option<&ApiKey> {
        match &*self.principal {
            Principal::Instance { key } | Principal::ProjectKey { key, .. } => Some(key),
            Principal::Person { .. } => None,
        }
    }
}

fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Unauthenticated, message)
}

/// The caller behind an API key (`sx_...`), from the cache or the metadata store.
pub(crate) async fn authenticate_key(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let hash = sha256_hex(token);
    let principal = match state.credentials.get(&hash) {
        Some(principal) => principal,
        None => {
            let key = state
                .meta
                .authenticate(token)
                .await?
                .ok_or_else(|| unauthenticated("the key is unknown or revoked"))?;
            let principal = Arc::new(match (key.kind, key.project_id.clone()) {
                (KeyKind::Admin, _) => Principal::Instance { key },
                (_, Some(project)) => Principal::ProjectKey { key, project },
                (_, None) => return Err(unauthenticated("the key has no project")),
            });
            state.credentials.put(&hash, Arc::clone(&principal));
            principal
        }
    };
    if let Principal::Instance { key } | Principal::ProjectKey { key, .. } = &*principal {
        state.credentials.touch(state, &key.id);
    }
    Ok(Caller { principal, via: Via::ApiKey, audit: None })
}

/// The project a key may send events to (write keys, and secret keys whose role ingests).
pub(crate) async fn ingest_project(state: &AppState, token: &str) -> Result<ProjectId, ApiError> {
    let caller = authenticate_key(state, token).await?;
    caller.ingest_project()
}

impl Caller {
    /// The key's project when it may send events there.
    pub(crate) fn ingest_project(&self) -> Result<ProjectId, ApiError> {
        match &*self.principal {
            Principal::ProjectKey { key, project } => {
                let allowed = key.kind == KeyKind::Write
                    || key.role.is_some_and(|r| {
                        sextant_access::role_allows(r, sextant_access::Permission::Ingest)
                    });
                if allowed {
                    Ok(project.clone())
                } else {
                    Err(ApiError::new(
                        ErrorKind::Forbidden,
                        "this key's role cannot send events; use the project's write key",
                    ))
                }
            }
            _ => Err(ApiError::new(
                ErrorKind::Forbidden,
                "events are sent with a project's write key (sx_wk_...)",
            )),
        }
    }
}

async fn session_caller(state: &AppState, parts: &Parts) -> Result<Option<Caller>, ApiError> {
    let Some(text) = credentials::cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let token = SessionToken::presented(text)
        .ok_or_else(|| unauthenticated("the session cookie is malformed; log in again"))?;
    if !parts.method.is_safe() {
        // A cross-site form or script can make the browser send the cookie, but cannot read
        // the session's CSRF token.
        let presented =
            parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !constant_time_eq(presented, &csrf_token(&token)) {
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                "missing or wrong X-CSRF-Token header (it comes with the login answer and GET /api/v1/auth/me)",
            )
            .with_code("csrf_failed"));
        }
    }
    let hash = token.hash();
    let principal = match state.credentials.get(&hash) {
        Some(principal) => principal,
        None => {
            let user = state
                .meta
                .session_user(&hash, chrono::Utc::now())
                .await?
                .ok_or_else(|| unauthenticated("the session has expired; log in again"))?;
            let principal = Arc::new(Principal::Person { user });
            state.credentials.put(&hash, Arc::clone(&principal));
            principal
        }
    };
    Ok(Some(Caller { principal, via: Via::Session, audit: None }))
}

async fn caller_from(state: &AppState, parts: &Parts) -> Result<Caller, ApiError> {
    if let Some(token) = bearer(&parts.headers)? {
        if token.starts_with("sx_") {
            return authenticate_key(state, token).await;
        }
        if let Some(gateway) = &state.gateway
            && gateway.reads_authorization()
        {
            return gateway.caller(state, token).await;
        }
        return Err(unauthenticated(if state.gateway.is_some() {
            "the bearer token is neither a Sextant key nor a JWT"
        } else {
            "the bearer token is not a Sextant key (sx_...); JWT sign-in is not configured"
        }));
    }
    if let Some((user, password)) = basic(&parts.headers) {
        return basic_caller(state, &user, &password).await;
    }
    if let Some(gateway) = &state.gateway
        && let Some(token) = gateway.token_in(&parts.headers)
    {
        return gateway.caller(state, token).await;
    }
    if let Some(caller) = session_caller(state, parts).await? {
        return Ok(caller);
    }
    Err(unauthenticated(
        "this endpoint needs credentials: `Authorization: Bearer <key>`, a gateway JWT, or a login session",
    ))
}

/// Amplitude's Dashboard API credentials: `api_key:secret_key`, the project's write key and
/// one of its secret keys. The secret key is the caller; the write key must match its project.
async fn basic_caller(state: &AppState, user: &str, password: &str) -> Result<Caller, ApiError> {
    let secret = authenticate_key(state, password)
        .await
        .map_err(|_| unauthenticated("the Basic password (secret_key) is unknown or revoked"))?;
    let Principal::ProjectKey { key, project } = &*secret.principal else {
        return Err(unauthenticated(
            "the Basic password must be a project's secret key (sx_sk_...)",
        ));
    };
    if key.kind != KeyKind::Secret {
        return Err(unauthenticated(
            "the Basic password must be a project's secret key (sx_sk_...)",
        ));
    }
    let write = authenticate_key(state, user)
        .await
        .map_err(|_| unauthenticated("the Basic user name (api_key) is unknown or revoked"))?;
    match &*write.principal {
        Principal::ProjectKey { project: other, .. } if other == project => Ok(secret),
        _ => Err(unauthenticated("the api_key and the secret_key belong to different projects")),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let slot = parts.extensions.get::<AuditSlot>().cloned();
        let mut caller = caller_from(state, parts).await?;
        if let Some(slot) = &slot {
            slot.identify(&caller);
        }
        // Write keys only send events, which have their own limits (per project and user).
        if !matches!(&*caller.principal, Principal::ProjectKey { key, .. } if key.kind == KeyKind::Write)
        {
            state.api_limiter.admit(&caller)?;
        }
        caller.audit = slot;
        Ok(caller)
    }
}
