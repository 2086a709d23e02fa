//! Runs the real `sextant` binary: commands to completion, servers in the background.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sextant");

/// A data directory plus helpers to run commands against it.
pub struct Sextant {
    pub dir: tempfile::TempDir,
}

impl Sextant {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--data-dir")
            .arg(self.data_dir())
            .current_dir(self.dir.path())
            .env("SEXTANT_LOG__LEVEL", "warn");
        for (key, _) in std::env::vars() {
            if key.starts_with("SEXTANT_") && key != "SEXTANT_LOG__LEVEL" {
                cmd.env_remove(key);
            }
        }
        cmd
    }

    /// Runs to completion; panics with the output unless it succeeds.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "sextant {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Creates a project; returns (project id, write key, secret key).
    pub fn project(&self, name: &str) -> (String, String, String) {
        let out = self.run(&["project", "create", name]);
        let id = out.split(['(', ')']).nth(1).unwrap().to_owned();
        let write = out
            .lines()
            .find_map(|l| l.strip_prefix("write key (public, for sending events): "))
            .unwrap()
            .to_owned();
        let secret = self.run(&["key", "create", "--project", &id]).trim().to_owned();
        (id, write, secret)
    }

    /// Starts `sextant serve` on a free port and waits until it answers.
    pub fn serve(&self, extra: &[&str]) -> Server {
        self.serve_with_env(extra, &[])
    }

    pub fn serve_with_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Server {
        self.spawn_server(extra, env, None)
    }

    /// Like `serve_with_env`, but everything the server prints is also kept: stdout lines are
    /// appended to `<logs>/stdout.log` and stderr (the log output) goes to `<logs>/stderr.log`.
    /// `logs` must not be inside the data directory.
    pub fn serve_logged(&self, extra: &[&str], env: &[(&str, &str)], logs: &Path) -> Server {
        self.spawn_server(extra, env, Some(logs))
    }

    fn spawn_server(&self, extra: &[&str], env: &[(&str, &str)], logs: Option<&Path>) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut command = self.command(&args);
        command.envs(env.iter().copied());
        let mut stdout_log = None;
        if let Some(logs) = logs {
            std::fs::create_dir_all(logs).unwrap();
            let open = |name: &str| {
                std::fs::OpenOptions::new().create(true).append(true).open(logs.join(name)).unwrap()
            };
            command.stderr(Stdio::from(open("stderr.log")));
            stdout_log = Some(open("stdout.log"));
        } else {
            command.stderr(Stdio::inherit());
        }
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            let mut printed = Vec::new();
            while let Some(Ok(line)) = lines.next() {
                if let Some(log) = stdout_log.as_mut() {
                    let _ = writeln!(log, "{line}");
                }
                printed.push(line.clone());
                if sent {
                    let _ = tx.send(line);
                } else if let Some(url) = line.strip_prefix("Sextant is running at ") {
                    let _ = tx.send(url.to_owned());
                    sent = true;
                }
            }
            let _ = tx.send(format!("EXIT\n{}", printed.join("\n")));
        });
        let url = rx.recv_timeout(Duration::from_secs(300)).expect("server did not start in time");
        assert!(!url.starts_with("EXIT"), "server exited before listening: {url}");
        Server { child, url, rest: rx }
    }
}

pub struct Server {
    pub child: Child,
    pub url: String,
    /// Later stdout lines (the demo hint), then "EXIT".
    pub rest: std::sync::mpsc::Receiver<String>,
}

impl Server {
    /// SIGTERM and wait: a graceful stop.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "server exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "server did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A failing test must not leave a server running (it would also hold the data directory).
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Where `tests/sdk/install.sh` puts the SDKs: `$SEXTANT_SDK_DIR`, else
/// `~/.cache/sextant/sdk` (`node/`, and the `py/` venv).
pub fn sdk_dir() -> PathBuf {
    match std::env::var_os("SEXTANT_SDK_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").expect("HOME is not set"))
            .join(".cache/sextant/sdk"),
    }
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(path)
}

/// The basic fixture events (`tests/fixtures/events/basic.ndjson`), as sent over HTTP.
pub fn basic_events() -> Vec<serde_json::Value> {
    std::fs::read_to_string(fixture("events/basic.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every event of the secret key's project, newest first, through `GET /api/v1/events`
/// (1000 per page, following `next_cursor`).
pub async fn all_events(http: &reqwest::Client, url: &str, secret: &str) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{url}/api/v1/events"))
            .bearer_auth(secret)
            .query(&[("limit", "1000")]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "GET /api/v1/events: {text}");
        let page: serde_json::Value = serde_json::from_str(&text).unwrap();
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return events;
        }
    }
}

/// Sends `load` events (batches of `batch`, ids `w<worker>-r<n>-e<i>`) until told to stop;
/// records the ids of events whose request got a 200. Returns (requests acknowledged,
/// requests cut off).
pub async fn send_until_stopped(
    url: String,
    key: String,
    worker: usize,
    batch: usize,
    acked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (u64, u64) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let (mut sent, mut failed) = (0, 0);
    for n in 0.. {
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let ids: Vec<String> = (0..batch).map(|i| format!("w{worker}-r{n}-e{i}")).collect();
        let events: Vec<serde_json::Value> = ids
            .iter()
            // Many users, so the load stays under the per-user rate limit (1,000 events/s).
            .map(|id| serde_json::json!({"event": "load", "insert_id": id, "user_id": format!("u-{id}")}))
            .collect();
        let body = if batch == 1 { events[0].clone() } else { serde_json::json!(events) };
        match http.post(format!("{url}/api/v1/events")).bearer_auth(&key).json(&body).send().await {
            Ok(r) if r.status() == 200 => {
                let report: serde_json::Value = r.json().await.unwrap_or_default();
                if report["accepted"] == batch {
                    acked.lock().unwrap().extend(ids);
                    sent += 1;
                }
            }
            Ok(r) => panic!("unexpected status {} before the kill", r.status()),
            Err(_) => failed += 1, // the server died under this request: not acknowledged
        }
    }
    (sent, failed)
}
