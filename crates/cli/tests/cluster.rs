//! The cluster as its users run it: `scripts/cluster-up` (two ClickHouse shards, PostgreSQL,
//! two Sextant nodes), events in through both nodes, the same hand-computed answers out of
//! either, retention run by one node only, `kill -9` of a node losing no acknowledged event,
//! and `scripts/cluster-down` stopping exactly what was started.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{BIN, all_events, fixture};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts").join(name)
}

/// A cluster started by `scripts/cluster-up` in a temporary directory; stopped when dropped
/// (a failing test leaves nothing running).
struct Cluster {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    stopped: bool,
}

impl Cluster {
    fn up() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(script("cluster-up"));
        command.arg("--bin").arg(BIN).arg(dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("SEXTANT_") {
                command.env_remove(key);
            }
        }
        // The fixtures are dated November 2026: accept them whenever this test runs.
        let out = command.env("SEXTANT_INGEST__MAX_PAST", "36500days").output().unwrap();
        let printed = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "scripts/cluster-up failed:\n{printed}");
        let env = std::fs::read_to_string(dir.path().join("cluster.env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self { dir, env, stopped: false }
    }

    fn var(&self, name: &str) -> &str {
        &self.env[name]
    }

    fn nodes(&self) -> [&str; 2] {
        [self.var("SEXTANT_NODE1_URL"), self.var("SEXTANT_NODE2_URL")]
    }

    /// The processes `scripts/cluster-up` recorded: (name, pid), PostgreSQL excluded.
    fn pids(&self) -> Vec<(String, u32)> {
        std::fs::read_to_string(self.dir.path().join("pids"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(name, pid)| Some((name.to_owned(), pid.parse().ok()?)))
            .collect()
    }

    /// Runs `sextant` with node `n`'s configuration.
    fn cli(&self, n: usize, args: &[&str]) -> String {
        let config = self.dir.path().join(format!("node{n}/sextant.toml"));
        let out = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .args(["--log-level", "warn"])
            .args(args)
            .env("SEXTANT_INGEST__MAX_PAST", "36500days")
            .output()
            .unwrap();
        assert!(out.status.success(), "sextant {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn down(&mut self) {
        let out = Command::new(script("cluster-down")).arg(self.dir.path()).output().unwrap();
        assert!(out.status.success(), "cluster-down: {}", String::from_utf8_lossy(&out.stderr));
        self.stopped = true;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = Command::new(script("cluster-down")).arg(self.dir.path()).output();
        }
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

async fn post(http: &reqwest::Client, url: &str, key: &str, body: &Value) -> (u16, Value) {
    let reply = http.post(url).bearer_auth(key).json(body).send().await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or_default())
}

/// Every hand-computed fixture of `kind`, each in its own project with its events imported
/// half through each node's configuration, answered identically by both nodes.
async fn fixtures_agree(cluster: &Cluster, http: &reqwest::Client, kind: &str) -> usize {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixture(kind)).unwrap() {
        let path = entry.unwrap().path();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = format!("{kind}-{}", path.file_stem().unwrap().to_string_lossy());
        let created = cluster.cli(1, &["project", "create", &name]);
        let project = created.split(['(', ')']).nth(1).unwrap().to_owned();
        let secret = cluster.cli(2, &["key", "create", "--project", &project]).trim().to_owned();
        let events = case["events"].as_array().unwrap();
        for (n, half) in
            [&events[..events.len() / 2], &events[events.len() / 2..]].iter().enumerate()
        {
            let file = cluster.dir.path().join(format!("{name}-{n}.ndjson"));
            let lines: Vec<String> = half.iter().map(Value::to_string).collect();
            std::fs::write(&file, lines.join("\n")).unwrap();
            cluster.cli(n + 1, &["import", "--project", &project, file.to_str().unwrap()]);
        }
        let mut answers = Vec::new();
        for node in cluster.nodes() {
            let (status, answer) =
                post(http, &format!("{node}/api/v1/query"), &secret, &case["query"]).await;
            assert_eq!(status, 200, "{name} on {node}: {answer}");
            answers.push(answer);
        }
        assert_eq!(answers[0], answers[1], "{name}: the nodes disagree");
        let expected = &case["expected"];
        if kind == "retention" {
            assert_closed_cells(&answers[0], expected, &name);
        } else {
            assert_eq!(&answers[0], expected, "{name}: {}", case["description"]);
        }
        checked += 1;
    }
    checked
}

/// Retention fixtures fix "now" inside their periods, and the API answers as of the real now,
/// when every period has ended: the cells a fixture leaves open (`null`) are filled in here, and
/// the summary's figures change with them. Cohort sizes and the cells closed at the fixture's
/// "now" must match.
fn assert_closed_cells(answer: &Value, expected: &Value, name: &str) {
    let cohorts = |v: &Value| v["cohorts"].as_array().unwrap().clone();
    let (got, want) = (cohorts(answer), cohorts(expected));
    assert_eq!(got.len(), want.len(), "{name}: cohorts {answer}");
    for (got, want) in got.iter().zip(&want) {
        assert_eq!((&got["start"], &got["size"]), (&want["start"], &want["size"]), "{name}");
        let cells = want["counts"].as_array().unwrap().iter().enumerate();
        for (period, count) in cells.filter(|(_, c)| !c.is_null()) {
            assert_eq!(
                &got["counts"][period], count,
                "{name}: period {period} of {}",
                want["start"]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_over_two_shards() {
    let mut cluster = Cluster::up();
    let http = reqwest::Client::new();
    let [node1, node2] = cluster.nodes();
    let (write, secret) = (cluster.var("SEXTANT_WRITE_KEY"), cluster.var("SEXTANT_SECRET_KEY"));

    // The basic events over HTTP, alternately to each node; the trends fixtures from either.
    let basic = support::basic_events();
    for (n, event) in basic.iter().enumerate() {
        let node = if n % 2 == 0 { node1 } else { node2 };
        let (status, report) = post(&http, &format!("{node}/api/v1/events"), write, event).await;
        assert_eq!((status, report["accepted"].as_u64()), (200, Some(1)), "{report}");
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(fixture("trends")).unwrap() {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for node in [node1, node2] {
            let (status, answer) =
                post(&http, &format!("{node}/api/v1/query"), secret, &case["query"]).await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer, case["expected"], "{node}: {}", case["description"]);
        }
        checked += 1;
    }
    for kind in ["funnels", "retention", "activity", "sessions", "paths"] {
        checked += fixtures_agree(&cluster, &http, kind).await;
    }
    assert!(checked >= 30, "only {checked} fixtures");

    // Retention ran (start delay 5 s), on one node only.
    let admin = cluster.var("SEXTANT_ADMIN_KEY");
    let started = Instant::now();
    let runs = loop {
        let reply = http.get(format!("{node2}/api/v1/jobs")).bearer_auth(admin).send().await;
        let runs: Value = reply.unwrap().json().await.unwrap();
        let retention: Vec<Value> = runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["job"] == "retention" && r["finished_at"].is_string())
            .cloned()
            .collect();
        if !retention.is_empty() || started.elapsed() > Duration::from_secs(30) {
            break retention;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!runs.is_empty(), "retention did not run within 30 s");
    for run in &runs {
        assert_eq!(
            (run["attempts"].as_u64(), run["outcome"].as_str()),
            (Some(1), Some("ok")),
            "{run}"
        );
    }
    let logs: Vec<usize> = (1..=2)
        .map(|n| {
            let log =
                std::fs::read_to_string(cluster.dir.path().join(format!("node{n}/server.log")))
                    .unwrap();
            log.lines().filter(|l| l.contains("job started") && l.contains("retention")).count()
        })
        .collect();
    assert_eq!(logs.iter().sum::<usize>(), runs.len(), "retention starts per node: {logs:?}");

    // Load through node 2, kill -9 it mid-load: node 1 serves every acknowledged event.
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..6)
        .map(|worker| {
            let batch = if worker % 2 == 0 { 50 } else { 1 };
            tokio::spawn(support::send_until_stopped(
                node2.to_owned(),
                write.to_owned(),
                worker,
                batch,
                Arc::clone(&acked),
                Arc::clone(&stop),
            ))
        })
        .collect();
    let started = Instant::now();
    while acked.lock().unwrap().len() < 5_000 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, node2_pid) = cluster.pids().into_iter().find(|(name, _)| name == "node2").unwrap();
    assert!(Command::new("kill").args(["-9", &node2_pid.to_string()]).status().unwrap().success());
    stop.store(true, Ordering::SeqCst);
    let mut cut_off = 0;
    for client in clients {
        cut_off += client.await.unwrap().1;
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();
    let mut stored = HashSet::new();
    for event in all_events(&http, node1, secret).await {
        if event["event"] == "load" {
            let id = event["insert_id"].as_str().unwrap().to_owned();
            assert!(stored.insert(id.clone()), "{id} stored twice");
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    eprintln!(
        "cluster kill -9: {} events acknowledged by node 2, {} stored, {cut_off} requests cut off, {} missing",
        acked.len(),
        stored.len(),
        missing.len()
    );
    assert!(!acked.is_empty());
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );

    // Node 1 still takes events; then cluster-down stops every process cluster-up started.
    let (status, _) = post(&http, &format!("{node1}/api/v1/events"), write, &basic[0]).await;
    assert_eq!(status, 200);
    let pids = cluster.pids();
    assert_eq!(pids.len(), 4, "{pids:?}");
    cluster.down();
    for (name, pid) in pids {
        assert!(!alive(pid), "{name} ({pid}) still runs after cluster-down");
    }
    assert!(!cluster.dir.path().join("pids").exists());
}
