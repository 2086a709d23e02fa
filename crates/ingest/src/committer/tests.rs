use super::*;
use async_trait::async_trait;
use sextant_core::{ProjectId, parse_timestamp};
use sextant_query::{Dialect, Statement, TimeRange};
use sextant_store::{Appended, ProjectStats, RowSink, StoreError};
use std::sync::Mutex;

/// An in-memory store whose appends wait at a gate, so tests control when commits finish.
struct GatedStore {
    gate: Semaphore,
    appends: Mutex<Vec<usize>>,
    fail: std::sync::atomic::AtomicBool,
}

impl Default for GatedStore {
    fn default() -> Self {
        Self {
            gate: Semaphore::new(0),
            appends: Mutex::default(),
            fail: std::sync::atomic::AtomicBool::default(),
        }
    }
}

#[async_trait]
impl EventStore for GatedStore {
    fn dialect(&self) -> Dialect {
        Dialect::DuckDb
    }
    async fn append(&self, events: Vec<Event>) -> Result<Appended, StoreError> {
        self.gate.acquire().await.unwrap().forget();
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Unavailable("disk on fire".into()));
        }
        self.appends.lock().unwrap().push(events.len());
        Ok(Appended { stored: events.len(), duplicates: 0 })
    }
    async fn stream_rows(&self, _: Statement, _: bool, _: RowSink) -> Result<(), StoreError> {
        Err(StoreError::Internal("not used".into()))
    }
    async fn delete_range(&self, _: &ProjectId, _: TimeRange) -> Result<u64, StoreError> {
        Err(StoreError::Internal("not used".into()))
    }
    async fn project_stats(&self, _: &ProjectId) -> Result<ProjectStats, StoreError> {
        Err(StoreError::Internal("not used".into()))
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn events(n: usize) -> Vec<Event> {
    let t = parse_timestamp("2026-11-22T00:00:00Z").unwrap();
    let limits = sextant_core::Limits::default();
    let project = ProjectId::new("p");
    let input = sextant_core::EventInput {
        project_id: &project,
        received_at: t,
        limits: &limits,
        mode: sextant_core::InputMode::Api,
    };
    (0..n).map(|_| input.parse(serde_json::json!({"event": "x"})).unwrap()).collect()
}

fn start(store: &Arc<GatedStore>, max_pending: usize) -> Committer {
    let settings = CommitterSettings {
        max_batch_events: 1000,
        max_pending_events: max_pending,
        retry_after: Duration::from_secs(2),
    };
    Committer::start(Arc::clone(store) as Arc<dyn EventStore>, settings, Arc::new(Metrics::new())).0
}

#[tokio::test]
async fn concurrent_requests_share_commits() {
    let store = Arc::new(GatedStore::default());
    let committer = start(&store, 10_000);
    let mut requests = Vec::new();
    for _ in 0..50 {
        let c = committer.clone();
        requests.push(tokio::spawn(async move { c.commit(events(3)).await }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The first commit is held at the gate; everything else queues behind it.
    store.gate.add_permits(1000);
    for r in requests {
        r.await.unwrap().unwrap();
    }
    let appends = store.appends.lock().unwrap().clone();
    assert_eq!(appends.iter().sum::<usize>(), 150, "every event committed exactly once");
    assert!(appends.len() <= 3, "50 requests were group-committed in {} appends", appends.len());
}

#[tokio::test]
async fn acknowledged_only_after_the_store_returns() {
    let store = Arc::new(GatedStore::default());
    let committer = start(&store, 100);
    let c = committer.clone();
    let request = tokio::spawn(async move { c.commit(events(1)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!request.is_finished(), "no acknowledgement while the append is not durable");
    store.gate.add_permits(1);
    request.await.unwrap().unwrap();
}

#[tokio::test]
async fn full_queue_refuses_immediately_with_retry_after() {
    let store = Arc::new(GatedStore::default());
    let committer = start(&store, 10);
    let c = committer.clone();
    let blocked = tokio::spawn(async move { c.commit(events(8)).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let refused = committer.commit(events(3)).await.unwrap_err();
    assert!(
        matches!(refused, IngestError::Overloaded { retry_after } if retry_after == Duration::from_secs(2))
    );
    committer.commit(Vec::new()).await.expect("nothing to store always fits");
    store.gate.add_permits(10);
    blocked.await.unwrap().unwrap();
    committer.commit(events(3)).await.expect("room again once the commit is durable");
    assert_eq!(store.appends.lock().unwrap().iter().sum::<usize>(), 11);
}

#[tokio::test]
async fn store_failure_fails_every_request_in_the_batch() {
    let store = Arc::new(GatedStore::default());
    store.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let committer = start(&store, 100);
    let mut requests = Vec::new();
    for _ in 0..5 {
        let c = committer.clone();
        requests.push(tokio::spawn(async move { c.commit(events(2)).await }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.gate.add_permits(10);
    for r in requests {
        let err = r.await.unwrap().unwrap_err();
        assert!(matches!(&err, IngestError::Unavailable(m) if m.contains("disk on fire")), "{err}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    }
}
