//! Password hashes for local users: Argon2id with a random salt, stored as a PHC string.
//! Hashing is deliberately slow (~tens of ms): callers run it on a blocking thread.

use crate::AccessError;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password accepted; long passphrases beat complexity rules (NIST SP 800-63B).
const MIN_CHARS: usize = 10;
/// Longest password accepted, in bytes: bounds the work one login attempt can cause.
const MAX_BYTES: usize = 1024;

/// A PHC-format Argon2id hash (`$argon2id$v=19$...`): safe to store, useless to an attacker
/// without brute force.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// A hash read back from storage.
    pub fn from_stored(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// Checks the password rules and hashes it.
pub fn hash_password(password: &str) -> Result<PasswordHash, AccessError> {
    if password.chars().count() < MIN_CHARS {
        return Err(AccessError::Invalid(format!(
            "passwords need at least {MIN_CHARS} characters"
        )));
    }
    if password.len() > MAX_BYTES {
        return Err(AccessError::Invalid(format!("passwords are at most {MAX_BYTES} bytes")));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| PasswordHash(h.to_string()))
        .map_err(|e| AccessError::Internal(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches `stored`. With no stored hash (unknown user, or a user without
/// a password) it still spends the time of one verification, so response times do not tell
/// which emails exist.
pub fn verify_password(password: &str, stored: Option<&PasswordHash>) -> bool {
    let candidate = password.as_bytes();
    if candidate.len() > MAX_BYTES {
        return false;
    }
    let Some(stored) = stored else {
        if let Some(decoy) = decoy() {
            let _ = verify_password(password, Some(decoy));
        }
        return false;
    };
    match argon2::PasswordHash::new(stored.as_str()) {
        Ok(parsed) => Argon2::default().verify_password(candidate, &parsed).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash cannot be parsed");
            false
        }
    }
}

/// The hash of a random string nobody knows, made once: checking against it costs what a real
/// check costs.
fn decoy() -> Option<&'static PasswordHash> {
    static DECOY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| {
            let random: [u8; 16] = rand::random();
            hash_password(&hex::encode(random)).ok()
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("correct horse battery!", Some(&hash)));
        assert!(!verify_password("correct horse battery", None));
        let again = hash_password("correct horse battery").unwrap();
        assert_ne!(hash, again, "salted");
        assert_eq!(format!("{hash:?}"), "PasswordHash(..)");
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(2000)).is_err());
        assert!(!verify_password(&"x".repeat(2000), None));
    }
}
