//! The official SDKs against the real binary: each `tests/sdk/*` script sends the fixture events
//! (`tests/fixtures/sdk/events.json`) through its SDK to `sextant serve`, and we read them back
//! through `GET /api/v1/events`: every event of the run exactly once, with the right ids, the
//! nested properties and the library. Then the same run again (insert-id dedup stores nothing
//! new), and the two error modes (`bad_key`, `invalid_event`): the SDK reports the failure and
//! gives up (exit 0, no endless retry) and nothing of that run is stored.
//!
//! Needs node, the SDKs and Chromium from `tests/sdk/install.sh` (`scripts/test` runs it). When
//! they are missing these tests FAIL and say so: they never skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Sextant, all_events, sdk_dir};

/// The key every `bad_key` run sends (for Plausible: the site domain, which is not configured).
const BAD_KEY: &str = "sx_wk_bogus";
/// The site domain the Plausible project is told about and `plausible.mjs` sends.
const PLAUSIBLE_DOMAIN: &str = "sdk-test.sextant.example";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Runtime {
    Node,
    Python,
    /// node + playwright-core driving Chromium.
    Browser,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Family {
    Amplitude,
    PostHog,
    Segment,
    Mixpanel,
    Plausible,
}

#[derive(Clone, Copy, Debug)]
struct Sdk {
    /// File in `tests/sdk/`.
    script: &'static str,
    runtime: Runtime,
    family: Family,
    /// What must be installed for the script: an npm package or a PyPI distribution.
    package: &'static str,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Normal,
    BadKey,
    InvalidEvent,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::BadKey => "bad_key",
            Mode::InvalidEvent => "invalid_event",
        }
    }

    /// The scripts' own watchdog (`SEXTANT_TIMEOUT`): exit 3 when the SDK has not given its
    /// verdict by then (e.g. still retrying).
    fn script_timeout(self) -> Duration {
        Duration::from_secs(if self == Mode::Normal { 60 } else { 30 })
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .filter(|c| !c.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Fails loudly, never skips, when the harness of `tests/sdk/install.sh` is missing.
fn require_harness(sdk: &Sdk) {
    let dir = sdk_dir();
    let mut missing = Vec::new();
    let works = |program: &Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let npm_package = |name: &str| dir.join("node/node_modules").join(name).join("package.json");
    match sdk.runtime {
        Runtime::Node | Runtime::Browser => {
            if !works(Path::new("node"), &["--version"]) {
                missing.push("`node` on PATH".to_owned());
            }
            let mut packages = vec![sdk.package];
            if sdk.runtime == Runtime::Browser {
                packages.push("playwright-core");
                if !chromium().is_file() {
                    missing.push(format!("Chromium at {}", chromium().display()));
                }
            }
            for package in packages {
                if !npm_package(package).is_file() {
                    missing.push(format!(
                        "npm package {package} ({})",
                        npm_package(package).display()
                    ));
                }
            }
        }
        Runtime::Python => {
            let python = dir.join("py/bin/python");
            let probe = format!("import importlib.metadata as m; m.version({:?})", sdk.package);
            if !python.is_file() {
                missing.push(format!("the SDK venv ({})", python.display()));
            } else if !works(&python, &["-c", &probe]) {
                missing.push(format!("PyPI package {} in {}", sdk.package, python.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the official-SDK harness is not installed: missing {}.\nRun `bash tests/sdk/install.sh` \
         (scripts/test does) to install it into {} (or set SEXTANT_SDK_DIR). These tests never \
         skip.",
        missing.join(", "),
        dir.display()
    );
}

/// What one script run printed and how it ended.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    /// The script's JSON result line.
    line: Value,
    stderr: String,
    elapsed: Duration,
}

impl Outcome {
    fn sent(&self) -> Vec<Value> {
        self.line["sent"].as_array().cloned().unwrap_or_default()
    }

    fn describe(&self) -> String {
        let tail: String = {
            let chars: Vec<char> = self.stderr.chars().collect();
            chars[chars.len().saturating_sub(3000)..].iter().collect()
        };
        format!(
            "exit {:?} after {:.1} s\nresult line: {}\nstderr (tail):\n{tail}",
            self.code,
            self.elapsed.as_secs_f64(),
            serde_json::to_string_pretty(&self.line).unwrap()
        )
    }
}

/// Runs one script to completion (blocking). The script's watchdog bounds it; a hard limit 30 s
/// past that kills its process group (node, Python, Chromium) and fails the test.
fn run_script(sdk: Sdk, url: &str, key: &str, run: &str, mode: Mode) -> Outcome {
    let script = repo_root().join("tests/sdk").join(sdk.script);
    let mut command = match sdk.runtime {
        Runtime::Node | Runtime::Browser => Command::new("node"),
        Runtime::Python => Command::new(sdk_dir().join("py/bin/python")),
    };
    command
        .arg(&script)
        .current_dir(repo_root())
        .env("SEXTANT_URL", url)
        .env("SEXTANT_KEY", key)
        .env("SEXTANT_RUN", run)
        .env("SEXTANT_TIMEOUT", mode.script_timeout().as_secs().to_string())
        .env("SEXTANT_SDK_DIR", sdk_dir())
        .env("CHROMIUM", chromium())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if mode == Mode::Normal {
        command.env_remove("SEXTANT_MODE");
    } else {
        command.env("SEXTANT_MODE", mode.name());
    }
    let started = Instant::now();
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {script:?}: {e}"));
    // Read both pipes on threads (no pipe-full deadlock); a lingering grandchild holding a pipe
    // must not block us, hence channels with a timeout rather than joins.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
        });
        rx
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let limit = mode.script_timeout() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            // Our child leads its own process group: end it and everything it started.
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let collect = |rx: std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| "<pipe still open>".into())
    };
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    let Some(status) = status else {
        panic!(
            "{} ({}) hung: killed after {} s\nstdout:\n{stdout}\nstderr:\n{stderr}",
            sdk.script,
            mode.name(),
            limit.as_secs()
        );
    };
    let line = stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(|v| v.get("sdk").is_some())
        .unwrap_or_else(|| {
            panic!(
                "{} ({}) printed no result line (exit {status})\nstdout:\n{stdout}\nstderr:\n{stderr}",
                sdk.script,
                mode.name()
            )
        });
    Outcome { code: status.code(), line, stderr, elapsed }
}

async fn run_async(sdk: Sdk, url: &str, key: &str, run: &str, mode: Mode) -> Outcome {
    let (url, key, run) = (url.to_owned(), key.to_owned(), run.to_owned());
    tokio::task::spawn_blocking(move || run_script(sdk, &url, &key, &run, mode)).await.unwrap()
}

/// Normal mode: the script exits 0 and the SDK reported success for every message.
fn assert_sdk_success(sdk: Sdk, what: &str, outcome: &Outcome) {
    assert!(
        outcome.code == Some(0) && outcome.line["ok"] == json!(true),
        "{} ({what}): the SDK did not report success\n{}",
        sdk.script,
        outcome.describe()
    );
    assert!(
        !outcome.sent().is_empty(),
        "{}: nothing in `sent`\n{}",
        sdk.script,
        outcome.describe()
    );
}

/// Error modes: the SDK reported the failure and gave up within the script's watchdog.
fn assert_sdk_failure_reported(sdk: Sdk, mode: Mode, outcome: &Outcome) {
    assert!(
        outcome.code == Some(0)
            && outcome.line["ok"] == json!(false)
            && outcome.line["pass"] == json!(true),
        "{} ({}): expected the SDK to report a failure and stop (exit 0, ok=false); exit 3 means \
         it was still retrying when the watchdog fired\n{}",
        sdk.script,
        mode.name(),
        outcome.describe()
    );
}

fn st(v: &Value) -> Option<&str> {
    v.as_str()
}

/// Whether a stored event belongs to `run`: the run's property, ids or (Plausible) page URL.
fn of_run(e: &Value, run: &str) -> bool {
    let props = &e["properties"];
    st(&props["run"]) == Some(run)
        || st(&e["user_id"]) == Some(&format!("u-{run}"))
        || st(&e["device_id"]) == Some(&format!("d-{run}"))
        || st(&e["url"]).is_some_and(|u| u.ends_with(&format!("/sdk/{run}")))
        || st(&e["path"]) == Some(&format!("/sdk/{run}"))
}

/// Plausible's automatic `engagement` event (sent when the page is hidden) is not a fixture
/// event; whatever the server does with it is not counted here.
fn is_engagement(e: &Value) -> bool {
    st(&e["event"]) == Some("engagement")
}

/// JSON equality with numbers compared by value (`1` = `1.0`). With `loose`, a scalar also
/// equals its string form (Plausible's custom props are strings in Plausible itself).
fn same(expected: &Value, actual: &Value, loose: bool) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, loose))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w, loose)))
        }
        (Value::Number(n), Value::String(t)) | (Value::String(t), Value::Number(n)) if loose => {
            t.parse::<f64>().ok() == n.as_f64()
        }
        (Value::Bool(b), Value::String(t)) | (Value::String(t), Value::Bool(b)) if loose => {
            *t == b.to_string()
        }
        (a, b) => a == b,
    }
}

/// Whether `traits` (all of them) appear as one object anywhere inside `v`.
fn contains_traits(v: &Value, traits: &serde_json::Map<String, Value>) -> bool {
    match v {
        Value::Object(map) => {
            traits.iter().all(|(k, t)| map.get(k).is_some_and(|w| same(t, w, false)))
                || map.values().any(|w| contains_traits(w, traits))
        }
        Value::Array(items) => items.iter().any(|w| contains_traits(w, traits)),
        _ => false,
    }
}

/// The event name Sextant stores for a sent message.
fn stored_name(sdk: Sdk, item: &Value) -> String {
    let event = st(&item["event"]).unwrap_or_default();
    match (sdk.family, event) {
        (Family::Plausible, "pageview") => "page_view".into(),
        // Mixpanel people updates (`/engage` `$set`) are stored as `$identify`.
        (Family::Mixpanel, "$set") => "$identify".into(),
        _ => event.into(),
    }
}

fn kind(item: &Value) -> &str {
    st(&item["kind"]).unwrap_or_default()
}

/// Whether the message carries an insert id the SDK re-sends unchanged on a re-run. Without
/// one (posthog-node `identify()` picks its own uuid; Mixpanel `/engage`; everything Plausible
/// sends) a re-run is a new event.
fn stable_id(sdk: Sdk, item: &Value) -> bool {
    let posthog_node_identify =
        sdk.family == Family::PostHog && sdk.runtime == Runtime::Node && kind(item) == "identify";
    !item["insert_id"].is_null() && !posthog_node_identify
}

/// Whether stored event `e` is the message `item` of `run`. Events are matched by name and the
/// properties `n` and `run`; identify-like messages (no `n`) by insert id when the SDK sends a
/// stable one, else by name and user; Plausible pageviews (no props) by page URL.
fn matches(sdk: Sdk, item: &Value, e: &Value, run: &str) -> bool {
    let props = &e["properties"];
    match kind(item) {
        "track" => {
            st(&e["event"]) == Some(stored_name(sdk, item).as_str())
                && same(&item["n"], &props["n"], false)
                && st(&props["run"]) == Some(run)
        }
        "custom" => {
            st(&e["event"]) == st(&item["event"])
                && same(&item["props"]["n"], &props["n"], true)
                && st(&props["run"]) == Some(run)
        }
        "pageview" => {
            st(&e["event"]) == Some("page_view")
                && (st(&e["url"]) == st(&item["url"])
                    || st(&e["path"]) == Some(&format!("/sdk/{run}")))
        }
        _ if stable_id(sdk, item) => st(&e["insert_id"]) == st(&item["insert_id"]),
        _ => {
            st(&e["event"]) == Some(stored_name(sdk, item).as_str())
                && st(&e["user_id"]) == Some(&format!("u-{run}"))
        }
    }
}

/// Field checks on the stored event matching `item`; problems are pushed to `out`.
fn check_fields(sdk: Sdk, item: &Value, e: &Value, run: &str, out: &mut Vec<String>) {
    let label = format!("{} n={} ({})", st(&item["event"]).unwrap_or("?"), item["n"], kind(item));
    let mut problem = |what: String| out.push(format!("{label}: {what}"));
    let name = stored_name(sdk, item);
    if st(&e["event"]) != Some(name.as_str()) {
        problem(format!("event is {}, expected {name:?}", e["event"]));
    }
    if st(&e["library"]).is_none_or(|l| l.is_empty()) {
        problem(format!("library is {}, expected a non-empty SDK name", e["library"]));
    }
    if let Some(id) = st(&item["insert_id"])
        && st(&e["insert_id"]) != Some(id)
    {
        problem(format!("insert_id is {}, expected the SDK's {id:?}", e["insert_id"]));
    }
    let props = &e["properties"];
    match kind(item) {
        "track" => {
            match st(&item["user_id"]) {
                Some(user) if st(&e["user_id"]) != Some(user) => {
                    problem(format!("user_id is {}, expected {user:?}", e["user_id"]));
                }
                None if !e["user_id"].is_null() => {
                    problem(format!("anonymous event stored with user_id {}", e["user_id"]));
                }
                _ => {}
            }
            if let Some(device) = st(&item["device_id"])
                && st(&e["device_id"]) != Some(device)
            {
                problem(format!("device_id is {}, expected {device:?}", e["device_id"]));
            }
            for (key, want) in item["properties"].as_object().unwrap() {
                if !same(want, &props[key], false) {
                    problem(format!("properties.{key} is {}, expected {want}", props[key]));
                }
            }
        }
        "identify" | "alias" => {
            let user = format!("u-{run}");
            // posthog-python's alias() is `$create_alias`: which id is "the user" there is the
            // SDK's business; it is matched and counted, but its ids are not asserted.
            if kind(item) == "identify" && st(&e["user_id"]) != Some(user.as_str()) {
                problem(format!("user_id is {}, expected {user:?}", e["user_id"]));
            }
            // Device ids actually sent with the identify: Amplitude device_id, Segment
            // anonymousId, posthog-node `$anon_distinct_id`. (posthog-python `set()` and
            // Mixpanel `people_set` send none.)
            let device_sent = matches!(sdk.family, Family::Amplitude | Family::Segment)
                || (sdk.family == Family::PostHog && sdk.runtime == Runtime::Node);
            let device = format!("d-{run}");
            if kind(item) == "identify"
                && device_sent
                && st(&e["device_id"]) != Some(device.as_str())
            {
                problem(format!("device_id is {}, expected {device:?}", e["device_id"]));
            }
            if let Some(traits) = item["traits"].as_object()
                && kind(item) == "identify"
                && !contains_traits(props, traits)
            {
                problem(format!("the traits {} are not in properties", item["traits"]));
            }
        }
        "pageview" | "custom" => {
            if !e["user_id"].is_null() {
                problem(format!("Plausible has no user ids, but user_id is {}", e["user_id"]));
            }
            if !st(&e["device_id"]).is_some_and(|d| d.starts_with("v_")) {
                problem(format!("device_id is {}, expected a visitor hash `v_…`", e["device_id"]));
            }
            if let Some(sent_props) = item["props"].as_object() {
                for (key, want) in sent_props {
                    if !same(want, &props[key], true) {
                        problem(format!("properties.{key} is {}, expected {want}", props[key]));
                    }
                }
            }
            if let Some(amount) = st(&item["revenue"]["amount"]) {
                let want: f64 = amount.parse().unwrap();
                if e["value"].as_f64() != Some(want) {
                    problem(format!("value is {}, expected the revenue {want}", e["value"]));
                }
            }
        }
        other => problem(format!("unknown kind {other:?} in the script's `sent` list")),
    }
}

/// The stored events of `run`, as JSON for failure messages.
fn dump(events: &[&Value]) -> String {
    serde_json::to_string_pretty(&events).unwrap()
}

/// Checks that every message of `sent` is stored `copies(item)` times and nothing else of the
/// run is; with `fields`, also every field of each match. Returns a report listing every
/// problem with the stored JSON of the run, if there is any.
fn verify(
    sdk: Sdk,
    stage: &str,
    stored: &[Value],
    run: &str,
    sent: &[Value],
    copies: impl Fn(&Value) -> usize,
    fields: bool,
) -> Option<String> {
    let ours: Vec<&Value> = stored.iter().filter(|e| of_run(e, run) && !is_engagement(e)).collect();
    let mut problems = Vec::new();
    let mut expected_total = 0;
    for item in sent {
        let want = copies(item);
        expected_total += want;
        let found: Vec<&&Value> = ours.iter().filter(|e| matches(sdk, item, e, run)).collect();
        if found.len() != want {
            problems.push(format!(
                "{} n={} ({}, insert_id {}): stored {} times, expected {want}",
                st(&item["event"]).unwrap_or("?"),
                item["n"],
                kind(item),
                item["insert_id"],
                found.len()
            ));
        }
        if fields {
            for e in found {
                check_fields(sdk, item, e, run, &mut problems);
            }
        }
    }
    if ours.len() != expected_total {
        problems.push(format!(
            "{} events of run {run} stored, expected {expected_total} (duplicates or unexpected events)",
            ours.len()
        ));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({stage}): {} problem(s):\n  - {}\nsent:\n{}\nstored events of run {run}:\n{}",
            sdk.script,
            problems.len(),
            problems.join("\n  - "),
            serde_json::to_string_pretty(sent).unwrap(),
            dump(&ours)
        )
    })
}

fn run_id(sdk: Sdk) -> String {
    let millis =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let slug = sdk.script.replace('.', "-");
    format!("{slug}-{}-{millis}", std::process::id())
}

/// The whole scenario for one script.
async fn sdk_end_to_end(sdk: Sdk) {
    require_harness(&sdk);
    let s = Sextant::new();
    let (project, write, secret) = s.project("sdk");
    let server = s.serve(&[]);
    let http = reqwest::Client::new();
    let url = server.url.clone();

    let key = if sdk.family == Family::Plausible {
        // Plausible sends a site domain instead of a key: the project must claim it first.
        let admin = s.run(&["key", "create", "--admin"]).trim().to_owned();
        let response = http
            .patch(format!("{url}/api/v1/projects/{project}/settings"))
            .bearer_auth(&admin)
            .json(&json!({"domains": [PLAUSIBLE_DOMAIN]}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "PATCH settings {{\"domains\": [{PLAUSIBLE_DOMAIN:?}]}}: {body}");
        PLAUSIBLE_DOMAIN.to_owned()
    } else {
        write
    };

    // 1. Normal: every message exactly once, with its ids, properties and library.
    let run = run_id(sdk);
    let first = run_async(sdk, &url, &key, &run, Mode::Normal).await;
    assert_sdk_success(sdk, "first run", &first);
    let stored = all_events(&http, &url, &secret).await;
    let sent = first.sent();
    // Problems with what was stored are collected and reported together at the end, so that one
    // wrong field does not hide how dedup and the error modes behave.
    let mut failures = Vec::new();
    failures.extend(verify(sdk, "first run", &stored, &run, &sent, |_| 1, true));
    if sdk.family == Family::Plausible {
        // One page visit, one visitor: the pageview and the custom event share the hash.
        let visitors: std::collections::BTreeSet<Option<&str>> = stored
            .iter()
            .filter(|e| of_run(e, &run) && !is_engagement(e))
            .map(|e| st(&e["device_id"]))
            .collect();
        if visitors.len() != 1 {
            failures.push(format!(
                "plausible.mjs: the events of one page visit must share one visitor hash, got \
                 {visitors:?}\n{}",
                dump(&stored.iter().filter(|e| of_run(e, &run)).collect::<Vec<_>>())
            ));
        }
    }

    // 2. The same run again, concurrently with the two error modes (separate run ids).
    let bad_run = format!("{run}-bad");
    let invalid_run = format!("{run}-inv");
    let (again, bad, invalid) = tokio::join!(
        run_async(sdk, &url, &key, &run, Mode::Normal),
        run_async(sdk, &url, BAD_KEY, &bad_run, Mode::BadKey),
        run_async(sdk, &url, &key, &invalid_run, Mode::InvalidEvent),
    );
    assert_sdk_success(sdk, "re-run with the same run id", &again);
    assert_sdk_failure_reported(sdk, Mode::BadKey, &bad);
    assert_sdk_failure_reported(sdk, Mode::InvalidEvent, &invalid);

    let stored = all_events(&http, &url, &secret).await;
    // Messages with a stable insert id are deduplicated; the others (see `stable_id`) cannot
    // be told apart from a new event and are stored again.
    failures.extend(verify(
        sdk,
        "after the re-run",
        &stored,
        &run,
        &sent,
        |item| if stable_id(sdk, item) { 1 } else { 2 },
        false,
    ));
    for (mode, run) in [(Mode::BadKey, &bad_run), (Mode::InvalidEvent, &invalid_run)] {
        // After an invalid event the tracker may still send its automatic `engagement`: that
        // one is valid and not what this mode is about.
        let leaked: Vec<&Value> = stored
            .iter()
            .filter(|e| of_run(e, run) && !(mode == Mode::InvalidEvent && is_engagement(e)))
            .collect();
        if !leaked.is_empty() {
            failures.push(format!(
                "{} ({}): nothing of run {run} may be stored, found:\n{}",
                sdk.script,
                mode.name(),
                dump(&leaked)
            ));
        }
    }
    server.stop();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplitude_node() {
    sdk_end_to_end(Sdk {
        script: "amplitude.mjs",
        runtime: Runtime::Node,
        family: Family::Amplitude,
        package: "@amplitude/analytics-node",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplitude_python() {
    sdk_end_to_end(Sdk {
        script: "amplitude.py",
        runtime: Runtime::Python,
        family: Family::Amplitude,
        package: "amplitude-analytics",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posthog_node() {
    sdk_end_to_end(Sdk {
        script: "posthog.mjs",
        runtime: Runtime::Node,
        family: Family::PostHog,
        package: "posthog-node",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posthog_python() {
    sdk_end_to_end(Sdk {
        script: "posthog.py",
        runtime: Runtime::Python,
        family: Family::PostHog,
        package: "posthog",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_node() {
    sdk_end_to_end(Sdk {
        script: "segment.mjs",
        runtime: Runtime::Node,
        family: Family::Segment,
        package: "@segment/analytics-node",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_python() {
    sdk_end_to_end(Sdk {
        script: "segment.py",
        runtime: Runtime::Python,
        family: Family::Segment,
        package: "segment-analytics-python",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixpanel_node() {
    sdk_end_to_end(Sdk {
        script: "mixpanel.mjs",
        runtime: Runtime::Node,
        family: Family::Mixpanel,
        package: "mixpanel",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixpanel_python() {
    sdk_end_to_end(Sdk {
        script: "mixpanel.py",
        runtime: Runtime::Python,
        family: Family::Mixpanel,
        package: "mixpanel",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plausible_browser() {
    sdk_end_to_end(Sdk {
        script: "plausible.mjs",
        runtime: Runtime::Browser,
        family: Family::Plausible,
        package: "@plausible-analytics/tracker",
    })
    .await;
}
