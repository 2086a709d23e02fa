//! Settings for who may call Sextant: web sessions, API rate limits, gateway JWTs, CORS and the
//! audit log's retention.

use crate::ConfigError;
use crate::raw::{RawAudit, RawAuth, RawJwt};
use crate::values::{Text, parse_duration};
use sextant_access::{JwkSource, JwtOptions, RoleMapping};
use sextant_core::Role;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How long a web login lasts.
    pub session_ttl: Duration,
    /// Sustained requests per second one key or user may make to the API (not ingestion),
    /// bursts of twice as many; 0 = off.
    pub api_requests_per_second: u64,
    /// Password attempts per minute per email and per client address.
    pub login_attempts_per_minute: u64,
    /// Session cookies get `Secure` when the public URL is https.
    pub secure_cookies: bool,
    pub jwt: Option<JwtSettings>,
    /// Origins allowed to call the API from browsers (exact `scheme://host[:port]`).
    pub cors_allowed_origins: Vec<String>,
}

/// Gateway JWTs: where the token is, how to verify it, and how its claims map to roles.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Header carrying the token: `authorization` (`Bearer <jwt>`) or a gateway's own header
    /// holding the bare token.
    pub header: String,
    /// Organization that gateway users belong to (created if missing).
    pub organization: String,
    pub verifier: JwtOptions,
}

#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub retention_days: u32,
}

pub(crate) fn validate_auth(
    raw: RawAuth,
    secure_cookies: bool,
    cors: Option<Vec<Text>>,
) -> Result<AuthSettings, ConfigError> {
    let session_ttl = match raw.session_ttl {
        Some(Text(text)) => {
            parse_duration(&text).map_err(|m| ConfigError::invalid("auth.session_ttl", m))?
        }
        None => Duration::from_secs(7 * 86_400),
    };
    if session_ttl < Duration::from_secs(60) {
        return Err(ConfigError::invalid("auth.session_ttl", "must be at least one minute"));
    }
    let mut cors_allowed_origins = Vec::new();
    for Text(origin) in cors.unwrap_or_default() {
        let origin = origin.trim_end_matches('/').to_owned();
        let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
            && !origin["https://".len().min(origin.len())..].contains('/');
        if !valid {
            return Err(ConfigError::invalid(
                "server.cors_allowed_origins",
                format!("`{origin}` is not an origin such as https://app.example.com"),
            ));
        }
        cors_allowed_origins.push(origin);
    }
    Ok(AuthSettings {
        session_ttl,
        api_requests_per_second: raw.api_requests_per_second.unwrap_or(50),
        login_attempts_per_minute: match raw.login_attempts_per_minute {
            Some(0) => {
                return Err(ConfigError::invalid(
                    "auth.login_attempts_per_minute",
                    "must be greater than zero",
                ));
            }
            other => other.unwrap_or(10),
        },
        secure_cookies,
        jwt: raw.jwt.map(validate_jwt).transpose()?,
        cors_allowed_origins,
    })
}

fn validate_jwt(raw: RawJwt) -> Result<JwtSettings, ConfigError> {
    let text =
        |value: Option<Text>, default: &str| value.map_or_else(|| default.to_owned(), |t| t.0);
    let jwks = match (raw.jwks_file, raw.jwks_url) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                "auth.jwt.jwks_url",
                "set either jwks_file or jwks_url, not both",
            ));
        }
        (Some(path), None) => Some(JwkSource::File(path)),
        (None, Some(Text(url))) if url.starts_with("https://") || url.starts_with("http://") => {
            Some(JwkSource::Url(url))
        }
        (None, Some(_)) => {
            return Err(ConfigError::invalid("auth.jwt.jwks_url", "must be an http(s) URL"));
        }
        (None, None) => None,
    };
    let hs256_secret = raw.hs256_secret.map(|t| t.0);
    if hs256_secret.is_none() && jwks.is_none() {
        return Err(ConfigError::invalid(
            "auth.jwt",
            "needs hs256_secret (prefer SEXTANT_AUTH__JWT__HS256_SECRET) or jwks_file / jwks_url",
        ));
    }
    if hs256_secret.as_ref().is_some_and(|s| s.len() < 32) {
        return Err(ConfigError::invalid("auth.jwt.hs256_secret", "needs at least 32 bytes"));
    }
    let mut role_map = Vec::new();
    for (claim_value, Text(target)) in raw.roles {
        let (role_name, project) = match target.split_once('@') {
            Some((role, project)) => (role, Some(project.to_owned())),
            None => (target.as_str(), None),
        };
        let role = Role::parse(role_name).ok_or_else(|| {
            ConfigError::invalid(
                "auth.jwt.roles",
                format!(
                    "`{claim_value}` maps to `{target}`; use a role (admin, analyst, viewer, business_viewer), optionally `@project`"
                ),
            )
        })?;
        role_map.push(RoleMapping { claim_value, role, project });
    }
    let leeway = match raw.leeway {
        Some(Text(t)) => {
            parse_duration(&t).map_err(|m| ConfigError::invalid("auth.jwt.leeway", m))?
        }
        None => Duration::from_secs(60),
    };
    Ok(JwtSettings {
        header: text(raw.header, "authorization").to_ascii_lowercase(),
        organization: text(raw.organization, "default"),
        verifier: JwtOptions {
            hs256_secret,
            jwks,
            issuer: raw.issuer.map(|t| t.0),
            audience: raw.audience.map(|t| t.0),
            email_claim: text(raw.email_claim, "email"),
            name_claim: text(raw.name_claim, "name"),
            roles_claim: text(raw.roles_claim, "roles"),
            role_map,
            leeway,
        },
    })
}

pub(crate) fn validate_audit(raw: RawAudit) -> Result<AuditSettings, ConfigError> {
    match raw.retention_days.unwrap_or(365) {
        0 => Err(ConfigError::invalid("audit.retention_days", "must be at least 1")),
        days => Ok(AuditSettings {
            retention_days: u32::try_from(days)
                .map_err(|_| ConfigError::invalid("audit.retention_days", "is too large"))?,
        }),
    }
}
