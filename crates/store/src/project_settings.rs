//! Per-project ingestion policy, kept in the metadata store as one JSON document so new
//! settings need no migration: missing keys take their defaults, unknown keys are refused when
//! a caller sets them (a typo must not silently do nothing).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSettings {
    /// Event types this project accepts; empty accepts any. Checked at ingestion, so adding a
    /// type is a settings change, not a deploy.
    pub allowed_events: Vec<String>,
    /// Count anonymous visitors (no user or device id) by a daily-salted hash of host, IP and
    /// user agent.
    pub visitor_hashing: bool,
    /// Replace SDK-provided user ids by keyed hashes before storage.
    pub hash_user_ids: bool,
    /// Drop events whose user agent is a crawler, monitor or script.
    pub drop_bots: bool,
    /// Property keys treated as personal data, in addition to the built-in list.
    pub pii_keys: Vec<String>,
    /// Longest string property value kept, in bytes; longer ones are cut.
    pub max_property_value_bytes: usize,
    /// SHA-256 hex digests of internal user ids and emails (lower-cased) whose events are
    /// dropped. Only digests are stored; see `internal_user_digest`.
    pub internal_users: Vec<String>,
    /// Raw events older than this many days are deleted by the daily retention job.
    pub retention_days: u32,
    /// Inactivity that ends a derived session, in minutes.
    pub session_timeout_minutes: u32,
    /// Sites (host names) whose Plausible-tracker events belong to this project; the tracker
    /// sends only the site's domain. Its write key works as a domain too.
    pub domains: Vec<String>,
    /// Event types business viewers may query (every series and step must name one); unset,
    /// they may query any event type (still aggregates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_events: Option<Vec<String>>,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        Self {
            allowed_events: Vec::new(),
            visitor_hashing: true,
            hash_user_ids: false,
            drop_bots: true,
            pii_keys: Vec::new(),
            max_property_value_bytes: 2048,
            internal_users: Vec::new(),
            retention_days: 180,
            session_timeout_minutes: 30,
            domains: Vec::new(),
            business_events: None,
        }
    }
}

impl ProjectSettings {
    /// Checks ranges; returns what is wrong, naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_property_value_bytes < 16 {
            return Err("`max_property_value_bytes` must be at least 16".into());
        }
        if self.retention_days == 0 {
            return Err("`retention_days` must be at least 1".into());
        }
        if !(1..=24 * 60).contains(&self.session_timeout_minutes) {
            return Err("`session_timeout_minutes` must be between 1 and 1440".into());
        }
        if let Some(bad) = self.internal_users.iter().find(|d| !is_sha256_hex(d)) {
            return Err(format!(
                "`internal_users` holds SHA-256 digests only, not `{bad}`; send ids in \
                 `add_internal_users` to have them hashed"
            ));
        }
        if let Some(bad) = self.domains.iter().find(|d| !is_host_name(d)) {
            return Err(format!(
                "`domains` holds host names such as `example.com` (no scheme, path or port), not `{bad}`"
            ));
        }
        if let Some(bad) = self.allowed_events.iter().find(|e| e.trim().is_empty()) {
            return Err(format!("`allowed_events` contains a blank name `{bad}`"));
        }
        if let Some(bad) = self.business_events.iter().flatten().find(|e| e.trim().is_empty()) {
            return Err(format!("`business_events` contains a blank name `{bad}`"));
        }
        Ok(())
    }

    /// These settings with `patch` (a JSON object of settings to change) applied. Besides the
    /// settings themselves, `add_internal_users` / `remove_internal_users` take ids or emails
    /// in clear, of which only digests are kept. The result is validated.
    pub fn patched(&self, mut patch: Map<String, Value>) -> Result<Self, String> {
        let mut users = |key: &str| -> Result<Vec<String>, String> {
            match patch.remove(key) {
                None => Ok(Vec::new()),
                Some(v) => serde_json::from_value::<Vec<String>>(v)
                    .map(|ids| ids.iter().map(|id| internal_user_digest(id)).collect())
                    .map_err(|_| format!("`{key}` must be an array of strings")),
            }
        };
        let (add, remove) = (users("add_internal_users")?, users("remove_internal_users")?);
        let Ok(Value::Object(mut merged)) = serde_json::to_value(self) else {
            return Err("cannot encode settings".into());
        };
        merged.extend(patch);
        let mut settings: Self = serde_json::from_value(Value::Object(merged))
            .map_err(|e| format!("invalid settings: {e}"))?;
        settings.internal_users.retain(|d| !remove.contains(d));
        for digest in add {
            if !settings.internal_users.contains(&digest) {
                settings.internal_users.push(digest);
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    pub fn is_internal(&self, user: &str) -> bool {
        !self.internal_users.is_empty() && self.internal_users.contains(&internal_user_digest(user))
    }
}

/// How an internal user id or email is kept: SHA-256 of its trimmed, lower-cased form.
pub fn internal_user_digest(user: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(user.trim().to_lowercase().as_bytes()))
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_keys_and_unknown_keys_are_refused() {
        let s: ProjectSettings = serde_json::from_str(r#"{"drop_bots": false}"#).unwrap();
        assert!(!s.drop_bots);
        assert_eq!(s.retention_days, 180);
        let err = serde_json::from_str::<ProjectSettings>(r#"{"drop_bot": false}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `drop_bot`"), "{err}");
    }

    #[test]
    fn patches_merge_and_hash_internal_users() {
        let patch =
            serde_json::json!({"retention_days": 30, "add_internal_users": ["Bob@Corp.example"]});
        let s = ProjectSettings::default().patched(patch.as_object().unwrap().clone()).unwrap();
        assert_eq!(s.retention_days, 30);
        assert!(s.is_internal("bob@corp.example"));
        let remove = serde_json::json!({"remove_internal_users": ["bob@corp.example"]});
        assert!(s.patched(remove.as_object().unwrap().clone()).unwrap().internal_users.is_empty());
        let typo = serde_json::json!({"retention_dayz": 3});
        assert!(
            s.patched(typo.as_object().unwrap().clone()).unwrap_err().contains("retention_dayz")
        );
        let zero = serde_json::json!({"retention_days": 0});
        assert!(s.patched(zero.as_object().unwrap().clone()).is_err());
    }

    #[test]
    fn internal_users_are_matched_by_digest() {
        let s = ProjectSettings {
            internal_users: vec![internal_user_digest(" Alice@Example.com ")],
            ..ProjectSettings::default()
        };
        s.validate().unwrap();
        assert!(s.is_internal("alice@example.com"));
        assert!(!s.is_internal("bob@example.com"));
        let bad = ProjectSettings { internal_users: vec!["alice".into()], ..s };
        assert!(bad.validate().unwrap_err().contains("SHA-256"));
    }
}
