//! The shared events conformance suite on ClickHouse, plus what is specific to this backend.
//! Needs a server: `scripts/with-clickhouse` starts a throwaway one and sets
//! `TEST_CLICKHOUSE_URL`; without it every test fails, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sextant_core::ProjectId;
use sextant_query::{Param, Statement};
use sextant_store::EventStore;
use sextant_store::conformance::{Subject, fixture_events};
use sextant_store_clickhouse::{ClickHouseOptions, ClickHouseStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn url() -> String {
    std::env::var("TEST_CLICKHOUSE_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_CLICKHOUSE_URL is not set: run the ClickHouse tests under scripts/with-clickhouse, e.g. `scripts/with-clickhouse cargo test --release -p sextant-store-clickhouse`"
        )
    })
}

/// A database no other test uses.
fn fresh_options() -> ClickHouseOptions {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    ClickHouseOptions {
        url: url(),
        database: format!(
            "sextant_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
        ..ClickHouseOptions::default()
    }
}

async fn make() -> Subject {
    let store = ClickHouseStore::open(&fresh_options()).await.unwrap();
    Subject { store: Arc::new(store), keep_alive: Box::new(()) }
}

sextant_store::event_store_conformance!(make);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_data_dedup_window_and_schema() {
    let options = fresh_options();
    let project = ProjectId::new("prj_reopen");
    // Received now, so within the dedup window when the store reopens.
    let events: Vec<_> = fixture_events(&project)
        .into_iter()
        .map(|mut e| {
            e.received_at = chrono::Utc::now();
            e
        })
        .collect();
    let store = ClickHouseStore::open(&options).await.unwrap();
    store.append(events.clone()).await.unwrap();
    store.close().await.unwrap();
    let reopened = ClickHouseStore::open(&options).await.unwrap();
    assert_eq!(reopened.project_stats(&project).await.unwrap().events, 16);
    let retry = reopened.append(events).await.unwrap();
    assert_eq!((retry.stored, retry.duplicates), (0, 16), "the window was reloaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_unavailable_and_loses_nothing_acknowledged() {
    let options = fresh_options();
    let project = ProjectId::new("prj_outage");
    let store = ClickHouseStore::open(&options).await.unwrap();
    store.append(fixture_events(&project)[..8].to_vec()).await.unwrap();
    // The same database through a port nothing listens on: as during an outage.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let gone = ClickHouseOptions { url: format!("http://{closed_port}"), ..options.clone() };
    let err = ClickHouseStore::open(&gone).await.err().expect("no server, no store");
    assert_eq!(err.kind(), sextant_core::ErrorKind::Unavailable, "{err}");
    assert_eq!(store.project_stats(&project).await.unwrap().events, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_data_not_sql() {
    let store = ClickHouseStore::open(&fresh_options()).await.unwrap();
    let hostile = "x' OR 1=1) --\\'; DROP TABLE events_local; --";
    let rows = store
        .execute(Statement {
            sql: "SELECT $1, length($1)".into(),
            params: vec![Param::Text(hostile.into())],
        })
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![vec![
            sextant_query::Cell::Text(hostile.into()),
            sextant_query::Cell::Int(i64::try_from(hostile.len()).unwrap())
        ]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_months_are_dropped_as_partitions() {
    let store = ClickHouseStore::open(&fresh_options()).await.unwrap();
    let project = ProjectId::new("prj_months");
    let mut events = fixture_events(&project);
    // Spread over three months: the middle one is covered whole by the range below.
    for (i, e) in events.iter_mut().enumerate() {
        e.timestamp = sextant_core::parse_timestamp(
            ["2026-01-20T00:00:00Z", "2026-02-10T00:00:00Z", "2026-03-05T00:00:00Z"][i % 3],
        )
        .unwrap();
    }
    store.append(events).await.unwrap();
    let range = sextant_query::TimeRange {
        from: sextant_core::parse_timestamp("2026-01-25T00:00:00Z").unwrap(),
        to: sextant_core::parse_timestamp("2026-03-10T00:00:00Z").unwrap(),
    };
    let deleted = store.delete_range(&project, range).await.unwrap();
    assert_eq!(deleted, 10);
    assert_eq!(store.project_stats(&project).await.unwrap().events, 6);
}
