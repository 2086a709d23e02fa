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
    batch: usize,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<IngestResult> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let http = http.clone();
            let url = format!("{url}/api/v1/events");
            let key = key.to_owned();
            let payload = body(client, batch);
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
