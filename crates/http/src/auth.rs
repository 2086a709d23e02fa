//! Authentication (who is calling: a key from `Authorization: Bearer`) and authorisation (may
//! they do this: one `require` for every route). Later issues add users, JWTs and roles here.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use sextant_core::{ErrorKind, ProjectId};
use sextant_store::{ApiKey, KeyKind};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a route needs the caller to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Send events to a project.
    Ingest,
    /// Read and query a project's events.
    Read,
    /// Manage organizations, projects and keys; read server metrics.
    Admin,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) key: ApiKey,
}

impl Caller {
    /// Authorises `action`; returns the project the caller is scoped to (none for admin).
    pub(crate) fn require(&self, action: Action) -> Result<Option<&ProjectId>, ApiError> {
        let allowed = matches!(
            (action, self.key.kind),
            (Action::Ingest, KeyKind::Write | KeyKind::Secret)
                | (Action::Read, KeyKind::Secret)
                | (Action::Admin, KeyKind::Admin)
        );
        if !allowed {
            let needs = match action {
                Action::Ingest => "a project's write or secret key",
                Action::Read => "a project's secret key (sx_sk_...)",
                Action::Admin => "an admin key (sx_ak_...)",
            };
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                format!(
                    "this endpoint needs {needs}; the key presented is a {} key",
                    self.key.kind.as_str()
                ),
            ));
        }
        Ok(self.key.project_id.as_ref())
    }

    /// Authorises `action` on the caller's own project.
    pub(crate) fn project(&self, action: Action) -> Result<ProjectId, ApiError> {
        self.require(action)?.cloned().ok_or_else(|| {
            ApiError::new(ErrorKind::Forbidden, "this endpoint needs a key scoped to a project")
        })
    }
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else { return Ok(None) };
    let text = value
        .to_str()
        .map_err(|_| unauthenticated("the Authorization header is not valid text"))?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(|| unauthenticated("use `Authorization: Bearer <key>`"))?;
    Ok(Some(token.trim()))
}

/// The user name and password of `Authorization: Basic base64(user:password)`, if the header
/// is there and readable (the password is empty when there is no `:`).
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':').unwrap_or((text.as_str(), ""));
    Some((user.to_owned(), password.to_owned()))
}

pub(crate) async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    if let Some(key) = state.keys.get(token) {
        return Ok(Caller { key });
    }
    match state.meta.authenticate(token).await? {
        Some(key) => {
            state.keys.put(token, key.clone());
            Ok(Caller { key })
        }
        None => Err(unauthenticated("the key is unknown or revoked")),
    }
}

/// Recently authenticated keys, so busy ingestion does not query the metadata store on every
/// request. Revocations through this server's API apply at once; through another process (the
/// CLI, another node) within [`KEY_CACHE_TTL`].
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (ApiKey, Instant)>>,
}

/// How long a looked-up key is trusted without asking the metadata store again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(10);
/// Beyond this many cached keys the cache starts over (keys are few; this bounds memory).
const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    fn get(&self, token: &str) -> Option<ApiKey> {
        let entries = self.entries.lock().ok()?;
        let (key, at) = entries.get(token)?;
        (at.elapsed() < KEY_CACHE_TTL).then(|| key.clone())
    }

    fn put(&self, token: &str, key: ApiKey) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= KEY_CACHE_MAX {
                entries.clear();
            }
            entries.insert(token.to_owned(), (key, Instant::now()));
        }
    }

    /// Drops a key everywhere it is cached, e.g. when it is revoked.
    pub(crate) fn forget(&self, key_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (key, _)| key.id != key_id);
        }
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(ErrorKind::Unauthenticated, message)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?
            .ok_or_else(|| unauthenticated("this endpoint needs `Authorization: Bearer <key>`"))?;
        authenticate(state, token).await
    }
}
