//! Two schedulers ("nodes"), each with its own connection to one metadata database, run every
//! slot of a job exactly once between them; a node working longer than its lease keeps its
//! claim by renewing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sextant_jobs::{Job, JobError, Scheduler, SchedulerOptions};
use sextant_meta_sql::SqlMetaStore;
use sextant_store::MetaStore;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

type Runs = Arc<Mutex<BTreeMap<String, Vec<String>>>>;

/// Records which node ran which slot; one slot per minute, or a single slot.
struct Counting {
    runs: Runs,
    node: String,
    per_minute: bool,
    takes: StdDuration,
}

#[async_trait]
impl Job for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn slot(&self, now: DateTime<Utc>) -> String {
        if self.per_minute { now.format("%Y-%m-%dT%H:%M").to_string() } else { "once".into() }
    }

    async fn run(&self, now: DateTime<Utc>) -> Result<String, JobError> {
        self.runs.lock().unwrap().entry(self.slot(now)).or_default().push(self.node.clone());
        tokio::time::sleep(self.takes).await;
        Ok(format!("ran on {}", self.node))
    }
}

async fn node(url: &str, job: Counting, lease: StdDuration) -> Scheduler {
    let meta: Arc<dyn MetaStore> = Arc::new(SqlMetaStore::connect(url).await.unwrap());
    let options = SchedulerOptions {
        node: job.node.clone(),
        start_delay: StdDuration::ZERO,
        tick: StdDuration::from_millis(10),
        lease,
    };
    Scheduler::new(meta, vec![Arc::new(job)], options)
}

fn minute(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap() + Duration::minutes(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_run_each_slot_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/meta.sqlite", dir.path().display());
    let runs = Runs::default();
    let job = |node: &str| Counting {
        runs: Arc::clone(&runs),
        node: node.into(),
        per_minute: true,
        takes: StdDuration::ZERO,
    };
    let a = node(&url, job("a"), StdDuration::from_secs(60)).await;
    let b = node(&url, job("b"), StdDuration::from_secs(60)).await;
    let mut ran = 0;
    // Both nodes see every minute, several times over, at once.
    for n in 0..60 {
        for _ in 0..3 {
            let (ran_a, ran_b) = tokio::join!(a.run_due(minute(n)), b.run_due(minute(n)));
            ran += ran_a.len() + ran_b.len();
        }
    }
    assert_eq!(ran, 60);
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 60);
    for (slot, nodes) in runs.iter() {
        assert_eq!(nodes.len(), 1, "{slot} ran on {nodes:?}");
    }

    let meta = SqlMetaStore::connect(&url).await.unwrap();
    let recorded = meta.list_job_runs(100).await.unwrap();
    assert_eq!(recorded.len(), 60);
    for run in &recorded {
        assert_eq!(run.outcome.as_deref(), Some("ok"), "{run:?}");
        assert_eq!(run.detail, Some(format!("ran on {}", run.node)));
        assert_eq!(runs[&run.slot], std::slice::from_ref(&run.node));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_run_keeps_its_claim_past_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/meta.sqlite", dir.path().display());
    let runs = Runs::default();
    let job = |node: &str, takes| Counting {
        runs: Arc::clone(&runs),
        node: node.into(),
        per_minute: false,
        takes,
    };
    let lease = StdDuration::from_millis(300);
    let slow = node(&url, job("slow", StdDuration::from_millis(1500)), lease).await;
    let other = node(&url, job("other", StdDuration::ZERO), lease).await;
    let running = tokio::spawn(async move { slow.run_due(Utc::now()).await });
    // Without renewals the claim would expire after 300 ms; `other` keeps trying for a second.
    for _ in 0..10 {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        assert_eq!(other.run_due(Utc::now()).await, []);
    }
    assert_eq!(running.await.unwrap().len(), 1);
    assert_eq!(runs.lock().unwrap().values().flatten().collect::<Vec<_>>(), ["slow"]);
}
