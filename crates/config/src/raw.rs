//! The raw layer: every key optional, unknown keys rejected so typos surface immediately.

use crate::values::{ByteSize, Text};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub ingest: RawIngest,
    #[serde(default)]
    pub query: RawQuery,
    #[serde(default)]
    pub privacy: RawPrivacy,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub audit: RawAudit,
    #[serde(default)]
    pub jobs: RawJobs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJobs {
    /// This node's name in job runs; defaults to `<host>:<port>`.
    pub node_name: Option<Text>,
    pub start_delay: Option<Text>,
    pub check_every: Option<Text>,
    pub lease: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<Text>,
    pub public_url: Option<Text>,
    pub request_timeout: Option<Text>,
    pub max_body_bytes: Option<ByteSize>,
    pub shutdown_grace: Option<Text>,
    /// Web origins allowed to call the API from a browser (CORS); none by default.
    pub cors_allowed_origins: Option<Vec<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub data_dir: Option<PathBuf>,
    pub meta_url: Option<Text>,
    #[serde(default)]
    pub duckdb: RawDuckDb,
    /// `duckdb` (embedded, the default) or `clickhouse`.
    pub events: Option<Text>,
    #[serde(default)]
    pub clickhouse: RawClickHouse,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClickHouse {
    pub url: Option<Text>,
    pub database: Option<Text>,
    pub user: Option<Text>,
    pub password: Option<Text>,
    pub compress: Option<bool>,
    pub request_timeout: Option<Text>,
    pub cluster: Option<Text>,
    pub shard_urls: Option<Vec<Text>>,
}

impl std::fmt::Debug for RawClickHouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawClickHouse")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("compress", &self.compress)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDuckDb {
    pub threads: Option<u64>,
    pub memory_limit: Option<ByteSize>,
    pub readers: Option<u64>,
    pub checkpoint_threshold: Option<ByteSize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIngest {
    pub max_events_per_request: Option<u64>,
    pub max_batch_events: Option<u64>,
    pub max_pending_events: Option<u64>,
    pub retry_after: Option<Text>,
    pub max_event_name_chars: Option<u64>,
    pub max_string_chars: Option<u64>,
    pub max_url_chars: Option<u64>,
    pub max_properties_bytes: Option<ByteSize>,
    pub max_properties_depth: Option<u64>,
    pub max_properties: Option<u64>,
    pub max_future: Option<Text>,
    pub max_past: Option<Text>,
    pub dedup_window: Option<Text>,
    pub max_events_per_second_per_project: Option<u64>,
    pub max_events_per_second_per_user: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrivacy {
    pub secret: Option<Text>,
}

impl std::fmt::Debug for RawPrivacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPrivacy")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuery {
    pub timeout: Option<Text>,
    pub max_buckets: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<Text>,
    pub format: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub session_ttl: Option<Text>,
    pub api_requests_per_second: Option<u64>,
    pub login_attempts_per_minute: Option<u64>,
    pub jwt: Option<RawJwt>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    pub header: Option<Text>,
    pub hs256_secret: Option<Text>,
    pub jwks_file: Option<PathBuf>,
    pub jwks_url: Option<Text>,
    pub issuer: Option<Text>,
    pub audience: Option<Text>,
    pub email_claim: Option<Text>,
    pub name_claim: Option<Text>,
    pub roles_claim: Option<Text>,
    pub organization: Option<Text>,
    pub leeway: Option<Text>,
    #[serde(default)]
    pub roles: std::collections::BTreeMap<String, Text>,
}

impl std::fmt::Debug for RawJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawJwt")
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "<redacted>"))
            .field("jwks_file", &self.jwks_file)
            .field("jwks_url", &self.jwks_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    pub retention_days: Option<u64>,
}

/// The most common keys, settable by command-line flags; they win over file and env.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub log_level: Option<String>,
}

impl RawConfig {
    pub fn apply(&mut self, overrides: &Overrides) {
        if let Some(listen) = &overrides.listen {
            self.server.listen = Some(Text(listen.clone()));
        }
        if let Some(dir) = &overrides.data_dir {
            self.storage.data_dir = Some(dir.clone());
        }
        if let Some(level) = &overrides.log_level {
            self.log.level = Some(Text(level.clone()));
        }
    }
}
