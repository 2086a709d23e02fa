//! The shared metadata conformance suite on PostgreSQL, through the same code as SQLite.
//!
//! Needs a server: `TEST_POSTGRES_URL` (a role allowed to create databases), which
//! `scripts/test` sets after starting a throwaway cluster (`scripts/with-postgres`). Without it
//! these tests fail: they never skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sextant_meta_sql::SqlMetaStore;
use sextant_store::MetaStore;
use sextant_store::conformance::MetaSubject;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The server's URL, for a database named `database`.
fn url_for(database: &str) -> String {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        panic!(
            "TEST_POSTGRES_URL is not set: run scripts/test, or scripts/with-postgres cargo test ..."
        );
    };
    let (server, _) = url.rsplit_once('/').expect("a postgres://.../database URL");
    format!("{server}/{database}")
}

/// A new, empty database on the test server.
async fn fresh_database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name =
        format!("sextant_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let admin = sqlx::PgPool::connect(&url_for("postgres")).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    admin.close().await;
    url_for(&name)
}

async fn make() -> MetaSubject {
    let store = SqlMetaStore::connect(&fresh_database().await).await.unwrap();
    MetaSubject { store: Arc::new(store), keep_alive: Box::new(()) }
}

sextant_store::meta_store_conformance!(make);

#[tokio::test]
async fn reconnecting_keeps_data_and_skips_applied_migrations() {
    let url = fresh_database().await;
    let store = SqlMetaStore::connect(&url).await.unwrap();
    store.ensure_org("Acme").await.unwrap();
    store.close().await;
    let again = SqlMetaStore::connect(&url).await.unwrap();
    assert_eq!(again.list_orgs().await.unwrap().len(), 1);
}

#[tokio::test]
async fn unreachable_server_is_a_clear_error_without_the_password() {
    let Err(err) = SqlMetaStore::connect("postgres://sextant:hunter2@127.0.0.1:1/sextant").await
    else {
        panic!("connected to port 1");
    };
    assert_eq!(err.kind(), sextant_core::ErrorKind::Unavailable, "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}
