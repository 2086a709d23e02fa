//! The queries measured, each as an API spec and as SQL run directly on the same DuckDB file:
//! for trends the SQL a person would write by hand to get the same numbers; for the other
//! kinds the planner's own statements (with their parameters bound), which isolates what the
//! server adds on top of DuckDB.

use duckdb::types::Value as DuckValue;
use serde_json::{Value, json};
use sextant_core::ProjectId;
use sextant_query::{Dialect, Param, PlanOptions, Query};
use std::path::Path;
use std::time::Instant;

#[derive(Clone)]
pub struct Spec {
    pub name: &'static str,
    pub api: Value,
    /// Hand-written SQL (one `$1` = project), or `None` to run the planned statements.
    pub sql: Option<String>,
    pub project: String,
}

impl Spec {
    pub fn baseline(&self) -> &'static str {
        if self.sql.is_some() { "hand-written SQL" } else { "planned SQL" }
    }
}

const RANGE: &str = "timestamp >= TIMESTAMP '2026-10-23' AND timestamp < TIMESTAMP '2026-11-22'";

pub fn specs(project: &ProjectId) -> Vec<Spec> {
    let range = json!({"from": "2026-10-23", "to": "2026-11-21"});
    let spec = |name, api: Value, sql: String| Spec {
        name,
        api,
        sql: Some(sql),
        project: project.to_string(),
    };
    let planned = |name, api: Value| Spec { name, api, sql: None, project: project.to_string() };
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
        planned(
            "trends: purchases and revenue per day (from the hourly rollup)",
            json!({"kind": "trends", "series": [{"event": "purchase"}, {"event": "purchase", "math": "sum", "property": "value"}, {"event": "page_view"}], "interval": "day", "date_range": range}),
        ),
        planned(
            "trends: p50, p95, p99 of workflow run value per day (from the sketch)",
            json!({"kind": "trends", "series": [{"event": "workflow_run", "math": "median", "property": "value"}, {"event": "workflow_run", "math": "p95", "property": "value"}, {"event": "workflow_run", "math": "p99", "property": "value"}], "interval": "day", "date_range": range}),
        ),
        planned(
            "trends: 3 series (total, p95 of value, unique users) by country, top 10 + other",
            json!({"kind": "trends", "series": [{"event": "page_view"}, {"event": "purchase", "math": "p95", "property": "value"}, {"event": "signup", "math": "unique_users"}], "interval": "day", "date_range": range, "breakdown": {"property": "country", "limit": 10, "other": true}}),
        ),
        planned(
            "funnel: 4 steps, 7-day window",
            json!({"kind": "funnel", "steps": [{"event": "page_view"}, {"event": "signup"}, {"event": "activation"}, {"event": "purchase"}], "date_range": range, "window": "7d"}),
        ),
        planned(
            "retention: weekly, 8 periods, signup then any event",
            json!({"kind": "retention", "start": {"event": "signup"}, "period": "week", "intervals": 8, "date_range": range}),
        ),
        planned(
            "active users: DAU, WAU, MAU per day",
            json!({"kind": "active_users", "date_range": range}),
        ),
        planned(
            "stickiness: active days per week",
            json!({"kind": "stickiness", "date_range": range}),
        ),
        planned(
            "lifecycle: weekly",
            json!({"kind": "lifecycle", "interval": "week", "date_range": range}),
        ),
        planned(
            "sessions: per day, lengths, bounce, routes",
            json!({"kind": "sessions", "date_range": range}),
        ),
        planned(
            "paths: 4 events after signup",
            json!({"kind": "paths", "anchor": {"event": "signup"}, "steps": 4, "date_range": range}),
        ),
    ]
}

type Statements = Vec<(String, Vec<DuckValue>)>;

/// The statements to run directly for `spec`, with their parameters.
fn statements(spec: &Spec) -> anyhow::Result<Statements> {
    if let Some(sql) = &spec.sql {
        return Ok(vec![(sql.clone(), vec![DuckValue::Text(spec.project.clone())])]);
    }
    planned_statements(spec, true)
}

/// `spec`'s query, and the options every measured plan uses, with or without rollups.
fn query_and_options(spec: &Spec, rollups: bool) -> anyhow::Result<(Query, PlanOptions)> {
    let query: Query = serde_json::from_value(spec.api.clone())?;
    let opts = PlanOptions {
        project_id: ProjectId::new(spec.project.clone()),
        now: sextant_core::parse_timestamp(NOW).ok_or_else(|| anyhow::anyhow!("bad now"))?,
        max_buckets: 5000,
        rollups,
    };
    Ok((query, opts))
}

/// The planner's statements for `spec`, with or without rollups.
fn planned_statements(spec: &Spec, rollups: bool) -> anyhow::Result<Statements> {
    let (query, opts) = query_and_options(spec, rollups)?;
    let plan = sextant_query::plan(&query, &opts, Dialect::DuckDb)?;
    Ok(plan
        .statements()
        .iter()
        .map(|s| {
            let params = s
                .params
                .iter()
                .map(|p| match p {
                    Param::Text(t) => DuckValue::Text(t.clone()),
                    Param::Int(i) => DuckValue::BigInt(*i),
                    Param::Float(f) => DuckValue::Double(*f),
                    Param::Timestamp(t) => DuckValue::Timestamp(
                        duckdb::types::TimeUnit::Microsecond,
                        t.timestamp_micros(),
                    ),
                })
                .collect();
            (s.sql.clone(), params)
        })
        .collect())
}

/// Whether rollups change the statements `dialect` runs for `spec`.
pub fn rollups_change_plan(spec: &Spec, dialect: Dialect) -> anyhow::Result<bool> {
    let sql = |rollups| -> anyhow::Result<Vec<String>> {
        let (query, opts) = query_and_options(spec, rollups)?;
        let plan = sextant_query::plan(&query, &opts, dialect)?;
        Ok(plan.statements().iter().map(|s| s.sql.clone()).collect())
    };
    Ok(sql(true)? != sql(false)?)
}

/// Median seconds of `runs` answers to `spec` straight from `events` (no HTTP), after two
/// warm-ups, with or without rollups.
pub async fn through_store(
    events: &dyn sextant_store::EventStore,
    spec: &Spec,
    runs: usize,
    rollups: bool,
) -> anyhow::Result<f64> {
    let (query, opts) = query_and_options(spec, rollups)?;
    let mut samples = Vec::new();
    for run in 0..runs + 2 {
        let started = Instant::now();
        events.query(&query, &opts).await?;
        if run >= 2 {
            samples.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(median(samples))
}

/// "Now" for every measured query, so relative parts of specs are reproducible.
pub const NOW: &str = "2026-11-22T00:00:00Z";

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
        let status = response.status();
        anyhow::ensure!(status == 200, "HTTP {status}: {}", response.text().await?);
        response.bytes().await?;
        if run >= 2 {
            samples.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(median(samples))
}

/// Per spec, median seconds of its baseline statements on the DuckDB file (fetching every
/// row), and of the planner's statements without rollups when they differ.
pub fn direct(file: &Path, specs: &[Spec], runs: usize) -> anyhow::Result<Vec<(f64, Option<f64>)>> {
    let conn = duckdb::Connection::open(file)?;
    specs
        .iter()
        .map(|spec| {
            let baseline = statements(spec)?;
            let raw = planned_statements(spec, false)?;
            let differs = raw.iter().map(|s| &s.0).ne(baseline.iter().map(|s| &s.0));
            let without = if differs { Some(timed(&conn, spec, &raw, runs)?) } else { None };
            Ok((timed(&conn, spec, &baseline, runs)?, without))
        })
        .collect()
}

/// Median seconds of `statements`, after two warm-ups.
fn timed(
    conn: &duckdb::Connection,
    spec: &Spec,
    statements: &Statements,
    runs: usize,
) -> anyhow::Result<f64> {
    let mut prepared =
        statements.iter().map(|(sql, _)| conn.prepare(sql)).collect::<Result<Vec<_>, _>>()?;
    let mut samples = Vec::new();
    for run in 0..runs + 2 {
        let started = Instant::now();
        let mut count = 0usize;
        for (statement, (_, params)) in prepared.iter_mut().zip(statements) {
            let mut rows = statement.query(duckdb::params_from_iter(params.iter()))?;
            while rows.next()?.is_some() {
                count += 1;
            }
        }
        anyhow::ensure!(count > 0, "{} returned nothing", spec.name);
        if run >= 2 {
            samples.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(median(samples))
}
