//! Tables and their numbered migrations, applied by Sextant itself and recorded in
//! `schema_migrations` on every server. Each table is `<name>_local` (the rows on this
//! server) behind a `<name>` the planner reads. On one server that is a `Merge` table; on a
//! cluster, `events` is a `Distributed` table over every shard's `events_local` (the writer
//! puts each person's events on one shard), while `person_links` and `persons` stay `Merge`
//! tables over complete copies the writer keeps on every shard (they are small, and every
//! shard joins its events to them). Queries never change. `docs/schema.md` and `docs/deploy.md` explain the layout.

use crate::http::{Client, Mode};
use crate::rollups::ROLLUPS;
use sextant_query::Cell;
use sextant_store::StoreError;

/// Where the events live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    Single,
    /// Shards of the named cluster (ClickHouse's `remote_servers`).
    Cluster(String),
}

/// The statement creating `{table}` over every server's `{table}_local` for `layout`.
fn front(layout: &Layout, database: &str, table: &str) -> String {
    match layout {
        Layout::Single => format!(
            "CREATE TABLE IF NOT EXISTS {table} AS {table}_local ENGINE = Merge(currentDatabase(), '^{table}_local$')"
        ),
        // Read-only for Sextant: its writer inserts into each shard's `events_local` itself
        // (a shard per person, see `write::shard_of`), because 18.16 cannot insert through a
        // Distributed table whose columns include MATERIALIZED ones. Hence no sharding key.
        Layout::Cluster(cluster) => format!(
            "CREATE TABLE IF NOT EXISTS {table} AS {table}_local ENGINE = Distributed({cluster}, {database}, {table}_local)"
        ),
    }
}

/// The engine `events` must have for `layout` (as `system.tables` names it).
pub(crate) fn events_engine(layout: &Layout) -> &'static str {
    match layout {
        Layout::Single => "Merge",
        Layout::Cluster(_) => "Distributed",
    }
}

/// A statement of a migration; some depend on the layout or are built from definitions.
enum Step {
    Sql(&'static str),
    /// `events` over `events_local`, see `front`.
    EventsFront,
    /// Every rollup: its table, the view that fills it from then on, its `front`, and its rows
    /// for the events already stored (recomputed whole, so a migration cut short is simply run
    /// again; events inserted while the backfill starts may be counted twice, which is why
    /// `docs/deploy.md` says to upgrade a cluster's nodes with ingestion paused).
    Rollups,
    /// The views of the rollups of `value` made again with the states of today's
    /// `rollups::VALUE_STATES`, and their rows recomputed as for `Rollups`.
    ValueViews,
}

/// Applied in order, each once. Never edit a released entry: append a new one.
const MIGRATIONS: &[(u32, &[Step])] = &[
    (
        1,
        &[
            Step::Sql(
                // Timestamps are Int64 microseconds: 18.16 has no DateTime64. `properties` keeps
                // the JSON object for exports; `prop_keys`/`prop_values` hold every nested path
                // (a JSON pointer) with the text a query compares, because 18.16 can only read
                // flat JSON. The sort key serves the common scan (one project, a few days, some
                // event names); `insert_id` ends it so a retried copy that escaped the writer's
                // dedup window collapses when ReplacingMergeTree merges parts. Partitions are
                // months of one project, so a project's retention drops whole partitions.
                "CREATE TABLE IF NOT EXISTS events_local (
                project_id  String,
                event       String,
                timestamp   Int64,
                received_at Int64,
                insert_id   String,
                user_id     Nullable(String),
                device_id   Nullable(String),
                person_id   Nullable(String),
                session_id  Nullable(String),
                app         Nullable(String),
                url         Nullable(String),
                host        Nullable(String),
                path        Nullable(String),
                route       Nullable(String),
                referrer    Nullable(String),
                entity_type Nullable(String),
                entity_id   Nullable(String),
                device_type Nullable(String),
                browser     Nullable(String),
                os          Nullable(String),
                country     Nullable(String),
                value       Nullable(Float64),
                library     Nullable(String),
                properties  Nullable(String),
                prop_keys   Array(String),
                prop_values Array(String),
                day         Date MATERIALIZED toDate(intDiv(greatest(timestamp, 0), 86400000000)),
                person_hash UInt64 MATERIALIZED cityHash64(ifNull(person_id, ''))
            ) ENGINE = ReplacingMergeTree
            PARTITION BY (toYYYYMM(day), project_id)
            ORDER BY (project_id, day, event, person_hash, timestamp, insert_id)",
            ),
            Step::EventsFront,
        ],
    ),
    (
        2,
        &[
            // The first user each device was seen with. The writer inserts a device once;
            // queries take the earliest link, so a race between servers still resolves the
            // same way everywhere.
            Step::Sql(
                "CREATE TABLE IF NOT EXISTS person_links_local (
                project_id String,
                device_id  String,
                user_id    String,
                linked_at  Int64
            ) ENGINE = MergeTree
            ORDER BY (project_id, device_id)",
            ),
            Step::Sql(
                "CREATE TABLE IF NOT EXISTS person_links AS person_links_local
            ENGINE = Merge(currentDatabase(), '^person_links_local$')",
            ),
        ],
    ),
    (
        3,
        &[
            // Merged person properties, one row per write; queries read the highest version
            // (exact before merges), and merges keep only that one.
            Step::Sql(
                "CREATE TABLE IF NOT EXISTS persons_local (
                project_id  String,
                person_id   String,
                properties  String,
                prop_keys   Array(String),
                prop_values Array(String),
                version     UInt64
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (project_id, person_id)",
            ),
            Step::Sql(
                "CREATE TABLE IF NOT EXISTS persons AS persons_local
            ENGINE = Merge(currentDatabase(), '^persons_local$')",
            ),
        ],
    ),
    // Hourly rollups (see `rollups.rs`). Each shard keeps those of its own events, so a
    // cluster reads them through `Distributed` tables and aggregates on every shard.
    (4, &[Step::Rollups]),
    // Version 4's views stored `minState(value)`, whose type current releases no longer
    // accept in those columns: with them, every insert failed there.
    (5, &[Step::ValueViews]),
];

/// The statements `step` stands for.
fn statements(step: &Step, layout: &Layout, database: &str) -> Vec<String> {
    match step {
        Step::Sql(sql) => vec![(*sql).to_owned()],
        Step::EventsFront => vec![front(layout, database, "events")],
        Step::Rollups => ROLLUPS
            .iter()
            .flat_map(|r| {
                [r.create_local(), r.create_view(), front(layout, database, r.name)]
                    .into_iter()
                    .chain(r.recompute())
            })
            .collect(),
        Step::ValueViews => ROLLUPS
            .iter()
            .filter(|r| r.values)
            .flat_map(|r| [r.drop_view(), r.create_view()].into_iter().chain(r.recompute()))
            .collect(),
    }
}

/// Creates the database if needed and brings one server's schema up to date; returns the
/// version. On a cluster it runs on every shard (`ON CLUSTER` would need ZooKeeper).
pub(crate) async fn migrate(
    client: &Client,
    database: &str,
    layout: &Layout,
) -> Result<u32, StoreError> {
    client
        .without_database()
        .execute(&format!("CREATE DATABASE IF NOT EXISTS {}", identifier(database)?))
        .await?;
    client
        .execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version",
        )
        .await?;
    let rows =
        client.all_rows("SELECT max(version) FROM schema_migrations", Mode::Internal).await?;
    let current = match rows.first().and_then(|row| row.first()) {
        Some(Cell::Int(v)) => u32::try_from(*v).unwrap_or(0),
        _ => 0,
    };
    let mut version = current;
    for (number, steps) in MIGRATIONS.iter().filter(|(n, _)| *n > current) {
        // No transactions in ClickHouse: every statement is idempotent, so a migration cut
        // short is simply run again.
        for sql in steps.iter().flat_map(|step| statements(step, layout, database)) {
            client.execute(&sql).await?;
        }
        client
            .execute(&format!("INSERT INTO schema_migrations (version) VALUES ({number})"))
            .await?;
        version = *number;
    }
    Ok(version)
}

/// Refuses a database made for another layout: switching between one server and a cluster
/// means moving the events (`INSERT INTO ... SELECT`), not reopening them.
pub(crate) async fn check_layout(client: &Client, layout: &Layout) -> Result<(), StoreError> {
    let rows = client
        .all_rows(
            "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = 'events'",
            Mode::Internal,
        )
        .await?;
    let engine = rows.into_iter().next().and_then(|row| row.into_iter().next());
    match engine {
        Some(Cell::Text(engine)) if engine == events_engine(layout) => Ok(()),
        Some(Cell::Text(engine)) => Err(StoreError::Invalid(format!(
            "this ClickHouse database holds events for {} (`events` is a {engine} table), but the settings describe {}; move the events into a database made for the new layout",
            if engine == "Distributed" { "a cluster" } else { "one server" },
            match layout {
                Layout::Single => "one server".to_owned(),
                Layout::Cluster(name) => format!("the cluster `{name}`"),
            }
        ))),
        _ => Err(StoreError::Internal("the `events` table is missing after migration".into())),
    }
}

/// A database name, checked rather than escaped: it is configuration, but it ends up in DDL.
pub(crate) fn identifier(name: &str) -> Result<&str, StoreError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(name)
    } else {
        Err(StoreError::Invalid(format!(
            "clickhouse database `{name}`: use letters, digits and `_` (not first), at most 64"
        )))
    }
}
