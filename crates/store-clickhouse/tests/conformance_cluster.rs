//! The shared events conformance suite on a ClickHouse cluster: two shards, `events` a
//! `Distributed` table sharded by person, person links and properties copied to every shard.
//! Same answers as on one server (and as the plain-Rust reference), whichever shard holds a
//! person's events. Needs the shards `scripts/with-clickhouse --shards 2` starts
//! (`TEST_CLICKHOUSE_SHARDS`, `TEST_CLICKHOUSE_CLUSTER`); without them every test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sextant_core::ProjectId;
use sextant_store::EventStore;
use sextant_store::conformance::{Subject, fixture_events};
use sextant_store_clickhouse::{ClickHouseOptions, ClickHouseStore, ClusterOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn cluster() -> ClusterOptions {
    let (Ok(name), Ok(shards)) =
        (std::env::var("TEST_CLICKHOUSE_CLUSTER"), std::env::var("TEST_CLICKHOUSE_SHARDS"))
    else {
        panic!(
            "TEST_CLICKHOUSE_CLUSTER / TEST_CLICKHOUSE_SHARDS are not set: run under `scripts/with-clickhouse --shards 2`"
        );
    };
    let shard_urls: Vec<String> = shards.split(',').map(str::to_owned).collect();
    assert!(shard_urls.len() >= 2, "the cluster tests need two shards: {shards}");
    ClusterOptions { name, shard_urls }
}

fn fresh_options() -> ClickHouseOptions {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let cluster = cluster();
    ClickHouseOptions {
        url: cluster.shard_urls[0].clone(),
        database: format!(
            "sextant_cluster_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
        cluster: Some(cluster),
        ..ClickHouseOptions::default()
    }
}

async fn make() -> Subject {
    let store = ClickHouseStore::open(&fresh_options()).await.unwrap();
    Subject { store: Arc::new(store), keep_alive: Box::new(()) }
}

sextant_store::event_store_conformance!(make);

/// One number from a shard's HTTP interface.
async fn count(shard: &str, sql: &str) -> u64 {
    let response = reqwest::Client::new().post(shard).body(sql.to_owned()).send().await.unwrap();
    let text = response.text().await.unwrap();
    text.trim().parse().unwrap_or_else(|_| panic!("{sql}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_spread_over_shards_and_small_tables_are_everywhere() {
    let options = fresh_options();
    let db = options.database.clone();
    let store = ClickHouseStore::open(&options).await.unwrap();
    let project = ProjectId::new("prj_spread");
    let events = fixture_events(&project);
    let people: std::collections::HashSet<_> = events.iter().map(|e| e.person_id.clone()).collect();
    assert!(people.len() >= 4, "the fixture has several people");
    store.append(events).await.unwrap();
    let shards = options.cluster.unwrap().shard_urls;
    let mut total = 0;
    for shard in &shards {
        let here = count(shard, &format!("SELECT count() FROM {db}.events_local")).await;
        assert!(here > 0, "every shard holds some people's events");
        total += here;
        let links = count(shard, &format!("SELECT count() FROM {db}.person_links_local")).await;
        assert!(links > 0, "every shard has the person links");
    }
    assert_eq!(total, 16, "each event on exactly one shard");
    assert_eq!(store.project_stats(&project).await.unwrap().events, 16);
    // Retention reaches every shard.
    let range = sextant_query::TimeRange {
        from: chrono::DateTime::UNIX_EPOCH,
        to: chrono::Utc::now() + chrono::Duration::days(1),
    };
    assert_eq!(store.delete_range(&project, range).await.unwrap(), 16);
    for shard in &shards {
        assert_eq!(count(shard, &format!("SELECT count() FROM {db}.events_local")).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_made_for_one_server_is_not_opened_as_a_cluster() {
    let options = fresh_options();
    let single = ClickHouseOptions { cluster: None, ..options.clone() };
    ClickHouseStore::open(&single).await.unwrap().close().await.unwrap();
    let Err(error) = ClickHouseStore::open(&options).await else {
        panic!("opened a one-server database as a cluster");
    };
    assert!(error.to_string().contains("move the events"), "{error}");
}
