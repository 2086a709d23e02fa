//! The cross-check: a backend's answers on generated data against the plain-Rust reference
//! implementation of `docs/queries.md` (`super::reference`), for queries of every kind.
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Subject;
use super::generated::generated_events;
use super::reference;
use serde_json::{Value, json};
use sextant_core::{ProjectId, parse_timestamp};
use sextant_query::{PlanOptions, Query};

pub(super) const SEED: u64 = 20_261_025;

/// Every generated event is appended, then each query's answer must equal the reference's
/// (numbers within a relative 1e-6). `funnel_persons` queries are followed page by page.
pub async fn cross_check_generated(subject: &Subject) {
    let project = ProjectId::new("prj_cross_check");
    let events = generated_events(&project, SEED);
    assert!(events.len() > 2000, "the generator made only {} events", events.len());
    for batch in events.chunks(1000) {
        let appended = subject.store.append(batch.to_vec()).await.unwrap();
        assert_eq!(appended.stored, batch.len(), "every generated event is new");
    }
    let opts = PlanOptions {
        project_id: project.clone(),
        now: parse_timestamp("2026-11-20T12:00:00Z").unwrap(),
        max_buckets: 5000,
        rollups: true,
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for mut spec in queries() {
        loop {
            let query: Query = serde_json::from_value(spec.clone())
                .unwrap_or_else(|e| panic!("bad query in the cross-check: {e}\n{spec:#}"));
            let expected = reference::answer(&query, &events, &opts);
            checked += 1;
            // With and without rollups: both paths must give the reference's answer.
            let mut differs = false;
            for rollups in [true, false] {
                let opts = PlanOptions { rollups, ..opts.clone() };
                let got = match subject.store.query(&query, &opts).await {
                    Ok(result) => serde_json::to_value(result).unwrap(),
                    Err(e) => {
                        failures.push(format!("query {spec} (rollups: {rollups})\nfailed: {e}"));
                        differs = true;
                        break;
                    }
                };
                if let Some((path, want, have)) = difference("$", &expected, &got) {
                    failures.push(format!(
                        "query {spec} (rollups: {rollups})\nfirst difference at {path}: reference {want}, backend {have}\nreference answer: {expected}\nbackend answer: {got}"
                    ));
                    differs = true;
                    break;
                }
            }
            if differs {
                break;
            }
            // Next page of a funnel_persons query.
            match expected.get("next_cursor") {
                Some(cursor) if spec["kind"] == "funnel_persons" => spec["cursor"] = cursor.clone(),
                _ => break,
            }
        }
    }
    assert!(checked >= 40, "only {checked} answers checked");
    if !failures.is_empty() {
        panic!(
            "{} of {checked} answers differ from the reference (docs/queries.md):\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
}

/// Rounding allowed between two exact answers (relative).
const ROUNDING: f64 = 1e-6;

/// Whether two numbers agree within `relative` (or 1e-9 absolute).
fn close(a: f64, b: f64, relative: f64) -> bool {
    let diff = (a - b).abs();
    diff <= 1e-9 || diff <= relative * a.abs().max(b.abs())
}

/// The first place where `want` and `have` differ: its JSON path and both values there.
/// Numbers may differ by rounding, and, inside an object where `have` states a
/// `relative_error` (quantiles from a sketch), by that error.
pub(super) fn difference(
    path: &str,
    want: &Value,
    have: &Value,
) -> Option<(String, String, String)> {
    difference_within(path, want, have, ROUNDING)
}

fn difference_within(
    path: &str,
    want: &Value,
    have: &Value,
    relative: f64,
) -> Option<(String, String, String)> {
    let differs = || Some((path.to_owned(), want.to_string(), have.to_string()));
    match (want, have) {
        (Value::Number(a), Value::Number(b)) => {
            if close(a.as_f64()?, b.as_f64()?, relative) {
                None
            } else {
                differs()
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some((
                    format!("{path} (length {} vs {})", a.len(), b.len()),
                    want.to_string(),
                    have.to_string(),
                ));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| difference_within(&format!("{path}[{i}]"), x, y, relative))
        }
        (Value::Object(a), Value::Object(b)) => {
            let stated = b
                .get("relative_error")
                .and_then(Value::as_f64)
                .filter(|_| !a.contains_key("relative_error"));
            let relative = stated.map_or(relative, |e| relative.max(e * (1.0 + ROUNDING)));
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.retain(|k| stated.is_none() || k.as_str() != "relative_error");
            keys.into_iter().find_map(|k| {
                let at = format!("{path}.{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => difference_within(&at, x, y, relative),
                    (x, y) => Some((
                        at,
                        x.map_or_else(|| "(absent)".to_owned(), Value::to_string),
                        y.map_or_else(|| "(absent)".to_owned(), Value::to_string),
                    )),
                }
            })
        }
        _ if want == have => None,
        _ => differs(),
    }
}

fn range(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to})
}

const BERLIN: &str = "Europe/Berlin";

/// The queries: every kind and option, in UTC and Europe/Berlin (DST change on 2026-10-25).
pub(super) fn queries() -> Vec<Value> {
    let mut q = trends_queries();
    q.extend(funnel_queries());
    q.extend(retention_queries());
    q.extend(activity_queries());
    q.extend(sessions_queries());
    q.extend(paths_queries());
    q
}

fn trends_queries() -> Vec<Value> {
    let all = range("2026-10-05", "2026-11-18");
    let dst = range("2026-10-20", "2026-10-30");
    let duration = "properties.duration_ms";
    vec![
        json!({"kind": "trends", "series": [{"event": "page_view"}], "date_range": all}),
        // Answered from the hourly rollup, with partial hours at both ends from the events.
        json!({"kind": "trends", "date_range": range("2026-10-07T10:30:00Z", "2026-11-17T15:45:30.5Z"), "series": [
            {"event": "purchase", "math": "sum", "property": "value"}, {"event": "purchase", "math": "avg", "property": "value"},
            {"event": "purchase", "math": "min", "property": "value"}, {"event": "purchase", "math": "max", "property": "value"},
            {}, {"event": "page_view"}]}),
        json!({"kind": "trends", "interval": "hour", "timezone": BERLIN, "date_range": range("2026-10-24T21:59:59Z", "2026-10-26T03:00:01Z"),
            "series": [{"event": "page_view"}, {"event": "signup"}], "formula": "A + B", "cumulative": true}),
        json!({"kind": "trends", "interval": "day", "timezone": "Asia/Kolkata", "date_range": range("2026-10-20", "2026-11-10"),
            "series": [{"event": "purchase", "math": "sum", "property": "value"}]}),
        json!({"kind": "trends", "interval": "week", "date_range": range("2026-10-05", "2026-11-15"), "series": [
            {"event": "page_view", "math": "unique_users"},
            {"event": "page_view", "math": "unique_sessions"},
            {"event": "page_view", "math": "per_user_average", "label": "views per viewer"}]}),
        json!({"kind": "trends", "interval": "day", "timezone": BERLIN, "date_range": range("2026-10-21T07:10:00Z", "2026-11-03T19:30:00Z"), "series": [
            {"event": "page_view", "math": "unique_users"}, {"math": "unique_users"},
            {"event": "feature_used"}, {"event": "feature_used", "math": "per_user_average"}]}),
        json!({"kind": "trends", "timezone": BERLIN, "date_range": dst, "series": [
            {"event": "page_view", "math": "dau_normalised"},
            {"event": "feature_used", "math": "dau_normalised"}]}),
        json!({"kind": "trends", "interval": "month", "date_range": range("2026-10-01", "2026-11-30"), "series": [
            {"event": "purchase", "math": "sum", "property": "value"},
            {"event": "purchase", "math": "avg", "property": "value"},
            {"event": "purchase", "math": "min", "property": "value"},
            {"event": "purchase", "math": "max", "property": "value"}]}),
        json!({"kind": "trends", "date_range": range("2026-10-10", "2026-11-18"), "series": [
            {"event": "feature_used", "math": "median", "property": duration},
            {"event": "feature_used", "math": "p90", "property": duration},
            {"event": "feature_used", "math": "p95", "property": duration},
            {"event": "feature_used", "math": "p99", "property": duration},
            {"event": "feature_used", "math": "avg", "property": duration}]}),
        json!({"kind": "trends", "interval": "week", "date_range": all, "series": [{}], "filters": [
            {"any": [{"property": "country", "op": "eq", "value": "DE"}, {"property": "country", "op": "eq", "value": ["FR", "GB"]}]},
            {"all": [{"property": "properties.plan", "op": "neq", "value": "free"}, {"property": "browser", "op": "neq", "value": ["Safari"]}]}]}),
        json!({"kind": "trends", "date_range": range("2026-10-12", "2026-10-25"), "series": [
            {"event": "page_view", "label": "pricing or docs", "filters": [{"property": "path", "op": "regex", "value": "^/(pricing|docs)"}]},
            {"event": "page_view", "label": "not a blog post", "filters": [{"property": "path", "op": "not_regex", "value": "^/blog/\\d+$"}]},
            {"event": "page_view", "label": "pricing anywhere", "filters": [{"property": "url", "op": "contains", "value": "PRICING"}]},
            {"event": "page_view", "label": "no blog", "filters": [{"property": "url", "op": "not_contains", "value": "blog"}]}]}),
        json!({"kind": "trends", "interval": "week", "date_range": all, "series": [
            {"event": "purchase", "filters": [{"property": "value", "op": "between", "value": [10, 50]}]},
            {"event": "feature_used", "filters": [{"property": duration, "op": "gt", "value": 1000}]},
            {"event": "feature_used", "filters": [{"property": duration, "op": "lte", "value": 100}]},
            {"event": "purchase", "math": "sum", "property": "value", "filters": [{"property": "value", "op": "lt", "value": 20}]},
            {"event": "feature_used", "filters": [{"property": duration, "op": "between", "value": [100, 500.5]}]}]}),
        json!({"kind": "trends", "interval": "week", "date_range": all, "series": [
            {"event": "feature_used", "filters": [{"property": "properties.beta", "op": "eq", "value": true}]},
            {"event": "feature_used", "filters": [{"property": "properties.meta.tier", "op": "eq", "value": "gold"}]},
            {"event": "feature_used", "filters": [{"property": "properties.meta.tier", "op": "is_set"}]},
            {"filters": [{"property": "properties.plan", "op": "is_not_set"}]},
            {"event": "page_view", "filters": [{"property": "referrer", "op": "is_set"}]},
            {"event": "feature_used", "filters": [{"property": duration, "op": "eq", "value": "n/a"}]},
            {"event": "feature_used", "filters": [{"property": "properties.feature", "op": "neq", "value": ["export", "share"]}]}]}),
        json!({"kind": "trends", "date_range": range("2026-11-01", "2026-11-18"),
            "series": [{"event": "page_view", "math": "unique_users"}], "breakdown": {"property": "country"}}),
        json!({"kind": "trends", "interval": "week", "date_range": all, "series": [{}],
            "breakdown": {"property": "properties.plan", "and": "country", "limit": 3, "other": true}}),
        json!({"kind": "trends", "date_range": range("2026-10-20", "2026-11-10"),
            "series": [{"event": "feature_used", "math": "avg", "property": duration}],
            "breakdown": {"property": "properties.feature", "limit": 2}}),
        json!({"kind": "trends", "interval": "week", "date_range": all,
            "series": [{"math": "unique_users"}], "breakdown": {"property": "event", "limit": 10}}),
        json!({"kind": "trends", "date_range": range("2026-11-06", "2026-11-18"), "compare": "previous_period",
            "series": [{"event": "page_view"}, {"event": "page_view", "math": "unique_users"}]}),
        json!({"kind": "trends", "timezone": BERLIN, "date_range": range("2026-10-26", "2026-11-08"), "compare": "previous_period",
            "series": [{"event": "feature_used"}, {"math": "unique_users"}]}),
        json!({"kind": "trends", "date_range": {"from": "-14d"}, "compare": "previous_year", "series": [{"event": "signup"}]}),
        json!({"kind": "trends", "date_range": all, "formula": "A / B * 100", "series": [
            {"event": "signup", "math": "unique_users"}, {"event": "page_view", "math": "unique_users"}]}),
        json!({"kind": "trends", "interval": "week", "date_range": all, "formula": "(A + 1) / B",
            "series": [{"event": "purchase"}, {"event": "page_view"}], "breakdown": {"property": "country"}}),
        json!({"kind": "trends", "interval": "week", "date_range": range("2026-10-26", "2026-11-15"), "formula": "A - B",
            "compare": "previous_period", "series": [{"event": "feature_used"}, {"event": "page_view"}]}),
        json!({"kind": "trends", "date_range": range("2026-10-15", "2026-11-18"), "cumulative": true, "series": [
            {"event": "purchase"}, {"event": "purchase", "math": "sum", "property": "value"}]}),
        json!({"kind": "trends", "interval": "week", "timezone": BERLIN, "date_range": all, "cumulative": true,
            "series": [{"event": "signup"}], "breakdown": {"property": "properties.plan"}}),
        json!({"kind": "trends", "interval": "hour", "date_range": range("2026-11-10T00:00:00Z", "2026-11-12T00:00:00Z"),
            "series": [{"event": "page_view"}, {"event": "feature_used", "math": "unique_users"}]}),
        json!({"kind": "trends", "interval": "hour", "timezone": BERLIN, "date_range": range("2026-10-24", "2026-10-25"),
            "series": [{}, {"event": "feature_used", "math": "unique_users"}, {"event": "purchase", "math": "max", "property": "value"}]}),
        json!({"kind": "trends", "interval": "minute", "timezone": BERLIN,
            "date_range": range("2026-10-24T23:45:00Z", "2026-10-25T02:15:00Z"), "series": [{"math": "unique_users"}]}),
        json!({"kind": "trends", "interval": "day", "timezone": BERLIN, "date_range": range("2026-10-21T07:10:00Z", "2026-11-03T19:30:00Z"), "series": [
            {"event": "page_view", "math": "unique_users"}, {"math": "unique_users"},
            {"event": "feature_used"}, {"event": "feature_used", "math": "per_user_average"}]}),
        json!({"kind": "trends", "timezone": BERLIN, "date_range": dst, "series": [
            {"event": "purchase", "math": "sum", "property": "value"}, {"event": "page_view", "math": "unique_sessions"}]}),
        json!({"kind": "trends", "interval": "week", "timezone": BERLIN, "date_range": range("2026-10-05", "2026-11-15"),
            "series": [{"event": "page_view", "math": "per_user_average"}]}),
        json!({"kind": "trends", "interval": "month", "timezone": BERLIN, "date_range": range("2026-10-01", "2026-11-30"),
            "series": [{"event": "feature_used", "math": "p90", "property": duration}, {"math": "unique_users"}]}),
        // Quantiles of `value` (from the sketch with rollups), mid-hour ends.
        json!({"kind": "trends", "interval": "week", "date_range": range("2026-10-06T10:20:00Z", "2026-11-17T08:45:00Z"), "series": [
            {"event": "purchase", "math": "median", "property": "value"},
            {"event": "purchase", "math": "p90", "property": "value"},
            {"event": "workflow_run", "math": "p95", "property": "value"},
            {"math": "p99", "property": "value"}, {"event": "purchase"}]}),
        json!({"kind": "trends", "timezone": BERLIN, "date_range": dst, "compare": "previous_period",
            "series": [{"event": "purchase", "math": "median", "property": "value"}]}),
        // Breakdowns by a dimension (from `rollup_dimensions` with rollups), mid-hour ends.
        json!({"kind": "trends", "timezone": BERLIN, "date_range": range("2026-10-21T07:10:00Z", "2026-11-03T19:30:00Z"), "series": [
            {"event": "purchase"}, {"event": "purchase", "math": "sum", "property": "value"}, {"event": "page_view"}],
            "breakdown": {"property": "country", "limit": 2, "other": true}}),
        json!({"kind": "trends", "interval": "week", "date_range": all, "series": [
            {}, {"math": "max", "property": "value"}, {"math": "avg", "property": "value"}],
            "breakdown": {"property": "browser", "limit": 3}}),
        json!({"kind": "trends", "interval": "week", "date_range": all, "series": [{"event": "workflow_run", "math": "min", "property": "value"}],
            "breakdown": {"property": "entity_type"}}),
    ]
}

fn funnel_queries() -> Vec<Value> {
    let all = range("2026-10-05", "2026-11-18");
    let basic = json!({"kind": "funnel", "date_range": all, "window": "14d", "histogram_bins": 5,
        "steps": [{"event": "page_view"}, {"event": "signup"}, {"event": "purchase", "label": "paid"}]});
    let excluded = json!({"kind": "funnel", "date_range": all, "window": "10d", "histogram_bins": 4,
        "steps": [{"event": "signup"}, {"event": "activation"}, {"event": "purchase"}],
        "exclusions": [
            {"event": "feature_used", "filters": [{"property": "properties.feature", "op": "eq", "value": "share"}], "from_step": 1, "to_step": 2},
            {"event": "page_view", "filters": [{"property": "path", "op": "eq", "value": "/Pricing/Enterprise"}]}]});
    let by_plan = json!({"kind": "funnel", "date_range": range("2026-10-12", "2026-11-18"), "window": "1d",
        "steps": [{"event": "page_view"}, {"event": "signup"}], "breakdown": {"property": "properties.plan"}});
    let persons = |funnel: &Value, step: usize, status: &str, limit: usize| json!({"kind": "funnel_persons", "funnel": strip_kind(funnel), "step": step, "status": status, "limit": limit});
    let mut plan_pro = persons(&by_plan, 1, "converted", 5);
    plan_pro["breakdown_value"] = json!("pro");
    vec![
        basic.clone(),
        json!({"kind": "funnel", "order": "strict", "interval": "week", "date_range": all, "window": "1h",
            "filters": [{"property": "country", "op": "neq", "value": "US"}],
            "steps": [{"event": "page_view"}, {"event": "feature_used"}, {"event": "feature_used", "label": "again"}]}),
        json!({"kind": "funnel", "order": "unordered", "timezone": BERLIN, "date_range": all, "window": "7d",
            "steps": [{"event": "signup"}, {"event": "activation"}, {"event": "purchase"}]}),
        excluded.clone(),
        by_plan,
        json!({"kind": "funnel", "date_range": all, "window": "3d", "histogram_bins": 3,
            "steps": [{"event": "signup"}, {"event": "activation"}, {"label": "anything"}]}),
        json!({"kind": "funnel", "timezone": BERLIN, "interval": "week", "date_range": all, "window": "2w",
            "breakdown": {"property": "country"},
            "steps": [{"event": "page_view"}, {"event": "activation"}, {"event": "purchase", "filters": [{"property": "value", "op": "gte", "value": 20}]}]}),
        json!({"kind": "funnel", "order": "strict", "date_range": range("2026-10-20", "2026-11-10"), "window": "30m",
            "breakdown": {"property": "browser"}, "steps": [{"event": "page_view"}, {"event": "page_view"}]}),
        json!({"kind": "funnel", "date_range": all, "window": "30m", "histogram_bins": 6,
            "steps": [{"event": "feature_used"}, {"event": "purchase"}]}),
        // Step-0 people from the people per hour (hours at the range's ends from the events);
        // step 0 and 1 the same event type.
        json!({"kind": "funnel", "date_range": range("2026-10-07T10:30:00Z", "2026-11-15T08:20:00Z"), "window": "2d",
            "steps": [{"event": "page_view"}, {"event": "page_view"}, {"event": "signup"}]}),
        json!({"kind": "funnel", "timezone": BERLIN, "date_range": all, "window": "5d",
            "steps": [{"filters": [{"property": "country", "op": "eq", "value": ["DE", "FR"]}]}, {"event": "purchase"}]}),
        persons(&basic, 2, "converted", 10),
        persons(&excluded, 1, "dropped", 7),
        persons(&basic, 1, "dropped", 100),
        plan_pro,
    ]
}

/// A funnel query as embedded in a `funnel_persons` query.
fn strip_kind(funnel: &Value) -> Value {
    let mut funnel = funnel.clone();
    funnel.as_object_mut().unwrap().remove("kind");
    funnel
}

fn retention_queries() -> Vec<Value> {
    let weeks = range("2026-10-05", "2026-11-15");
    vec![
        json!({"kind": "retention", "date_range": range("2026-10-19", "2026-11-01"), "intervals": 8,
            "start": {"event": "page_view"}}),
        json!({"kind": "retention", "cohort": "first_time", "date_range": weeks, "intervals": 10,
            "start": {"event": "signup"}, "return": {"event": "purchase"}}),
        json!({"kind": "retention", "mode": "rolling", "date_range": range("2026-10-26", "2026-11-08"), "intervals": 7,
            "start": {"event": "feature_used"}, "return": {"event": "purchase"}}),
        json!({"kind": "retention", "cohort": "first_time", "mode": "rolling", "period": "week", "date_range": weeks,
            "intervals": 6, "start": {"event": "signup"}, "return": {"event": "feature_used"}}),
        json!({"kind": "retention", "mode": "bracket", "date_range": range("2026-10-12", "2026-10-25"), "intervals": 15,
            "brackets": [[1, 1], [2, 3], [4, 7], [8, 14]],
            "start": {"event": "page_view"}, "return": {"event": "feature_used"}}),
        json!({"kind": "retention", "cohort": "first_time", "mode": "bracket", "period": "week", "date_range": weeks,
            "intervals": 5, "brackets": [[1, 1], [2, 4]],
            "start": {"event": "page_view"}, "return": {"event": "page_view"}}),
        json!({"kind": "retention", "period": "week", "date_range": range("2026-10-05", "2026-11-08"), "intervals": 4,
            "start": {"event": "page_view"}, "return": {"event": "purchase"}, "breakdown": {"property": "country"}}),
        json!({"kind": "retention", "timezone": BERLIN, "date_range": range("2026-10-22", "2026-10-28"), "intervals": 5,
            "filters": [{"property": "country", "op": "neq", "value": "US"}], "start": {"event": "feature_used"}}),
        json!({"kind": "retention", "period": "month", "date_range": range("2026-10-01", "2026-11-30"), "intervals": 2,
            "start": {"event": "signup"}}),
        // From the people per hour, with the hours around both ends of the range from the events.
        json!({"kind": "retention", "cohort": "first_time", "timezone": BERLIN, "date_range": range("2026-10-12T09:30:00Z", "2026-10-26T17:45:10Z"),
            "intervals": 9, "start": {"event": "page_view"}, "return": {"event": "feature_used"}}),
    ]
}

fn activity_queries() -> Vec<Value> {
    vec![
        json!({"kind": "active_users", "date_range": range("2026-10-20", "2026-11-18")}),
        json!({"kind": "active_users", "date_range": range("2026-10-20T06:20:00Z", "2026-11-12T13:59:59.5Z"), "activity": {"event": "page_view"}}),
        json!({"kind": "active_users", "timezone": BERLIN, "date_range": range("2026-10-20", "2026-11-05"),
            "activity": {"event": "page_view", "filters": [{"property": "browser", "op": "eq", "value": "Chrome"}]}}),
        json!({"kind": "stickiness", "date_range": range("2026-10-05", "2026-11-15"), "activity": {"event": "feature_used"}}),
        json!({"kind": "stickiness", "period": "month", "timezone": BERLIN, "date_range": range("2026-10-01", "2026-11-30")}),
        json!({"kind": "lifecycle", "date_range": range("2026-10-10", "2026-11-18"), "activity": {"event": "page_view"}}),
        json!({"kind": "lifecycle", "interval": "week", "timezone": BERLIN, "date_range": range("2026-10-05", "2026-11-15"),
            "filters": [{"property": "country", "op": "is_set"}]}),
    ]
}

/// Entry and exit routes: tied first (or last) events of a session with different routes are
/// taken in `insert_id` order by the reference, as paths order events. Filtered to page views,
/// the generated sessions have no such ties; unfiltered, about 60 of 620 end with one (a
/// purchase and its thank-you page at the same instant) and 3 start with one.
fn sessions_queries() -> Vec<Value> {
    let all = range("2026-10-05", "2026-11-18");
    let page_views = json!([{"property": "event", "op": "eq", "value": "page_view"}]);
    vec![
        json!({"kind": "sessions", "date_range": all}),
        json!({"kind": "sessions", "timezone": BERLIN, "date_range": range("2026-10-20", "2026-10-30"),
            "filters": page_views, "length_bins": [0, 60, 300, 1800, 7200], "routes": 5}),
        json!({"kind": "sessions", "interval": "week", "date_range": range("2026-10-05", "2026-11-15"), "routes": 4,
            "filters": [{"property": "country", "op": "neq", "value": "US"}]}),
        json!({"kind": "sessions", "interval": "hour", "timezone": BERLIN, "date_range": range("2026-10-24", "2026-10-25"),
            "filters": [{"property": "event", "op": "eq", "value": ["page_view", "feature_used"]}]}),
        json!({"kind": "sessions", "interval": "month", "timezone": BERLIN, "date_range": range("2026-10-01", "2026-11-30"),
            "filters": page_views, "length_bins": [0, 10, 100, 1000, 10000], "routes": 20}),
    ]
}

fn paths_queries() -> Vec<Value> {
    let all = range("2026-10-05", "2026-11-18");
    vec![
        json!({"kind": "paths", "date_range": all, "anchor": {"event": "signup"}, "steps": 2}),
        json!({"kind": "paths", "date_range": all, "anchor": {"event": "signup"}}),
        json!({"kind": "paths", "timezone": BERLIN, "date_range": range("2026-10-20", "2026-10-30"),
            "anchor": {"event": "purchase"}, "direction": "previous", "steps": 7}),
        json!({"kind": "paths", "date_range": range("2026-10-12", "2026-11-18"), "steps": 5, "limit": 10,
            "filters": [{"property": "browser", "op": "neq", "value": "Safari"}],
            "anchor": {"event": "page_view", "filters": [{"property": "path", "op": "regex", "value": "^/(P|p)ricing"}]}}),
        json!({"kind": "paths", "date_range": all, "direction": "previous", "steps": 3, "limit": 5,
            "anchor": {"event": "feature_used", "filters": [{"property": "properties.feature", "op": "eq", "value": "share"}]}}),
        json!({"kind": "paths", "timezone": BERLIN, "date_range": range("2026-10-24", "2026-10-26"), "anchor": {}, "steps": 4,
            "filters": [{"property": "event", "op": "neq", "value": "page_view"}]}),
        json!({"kind": "paths", "date_range": all, "direction": "previous", "steps": 6, "limit": 50,
            "anchor": {"event": "activation"}}),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn differences_name_the_first_path_and_tolerate_rounding() {
        let a = json!({"series": [{"values": [1, 2.0000001, null], "total": 3}]});
        assert_eq!(
            difference("$", &a, &json!({"series": [{"values": [1.0, 2, null], "total": 3}]})),
            None
        );
        let b = json!({"series": [{"values": [1, 2.1, null], "total": 3}]});
        let (path, want, have) = difference("$", &a, &b).unwrap();
        assert_eq!(
            (path.as_str(), want.as_str(), have.as_str()),
            ("$.series[0].values[1]", "2.0000001", "2.1")
        );
        let (path, _, have) =
            difference("$", &a, &json!({"series": [{"values": [1, 2, null]}]})).unwrap();
        assert_eq!((path.as_str(), have.as_str()), ("$.series[0].total", "(absent)"));
    }

    /// The generator and the queries are sound, and the reference answers every query (the
    /// backends' side runs in their conformance suites).
    #[test]
    fn generated_data_and_queries_are_sound() {
        let project = ProjectId::new("prj_cross_check");
        let events = generated_events(&project, SEED);
        assert_eq!(events, generated_events(&project, SEED), "deterministic");
        assert!((2500..4000).contains(&events.len()), "{} events", events.len());
        let ids: HashSet<&str> = events.iter().map(|e| e.insert_id.as_str()).collect();
        assert_eq!(ids.len(), events.len(), "unique insert ids");
        let people: HashSet<&str> =
            events.iter().filter_map(|e| e.user_id.as_deref().or(e.device_id.as_deref())).collect();
        assert!((55..=120).contains(&people.len()), "{} ids", people.len());
        let last = events.iter().map(|e| e.timestamp).max().unwrap();
        assert!(last < parse_timestamp("2026-11-20T00:00:00Z").unwrap());
        let opts = PlanOptions {
            project_id: project,
            now: parse_timestamp("2026-11-20T12:00:00Z").unwrap(),
            max_buckets: 5000,
            rollups: true,
        };
        let started = std::time::Instant::now();
        for spec in queries() {
            let query: Query = serde_json::from_value(spec.clone())
                .unwrap_or_else(|e| panic!("bad query: {e}\n{spec:#}"));
            // The planner accepts it (a refusal would fail the backends' run, not this one).
            if let Err(e) = sextant_query::plan(&query, &opts, sextant_query::Dialect::DuckDb) {
                panic!("the planner refuses {spec}: {e}");
            }
            let answer = reference::answer(&query, &events, &opts);
            assert_eq!(answer["kind"], spec["kind"]);
            if std::env::var_os("SEXTANT_PRINT_REFERENCE").is_some() {
                println!("{spec}\n=> {answer}\n");
            }
        }
        println!("{} events, {} queries in {:?}", events.len(), queries().len(), started.elapsed());
    }
}
