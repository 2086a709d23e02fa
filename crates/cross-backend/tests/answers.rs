//! DuckDB and ClickHouse answer every query kind identically on the same generated events.
//! Needs a ClickHouse server: run under `scripts/with-clickhouse` (fails without one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sextant_store::conformance::Subject;
use sextant_store_clickhouse::{ClickHouseOptions, ClickHouseStore};
use sextant_store_duckdb::{DuckDbOptions, DuckDbStore};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_and_clickhouse_give_the_same_answers() {
    let url = std::env::var("TEST_CLICKHOUSE_URL").unwrap_or_else(|_| {
        panic!("TEST_CLICKHOUSE_URL is not set: run under scripts/with-clickhouse")
    });
    let dir = tempfile::tempdir().unwrap();
    let duckdb = DuckDbStore::open(
        dir.path(),
        &DuckDbOptions { readers: 2, threads: Some(2), ..DuckDbOptions::default() },
    )
    .unwrap();
    let database = format!("sextant_cross_{}", std::process::id());
    let clickhouse =
        ClickHouseStore::open(&ClickHouseOptions { url, database, ..ClickHouseOptions::default() })
            .await
            .unwrap();
    let duckdb = Subject { store: Arc::new(duckdb), keep_alive: Box::new(dir) };
    let clickhouse = Subject { store: Arc::new(clickhouse), keep_alive: Box::new(()) };
    sextant_store::conformance::cross_backend::same_answers(&duckdb, &clickhouse).await;
}
