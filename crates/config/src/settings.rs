//! Typed, validated settings: what the rest of Sextant reads. Every default lives here.

use crate::ConfigError;
use crate::auth::{AuditSettings, AuthSettings, validate_audit, validate_auth};
use crate::raw::RawConfig;
use crate::values::{Text, parse_duration};
use sextant_core::Limits;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Metadata databases Sextant can use.
const META_SCHEMES: [&str; 3] = ["sqlite:", "postgres:", "postgresql:"];

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub ingest: IngestSettings,
    pub query: QuerySettings,
    pub privacy: PrivacySettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub audit: AuditSettings,
    pub jobs: JobSettings,
}

/// The scheduler of jobs (retention, later alerts and reports); see `sextant_jobs`.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Unique among the nodes sharing a metadata store; `None`: `<host>:<port>`.
    pub node_name: Option<String>,
    /// How long after start the first check waits (10 minutes by default).
    pub start_delay: Duration,
    /// How often each node checks for due jobs (a minute).
    pub check_every: Duration,
    /// How long a node's claim on a running job lasts without renewal (10 minutes).
    pub lease: Duration,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Base URL printed in hints and links; defaults to `http://<listen>`.
    pub public_url: String,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// How long shutdown waits for in-flight requests before committing and closing.
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    /// sqlx URL of the metadata database (`sqlite://...` or `postgres://...`); defaults to
    /// SQLite inside `data_dir`.
    pub meta_url: String,
    pub duckdb: DuckDbSettings,
    /// Where events live.
    pub events: EventsBackend,
}

/// The events backend: embedded DuckDB in `data_dir`, or a ClickHouse server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsBackend {
    DuckDb,
    ClickHouse(ClickHouseSettings),
}

#[derive(Clone, PartialEq, Eq)]
pub struct ClickHouseSettings {
    /// The HTTP interface, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    pub database: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Gzip insert bodies.
    pub compress: bool,
    /// Limit for one request of any kind (inserts, exports, schema changes).
    pub request_timeout: Duration,
    /// Several shards: the cluster's name in ClickHouse's `remote_servers` and every shard's
    /// HTTP interface.
    pub cluster: Option<(String, Vec<String>)>,
}

impl std::fmt::Debug for ClickHouseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseSettings")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("compress", &self.compress)
            .field("request_timeout", &self.request_timeout)
            .field("cluster", &self.cluster)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct DuckDbSettings {
    /// DuckDB worker threads; `None` lets DuckDB use every core.
    pub threads: Option<usize>,
    /// DuckDB memory limit in bytes; `None` keeps DuckDB's default (80% of RAM).
    pub memory_limit: Option<u64>,
    /// Read connections, i.e. how many queries run at once.
    pub readers: usize,
    /// WAL bytes that trigger a checkpoint.
    pub checkpoint_threshold: u64,
}

#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub max_events_per_request: usize,
    /// Most events committed in one transaction by the group committer.
    pub max_batch_events: usize,
    /// Events accepted but not yet durable; beyond this, ingestion answers 503.
    pub max_pending_events: usize,
    /// `Retry-After` sent with those 503s.
    pub retry_after: Duration,
    pub limits: Limits,
    /// How long an `insert_id` is remembered: a repeat within it is acknowledged, not stored.
    pub dedup_window: Duration,
    /// Sustained events per second a project's keys may send (bursts of twice as many); 0 = off.
    pub max_events_per_second_per_project: u64,
    /// The same per user (user id, else device id); 0 = off.
    pub max_events_per_second_per_user: u64,
}

/// The secret behind visitor hashes (`HMAC(secret, date)` is each day's salt). Never stored in
/// the database; when unset, `serve` keeps a generated one in `<data_dir>/privacy.secret`.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivacySettings {
    pub secret: Option<String>,
}

impl std::fmt::Debug for PrivacySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = self.secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("PrivacySettings").field("secret", &secret).finish()
    }
}

#[derive(Debug, Clone)]
pub struct QuerySettings {
    pub timeout: Duration,
    /// Most time buckets a single query may return.
    pub max_buckets: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// A `tracing` filter such as `info` or `sextant_ingest=debug,info`.
    pub level: String,
    pub format: LogFormat,
}

impl RawConfig {
    /// Checks every key and fills defaults.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let listen_text = text_or(self.server.listen, "127.0.0.1:8000");
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::invalid(
                "server.listen",
                format!("`{listen_text}` is not host:port such as 127.0.0.1:8000"),
            )
        })?;
        let public_url = self.server.public_url.map_or_else(|| format!("http://{listen}"), |t| t.0);
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "server.public_url",
                "must start with http:// or https://",
            ));
        }
        let server = ServerSettings {
            listen,
            public_url: public_url.trim_end_matches('/').to_owned(),
            request_timeout: duration(
                "server.request_timeout",
                self.server.request_timeout,
                "30s",
            )?,
            max_body_bytes: positive(
                "server.max_body_bytes",
                self.server.max_body_bytes.map(|b| b.0),
                20 << 20,
            )?,
            shutdown_grace: duration("server.shutdown_grace", self.server.shutdown_grace, "10s")?,
        };

        let data_dir = self.storage.data_dir.unwrap_or_else(|| PathBuf::from("./sextant-data"));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("storage.data_dir", "must not be empty"));
        }
        let meta_url = match self.storage.meta_url {
            // Only the scheme is echoed: the rest of the URL may hold a password.
            Some(Text(url)) if !META_SCHEMES.iter().any(|s| url.starts_with(s)) => {
                let scheme = url.split(':').next().unwrap_or_default();
                return Err(ConfigError::invalid(
                    "storage.meta_url",
                    format!(
                        "the scheme `{scheme}:` is not supported; use sqlite:// (embedded) or postgres:// (PostgreSQL)"
                    ),
                ));
            }
            Some(Text(url)) => url,
            None => format!("sqlite://{}", data_dir.join("meta.sqlite").display()),
        };
        let duckdb = DuckDbSettings {
            threads: self
                .storage
                .duckdb
                .threads
                .map(|t| positive("storage.duckdb.threads", Some(t), 1))
                .transpose()?,
            memory_limit: self.storage.duckdb.memory_limit.map(|b| b.0),
            readers: positive("storage.duckdb.readers", self.storage.duckdb.readers, 4)?,
            checkpoint_threshold: self
                .storage
                .duckdb
                .checkpoint_threshold
                .map_or(256 << 20, |b| b.0),
        };
        let events = events_backend(self.storage.events, self.storage.clickhouse)?;
        let storage = StorageSettings { data_dir, meta_url, duckdb, events };

        let i = self.ingest;
        let defaults = Limits::default();
        let limits = Limits {
            max_event_name_chars: positive(
                "ingest.max_event_name_chars",
                i.max_event_name_chars,
                defaults.max_event_name_chars as u64,
            )?,
            max_string_chars: positive(
                "ingest.max_string_chars",
                i.max_string_chars,
                defaults.max_string_chars as u64,
            )?,
            max_url_chars: positive(
                "ingest.max_url_chars",
                i.max_url_chars,
                defaults.max_url_chars as u64,
            )?,
            max_properties_bytes: positive(
                "ingest.max_properties_bytes",
                i.max_properties_bytes.map(|b| b.0),
                defaults.max_properties_bytes as u64,
            )?,
            max_properties_depth: positive(
                "ingest.max_properties_depth",
                i.max_properties_depth,
                defaults.max_properties_depth as u64,
            )?,
            max_properties: positive(
                "ingest.max_properties",
                i.max_properties,
                defaults.max_properties as u64,
            )?,
            max_future: chrono_duration("ingest.max_future", i.max_future, "24h")?,
            max_past: chrono_duration("ingest.max_past", i.max_past, "1825days")?,
        };
        let max_events_per_request =
            positive("ingest.max_events_per_request", i.max_events_per_request, 5_000)?;
        let max_batch_events = positive("ingest.max_batch_events", i.max_batch_events, 50_000)?;
        let max_pending_events =
            positive("ingest.max_pending_events", i.max_pending_events, 200_000)?;
        if max_pending_events < max_events_per_request {
            return Err(ConfigError::invalid(
                "ingest.max_pending_events",
                format!(
                    "must be at least ingest.max_events_per_request ({max_events_per_request})"
                ),
            ));
        }
        let ingest = IngestSettings {
            max_events_per_request,
            max_batch_events,
            max_pending_events,
            retry_after: duration("ingest.retry_after", i.retry_after, "1s")?,
            limits,
            dedup_window: duration("ingest.dedup_window", i.dedup_window, "7days")?,
            max_events_per_second_per_project: i
                .max_events_per_second_per_project
                .unwrap_or(100_000),
            max_events_per_second_per_user: i.max_events_per_second_per_user.unwrap_or(1_000),
        };

        let secret = self.privacy.secret.map(|t| t.0);
        if secret.as_ref().is_some_and(|s| s.len() < 16) {
            return Err(ConfigError::invalid(
                "privacy.secret",
                "must be at least 16 characters; generate one with `openssl rand -hex 32`",
            ));
        }
        let privacy = PrivacySettings { secret };

        let query = QuerySettings {
            timeout: duration("query.timeout", self.query.timeout, "30s")?,
            max_buckets: positive("query.max_buckets", self.query.max_buckets, 5_000)?,
        };

        let format = match text_or(self.log.format, "text").as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::invalid(
                    "log.format",
                    format!("`{other}` is not one of text, json"),
                ));
            }
        };
        let log = LogSettings { level: text_or(self.log.level, "info"), format };
        let secure_cookies = server.public_url.starts_with("https://");
        let auth = validate_auth(self.auth, secure_cookies, self.server.cors_allowed_origins)?;
        let audit = validate_audit(self.audit)?;
        let jobs = JobSettings {
            node_name: self.jobs.node_name.map(|t| t.0).filter(|n| !n.trim().is_empty()),
            start_delay: duration("jobs.start_delay", self.jobs.start_delay, "10m")?,
            check_every: duration("jobs.check_every", self.jobs.check_every, "1m")?,
            lease: duration("jobs.lease", self.jobs.lease, "10m")?,
        };
        if jobs.lease < Duration::from_secs(3) {
            return Err(ConfigError::invalid("jobs.lease", "must be at least 3s"));
        }

        Ok(Settings { server, storage, ingest, query, privacy, log, auth, audit, jobs })
    }
}

fn text_or(value: Option<Text>, default: &str) -> String {
    value.map_or_else(|| default.to_owned(), |t| t.0)
}

fn positive(key: &'static str, value: Option<u64>, default: u64) -> Result<usize, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(ConfigError::invalid(key, "must be greater than zero")),
        n => usize::try_from(n).map_err(|_| ConfigError::invalid(key, "is too large")),
    }
}

fn duration(
    key: &'static str,
    value: Option<Text>,
    default: &str,
) -> Result<Duration, ConfigError> {
    let text = text_or(value, default);
    let parsed = parse_duration(&text).map_err(|m| ConfigError::invalid(key, m))?;
    if parsed.is_zero() {
        return Err(ConfigError::invalid(key, "must be longer than zero"));
    }
    Ok(parsed)
}

fn chrono_duration(
    key: &'static str,
    value: Option<Text>,
    default: &str,
) -> Result<chrono::Duration, ConfigError> {
    let std = duration(key, value, default)?;
    chrono::Duration::from_std(std).map_err(|_| ConfigError::invalid(key, "is too long"))
}

fn events_backend(
    kind: Option<Text>,
    raw: crate::raw::RawClickHouse,
) -> Result<EventsBackend, ConfigError> {
    match kind.as_ref().map_or("duckdb", |Text(k)| k.as_str()) {
        "duckdb" => Ok(EventsBackend::DuckDb),
        "clickhouse" => {
            let url = raw.url.map_or_else(|| "http://127.0.0.1:8123".to_owned(), |Text(u)| u);
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "storage.clickhouse.url",
                    "must be the HTTP interface, e.g. http://127.0.0.1:8123",
                ));
            }
            let cluster = match (raw.cluster, raw.shard_urls) {
                (None, None) => None,
                (Some(Text(name)), Some(urls)) if !urls.is_empty() => {
                    let urls: Vec<String> = urls.into_iter().map(|Text(u)| u).collect();
                    if let Some(bad) = urls
                        .iter()
                        .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
                    {
                        return Err(ConfigError::invalid(
                            "storage.clickhouse.shard_urls",
                            format!("`{bad}` is not an HTTP interface such as http://ch1:8123"),
                        ));
                    }
                    Some((name, urls))
                }
                _ => {
                    return Err(ConfigError::invalid(
                        "storage.clickhouse.cluster",
                        "a cluster needs both `cluster` (its name in remote_servers) and `shard_urls` (every shard's HTTP interface)",
                    ));
                }
            };
            Ok(EventsBackend::ClickHouse(ClickHouseSettings {
                url,
                database: raw.database.map_or_else(|| "sextant".to_owned(), |Text(d)| d),
                user: raw.user.map(|Text(u)| u),
                password: raw.password.map(|Text(p)| p),
                compress: raw.compress.unwrap_or(true),
                request_timeout: duration(
                    "storage.clickhouse.request_timeout",
                    raw.request_timeout,
                    "10m",
                )?,
                cluster,
            }))
        }
        other => Err(ConfigError::invalid(
            "storage.events",
            format!("`{other}` is not an events backend; use duckdb or clickhouse"),
        )),
    }
}
