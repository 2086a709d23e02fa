//! The CLI as a newcomer uses it: demo data, queries, export and import, clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::Sextant;

fn without_project(line: &str) -> Value {
    let mut v: Value = serde_json::from_str(line).unwrap();
    v.as_object_mut().unwrap().remove("project_id");
    v
}

#[test]
fn demo_is_deterministic_and_exports_round_trip() {
    let s = Sextant::new();
    let demo = |project: &str| {
        s.run(&[
            "demo",
            "--events",
            "20000",
            "--project",
            project,
            "--end",
            "2026-11-22T00:00:00Z",
            "--seed",
            "9",
        ])
    };
    assert!(demo("one").contains("now holds 20000 demo events"));
    demo("two");
    let refused = s.output(&["demo", "--events", "10", "--project", "one"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("project `one` already has 20000 events")
    );

    let query = |project: &str, extra: &[&str]| {
        let mut args =
            vec!["query", "--project", project, "--from", "2026-11-01", "--to", "2026-11-21"];
        args.extend_from_slice(extra);
        s.run(&args)
    };
    let json = |project| {
        query(
            project,
            &[
                "--event",
                "page_view",
                "--math",
                "unique-users",
                "--breakdown",
                "country",
                "--format",
                "json",
            ],
        )
    };
    let (a, b) = (json("one"), json("two"));
    assert_eq!(a, b, "same seed, same answers");
    let parsed: Value = serde_json::from_str(&a).unwrap();
    assert_eq!(parsed["buckets"].as_array().unwrap().len(), 21);
    assert!(parsed["series"].as_array().unwrap().len() > 5, "several countries");
    let table = query("one", &["--event", "purchase", "--where", "country=US"]);
    assert!(table.contains("bucket") && table.contains("total"), "{table}");
    // Relative ranges start with a dash and must not be taken for flags.
    let relative = s.run(&[
        "query",
        "--project",
        "one",
        "--from",
        "-36500d",
        "--interval",
        "month",
        "--format",
        "json",
    ]);
    let relative: Value = serde_json::from_str(&relative).unwrap();
    let total: u64 = relative["series"][0]["total"].as_u64().unwrap();
    assert_eq!(total, 20_000, "every demo event is in the last 100 years");

    let file = s.dir.path().join("one.ndjson");
    s.run(&["export", "--project", "one", "--output", file.to_str().unwrap()]);
    let exported = std::fs::read_to_string(&file).unwrap();
    assert_eq!(exported.lines().count(), 20_000);
    s.run(&["project", "create", "copy"]);
    assert!(
        s.run(&["import", file.to_str().unwrap(), "--project", "copy"])
            .contains("imported 20000 events")
    );
    let copied = s.run(&["export", "--project", "copy"]);
    let originals: Vec<Value> = exported.lines().map(without_project).collect();
    let copies: Vec<Value> = copied.lines().map(without_project).collect();
    assert_eq!(originals, copies, "export → import → export is lossless");
}

#[test]
fn import_reports_bad_lines_and_keeps_good_ones() {
    let s = Sextant::new();
    s.run(&["project", "create", "web"]);
    let file = s.dir.path().join("in.ndjson");
    std::fs::write(&file, "{\"event\":\"a\",\"timestamp\":\"2026-11-01T00:00:00Z\"}\nnot json\n\n{\"event\":\"b\",\"colour\":\"red\"}\n{\"event\":\"c\"}\n").unwrap();
    let out = s.output(&["import", file.to_str().unwrap(), "--project", "web"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2: not JSON"), "{stderr}");
    assert!(stderr.contains("line 4: colour: unknown field `colour`"), "{stderr}");
    assert!(
        stderr.contains("2 lines were rejected (listed above); the other 2 were imported"),
        "{stderr}"
    );
    assert_eq!(s.run(&["export", "--project", "web"]).lines().count(), 2);
}

#[test]
fn configuration_errors_name_the_key() {
    let s = Sextant::new();
    let missing = s.output(&["--config", "/nope/sextant.toml", "project", "list"]);
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("config file /nope/sextant.toml does not exist")
    );
    let bad = s
        .command(&["project", "list"])
        .env("SEXTANT_SERVER__LISTEN", "everywhere")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("invalid `server.listen`: `everywhere` is not host:port"), "{stderr}");
    std::fs::write(
        s.dir.path().join("sextant.toml"),
        "[storage]\ndata_dir = \"x\"\n[ingest]\nmax_batch = 3\n",
    )
    .unwrap();
    let typo = s.output(&["project", "list"]);
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(stderr.contains("invalid `ingest.max_batch`: unknown field"), "{stderr}");
    assert!(stderr.contains("sextant.toml"), "{stderr}");
}

#[test]
fn unknown_projects_get_a_hint() {
    let s = Sextant::new();
    let out = s.output(&["query", "--project", "nope"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no project `nope`; create it with `sextant project create nope`")
    );
}

#[test]
fn project_settings_from_the_command_line() {
    let s = Sextant::new();
    s.project("web");
    let shown: Value = serde_json::from_str(&s.run(&["project", "settings", "web"])).unwrap();
    assert_eq!(
        (shown["retention_days"].clone(), shown["drop_bots"].clone()),
        (180.into(), true.into())
    );
    let changed = s.run(&[
        "project",
        "settings",
        "web",
        "--set",
        r#"{"retention_days": 90, "allowed_events": ["signup"], "add_internal_users": ["Boss@Corp.example"]}"#,
    ]);
    let changed: Value = serde_json::from_str(&changed).unwrap();
    assert_eq!(changed["retention_days"], 90);
    assert_eq!(changed["allowed_events"], serde_json::json!(["signup"]));
    let digest = changed["internal_users"][0].as_str().unwrap();
    assert_eq!(digest.len(), 64, "only the digest is kept, never the email");
    let typo = s.output(&["project", "settings", "web", "--set", r#"{"retention_dayz": 1}"#]);
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("retention_dayz"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_keys_and_the_audit_log_from_the_command_line() {
    let s = Sextant::new();
    let (project, _write, _secret) = s.project("shop");
    let mut create = s.command(&[
        "user",
        "create",
        "--email",
        "Ada@Example.com",
        "--name",
        "Ada",
        "--role",
        "analyst",
        "--project",
        "shop",
        "--password-stdin",
    ]);
    let mut child = create
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"correct horse battery\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains(&format!("analyst on {project}")), "{printed}");
    let short = s.output(&["user", "create", "--email", "b@example.com", "--password-stdin"]);
    assert!(!short.status.success(), "an empty password is refused");
    let listed = s.run(&["user", "list"]);
    assert!(listed.contains("ada@example.com") && listed.contains("yes"), "{listed}");

    let viewer =
        s.run(&["key", "create", "--project", "shop", "--role", "viewer"]).trim().to_owned();
    let keys = s.run(&["key", "list", "--project", "shop"]);
    assert!(keys.contains("viewer"), "{keys}");

    let server = s.serve(&[]);
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{}/api/v1/auth/login", server.url))
        .json(&serde_json::json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let query = serde_json::json!({"kind": "trends", "series": [{"event": "x"}], "date_range": {"from": "-1d"}});
    let ran = http
        .post(format!("{}/api/v1/query", server.url))
        .bearer_auth(&viewer)
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(ran.status(), 200);

    // The CLI reads the log while the server runs.
    let log = s.run(&["audit", "--format", "json"]);
    let records: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = records.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["run_query", "login"], "{log}");
    let by_ada = s.run(&["audit", "--actor", "ada@example.com", "--format", "json"]);
    assert_eq!(by_ada.lines().count(), 1, "{by_ada}");

    s.run(&["user", "disable", "ada@example.com"]);
    let refused = http
        .post(format!("{}/api/v1/auth/login", server.url))
        .json(&serde_json::json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "disabled users cannot log in");
    server.stop();
}
