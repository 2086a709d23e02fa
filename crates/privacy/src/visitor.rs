//! Counting visitors without knowing who they are: `HMAC(daily salt, host ‖ ip ‖ user agent)`.
//! The salt is `HMAC(secret, utc date)`: it changes every day, so the same person gets a new
//! id each day and no id can be followed across days; the secret lives only in configuration,
//! so rotating it invalidates every old hash and the database alone cannot recompute any.

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// Separates the hashed fields so `("ab", "c")` and `("a", "bc")` never collide.
const UNIT_SEPARATOR: &[u8] = &[0x1f];

/// Keyed hashing of visitors and ids. The secret is never printed.
#[derive(Clone)]
pub struct Hasher {
    secret: Vec<u8>,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hasher { secret: <redacted> }")
    }
}

impl Hasher {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self { secret: secret.into() }
    }

    /// `HMAC-SHA256(secret, "YYYY-MM-DD")` for the UTC date.
    pub fn daily_salt(&self, date: NaiveDate) -> [u8; 32] {
        mac(&self.secret, &[date.format("%Y-%m-%d").to_string().as_bytes()])
    }

    /// `HMAC-SHA256(salt, host ‖ 0x1f ‖ ip ‖ 0x1f ‖ normalised_ua)`, as `v_` and 32 hex digits
    /// (128 bits: collisions are negligible at any realistic number of daily visitors).
    pub fn visitor_id(&self, salt: &[u8; 32], host: &str, ip: &str, user_agent: &str) -> String {
        let ua = normalise_user_agent(user_agent);
        let digest = mac(
            salt,
            &[host.as_bytes(), UNIT_SEPARATOR, ip.as_bytes(), UNIT_SEPARATOR, ua.as_bytes()],
        );
        format!("v_{}", hex::encode(&digest[..16]))
    }

    /// A stable pseudonym for an identified user id, for projects that hash ids too. Stable
    /// across days (so identity and retention still work) but not across secret rotations.
    pub fn user_id(&self, project: &str, user_id: &str) -> String {
        let digest = mac(
            &self.secret,
            &[b"user", UNIT_SEPARATOR, project.as_bytes(), UNIT_SEPARATOR, user_id.as_bytes()],
        );
        format!("h_{}", hex::encode(&digest[..16]))
    }
}

/// Trimmed, with runs of whitespace collapsed: the same browser sends the same string, but
/// proxies sometimes re-space it.
pub fn normalise_user_agent(user_agent: &str) -> String {
    user_agent.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else { return [0; 32] };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn salt_is_the_hmac_of_the_date() {
        // Independent check: HMAC-SHA256 test vector computed with Python's hmac module:
        // hmac.new(b"s3cret", b"2026-11-22", "sha256").hexdigest()
        let salt = Hasher::new("s3cret").daily_salt(day(22));
        assert_eq!(
            hex::encode(salt),
            "40827770648a2edd5850681b7fc4c8dd166a5cf07380c90015ac71a6028c419e"
        );
    }

    #[test]
    fn visitor_ids_rotate_daily_and_with_the_secret() {
        let h = Hasher::new("s3cret");
        let ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0";
        let today = h.visitor_id(&h.daily_salt(day(22)), "example.com", "203.0.113.7", ua);
        let again = h.visitor_id(&h.daily_salt(day(22)), "example.com", "203.0.113.7", ua);
        let tomorrow = h.visitor_id(&h.daily_salt(day(23)), "example.com", "203.0.113.7", ua);
        let rotated = Hasher::new("other");
        let other_secret =
            rotated.visitor_id(&rotated.daily_salt(day(22)), "example.com", "203.0.113.7", ua);
        let other_site = h.visitor_id(&h.daily_salt(day(22)), "example.org", "203.0.113.7", ua);
        // hmac.new(salt, b"example.com\x1f203.0.113.7\x1f" + ua, "sha256").hexdigest()[:32]
        assert_eq!(today, "v_8f361a45968664abdb7c489b03a64fda");
        assert_eq!(today, again);
        assert!(today.starts_with("v_"));
        for different in [&tomorrow, &other_secret, &other_site] {
            assert_ne!(&today, different);
        }
        // Re-spacing by a proxy does not make a new visitor.
        let respaced = h.visitor_id(
            &h.daily_salt(day(22)),
            "example.com",
            "203.0.113.7",
            "  Mozilla/5.0  (X11; Linux x86_64) Firefox/120.0 ",
        );
        assert_eq!(today, respaced);
    }

    #[test]
    fn field_boundaries_matter() {
        let h = Hasher::new("k");
        let salt = h.daily_salt(day(1));
        assert_ne!(h.visitor_id(&salt, "ab", "c", "ua"), h.visitor_id(&salt, "a", "bc", "ua"));
    }

    #[test]
    fn hashed_user_ids_are_stable_and_per_project() {
        let h = Hasher::new("k");
        assert_eq!(h.user_id("p1", "alice"), h.user_id("p1", "alice"));
        assert_ne!(h.user_id("p1", "alice"), h.user_id("p2", "alice"));
        assert!(h.user_id("p1", "alice").starts_with("h_"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", Hasher::new("hunter2")).contains("hunter2"));
    }
}
