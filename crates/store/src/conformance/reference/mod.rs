//! A plain-Rust implementation of `docs/queries.md`, written from the document alone (not from
//! the SQL planner), to cross-check backends on generated data. Clarity over speed: every
//! answer is recomputed from the event list by brute force.
//!
//! It builds the public result types of `sextant_query` and returns what they serialise to,
//! so its answers compare with a backend's `serde_json::to_value(result)`.
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod activity;
mod filters;
mod formula;
mod funnel;
mod paths;
mod regex;
mod retention;
mod sessions;
#[cfg(test)]
mod tests;
mod trends;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sextant_core::Event;
use sextant_query::{
    Breakdown, DateRange, Interval, OTHER_GROUP, PlanOptions, Query, QueryResult, TimeRange, Zone,
};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// What a backend answers to `query` over `events` (one project's events, in append order),
/// as JSON.
pub fn answer(query: &Query, events: &[Event], opts: &PlanOptions) -> Value {
    let project: Vec<Event> =
        events.iter().filter(|e| e.project_id == opts.project_id).cloned().collect();
    let data = Data::new(&project);
    let result = match query {
        Query::Trends(q) => QueryResult::Trends(trends::answer(q, &data, opts)),
        Query::Funnel(q) => QueryResult::Funnel(funnel::answer(q, &data, opts)),
        Query::FunnelPersons(q) => QueryResult::FunnelPersons(funnel::persons(q, &data, opts)),
        Query::Retention(q) => QueryResult::Retention(retention::answer(q, &data, opts)),
        Query::ActiveUsers(q) => QueryResult::ActiveUsers(activity::active_users(q, &data, opts)),
        Query::Stickiness(q) => QueryResult::Stickiness(activity::stickiness(q, &data, opts)),
        Query::Lifecycle(q) => QueryResult::Lifecycle(activity::lifecycle(q, &data, opts)),
        Query::Sessions(q) => QueryResult::Sessions(sessions::answer(q, &data, opts)),
        Query::Paths(q) => QueryResult::Paths(paths::answer(q, &data, opts)),
    };
    serde_json::to_value(result).unwrap()
}

/// One event with what every query needs about it.
#[derive(Debug, Clone)]
struct Row<'a> {
    event: &'a Event,
    /// The resolved person, if any.
    person: Option<String>,
    micros: i64,
}

impl Row<'_> {
    fn time(&self) -> DateTime<Utc> {
        self.event.timestamp
    }

    fn in_range(&self, range: &TimeRange) -> bool {
        range.from <= self.time() && self.time() < range.to
    }
}

/// A project's events, ordered by time then `insert_id`, with resolved persons.
#[derive(Debug)]
struct Data<'a> {
    rows: Vec<Row<'a>>,
}

impl<'a> Data<'a> {
    /// Persons: the user id; else, for a device ever seen together with a user id, the first
    /// such user in append order; else the device id.
    fn new(events: &'a [Event]) -> Self {
        let mut links: HashMap<&str, &str> = HashMap::new();
        for e in events {
            if let (Some(user), Some(device)) = (&e.user_id, &e.device_id) {
                links.entry(device.as_str()).or_insert(user.as_str());
            }
        }
        let person = |e: &Event| -> Option<String> {
            if let Some(user) = &e.user_id {
                return Some(user.clone());
            }
            let device = e.device_id.as_deref()?;
            Some(links.get(device).copied().unwrap_or(device).to_owned())
        };
        let mut rows: Vec<Row<'a>> = events
            .iter()
            .map(|e| Row { event: e, person: person(e), micros: e.timestamp.timestamp_micros() })
            .collect();
        rows.sort_by(|a, b| {
            a.micros.cmp(&b.micros).then_with(|| a.event.insert_id.cmp(&b.event.insert_id))
        });
        Data { rows }
    }

    /// Rows of people only (person-based measures ignore the others), grouped by person, each
    /// person's rows in time order, people in id order.
    fn by_person<'d>(
        &'d self,
        keep: impl Fn(&Row<'a>) -> bool,
    ) -> BTreeMap<&'d str, Vec<&'d Row<'a>>> {
        let mut people: BTreeMap<&str, Vec<&Row<'a>>> = BTreeMap::new();
        for row in &self.rows {
            if let Some(person) = row.person.as_deref()
                && keep(row)
            {
                people.entry(person).or_default().push(row);
            }
        }
        people
    }
}

/// The query's zone and resolved range.
fn resolve(range: &DateRange, timezone: Option<&str>, opts: &PlanOptions) -> (Zone, TimeRange) {
    let zone = Zone::parse(timezone).unwrap();
    let range = range.resolve(opts.now, zone).unwrap();
    (zone, range)
}

/// Local bucket starts covering `range`.
fn buckets(
    interval: Interval,
    range: TimeRange,
    zone: Zone,
    opts: &PlanOptions,
) -> Vec<chrono::NaiveDateTime> {
    interval.buckets(range, zone, opts.max_buckets).unwrap()
}

/// The start of the local `interval` bucket containing `t`.
fn bucket_of(interval: Interval, zone: Zone, t: DateTime<Utc>) -> chrono::NaiveDateTime {
    interval.truncate(zone.local(t))
}

/// `part / whole` in percent with two decimals; 0 when `whole` is 0.
#[allow(clippy::cast_precision_loss)]
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    ((part as f64 / whole as f64) * 10_000.0).round() / 100.0
}

/// DuckDB's `quantile_cont`: position `q * (n - 1)` in the sorted values, interpolated.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    Some(sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64))
}

#[allow(clippy::cast_precision_loss)]
fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Seconds between two instants given in microseconds.
#[allow(clippy::cast_precision_loss)]
fn seconds(from_micros: i64, to_micros: i64) -> f64 {
    (to_micros - from_micros) as f64 / 1e6
}

/// Order of breakdown values when counts tie: strings (by text), then numbers, then `null`;
/// pairs element by element.
fn value_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::String(_) => 0,
            Value::Number(_) => 1,
            Value::Array(_) => 2,
            _ => 3,
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(0.0).total_cmp(&y.as_f64().unwrap_or(0.0))
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .map(|(x, y)| value_order(x, y))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A breakdown group as reported: a value (or pair), or the folded rest.
#[derive(Debug, Clone, PartialEq)]
enum Group {
    Value(Value),
    Other,
}

impl Group {
    fn to_json(&self) -> Value {
        match self {
            Group::Value(v) => v.clone(),
            Group::Other => Value::String(OTHER_GROUP.to_owned()),
        }
    }

    /// Values (by [`value_order`]) before the folded rest.
    fn order(&self, other: &Group) -> Ordering {
        match (self, other) {
            (Group::Value(a), Group::Value(b)) => value_order(a, b),
            (Group::Value(_), Group::Other) => Ordering::Less,
            (Group::Other, Group::Value(_)) => Ordering::Greater,
            (Group::Other, Group::Other) => Ordering::Equal,
        }
    }
}

/// Which breakdown values are kept: the `limit` with the most matching events (ties by value);
/// the rest are dropped or, with `other`, folded into `"$other"`.
#[derive(Debug)]
struct Selection {
    kept: Vec<Value>,
    other: bool,
}

impl Selection {
    /// `values`: the breakdown value of every matching event (or person, where a kind counts
    /// people).
    fn new<'v>(values: impl IntoIterator<Item = &'v Value>, breakdown: &Breakdown) -> Self {
        let mut counts: Vec<(Value, u64)> = Vec::new();
        for v in values {
            match counts.iter_mut().find(|(seen, _)| seen == v) {
                Some((_, n)) => *n += 1,
                None => counts.push((v.clone(), 1)),
            }
        }
        counts.sort_by(|(va, a), (vb, b)| b.cmp(a).then_with(|| value_order(va, vb)));
        let kept = counts.into_iter().take(breakdown.limit).map(|(v, _)| v).collect();
        Selection { kept, other: breakdown.other }
    }

    /// The group a value is reported in, `None` when dropped.
    fn group(&self, v: &Value) -> Option<Group> {
        if self.kept.contains(v) {
            Some(Group::Value(v.clone()))
        } else {
            self.other.then_some(Group::Other)
        }
    }
}

/// Distinct values, counted.
fn distinct<T: Ord>(items: impl IntoIterator<Item = T>) -> u64 {
    items.into_iter().collect::<std::collections::BTreeSet<T>>().len() as u64
}
