//! The scale-out events backend: ClickHouse over its HTTP interface. One writer per Sextant
//! server (dedup window, person links and properties kept as the embedded store keeps them),
//! reads streamed from planned statements in the ClickHouse dialect. The SQL runs on the
//! ClickHouse in Debian (18.16) and on current releases.
//!
//! **Durable** here means: ClickHouse answered the insert with success, so the rows are in
//! parts on its disks and survive a crash of Sextant or of the ClickHouse process. ClickHouse
//! does not fsync parts by default; surviving the loss of a machine takes replication
//! (`ReplicatedMergeTree` with `insert_quorum`).
//!
//! On a **cluster** (`ClusterOptions`), `events` is a `Distributed` table over every shard's
//! `events_local`; the writer sends each person's events to one shard's `events_local` (all
//! shards in parallel) and acknowledges once every shard wrote its part; person links and
//! person rows are written to every shard, since each shard joins its events to them;
//! schema changes and retention run on every shard.

mod http;
mod literal;
mod retention;
mod rollups;
mod rows;
mod schema;
mod tsv;
mod write;

use async_trait::async_trait;
use http::{Client, Mode};
use sextant_core::{Event, ProjectId, micros_to_datetime};
use sextant_query::{Cell, Dialect, Param, Statement, TimeRange};
use sextant_store::dedup::RecentIds;
use sextant_store::identity::KnownLinks;
use sextant_store::{Appended, EventStore, ProjectStats, RowSink, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct ClickHouseOptions {
    /// The HTTP interface, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// Created if missing.
    pub database: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Limit for interactive queries (whole seconds; ClickHouse's `max_execution_time`).
    pub query_timeout: Duration,
    /// Limit for one HTTP request of any kind (inserts, exports, schema changes).
    pub request_timeout: Duration,
    /// How long an `insert_id` is remembered for deduplication by this server. It costs
    /// ~32 bytes per event in the window: at billions of events a day, shorten it (retries
    /// come within minutes) and let ReplacingMergeTree collapse late copies when it merges.
    pub dedup_window: Duration,
    /// Gzip insert bodies (ClickHouse accepts `Content-Encoding: gzip`).
    pub compress: bool,
    /// Several shards; `None` for one server.
    pub cluster: Option<ClusterOptions>,
}

/// A ClickHouse cluster: its name in every server's `remote_servers`, and every shard's HTTP
/// interface (schema changes, replicated small tables and retention go to each; `url` may be
/// one of them or any server that knows the cluster).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    pub name: String,
    pub shard_urls: Vec<String>,
}

impl Default for ClickHouseOptions {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "sextant".into(),
            user: None,
            password: None,
            query_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(600),
            dedup_window: Duration::from_secs(7 * 24 * 3600),
            compress: true,
            cluster: None,
        }
    }
}

pub struct ClickHouseStore {
    client: Client,
    /// Every server holding a share of the data: the shards, or `client` alone.
    servers: Vec<Client>,
    writer: Mutex<write::Writer>,
    closed: AtomicBool,
    query_timeout: Duration,
}

impl ClickHouseStore {
    /// Connects, creates the database and migrates it, and loads the dedup window and the
    /// known person links.
    pub async fn open(options: &ClickHouseOptions) -> Result<Self, StoreError> {
        let database = schema::identifier(&options.database)?;
        let connect = |url: &str| {
            Client::new(
                url,
                database,
                options.user.clone(),
                options.password.clone(),
                options.compress,
                options.request_timeout,
            )
        };
        let client = connect(&options.url)?;
        let (layout, servers) = match &options.cluster {
            None => (schema::Layout::Single, vec![client.clone()]),
            Some(cluster) => {
                if cluster.shard_urls.is_empty() {
                    return Err(StoreError::Invalid(
                        "a ClickHouse cluster needs the HTTP URL of every shard".into(),
                    ));
                }
                let name = schema::identifier(&cluster.name)?.to_owned();
                let shards =
                    cluster.shard_urls.iter().map(|u| connect(u)).collect::<Result<_, _>>()?;
                (schema::Layout::Cluster(name), shards)
            }
        };
        let mut version = 0;
        for server in &servers {
            version = schema::migrate(server, database, &layout).await?;
            schema::check_layout(server, &layout).await?;
        }
        schema::check_layout(&client, &layout).await?;
        let window = i64::try_from(options.dedup_window.as_micros()).unwrap_or(i64::MAX);
        let mut recent = RecentIds::new(window);
        let since = chrono::Utc::now().timestamp_micros().saturating_sub(window);
        client
            .rows(
                &format!("SELECT project_id, insert_id, received_at FROM events WHERE received_at >= {since}"),
                Mode::Internal,
                |row| {
                    if let [Cell::Text(project), Cell::Text(id), Cell::Int(at)] = row.as_slice() {
                        recent.remember(project, id, *at);
                    }
                    Ok(())
                },
            )
            .await?;
        let mut links = KnownLinks::default();
        client
            .rows(
                "SELECT project_id, device_id FROM person_links GROUP BY project_id, device_id",
                Mode::Internal,
                |row| {
                    let mut cells = row.into_iter();
                    if let (Some(Cell::Text(project)), Some(Cell::Text(device))) =
                        (cells.next(), cells.next())
                    {
                        links.remember(project, device);
                    }
                    Ok(())
                },
            )
            .await?;
        let person_version = client
            .all_rows("SELECT max(version) FROM persons", Mode::Internal)
            .await?
            .first()
            .and_then(|row| row.first())
            .map_or(0, Cell::as_count);
        tracing::info!(url = %options.url, database, schema_version = version, dedup_ids = recent.len(), "clickhouse event store open");
        let targets = write::Targets { servers: servers.clone() };
        Ok(Self {
            client,
            servers,
            writer: Mutex::new(write::Writer::new(recent, links, person_version, targets)),
            closed: AtomicBool::new(false),
            query_timeout: options.query_timeout,
        })
    }

    fn check_open(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::Acquire) {
            Err(StoreError::Unavailable("the event store is closed".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl EventStore for ClickHouseStore {
    fn dialect(&self) -> Dialect {
        Dialect::ClickHouse
    }

    /// One server writes an append in one insert; shards each write their part.
    fn atomic_appends(&self) -> bool {
        self.servers.len() == 1
    }

    async fn append(&self, events: Vec<Event>) -> Result<Appended, StoreError> {
        self.check_open()?;
        if events.is_empty() {
            return Ok(Appended::default());
        }
        // One append at a time: the dedup window and the known links are the writer's.
        let mut writer = self.writer.lock().await;
        self.check_open()?;
        writer.append(&self.client, events).await
    }

    async fn stream_rows(
        &self,
        statement: Statement,
        limited: bool,
        sink: RowSink,
    ) -> Result<(), StoreError> {
        self.check_open()?;
        let sql = literal::bind(&statement)?;
        let limit = limited.then_some(self.query_timeout);
        self.client.rows(&sql, Mode::Read(limit), sink).await
    }

    async fn delete_range(&self, project: &ProjectId, range: TimeRange) -> Result<u64, StoreError> {
        self.check_open()?;
        let mut deleted = 0;
        for server in &self.servers {
            deleted += retention::delete_range(server, project, range).await?;
        }
        Ok(deleted)
    }

    async fn project_stats(&self, project: &ProjectId) -> Result<ProjectStats, StoreError> {
        let statement = Statement {
            sql: "SELECT count(), if(count() = 0, NULL, min(timestamp)), if(count() = 0, NULL, max(timestamp)) FROM events WHERE project_id = $1".into(),
            params: vec![Param::Text(project.to_string())],
        };
        let rows = self.execute(statement).await?;
        let mut cells = rows.into_iter().next().unwrap_or_default().into_iter();
        let events = cells.next().map_or(0, |c| c.as_count());
        let mut time = || cells.next().and_then(|c| c.as_i64()).and_then(micros_to_datetime);
        let (oldest, newest) = (time(), time());
        Ok(ProjectStats { events, oldest, newest })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.execute(Statement { sql: "SELECT 1".into(), params: vec![] }).await.map(drop)
    }

    /// Waits for an append in flight, then refuses further work. Nothing is buffered here:
    /// every acknowledged append is already in ClickHouse.
    async fn close(&self) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        self.closed.store(true, Ordering::Release);
        tracing::info!("clickhouse event store closed");
        Ok(())
    }
}
