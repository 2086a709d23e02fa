//! Durability: every acknowledged event survives `kill -9` of the server mid-load, none twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Sextant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_kill_9() {
    let s = Sextant::new();
    let (_project, write, _secret) = s.project("load");
    let server = s.serve(&[]);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for worker in 0..12 {
        // Half send batches of 50, half single events.
        let batch = if worker % 2 == 0 { 50 } else { 1 };
        clients.push(tokio::spawn(support::send_until_stopped(
            server.url.clone(),
            write.clone(),
            worker,
            batch,
            Arc::clone(&acked),
            Arc::clone(&stop),
        )));
    }
    let started = Instant::now();
    while acked.lock().unwrap().len() < 20_000 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before_kill = acked.lock().unwrap().len();
    assert!(before_kill > 0, "no request was acknowledged before the kill");
    tokio::task::spawn_blocking(move || server.kill9()).await.unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut failed_requests = 0;
    for c in clients {
        failed_requests += c.await.unwrap().1;
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();

    // The data directory is reopened by a fresh process, which replays DuckDB's WAL.
    let exported = s.run(&["export", "--project", "load"]);
    let mut stored = HashSet::new();
    for line in exported.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let id = event["insert_id"].as_str().unwrap().to_owned();
        assert!(stored.insert(id.clone()), "event {id} stored twice");
    }
    let missing: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    eprintln!(
        "kill -9: {} events acknowledged ({before_kill} when the kill was sent), {} stored after restart, {failed_requests} requests cut off, {} acknowledged but missing",
        acked.len(),
        stored.len(),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(failed_requests > 0 || stored.len() == acked.len(), "the kill landed mid-load");

    // And the restarted server serves them.
    let server = s.serve(&[]);
    server.stop();
}
