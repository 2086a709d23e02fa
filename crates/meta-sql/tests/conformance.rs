//! The shared metadata conformance suite on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sextant_meta_sql::SqlMetaStore;
use sextant_store::MetaStore;
use sextant_store::conformance::MetaSubject;
use std::sync::Arc;

async fn make() -> MetaSubject {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/meta.sqlite", dir.path().display());
    let store = SqlMetaStore::connect(&url).await.unwrap();
    MetaSubject { store: Arc::new(store), keep_alive: Box::new(dir) }
}

sextant_store::meta_store_conformance!(make);

#[tokio::test]
async fn reconnecting_keeps_data_and_skips_applied_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/meta.sqlite", dir.path().display());
    let store = SqlMetaStore::connect(&url).await.unwrap();
    store.ensure_org("Acme").await.unwrap();
    store.close().await;
    let again = SqlMetaStore::connect(&url).await.unwrap();
    assert_eq!(again.list_orgs().await.unwrap().len(), 1);
}

#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let Err(err) = SqlMetaStore::connect("sqlite:///proc/forbidden/meta.sqlite").await else {
        panic!("opened a database under /proc");
    };
    assert_eq!(err.kind(), sextant_core::ErrorKind::Unavailable, "{err}");
}
