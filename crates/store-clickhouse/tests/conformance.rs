//! The shared events conformance suite on ClickHouse, plus what is specific to this backend.
//! Needs a server: `scripts/with-clickhouse` starts a throwaway one (Debian's 18.16) and sets
//! `TEST_CLICKHOUSE_URL`, `scripts/with-chdb` a current release; without one every test
//! fails, loudly.
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

/// Runs `sql` in `options`' database over ClickHouse's HTTP interface, as an operator would.
async fn run_sql(options: &ClickHouseOptions, sql: &str) -> String {
    let url = format!("{}/?database={}", options.url, options.database);
    let response = reqwest::Client::new().post(url).body(sql.to_owned()).send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "{sql}: {body}");
    body
}

/// A database made before the rollups existed (schema version 3, events stored) gets them when
/// a newer Sextant opens it, backfilled from its events: answers read from them are those
/// read from the events, by the hour, by country and in people.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_backfills_the_rollups() {
    let options = fresh_options();
    let project = ProjectId::new("prj_upgrade");
    let store = ClickHouseStore::open(&options).await.unwrap();
    store.append(fixture_events(&project)).await.unwrap();
    store.close().await.unwrap();
    for name in ["rollup_hourly", "rollup_dimensions", "rollup_actors"] {
        for table in [format!("{name}_view"), name.to_owned(), format!("{name}_local")] {
            run_sql(&options, &format!("DROP TABLE {table}")).await;
        }
    }
    run_sql(&options, "TRUNCATE TABLE schema_migrations").await;
    run_sql(&options, "INSERT INTO schema_migrations (version) VALUES (1), (2), (3)").await;

    let store = ClickHouseStore::open(&options).await.unwrap();
    let rows = run_sql(&options, "SELECT sum(events) FROM rollup_actors_local").await;
    assert_eq!(rows.trim(), "16", "the backfill counted every stored event once");
    for spec in [
        serde_json::json!({"kind": "trends", "interval": "hour", "series": [{}, {"event": "purchase", "math": "sum", "property": "value"}], "date_range": {"from": "2026-11-01", "to": "2026-11-05"}}),
        serde_json::json!({"kind": "trends", "series": [{"event": "page_view"}], "breakdown": {"property": "country"}, "date_range": {"from": "2026-11-01", "to": "2026-11-05"}}),
        serde_json::json!({"kind": "trends", "series": [{"math": "unique_users"}], "date_range": {"from": "2026-11-01", "to": "2026-11-05"}}),
    ] {
        let query: sextant_query::Query = serde_json::from_value(spec).unwrap();
        let answer = |rollups: bool| {
            let opts = sextant_query::PlanOptions {
                project_id: project.clone(),
                now: sextant_core::parse_timestamp("2026-11-22T00:00:00Z").unwrap(),
                max_buckets: 5000,
                rollups,
            };
            let (store, query) = (&store, &query);
            async move { serde_json::to_value(store.query(query, &opts).await.unwrap()).unwrap() }
        };
        assert_eq!(answer(true).await, answer(false).await, "{query:?}");
    }
}

/// Forwards connections from a loopback port to ClickHouse until the returned sender fires
/// (then drops them and refuses new ones), so a test can take the server away from a store and give it back.
async fn proxy(to: std::net::SocketAddr, port: u16) -> tokio::sync::oneshot::Sender<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        // Dropped on stop, which cuts the open (keep-alive) connections too.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                accepted = listener.accept() => {
                    let Ok((mut inbound, _)) = accepted else { return };
                    connections.spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            }
        }
    });
    stop
}

/// During an outage appends fail as unavailable (the HTTP layer's 503) and acknowledge
/// nothing; once the server is back, the retried batch is stored once and nothing
/// acknowledged before is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_unavailable_and_loses_nothing_acknowledged() {
    let server: std::net::SocketAddr =
        url().trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stop = proxy(server, port).await;
    let options = ClickHouseOptions { url: format!("http://127.0.0.1:{port}"), ..fresh_options() };
    let store = ClickHouseStore::open(&options).await.unwrap();
    let project = ProjectId::new("prj_outage");
    let events = fixture_events(&project);
    store.append(events[..8].to_vec()).await.unwrap();

    stop.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let err = store.append(events[8..].to_vec()).await.unwrap_err();
    assert_eq!(err.kind(), sextant_core::ErrorKind::Unavailable, "{err}");
    let err = store.project_stats(&project).await.unwrap_err();
    assert_eq!(err.kind(), sextant_core::ErrorKind::Unavailable, "{err}");

    let _back = proxy(server, port).await;
    let retried = store.append(events[8..].to_vec()).await.unwrap();
    assert_eq!(retried.stored, 8);
    assert_eq!(store.project_stats(&project).await.unwrap().events, 16);
    let again = store.append(events.clone()).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 16));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_queries_are_interrupted_at_the_limit() {
    let options =
        ClickHouseOptions { query_timeout: std::time::Duration::from_secs(1), ..fresh_options() };
    let store = ClickHouseStore::open(&options).await.unwrap();
    let slow = Statement {
        sql: "SELECT count() FROM numbers($1) WHERE number % 7 = 3".into(),
        params: vec![Param::Int(1_000_000_000_000)],
    };
    let started = std::time::Instant::now();
    let err = store.execute(slow).await.unwrap_err();
    assert!(matches!(err, sextant_store::StoreError::Timeout(_)), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// A person's properties set after a restart, by an event older than the stored ones, still
/// win: row versions come from the clock and stay ahead of what is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_properties_set_after_a_restart_win() {
    let options = fresh_options();
    let project = ProjectId::new("prj_versions");
    let identify = |insert_id: &str, at: &str, plan: &str| {
        let mut e = fixture_events(&project).remove(0);
        e.insert_id = insert_id.into();
        e.user_id = Some("u-1".into());
        e.person_id = Some("u-1".into());
        e.timestamp = sextant_core::parse_timestamp(at).unwrap();
        e.properties = serde_json::from_value(serde_json::json!({"$set": {"plan": plan}})).unwrap();
        e
    };
    let store = ClickHouseStore::open(&options).await.unwrap();
    store.append(vec![identify("v1", "2026-11-10T00:00:00Z", "free")]).await.unwrap();
    store.close().await.unwrap();
    let store = ClickHouseStore::open(&options).await.unwrap();
    store.append(vec![identify("v2", "2026-01-01T00:00:00Z", "pro")]).await.unwrap();
    let rows = store
        .execute(Statement {
            sql: "SELECT argMax(properties, version) FROM persons WHERE project_id = $1".into(),
            params: vec![Param::Text(project.to_string())],
        })
        .await
        .unwrap();
    assert_eq!(rows, vec![vec![sextant_query::Cell::Text(r#"{"plan":"pro"}"#.into())]]);
}
