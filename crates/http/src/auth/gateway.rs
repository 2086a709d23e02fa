//! Callers forwarded by a gateway with a JWT: the token is verified (`sextant_access`), its
//! email names the user (created on first sight in the gateway's organization), and its
//! roles claim, mapped by configuration, replaces the user's grants.

use super::{Caller, Principal, Via, unauthenticated};
use crate::{ApiError, AppState};
use axum::http::HeaderMap;
use sextant_access::{GatewayIdentity, JwtVerifier, sha256_hex};
use sextant_core::{ErrorKind, Grant};
use sextant_store::{NewUser, StoreError, User, UserChange};
use std::sync::Arc;

/// Gateway sign-in: where the token is, how it is verified, which organization its users join.
#[derive(Debug)]
pub struct Gateway {
    verifier: JwtVerifier,
    /// Lowercase header name; `authorization` means `Authorization: Bearer <jwt>`.
    header: String,
    organization: String,
}

impl Gateway {
    pub fn new(verifier: JwtVerifier, header: String, organization: String) -> Self {
        Self { verifier, header, organization }
    }

    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }

    pub(crate) fn reads_authorization(&self) -> bool {
        self.header == "authorization"
    }

    /// The token in the gateway's own header, when it uses one.
    pub(crate) fn token_in<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        if self.reads_authorization() {
            return None;
        }
        let value = headers.get(self.header.as_str())?.to_str().ok()?.trim();
        Some(value.strip_prefix("Bearer ").unwrap_or(value)).filter(|t| !t.is_empty())
    }

    pub(crate) async fn caller(&self, state: &AppState, token: &str) -> Result<Caller, ApiError> {
        let hash = sha256_hex(token);
        if let Some(principal) = state.credentials.get(&hash) {
            return Ok(Caller { principal, via: Via::Jwt, audit: None });
        }
        let identity =
            self.verifier.verify(token).await.map_err(|e| unauthenticated(e.to_string()))?;
        let user = self.user(state, identity).await?;
        let principal = Arc::new(Principal::Person { user });
        state.credentials.put(&hash, Arc::clone(&principal));
        Ok(Caller { principal, via: Via::Jwt, audit: None })
    }

    async fn user(&self, state: &AppState, identity: GatewayIdentity) -> Result<User, ApiError> {
        let org = state.meta.ensure_org(&self.organization).await?;
        let projects = state.meta.list_projects().await?;
        let mut grants: Vec<Grant> = Vec::new();
        for (role, target) in identity.grants {
            let project = match target {
                None => None,
                Some(target) => {
                    let found = projects.iter().find(|p| {
                        p.org_id == org.id && (p.id.as_str() == target || p.name == target)
                    });
                    let Some(found) = found else {
                        tracing::warn!(project = %target, "a JWT role names a project that does not exist; ignored");
                        continue;
                    };
                    Some(found.id.clone())
                }
            };
            match grants.iter_mut().find(|g| g.project == project) {
                // Two claim values for one scope: the more trusted role wins.
                Some(existing) => existing.role = existing.role.min(role),
                None => grants.push(Grant { project, role }),
            }
        }
        let existing = state.meta.find_user_by_email(&identity.email).await?;
        let user = match existing {
            None => {
                let new = NewUser {
                    org_id: org.id.clone(),
                    email: identity.email.clone(),
                    name: identity.name.clone(),
                    password_hash: None,
                    grants: grants.clone(),
                };
                match state.meta.create_user(new).await {
                    Ok(user) => return Ok(user),
                    // Another request created them first.
                    Err(StoreError::Conflict(_)) => state
                        .meta
                        .find_user_by_email(&identity.email)
                        .await?
                        .map(|c| c.user)
                        .ok_or_else(|| unauthenticated("the user could not be created"))?,
                    Err(e) => return Err(e.into()),
                }
            }
            Some(credentials) => credentials.user,
        };
        if user.org_id != org.id {
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                "this email belongs to a user of another organization",
            ));
        }
        if user.disabled_at.is_some() {
            return Err(ApiError::new(ErrorKind::Forbidden, "this user is disabled"));
        }
        let mut sorted = grants.clone();
        sorted.sort_by(|a, b| a.project.cmp(&b.project));
        let mut current = user.grants.clone();
        current.sort_by(|a, b| a.project.cmp(&b.project));
        if sorted == current {
            return Ok(user);
        }
        Ok(state
            .meta
            .update_user(&user.id, UserChange { grants: Some(grants), ..UserChange::default() })
            .await?)
    }
}
