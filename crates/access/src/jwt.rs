//! Forwarded JWTs from a gateway: signature (HS256 with a shared secret, or RS256/ES256 with
//! keys from a JWKS file or URL), expiry, issuer and audience checks, then the claims mapped to
//! an identity and grants. Unknown key ids trigger one JWKS reload (rate-limited), so a
//! gateway's key rotation needs no restart.

use crate::AccessError;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sextant_core::Role;
use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Where the gateway's public keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwkSource {
    File(PathBuf),
    Url(String),
}

/// One entry of the claim → role mapping: a value of the roles claim grants `role` on the
/// whole organization, or on one project (id or name) when `project` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMapping {
    pub claim_value: String,
    pub role: Role,
    pub project: Option<String>,
}

#[derive(Clone)]
pub struct JwtOptions {
    pub hs256_secret: Option<String>,
    pub jwks: Option<JwkSource>,
    /// Accepted `iss`; unchecked when absent.
    pub issuer: Option<String>,
    /// Required in `aud`; unchecked when absent.
    pub audience: Option<String>,
    /// Claim holding the user's email (the identity Sextant keys users by).
    pub email_claim: String,
    pub name_claim: String,
    /// Claim holding role names: a string or an array; a dotted path reaches nested claims
    /// (`realm_access.roles`).
    pub roles_claim: String,
    pub role_map: Vec<RoleMapping>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

impl std::fmt::Debug for JwtOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtOptions")
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "<redacted>"))
            .field("jwks", &self.jwks)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("roles_claim", &self.roles_claim)
            .finish_non_exhaustive()
    }
}

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayIdentity {
    pub email: String,
    pub name: Option<String>,
    /// The mapped grants; a project is an id or a name still to be resolved.
    pub grants: Vec<(Role, Option<String>)>,
}

/// Least time between two JWKS reloads triggered by unknown key ids.
const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// Keys older than this are reloaded at the next verification, so revoked gateway keys stop
/// working without a restart.
const REFRESH_EVERY: Duration = Duration::from_secs(600);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

pub struct JwtVerifier {
    options: JwtOptions,
    keys: RwLock<JwkSet>,
    loaded_at: RwLock<Option<Instant>>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier").field("options", &self.options).finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Loads the JWKS (if any); fails when it cannot be read, so a misconfigured gateway is
    /// noticed at start rather than at the first request.
    pub async fn new(options: JwtOptions) -> Result<Self, AccessError> {
        if options.hs256_secret.is_none() && options.jwks.is_none() {
            return Err(AccessError::Invalid(
                "JWT authentication needs `hs256_secret` or a JWKS (`jwks_file` or `jwks_url`)"
                    .into(),
            ));
        }
        if options.hs256_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(AccessError::Invalid(
                "the JWT `hs256_secret` needs at least 32 bytes".into(),
            ));
        }
        let keys = match &options.jwks {
            Some(source) => load(source).await?,
            None => JwkSet { keys: Vec::new() },
        };
        Ok(Self { options, keys: RwLock::new(keys), loaded_at: RwLock::new(Some(Instant::now())) })
    }

    /// Verifies `token` and maps its claims.
    pub async fn verify(&self, token: &str) -> Result<GatewayIdentity, AccessError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AccessError::Rejected(format!("the JWT is malformed: {e}")))?;
        let key = match header.alg {
            Algorithm::HS256 => {
                let secret = self.options.hs256_secret.as_ref().ok_or_else(|| {
                    AccessError::Rejected("HS256 tokens are not accepted here".into())
                })?;
                DecodingKey::from_secret(secret.as_bytes())
            }
            Algorithm::RS256 | Algorithm::ES256 => {
                if self.options.jwks.is_none() {
                    return Err(AccessError::Rejected(format!(
                        "{:?} tokens are not accepted here (no JWKS configured)",
                        header.alg
                    )));
                }
                self.reload_if_older(REFRESH_EVERY).await?;
                match self.find_key(header.kid.as_deref(), header.alg)? {
                    Some(key) => key,
                    None => {
                        self.reload_if_older(RELOAD_EVERY).await?;
                        self.find_key(header.kid.as_deref(), header.alg)?.ok_or_else(|| {
                            AccessError::Rejected(format!(
                                "no key `{}` in the gateway's JWKS",
                                header.kid.as_deref().unwrap_or("(none)")
                            ))
                        })?
                    }
                }
            }
            other => {
                return Err(AccessError::Rejected(format!(
                    "JWT algorithm {other:?} is not accepted (HS256, RS256, ES256)"
                )));
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.options.leeway.as_secs();
        validation.validate_nbf = true;
        match &self.options.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &self.options.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&["exp"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| AccessError::Rejected(format!("the JWT is not valid: {e}")))?;
        self.identity(&data.claims)
    }

    fn find_key(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Option<DecodingKey>, AccessError> {
        let keys =
            self.keys.read().map_err(|_| AccessError::Internal("JWKS lock poisoned".into()))?;
        let candidates = keys.keys.iter().filter(|jwk| match kid {
            Some(kid) => jwk.common.key_id.as_deref() == Some(kid),
            None => true,
        });
        for jwk in candidates {
            // A key restricted to another algorithm must not verify this one (no confusion
            // between key types).
            let key_alg = jwk.common.key_algorithm.map(|a| format!("{a:?}"));
            if key_alg.is_some_and(|a| a != format!("{alg:?}")) {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    /// Reloads the JWKS if it was loaded longer than `age` ago; a failed reload keeps the
    /// current keys.
    async fn reload_if_older(&self, age: Duration) -> Result<(), AccessError> {
        let Some(source) = &self.options.jwks else { return Ok(()) };
        {
            let loaded = self
                .loaded_at
                .read()
                .map_err(|_| AccessError::Internal("JWKS lock poisoned".into()))?;
            if loaded.is_some_and(|at| at.elapsed() < age) {
                return Ok(());
            }
        }
        if let Ok(mut loaded) = self.loaded_at.write() {
            *loaded = Some(Instant::now());
        }
        match load(source).await {
            Ok(keys) => {
                if let Ok(mut current) = self.keys.write() {
                    *current = keys;
                }
                tracing::info!("reloaded the gateway's JWKS");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the gateway's JWKS; keeping the old keys");
                Ok(())
            }
        }
    }

    /// Reloads the keys now.
    pub async fn refresh(&self) -> Result<(), AccessError> {
        let Some(source) = &self.options.jwks else { return Ok(()) };
        let keys = load(source).await?;
        if let Ok(mut current) = self.keys.write() {
            *current = keys;
        }
        Ok(())
    }

    fn identity(&self, claims: &Value) -> Result<GatewayIdentity, AccessError> {
        let email = claim(claims, &self.options.email_claim)
            .and_then(Value::as_str)
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .ok_or_else(|| {
                AccessError::Rejected(format!(
                    "the JWT has no email in its `{}` claim",
                    self.options.email_claim
                ))
            })?;
        let name =
            claim(claims, &self.options.name_claim).and_then(Value::as_str).map(str::to_owned);
        let values: Vec<&str> = match claim(claims, &self.options.roles_claim) {
            Some(Value::String(s)) => s.split([' ', ',']).filter(|v| !v.is_empty()).collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let grants = self
            .options
            .role_map
            .iter()
            .filter(|m| values.contains(&m.claim_value.as_str()))
            .map(|m| (m.role, m.project.clone()))
            .collect();
        Ok(GatewayIdentity { email, name, grants })
    }
}

/// A claim by dotted path.
fn claim<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(claims, |value, part| value.get(part))
}

async fn load(source: &JwkSource) -> Result<JwkSet, AccessError> {
    let text = match source {
        JwkSource::File(path) => tokio::fs::read_to_string(path).await.map_err(|e| {
            AccessError::Unavailable(format!("cannot read the JWKS file {}: {e}", path.display()))
        })?,
        JwkSource::Url(url) => {
            let client = reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .map_err(|e| AccessError::Internal(format!("HTTP client: {e}")))?;
            let response = client
                .get(url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| {
                    AccessError::Unavailable(format!("cannot fetch the JWKS from {url}: {e}"))
                })?;
            response.text().await.map_err(|e| {
                AccessError::Unavailable(format!("cannot read the JWKS from {url}: {e}"))
            })?
        }
    };
    serde_json::from_str(&text)
        .map_err(|e| AccessError::Invalid(format!("the JWKS is not valid: {e}")))
}
