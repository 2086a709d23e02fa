//! Result shapes of the query kinds beyond trends, and the number and instant types every
//! result uses. Field meanings are in `docs/queries.md`.

use crate::{FunnelOrder, Interval};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A measured number: integral values print as JSON integers (counts stay `3`, not `3.0`),
/// others keep at most 6 decimals, so results from different backends compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            // Exact: integral and far inside i64's range.
            #[allow(clippy::cast_possible_truncation)]
            return serializer.serialize_i64(v as i64);
        }
        serializer.serialize_f64((v * 1e6).round() / 1e6)
    }
}

impl schemars::JsonSchema for Num {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Num".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "number"})
    }
}

impl From<u64> for Num {
    fn from(v: u64) -> Self {
        #[allow(clippy::cast_precision_loss)]
        Num(v as f64)
    }
}

/// A point in time as seen in the query's time zone: serialised as RFC 3339 with that zone's
/// offset (`Z` for UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(pub DateTime<FixedOffset>);

impl LocalTime {
    pub fn utc(&self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl schemars::JsonSchema for LocalTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LocalTime".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date-time"})
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A breakdown group of funnels and retention: folded into `$other`, or its value (`None`
/// for events without the property).
pub(crate) type GroupKey = (bool, Option<String>);

/// How a [`GroupKey`] is reported.
pub(crate) fn group_value((other, value): &GroupKey) -> Value {
    match (other, value) {
        (true, _) => Value::String(crate::OTHER_GROUP.to_owned()),
        (false, None) => Value::Null,
        (false, Some(v)) => Value::String(v.clone()),
    }
}

/// A percentage with two decimals, `0` when the denominator is `0`.
pub(crate) fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let ratio = part as f64 / whole as f64;
    (ratio * 10_000.0).round() / 100.0
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FunnelResult {
    pub order: FunnelOrder,
    pub window_seconds: i64,
    pub from: LocalTime,
    pub to: LocalTime,
    /// One group without a breakdown; otherwise one per breakdown value, largest first.
    pub groups: Vec<FunnelGroup>,
    /// Over people who reached the last step (all groups).
    pub time_to_convert: Vec<HistogramBin>,
    pub conversion_trend: ConversionTrend,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FunnelGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown_value: Option<Value>,
    pub steps: Vec<FunnelStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FunnelStep {
    pub step: usize,
    pub label: String,
    /// People who reached this step.
    pub count: u64,
    /// Percent of the previous step's people (100 for step 0 when anyone entered).
    pub conversion_from_previous: f64,
    /// Percent of step 0's people.
    pub conversion_overall: f64,
    pub avg_seconds_from_previous: Option<Num>,
    pub median_seconds_from_previous: Option<Num>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HistogramBin {
    pub from_seconds: Num,
    /// `null` for an open-ended last bin.
    pub to_seconds: Option<Num>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ConversionTrend {
    pub interval: Interval,
    pub buckets: Vec<LocalTime>,
    pub entered: Vec<u64>,
    pub completed: Vec<u64>,
    /// Percent of `entered`.
    pub rate: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FunnelPersonsResult {
    pub persons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RetentionResult {
    pub period: Interval,
    pub from: LocalTime,
    pub to: LocalTime,
    /// Cohorts in time order (then by breakdown value); only non-empty ones.
    pub cohorts: Vec<Cohort>,
    /// One per breakdown value (one without a breakdown).
    pub summary: Vec<RetentionSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Cohort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown_value: Option<Value>,
    /// Start of the cohort's period.
    pub start: LocalTime,
    pub size: u64,
    /// `[size, period 1, ...]` (`n_day`, `rolling`) or `[size, bracket 1, ...]`; `null` for
    /// periods that have not started.
    pub counts: Vec<Option<u64>>,
    pub percentages: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RetentionSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown_value: Option<Value>,
    /// Per position: the sum of the non-null counts, and of the sizes of those cohorts.
    pub counts: Vec<u64>,
    pub sizes: Vec<u64>,
    pub percentages: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ActiveUsersResult {
    pub from: LocalTime,
    pub to: LocalTime,
    pub days: Vec<LocalTime>,
    pub dau: Vec<u64>,
    pub wau: Vec<u64>,
    pub mau: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StickinessResult {
    pub period: Interval,
    pub from: LocalTime,
    pub to: LocalTime,
    /// `counts[n - 1]`: (person, period) pairs with exactly `n` active days.
    pub counts: Vec<u64>,
    pub periods: Vec<StickinessPeriod>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StickinessPeriod {
    pub start: LocalTime,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LifecycleResult {
    pub interval: Interval,
    pub from: LocalTime,
    pub to: LocalTime,
    pub buckets: Vec<LocalTime>,
    pub new: Vec<u64>,
    pub returning: Vec<u64>,
    pub resurrecting: Vec<u64>,
    pub dormant: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SessionsResult {
    pub interval: Interval,
    pub from: LocalTime,
    pub to: LocalTime,
    /// Sessions belong to the bucket of their first event.
    pub buckets: Vec<LocalTime>,
    pub sessions: Vec<u64>,
    pub avg_seconds: Vec<Option<Num>>,
    pub median_seconds: Vec<Option<Num>>,
    /// Sessions ÷ distinct people with a session in the bucket.
    pub sessions_per_user: Vec<Option<Num>>,
    /// Percent of sessions with a single event.
    pub bounce_rate: Vec<f64>,
    /// The same measures over the whole range.
    pub total: SessionTotals,
    pub length_histogram: Vec<HistogramBin>,
    /// Route (else path) of sessions' first and last events, most sessions first.
    pub entry_routes: Vec<RouteCount>,
    pub exit_routes: Vec<RouteCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SessionTotals {
    pub sessions: u64,
    pub avg_seconds: Option<Num>,
    pub median_seconds: Option<Num>,
    pub sessions_per_user: Option<Num>,
    pub bounce_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RouteCount {
    pub route: Option<String>,
    pub sessions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PathsResult {
    pub from: LocalTime,
    pub to: LocalTime,
    /// Event sequences starting (or, for `previous`, ending) at the anchor, most people first.
    pub paths: Vec<PathCount>,
    /// Step-to-step moves over every person's path, for Sankey charts.
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PathCount {
    pub events: Vec<String>,
    pub people: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Transition {
    /// Position of `from` in its walk, listed in time order (0 = the walk's first event).
    pub step: usize,
    pub from: String,
    pub to: String,
    pub people: u64,
}
