//! Session tokens for the web UI, the CSRF token bound to each, and constant-time comparison
//! for every secret the server checks.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A browser session's secret, carried in an HttpOnly cookie. The server keeps only its
/// SHA-256, so a copy of the database does not let anyone ride a session.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// 256 random bits.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(format!("sxs_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token presented by a client (not yet checked against storage).
    pub fn presented(text: &str) -> Option<Self> {
        let valid = text.starts_with("sxs_")
            && text.len() < 100
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What storage keeps.
    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// The anti-CSRF token of a session: derived from the session secret, so it needs no storage,
/// differs per session, and a page on another site (which can make the browser send the
/// cookie but cannot read it) cannot compute it.
pub fn csrf_token(session: &SessionToken) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(session.0.as_bytes()) else {
        // HMAC takes keys of any length; this branch is unreachable in practice.
        return sha256_hex(&session.0);
    };
    mac.update(b"sextant csrf v1");
    hex::encode(mac.finalize().into_bytes())
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn session_tokens_are_random_and_validated() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(SessionToken::presented(a.expose()), Some(a.clone()));
        assert_eq!(SessionToken::presented("sxs_bad token"), None);
        assert_eq!(SessionToken::presented("other"), None);
        assert_eq!(a.hash().len(), 64);
        assert_eq!(format!("{a:?}"), "SessionToken(..)");
    }

    #[test]
    fn csrf_tokens_are_per_session_and_stable() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_eq!(csrf_token(&a), csrf_token(&a));
        assert_ne!(csrf_token(&a), csrf_token(&b));
        assert!(constant_time_eq(&csrf_token(&a), &csrf_token(&a)));
        assert!(!constant_time_eq(&csrf_token(&a), &csrf_token(&b)));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
