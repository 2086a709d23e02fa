//! Recently checked credentials, so busy ingestion and dashboards do not query the metadata
//! store on every request. Entries are keyed by the SHA-256 of the secret (raw secrets are
//! never kept in memory maps). Changes made through this server's API apply at once; through
//! another process (the CLI, another node) within [`CREDENTIAL_CACHE_TTL`].

use super::Principal;
use crate::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a checked credential is trusted without asking the metadata store again.
pub const CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(10);
/// Beyond this many cached credentials the cache starts over (this bounds memory).
const MAX_ENTRIES: usize = 10_000;
/// A key's `last_used_at` is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(crate) struct CredentialCache {
    entries: Mutex<HashMap<String, (Arc<Principal>, Instant)>>,
    touched: Mutex<HashMap<String, Instant>>,
}

impl CredentialCache {
    pub(crate) fn get(&self, secret_hash: &str) -> Option<Arc<Principal>> {
        let entries = self.entries.lock().ok()?;
        let (principal, at) = entries.get(secret_hash)?;
        (at.elapsed() < CREDENTIAL_CACHE_TTL).then(|| Arc::clone(principal))
    }

    pub(crate) fn put(&self, secret_hash: &str, principal: Arc<Principal>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(secret_hash.to_owned(), (principal, Instant::now()));
        }
    }

    /// Drops one credential, e.g. a session that logged out.
    pub(crate) fn forget(&self, secret_hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(secret_hash);
        }
    }

    /// Drops every cached credential of a key (revoked) or a user (changed or disabled).
    pub(crate) fn forget_owner(&self, key_or_user_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (principal, _)| match &**principal {
                Principal::Instance { key } | Principal::ProjectKey { key, .. } => {
                    key.id != key_or_user_id
                }
                Principal::Person { user } => user.id != key_or_user_id,
            });
        }
    }

    /// Records a key's use in the metadata store, at most once a minute per key and off the
    /// request's path.
    pub(crate) fn touch(&self, state: &AppState, key_id: &str) {
        let now = Instant::now();
        let due = match self.touched.lock() {
            Ok(mut touched) => {
                let due =
                    touched.get(key_id).is_none_or(|at| now.duration_since(*at) >= TOUCH_EVERY);
                if due {
                    if touched.len() >= MAX_ENTRIES {
                        touched.clear();
                    }
                    touched.insert(key_id.to_owned(), now);
                }
                due
            }
            Err(_) => false,
        };
        if due {
            let meta = Arc::clone(&state.meta);
            let id = key_id.to_owned();
            tokio::spawn(async move {
                if let Err(error) = meta.touch_key(&id, chrono::Utc::now()).await {
                    tracing::warn!(key = %id, %error, "cannot record the key's last use");
                }
            });
        }
    }
}
