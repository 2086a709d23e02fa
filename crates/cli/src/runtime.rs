//! Opening the stores named by the settings, and running the HTTP server until shutdown with
//! nothing acknowledged left uncommitted.

use anyhow::Context;
use sextant_config::{EventsBackend, Settings};
use sextant_http::{AccessOptions, AppState, Gateway, HttpLimits};
use sextant_ingest::{Committer, CommitterSettings, Ingestor, IngestorParts, RateLimits};
use sextant_jobs::{RetentionJob, Scheduler, SchedulerOptions};
use sextant_meta_sql::SqlMetaStore;
use sextant_privacy::{Hasher, UserAgentParser};
use sextant_store::{EventStore, MetaStore};
use sextant_store_clickhouse::{ClickHouseOptions, ClickHouseStore, ClusterOptions};
use sextant_store_duckdb::{DuckDbOptions, DuckDbStore};
use sextant_telemetry::Metrics;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Both stores, opened.
pub struct Stores {
    pub meta: Arc<SqlMetaStore>,
    pub events: Arc<dyn EventStore>,
}

impl Stores {
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let meta = SqlMetaStore::connect(&settings.storage.meta_url)
            .await
            .context("cannot open the metadata store")?;
        let events = Self::open_events(settings).await?;
        Ok(Self { meta: Arc::new(meta), events })
    }

    /// Metadata only: for commands that must work while a server holds the events file.
    pub async fn open_meta(settings: &Settings) -> anyhow::Result<Arc<SqlMetaStore>> {
        Ok(Arc::new(
            SqlMetaStore::connect(&settings.storage.meta_url)
                .await
                .context("cannot open the metadata store")?,
        ))
    }

    async fn open_events(settings: &Settings) -> anyhow::Result<Arc<dyn EventStore>> {
        if let EventsBackend::ClickHouse(ch) = &settings.storage.events {
            let options = ClickHouseOptions {
                url: ch.url.clone(),
                database: ch.database.clone(),
                user: ch.user.clone(),
                password: ch.password.clone(),
                query_timeout: settings.query.timeout,
                request_timeout: ch.request_timeout,
                dedup_window: settings.ingest.dedup_window,
                compress: ch.compress,
                cluster: ch.cluster.as_ref().map(|(name, shard_urls)| ClusterOptions {
                    name: name.clone(),
                    shard_urls: shard_urls.clone(),
                }),
            };
            let store = ClickHouseStore::open(&options)
                .await
                .with_context(|| format!("cannot open the ClickHouse event store at {}", ch.url))?;
            return Ok(Arc::new(store));
        }
        let dir = settings.storage.data_dir.clone();
        let duck = &settings.storage.duckdb;
        let options = DuckDbOptions {
            threads: duck.threads,
            memory_limit: duck.memory_limit,
            readers: duck.readers,
            query_timeout: settings.query.timeout,
            checkpoint_threshold: duck.checkpoint_threshold,
            dedup_window: settings.ingest.dedup_window,
        };
        // Opening replays the WAL and may take a while: not on an executor thread.
        let store = tokio::task::spawn_blocking(move || DuckDbStore::open(&dir, &options))
            .await?
            .context("cannot open the event store")?;
        Ok(Arc::new(store))
    }

    pub async fn close(&self) -> anyhow::Result<()> {
        self.events.close().await.context("closing the event store")?;
        self.meta.close().await;
        Ok(())
    }
}

/// Serves HTTP on `listener` until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish, commits everything acknowledged, and returns. The stores stay open.
pub async fn serve(
    settings: &Settings,
    stores: &Stores,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::new());
    let events = Arc::clone(&stores.events);
    let meta: Arc<dyn MetaStore> = stores.meta.clone();
    let committer_settings = CommitterSettings {
        max_batch_events: settings.ingest.max_batch_events,
        max_pending_events: settings.ingest.max_pending_events,
        retry_after: settings.ingest.retry_after,
    };
    let (committer, committer_task) =
        Committer::start(Arc::clone(&events), committer_settings, Arc::clone(&metrics));
    let user_agents = tokio::task::spawn_blocking(UserAgentParser::new)
        .await?
        .context("cannot load the user-agent data")?;
    let secret = privacy_secret(settings)?;
    let parts = IngestorParts {
        limits: settings.ingest.limits.clone(),
        max_events_per_request: settings.ingest.max_events_per_request,
        meta: Arc::clone(&meta),
        hasher: Hasher::new(secret.clone()),
        user_agents: Arc::new(user_agents),
        rate_limits: RateLimits {
            per_project: settings.ingest.max_events_per_second_per_project as f64,
            per_user: settings.ingest.max_events_per_second_per_user as f64,
        },
        metrics: Arc::clone(&metrics),
    };
    let ingestor = Ingestor::new(committer, parts);
    let scheduler = scheduler(settings, &listener, &meta, &events, &metrics).spawn();
    let limits = HttpLimits {
        max_body_bytes: settings.server.max_body_bytes,
        request_timeout: settings.server.request_timeout,
        max_buckets: settings.query.max_buckets,
    };
    let access = access_options(settings, &secret).await?;
    let state = AppState::new(meta, events, Arc::new(ingestor), metrics, limits, access);
    let app = sextant_http::app(state);
    let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    });
    let grace = settings.server.shutdown_grace;
    tokio::select! {
        served = server => served.context("HTTP server failed")?,
        () = async move {
            if stopping.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(grace).await;
        } => tracing::warn!(?grace, "requests still running after the shutdown grace period; dropping them"),
    }
    scheduler.abort();
    // The router (and with it every Committer handle) is gone: the committer drains and ends.
    committer_task.await.context("the committer task failed")?;
    Ok(())
}

/// The jobs this node takes its turn at: every node of a cluster runs a scheduler, and the
/// shared metadata store lets exactly one of them run each slot.
fn scheduler(
    settings: &Settings,
    listener: &TcpListener,
    meta: &Arc<dyn MetaStore>,
    events: &Arc<dyn EventStore>,
    metrics: &Arc<Metrics>,
) -> Scheduler {
    let retention = RetentionJob {
        meta: Arc::clone(meta),
        events: Arc::clone(events),
        audit_retention_days: settings.audit.retention_days,
        metrics: Arc::clone(metrics),
    };
    let jobs = &settings.jobs;
    let node = jobs.node_name.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "sextant".into());
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        format!("{host}:{port}")
    });
    let options = SchedulerOptions {
        node,
        start_delay: jobs.start_delay,
        tick: jobs.check_every,
        lease: jobs.lease,
    };
    Scheduler::new(Arc::clone(meta), vec![Arc::new(retention)], options)
}

/// How callers sign in and what protects the API, from the settings: gateway JWTs (their
/// keys loaded now, so a bad JWKS stops the start), CORS, rate limits, and the key of the
/// audit log's address hashes (derived from the server secret, never stored).
async fn access_options(settings: &Settings, secret: &[u8]) -> anyhow::Result<AccessOptions> {
    let auth = &settings.auth;
    let gateway = match &auth.jwt {
        Some(jwt) => {
            let verifier = sextant_access::JwtVerifier::new(jwt.verifier.clone())
                .await
                .context("cannot set up gateway JWT sign-in (auth.jwt)")?;
            Some(Gateway::new(verifier, jwt.header.clone(), jwt.organization.clone()))
        }
        None => None,
    };
    use sha2::Digest;
    let audit_ip_key = sha2::Sha256::new()
        .chain_update(b"sextant audit address v1\0")
        .chain_update(secret)
        .finalize()
        .to_vec();
    Ok(AccessOptions {
        api_requests_per_second: auth.api_requests_per_second,
        login_attempts_per_minute: auth.login_attempts_per_minute,
        session_ttl: auth.session_ttl,
        https: auth.secure_cookies,
        cors_allowed_origins: auth.cors_allowed_origins.clone(),
        gateway,
        audit_ip_key,
    })
}

/// File in the data directory holding the generated privacy secret when none is configured.
const SECRET_FILE: &str = "privacy.secret";

/// The configured server secret (`privacy.secret`), else the one generated into the data
/// directory on first start (owner-only permissions). Never the metadata database: a copy of
/// the database must not be enough to recompute visitor or address hashes.
fn privacy_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.privacy.secret {
        return Ok(secret.as_bytes().to_vec());
    }
    // Nodes sharing a PostgreSQL metadata store form a cluster: each generating its own
    // secret would hash one anonymous visitor differently on every node.
    if settings.storage.meta_url.starts_with("postgres") {
        anyhow::bail!(
            "set `privacy.secret` (the same value on every node) when the metadata is in PostgreSQL; generate one with `openssl rand -hex 32`"
        );
    }
    let path = settings.storage.data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= 16 => {
            return Ok(secret.trim().as_bytes().to_vec());
        }
        Ok(_) => anyhow::bail!("{} is too short; delete it to generate a new one", path.display()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot read {}", path.display()));
        }
        Err(_) => {}
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated the privacy secret (visitor hash salt key)");
    Ok(secret.into_bytes())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Installs the Ctrl-C and SIGTERM handlers now, so a signal that arrives while the server is
/// still starting is not lost (or fatal); the returned future resolves on the first one.
pub fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt =
        signal(SignalKind::interrupt()).context("cannot install the Ctrl-C handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down: finishing requests and committing acknowledged events");
    })
}

/// Binds the configured address with a clear error when it is taken.
pub async fn bind(settings: &Settings) -> anyhow::Result<TcpListener> {
    TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| format!("cannot listen on {} (server.listen)", settings.server.listen))
}
