//! schemathesis (PyPI, installed by `tests/sdk/install.sh`: this test fails, never skips,
//! without it) against the real binary, driven by the server's own `/api/openapi.json`: every
//! operation gets generated valid and invalid requests, and every answer must be a status the
//! description lists, never a 5xx. Administration and queries run with an instance admin key,
//! the ingestion endpoints with a write key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use support::{Sextant, sdk_dir};

const INGESTION_TAGS: [&str; 2] = ["Ingestion", "Other tools' ingestion"];

fn schemathesis(url: &str, key: &str, ingestion: bool, report: &std::path::Path) {
    let binary = sdk_dir().join("py/bin/schemathesis");
    assert!(binary.exists(), "{} is missing: run tests/sdk/install.sh", binary.display());
    let mut command = Command::new(&binary);
    command.args([
        "run",
        &format!("{url}/api/openapi.json"),
        "--checks",
        "not_a_server_error,status_code_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "25",
        "--seed",
        "20261207",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--no-color",
        "--header",
        &format!("Authorization: Bearer {key}"),
        "--report",
        "junit",
        "--report-dir",
    ]);
    command.arg(report);
    for tag in INGESTION_TAGS {
        command.arg(if ingestion { "--include-tag" } else { "--exclude-tag" }).arg(tag);
    }
    let out = command.env("NO_COLOR", "1").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The summary names how many operations and test cases ran; print it for the CI log.
    let tail: Vec<&str> = stdout.lines().rev().take(12).collect();
    println!(
        "schemathesis ({}):\n{}",
        if ingestion { "ingestion, write key" } else { "API, instance admin key" },
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    assert!(out.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_errors_and_no_undocumented_statuses() {
    let sextant = Sextant::new();
    let (_project, write, _secret) = sextant.project("fuzz");
    let admin = sextant.run(&["key", "create", "--admin"]).trim().to_owned();
    let server = sextant.serve_with_env(&[], &[("SEXTANT_AUTH__API_REQUESTS_PER_SECOND", "0")]);
    let http = reqwest::Client::new();
    let events: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            let name = ["page_view", "signup", "purchase"][i % 3];
            serde_json::json!({"event": name, "user_id": format!("u{}", i % 7), "value": i})
        })
        .collect();
    let sent = http
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&write)
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let reports = sextant.dir.path().join("reports");
    let url = server.url.clone();
    tokio::task::spawn_blocking(move || {
        schemathesis(&url, &admin, false, &reports.join("api"));
        schemathesis(&url, &write, true, &reports.join("ingestion"));
    })
    .await
    .unwrap();
    server.stop();
}
