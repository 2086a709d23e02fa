//! The queries measured, each as an API spec and as the SQL a person would write by hand to
//! get the same numbers; both timed on the same DuckDB file.

use serde_json::{Value, json};
use sextant_core::ProjectId;
use std::path::Path;
use std::time::Instant;

#[derive(Clone)]
pub struct Spec {
    pub name: &'static str,
    pub api: Value,
    pub sql: String,
    pub project: String,
}

const RANGE: &str = "timestamp >= TIMESTAMP '2026-10-23' AND timestamp < TIMESTAMP '2026-11-22'";

pub fn specs(project: &ProjectId) -> Vec<Spec> {
    let range = json!({"from": "2026-10-23", "to": "2026-11-21"});
    let spec =
        |name, api: Value, sql: String| Spec { name, api, sql, project: project.to_string() };
    vec![
        spec(
            "page views per day, 30 days",
            json!({"kind": "trends", "series": [{"event": "page_view"}], "interval": "day", "date_range": range}),
            format!(
                "SELECT date_trunc('day', timestamp) AS day, count(*) FROM events WHERE project_id = $1 AND event = 'page_view' AND {RANGE} GROUP BY GROUPING SETS ((day), ())"
            ),
        ),
        spec(
            "unique users per day, 30 days",
            json!({"kind": "trends", "series": [{"event": "page_view", "math": "unique_users"}], "interval": "day", "date_range": range}),
            format!(
                // People: device-only events count as the user their device is linked to.
                "SELECT date_trunc('day', timestamp) AS day, count(DISTINCT coalesce(l.user_id, e.person_id)) FROM events e LEFT JOIN person_links l ON l.project_id = e.project_id AND l.device_id = e.person_id AND e.user_id IS NULL WHERE e.project_id = $1 AND event = 'page_view' AND {RANGE} GROUP BY GROUPING SETS ((day), ())"
            ),
        ),
        spec(
            "all events per day by country (top 25)",
            json!({"kind": "trends", "series": [{}], "interval": "day", "date_range": range, "breakdown": {"property": "country", "limit": 25}}),
            format!(
                "WITH top AS (SELECT country FROM events WHERE project_id = $1 AND {RANGE} GROUP BY country ORDER BY count(*) DESC LIMIT 25) \
                 SELECT date_trunc('day', timestamp) AS day, country, count(*) FROM events WHERE project_id = $1 AND {RANGE} AND country IN (SELECT country FROM top) \
                 GROUP BY GROUPING SETS ((day, country), (country))"
            ),
        ),
        spec(
            "pro-plan page views per week (JSON property filter)",
            json!({"kind": "trends", "series": [{"event": "page_view", "filters": [{"property": "properties.plan", "op": "eq", "value": "pro"}]}], "interval": "week", "date_range": range}),
            format!(
                "SELECT date_trunc('week', timestamp) AS week, count(*) FROM events WHERE project_id = $1 AND event = 'page_view' AND json_extract_string(properties, '$.plan') = 'pro' AND {RANGE} GROUP BY GROUPING SETS ((week), ())"
            ),
        ),
    ]
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Median seconds of `runs` API calls, after two warm-ups.
pub async fn over_http(url: &str, key: &str, spec: &Spec, runs: usize) -> anyhow::Result<f64> {
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    for run in 0..runs + 2 {
        let started = Instant::now();
        let response = http
            .post(format!("{url}/api/v1/query"))
            .bearer_auth(key)
            .json(&spec.api)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "{}: {}", spec.name, response.text().await?);
        response.bytes().await?;
        if run >= 2 {
            samples.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(median(samples))
}

/// Median seconds of each hand-written statement on the DuckDB file, fetching every row.
pub fn direct(file: &Path, specs: &[Spec], runs: usize) -> anyhow::Result<Vec<f64>> {
    let conn = duckdb::Connection::open(file)?;
    specs
        .iter()
        .map(|spec| {
            let mut statement = conn.prepare(&spec.sql)?;
            let mut samples = Vec::new();
            for run in 0..runs + 2 {
                let started = Instant::now();
                let mut rows = statement.query([spec.project.as_str()])?;
                let mut count = 0usize;
                while rows.next()?.is_some() {
                    count += 1;
                }
                anyhow::ensure!(count > 0, "{} returned nothing", spec.name);
                if run >= 2 {
                    samples.push(started.elapsed().as_secs_f64());
                }
            }
            Ok(median(samples))
        })
        .collect()
}
