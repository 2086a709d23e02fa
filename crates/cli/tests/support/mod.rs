//! Runs the real `sextant` binary: commands to completion, servers in the background.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::{BufRead, BufReader};
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
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut command = self.command(&args);
        command.envs(env.iter().copied());
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            let mut printed = Vec::new();
            while let Some(Ok(line)) = lines.next() {
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

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(path)
}
