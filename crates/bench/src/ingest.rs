//! Ingest load: N clients posting for a fixed time, each waiting for its acknowledgement
//! (which means durable) before sending the next request.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub struct IngestResult {
    pub events_per_second: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// How the load is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// `POST /api/v1/events`.
    Native,
    /// `POST /api/v1/events`, anonymous visitors: no ids, each event with the visitor's IP and
    /// user agent in `context`, so visitor hashing, user-agent parsing and bot checks all run.
    NativeVisitors,
    /// `POST /batch/` as posthog-node sends it: no visitor IP or user agent.
    PostHogServer,
    /// `POST /batch/` as posthog-js sends it: each event with the visitor's IP and browser,
    /// so user-agent parsing, bot checks and IP handling run on every event.
    PostHogBrowser,
}

impl Wire {
    pub fn label(self) -> &'static str {
        match self {
            Wire::Native => "native",
            Wire::NativeVisitors => "native, anonymous visitors (IP + user agent, hashed)",
            Wire::PostHogServer => "PostHog, server SDK shape",
            Wire::PostHogBrowser => "PostHog, per-event IP + user agent",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Wire::Native | Wire::NativeVisitors => "/api/v1/events",
            Wire::PostHogServer | Wire::PostHogBrowser => "/batch/",
        }
    }
}

/// Real browsers' user agents, as a site's traffic repeats a few of them.
const BROWSERS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
];

fn posthog_body(key: &str, client: usize, batch: usize, browser: bool) -> Vec<u8> {
    let events: Vec<Value> = (0..batch)
        .map(|i| {
            let mut properties = json!({
                "$lib": "posthog-node", "$lib_version": "5.0.0",
                "$current_url": format!("https://app.example.com/reports/{i}"),
                "plan": "pro", "step": i, "nested": {"a": true}
            });
            if browser {
                properties["$lib"] = json!("web");
                properties["$raw_user_agent"] = json!(BROWSERS[i % BROWSERS.len()]);
                properties["$ip"] = json!(format!("198.51.{}.{}", client % 250, i % 250));
            }
            json!({
                "event": "$pageview",
                "distinct_id": format!("bench-{client}-{}", i % 50),
                "properties": properties
            })
        })
        .collect();
    serde_json::to_vec(&json!({"api_key": key, "batch": events})).unwrap_or_default()
}

fn visitors_body(client: usize, batch: usize) -> Vec<u8> {
    let events: Vec<Value> = (0..batch)
        .map(|i| {
            json!({
                "event": "page_view",
                "url": format!("https://app.example.com/reports/{i}"),
                "context": {
                    "ip": format!("198.51.{}.{}", client % 250, i % 250),
                    "user_agent": BROWSERS[i % BROWSERS.len()]
                },
                "properties": {"plan": "pro", "step": i, "nested": {"a": true}}
            })
        })
        .collect();
    serde_json::to_vec(&events).unwrap_or_default()
}

fn body(client: usize, batch: usize) -> Vec<u8> {
    const NAMES: [&str; 3] = ["page_view", "feature_used", "workflow_run"];
    let events: Vec<Value> = (0..batch)
        .map(|i| {
            json!({
                "event": NAMES[i % 3],
                "user_id": format!("bench-{client}-{}", i % 50),
                "session_id": format!("s-{client}-{}", i % 7),
                "url": format!("https://app.example.com/reports/{i}"),
                "country": "DE",
                "browser": "Chrome",
                "properties": {"plan": "pro", "step": i, "nested": {"a": true}}
            })
        })
        .collect();
    let value = if batch == 1 { events[0].clone() } else { json!(events) };
    serde_json::to_vec(&value).unwrap_or_default()
}

pub async fn run(
    url: &str,
    key: &str,
    wire: Wire,
    batch: usize,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<IngestResult> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let http = http.clone();
            let url = format!("{url}{}", wire.path());
            let key = key.to_owned();
            let payload = match wire {
                Wire::Native => body(client, batch),
                Wire::NativeVisitors => visitors_body(client, batch),
                Wire::PostHogServer => posthog_body(&key, client, batch, false),
                Wire::PostHogBrowser => posthog_body(&key, client, batch, true),
            };
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let response = http
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(payload.clone())
                        .send()
                        .await?;
                    anyhow::ensure!(
                        response.status() == 200,
                        "ingest answered {}",
                        response.status()
                    );
                    response.bytes().await?;
                    latencies.push(started.elapsed().as_secs_f64());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0)
            * 1e3
    };
    let requests = latencies.len() as f64;
    Ok(IngestResult {
        events_per_second: requests * batch as f64 / elapsed,
        requests_per_second: requests / elapsed,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
    })
}
