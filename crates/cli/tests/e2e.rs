//! End to end over a real socket: the `sextant` binary serving, real HTTP clients, exact counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use support::{Sextant, fixture};

/// Every page of `GET /api/v1/events` with `query`, following `next_cursor`.
async fn all_events(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    query: &[(&str, &str)],
) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http.get(format!("{url}/api/v1/events")).bearer_auth(key).query(query);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return events;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_query_and_page_over_http() {
    let s = Sextant::new();
    let (_project, write, secret) = s.project("web");
    let admin = s.run(&["key", "create", "--admin"]).trim().to_owned();
    // The fixture is dated November 2026; let the server accept it whenever this test runs.
    let server = s.serve_with_env(&[], &[("SEXTANT_INGEST__MAX_PAST", "36500days")]);
    let http = reqwest::Client::new();
    let events = support::basic_events();

    // First part gzip-compressed with the key in a header, the rest with the key in the body.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, serde_json::to_vec(&events[..10]).unwrap().as_slice())
        .unwrap();
    let first = http
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&write)
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.json::<Value>().await.unwrap(), json!({"accepted": 10, "rejected": 0}));
    let second = http
        .post(format!("{}/api/v1/events", server.url))
        .json(&json!({"write_key": write, "events": events[10..]}))
        .send()
        .await
        .unwrap();
    assert_eq!(second.json::<Value>().await.unwrap()["accepted"], 6);

    // Every hand-computed trends fixture, through the public API.
    let mut checked = 0;
    for entry in std::fs::read_dir(fixture("trends")).unwrap() {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let reply = http
            .post(format!("{}/api/v1/query", server.url))
            .bearer_auth(&secret)
            .json(&fixture["query"])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(
            reply.json::<Value>().await.unwrap(),
            fixture["expected"],
            "{}",
            fixture["description"]
        );
        checked += 1;
    }
    assert!(checked >= 5);

    // Raw events, newest first, three per page.
    let ids: Vec<String> = all_events(&http, &server.url, &secret, &[("limit", "3")])
        .await
        .iter()
        .map(|e| e["insert_id"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: Vec<String> =
        events.iter().map(|e| e["insert_id"].as_str().unwrap().to_owned()).collect();
    expected.reverse();
    assert_eq!(ids, expected);

    let metrics = http
        .get(format!("{}/metrics", server.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("sextant_ingest_events_total{outcome=\"accepted\"} 16"), "{metrics}");
    assert_eq!(http.get(format!("{}/readyz", server.url)).send().await.unwrap().status(), 200);

    // While the server holds the events file, direct commands say so instead of corrupting it.
    let locked = s.output(&["query", "--project", "web"]);
    assert!(!locked.status.success());
    let stderr = String::from_utf8_lossy(&locked.stderr);
    assert!(stderr.contains("in use by another process (is `sextant serve` running?)"), "{stderr}");

    server.stop();
    let exported = s.run(&["export", "--project", "web"]);
    assert_eq!(exported.lines().count(), 16, "a graceful stop keeps everything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_demo_prints_a_query_that_answers_correctly() {
    let s = Sextant::new();
    let server = s.serve(&["--demo", "--demo-events", "30000"]);
    let mut hint = String::new();
    while let Ok(line) = server.rest.recv_timeout(std::time::Duration::from_secs(5)) {
        if line.trim_start().starts_with("curl ") {
            hint = line;
            break;
        }
    }
    let key = hint.split("Bearer ").nth(1).and_then(|r| r.split('\'').next()).unwrap().to_owned();
    let printed_query: Value =
        serde_json::from_str(hint.split("-d '").nth(1).unwrap().trim_end_matches('\'')).unwrap();
    let url = hint.split_whitespace().nth(2).unwrap();
    assert_eq!(url, format!("{}/api/v1/query", server.url));
    let http = reqwest::Client::new();
    let reply = http.post(url).bearer_auth(&key).json(&printed_query).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let answer: Value = reply.json().await.unwrap();
    let days = answer["buckets"].as_array().unwrap().len();
    assert!((7..=8).contains(&days), "-7d touches 7 or 8 days, got {days}");
    assert!(answer["series"][0]["total"].as_u64().unwrap() > 0);

    // Cross-check the numbers against the raw events over a fixed range.
    let stats: Value = http
        .get(format!("{}/api/v1/stats", server.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["events"], 30_000);
    let newest = chrono::DateTime::parse_from_rfc3339(stats["newest"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let (from, to) = (
        (newest - chrono::Duration::days(3)).date_naive().to_string(),
        newest.date_naive().to_string(),
    );
    let query = json!({"kind": "trends", "series": [{"event": "page_view", "math": "unique_users"}, {"event": "purchase"}],
        "interval": "day", "date_range": {"from": from, "to": to}});
    let answer: Value =
        http.post(url).bearer_auth(&key).json(&query).send().await.unwrap().json().await.unwrap();

    // Independently of the server's SQL: a device seen with a user id counts as that user (the
    // earliest such event decides), whichever events of it fall in the window.
    // The printed key is a viewer token (queries only); raw events need an analyst's.
    let analyst =
        s.run(&["key", "create", "--project", "demo", "--role", "analyst"]).trim().to_owned();
    let denied =
        http.get(format!("{}/api/v1/events", server.url)).bearer_auth(&key).send().await.unwrap();
    assert_eq!(denied.status(), 403, "the quickstart key is read-only: no raw events");
    let everything = all_events(&http, &server.url, &analyst, &[("limit", "1000")]).await;
    let mut links: BTreeMap<String, (String, String)> = BTreeMap::new();
    for e in &everything {
        if let (Some(user), Some(device)) = (e["user_id"].as_str(), e["device_id"].as_str()) {
            let at = e["timestamp"].as_str().unwrap().to_owned();
            let link = links.entry(device.to_owned()).or_insert((at.clone(), user.to_owned()));
            if at < link.0 {
                *link = (at, user.to_owned());
            }
        }
    }
    let mut viewers: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut purchases: BTreeMap<String, u64> = BTreeMap::new();
    // Date ends are inclusive: the range covers the whole `to` day.
    for e in &everything {
        let timestamp = e["timestamp"].as_str().unwrap();
        if timestamp[..10] < *from.as_str() || timestamp[..10] > *to.as_str() {
            continue;
        }
        let day = timestamp[..10].to_owned();
        let person = e["user_id"]
            .as_str()
            .or_else(|| e["device_id"].as_str().and_then(|d| links.get(d)).map(|l| l.1.as_str()))
            .or_else(|| e["person_id"].as_str())
            .unwrap()
            .to_owned();
        match e["event"].as_str().unwrap() {
            "page_view" => drop(viewers.entry(day).or_default().insert(person)),
            "purchase" => *purchases.entry(day).or_default() += 1,
            _ => {}
        }
    }
    let buckets: Vec<String> = answer["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap()[..10].to_owned())
        .collect();
    let got_viewers: Vec<u64> = answer["series"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let got_purchases: Vec<u64> = answer["series"][1]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let want_viewers: Vec<u64> =
        buckets.iter().map(|d| viewers.get(d).map_or(0, |s| s.len() as u64)).collect();
    let want_purchases: Vec<u64> =
        buckets.iter().map(|d| purchases.get(d).copied().unwrap_or(0)).collect();
    assert_eq!(got_viewers, want_viewers);
    assert_eq!(got_purchases, want_purchases);
    assert!(want_viewers.iter().sum::<u64>() > 0);
    server.stop();
}
