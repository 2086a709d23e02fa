//! Web sign-in: password login to an HttpOnly session cookie, logout, and `me` (who the
//! caller is, what they may reach, and the session's CSRF token).

use crate::api::{Api, Operation, schema_of};
use crate::audit::AuditSlot;
use crate::auth::{Caller, Principal, SESSION_COOKIE, Via, cookie};
use crate::routes::{json_body, raw_body, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sextant_access::{PasswordHash, SessionToken, csrf_token, resolve_role, verify_password};
use sextant_core::{ErrorKind, ProjectId, Role};
use sextant_store::{ApiKey, User};
use std::net::SocketAddr;

pub(crate) fn api() -> Api {
    Api::new()
        .add(
            Operation::post(
                "/api/v1/auth/login",
                "login",
                "Log in with email and password; sets the session cookie",
            )
            .tag(tags::ACCOUNTS)
            .public()
            .audited()
            .json_body(schema_of::<Login>())
            .ok(200, Some(schema_of::<Me>()))
            .also(&[400, 401, 413, 429, 503]),
            login,
        )
        .add(
            Operation::post("/api/v1/auth/logout", "logout", "End the current session")
                .tag(tags::ACCOUNTS)
                .ok(204, None),
            logout,
        )
        .add(
            Operation::get(
                "/api/v1/auth/me",
                "me",
                "Who the caller is, the projects they reach and with which role",
            )
            .tag(tags::ACCOUNTS)
            .ok(200, Some(schema_of::<Me>())),
            me,
        )
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

/// The caller and what they reach.
#[derive(Serialize, schemars::JsonSchema)]
struct Me {
    /// Set for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User>,
    /// Set for API keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<ApiKey>,
    /// `api_key`, `session` or `jwt`.
    via: String,
    /// Whether this caller is an instance admin key.
    instance_admin: bool,
    projects: Vec<ProjectRole>,
    /// For sessions: send it as `X-CSRF-Token` on every POST, PATCH, PUT and DELETE.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct ProjectRole {
    id: ProjectId,
    name: String,
    /// `None` for a write key (sending only).
    role: Option<Role>,
}

async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: Login = json_body(&raw_body(body)?)?;
    let email = request.email.trim().to_lowercase();
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let address =
        crate::routes::wire::forwarded_ip(&headers).or(peer).map(|ip| state.audit.hash_ip(ip));
    state.security.login.admit(&email, address.as_deref())?;
    let found = state.meta.find_user_by_email(&email).await?;
    let stored =
        found.as_ref().and_then(|c| c.password_hash.clone()).map(PasswordHash::from_stored);
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, stored.as_ref()))
        .await
        .map_err(|e| {
            ApiError::new(ErrorKind::Internal, format!("verification task failed: {e}"))
        })?;
    // The audit record names the account even when the password was wrong: repeated
    // failures on one account are what an admin looks for.
    if let (Some(slot), Some(credentials)) = (extensions.get::<AuditSlot>(), &found) {
        slot.login(&credentials.user);
    }
    let user = match found {
        Some(credentials) if matches => credentials.user,
        _ => return Err(ApiError::new(ErrorKind::Unauthenticated, "wrong email or password")),
    };
    if user.disabled_at.is_some() {
        return Err(ApiError::new(ErrorKind::Forbidden, "this user is disabled"));
    }
    let token = SessionToken::generate();
    let ttl = chrono::Duration::from_std(state.security.session_ttl)
        .map_err(|_| ApiError::new(ErrorKind::Internal, "session lifetime out of range"))?;
    let expires_at = Utc::now() + ttl;
    state.meta.create_session(&token.hash(), &user.id, expires_at).await?;
    tracing::info!(user = %user.id, "logged in");
    let me = describe(&state, &Principal::Person { user }, Via::Session).await?;
    let me =
        Me { csrf_token: Some(csrf_token(&token)), session_expires_at: Some(expires_at), ..me };
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        token.expose(),
        state.security.session_ttl.as_secs(),
        if state.security.https { "; Secure" } else { "" }
    );
    Ok(with_cookie(Json(me).into_response(), &cookie))
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if caller.via != Via::Session {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "only a login session can log out; API keys are revoked instead",
        ));
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE).and_then(SessionToken::presented) {
        state.meta.delete_session(&token.hash()).await?;
        state.credentials.forget(&token.hash());
    }
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), &clear))
}

async fn me(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Me>, ApiError> {
    let mut me = describe(&state, &caller.principal, caller.via).await?;
    if caller.via == Via::Session {
        me.csrf_token = cookie(&headers, SESSION_COOKIE)
            .and_then(SessionToken::presented)
            .map(|token| csrf_token(&token));
    }
    Ok(Json(me))
}

async fn describe(state: &AppState, principal: &Principal, via: Via) -> Result<Me, ApiError> {
    let all = state.meta.list_projects().await?;
    let role_of = |id: &ProjectId, name: &str, role: Option<Role>| ProjectRole {
        id: id.clone(),
        name: name.to_owned(),
        role,
    };
    let (user, key, instance_admin, projects) = match principal {
        Principal::Instance { key } => (
            None,
            Some(key.clone()),
            true,
            all.iter().map(|p| role_of(&p.id, &p.name, Some(Role::Admin))).collect(),
        ),
        Principal::ProjectKey { key, project } => (
            None,
            Some(key.clone()),
            false,
            all.iter()
                .filter(|p| &p.id == project)
                .map(|p| role_of(&p.id, &p.name, key.role))
                .collect(),
        ),
        Principal::Person { user } => (
            Some(user.clone()),
            None,
            false,
            all.iter()
                .filter(|p| p.org_id == user.org_id)
                .filter_map(|p| {
                    resolve_role(&user.grants, &p.id).map(|r| role_of(&p.id, &p.name, Some(r)))
                })
                .collect(),
        ),
    };
    Ok(Me {
        user,
        key,
        via: via.as_str().to_owned(),
        instance_admin,
        projects,
        csrf_token: None,
        session_expires_at: None,
    })
}
