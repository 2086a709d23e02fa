//! The shared events conformance suite, plus what is specific to the embedded backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sextant_core::ProjectId;
use sextant_query::{Param, Statement};
use sextant_store::conformance::{Subject, fixture_events};
use sextant_store::{EventStore, StoreError};
use sextant_store_duckdb::{DuckDbOptions, DuckDbStore};
use std::sync::Arc;
use std::time::Duration;

async fn make() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbStore::open(
        dir.path(),
        &DuckDbOptions { readers: 2, threads: Some(2), ..DuckDbOptions::default() },
    )
    .unwrap();
    Subject { store: Arc::new(store), keep_alive: Box::new(dir) }
}

sextant_store::event_store_conformance!(make);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let project = ProjectId::new("prj_reopen");
    let store = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
    store.append(fixture_events(&project)).await.unwrap();
    store.close().await.unwrap();
    let reopened = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
    assert_eq!(reopened.project_stats(&project).await.unwrap().events, 16);
    reopened.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_drop_without_close() {
    // No CHECKPOINT: the rows live only in the WAL, which reopening must replay.
    let dir = tempfile::tempdir().unwrap();
    let project = ProjectId::new("prj_wal");
    {
        let store = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
        store.append(fixture_events(&project)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await; // the writer thread exits on its own
    let reopened = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
    assert_eq!(reopened.project_stats(&project).await.unwrap().events, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_queries_are_interrupted_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        DuckDbOptions { query_timeout: Duration::from_millis(200), ..DuckDbOptions::default() };
    let store = DuckDbStore::open(dir.path(), &options).unwrap();
    let slow = Statement {
        sql: "SELECT count(*) FROM range($1) a, range($1) b WHERE a.range * b.range = 7".into(),
        params: vec![Param::Int(1_000_000)],
    };
    let started = std::time::Instant::now();
    let err = store.execute(slow).await.unwrap_err();
    assert!(matches!(err, StoreError::Timeout(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "interrupted promptly: {:?}",
        started.elapsed()
    );
    store.ping().await.expect("the interrupted connection is usable again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_columns_match_the_event_model() {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
    let rows = store
        .execute(Statement {
            sql: "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position".into(),
            params: vec![],
        })
        .await
        .unwrap();
    let names: Vec<String> =
        rows.into_iter().map(|mut r| r.remove(0).into_text().unwrap()).collect();
    assert_eq!(names, sextant_core::EVENT_FIELDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_panic_fails_the_query_but_keeps_the_connection() {
    // duckdb-rs panics on untyped NULL columns; with a single reader, the next query only
    // works if the connection went back to the pool during the unwind.
    let dir = tempfile::tempdir().unwrap();
    let store =
        DuckDbStore::open(dir.path(), &DuckDbOptions { readers: 1, ..DuckDbOptions::default() })
            .unwrap();
    let err =
        store.execute(Statement { sql: "SELECT NULL".into(), params: vec![] }).await.unwrap_err();
    assert!(matches!(err, StoreError::Internal(_)), "{err}");
    store.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_window_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let project = ProjectId::new("prj_restart");
    let recent = || {
        let mut events = fixture_events(&project);
        for e in &mut events {
            e.received_at = chrono::Utc::now();
        }
        events
    };
    {
        let store = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
        assert_eq!(store.append(recent()).await.unwrap().stored, 16);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reopened = DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap();
    let retry = reopened.append(recent()).await.unwrap();
    assert_eq!((retry.stored, retry.duplicates), (0, 16));
    assert_eq!(reopened.project_stats(&project).await.unwrap().events, 16);
}

/// Every append adds partial rollup rows; compaction folds them, and answers from the rollup
/// stay equal to answers from the events throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollup_partials_are_compacted_and_stay_exact() {
    let subject = make().await;
    let project = ProjectId::new("prj_rollup");
    let base = fixture_events(&project);
    for i in 0..620 {
        let mut event = base[i % base.len()].clone();
        event.insert_id = format!("r{i}");
        event.value = Some(f64::from(u32::try_from(i % 7).unwrap()));
        subject.store.append(vec![event]).await.unwrap();
    }
    for table in ["rollup_hourly", "rollup_actors", "rollup_actors_daily"] {
        let sql = format!("SELECT count(*) FROM {table}");
        let rows = subject.store.execute(Statement { sql, params: vec![] }).await.unwrap();
        let rows = rows[0][0].as_i64().unwrap();
        assert!((1..200).contains(&rows), "620 single-event appends left {rows} {table} rows");
    }
    // The folded people-hours still hold every event's time, and their latest.
    let sql = "SELECT count(*) FILTER (WHERE len(times) <> events OR list_max(times) <> last_ts), \
        (SELECT sum(epoch_us(timestamp)::HUGEINT) FROM events) - sum(list_sum(times)::HUGEINT) \
        FROM rollup_actors"
        .to_owned();
    let rows = subject.store.execute(Statement { sql, params: vec![] }).await.unwrap();
    assert_eq!((rows[0][0].as_i64(), rows[0][1].as_f64()), (Some(0), Some(0.0)), "{rows:?}");
    let hourly = serde_json::json!({
        "kind": "trends", "interval": "hour",
        "series": [{}, {"math": "sum", "property": "value"}, {"math": "max", "property": "value"}],
        "date_range": {"from": "2026-11-01T00:30:00Z", "to": "2026-11-04T00:00:00Z"}
    });
    // Whole UTC days: the people come from `rollup_actors_daily`.
    let daily = serde_json::json!({
        "kind": "trends", "interval": "day",
        "series": [{"math": "unique_users"}, {"math": "per_user_average"}],
        "date_range": {"from": "2026-10-31", "to": "2026-11-04"}
    });
    let events = answered_as_the_events(&subject, &project, hourly).await;
    assert!(events["series"][0]["total"].as_u64().unwrap() > 500, "{events}");
    let people = answered_as_the_events(&subject, &project, daily).await;
    assert!(people["series"][0]["total"].as_u64().unwrap() > 1, "{people}");
    // Step 0 found in the people-hours' times.
    let funnel = serde_json::json!({
        "kind": "funnel", "steps": [{"event": "page_view"}, {"event": "signup"}],
        "date_range": {"from": "2026-10-31T00:30:00Z", "to": "2026-11-04"}, "window": "1d"
    });
    let converted = answered_as_the_events(&subject, &project, funnel).await;
    assert!(converted["groups"][0]["steps"][1]["count"].as_u64().unwrap() > 0, "{converted}");
}

/// `spec`'s answer, after checking it is the same with rollups and without.
async fn answered_as_the_events(
    subject: &Subject,
    project: &ProjectId,
    spec: serde_json::Value,
) -> serde_json::Value {
    let query: sextant_query::Query = serde_json::from_value(spec).unwrap();
    let answer = |rollups: bool| {
        let opts = sextant_query::PlanOptions {
            rollups,
            ..sextant_query::PlanOptions::new(
                project.clone(),
                sextant_core::parse_timestamp("2026-11-22T00:00:00Z").unwrap(),
                5000,
            )
        };
        let store = Arc::clone(&subject.store);
        let query = query.clone();
        async move { serde_json::to_value(store.query(&query, &opts).await.unwrap()).unwrap() }
    };
    let (rolled, raw) = (answer(true).await, answer(false).await);
    assert_eq!(rolled, raw);
    rolled
}
