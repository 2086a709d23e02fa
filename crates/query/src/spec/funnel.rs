//! The funnel spec: people moving through 2–20 steps within a conversion window.

use super::common::{Breakdown, Condition, DateRange, EventMatcher, Interval};
use super::version_one;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelQuery {
    #[serde(default = "version_one")]
    pub version: u32,
    /// 2 to 20 steps. Every step's event must fall in `date_range`.
    pub steps: Vec<EventMatcher>,
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Applied to every step and exclusion (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    /// Longest time from the first step to the last: `30m`, `12h`, `14d`, `2w`.
    #[serde(default = "default_window")]
    pub window: String,
    #[serde(default)]
    pub order: FunnelOrder,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<Exclusion>,
    /// By a property of the first step's event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
    /// Buckets of the conversion trend (by when people entered the funnel).
    #[serde(default)]
    pub interval: Interval,
    /// Bins of the time-to-convert histogram.
    #[serde(default = "default_bins")]
    pub histogram_bins: usize,
}

fn default_window() -> String {
    "14d".to_owned()
}

fn default_bins() -> usize {
    10
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FunnelOrder {
    /// Steps in order; other events may happen in between.
    #[default]
    Ordered,
    /// Steps in order with no other event of the person in between.
    Strict,
    /// Steps in any order; step `k` of the result counts people who did any `k + 1` steps.
    Unordered,
}

/// An attempt is void when this event happens strictly between step `from_step` and step
/// `to_step` of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    #[serde(default)]
    pub from_step: usize,
    #[serde(default = "last_step")]
    pub to_step: usize,
}

fn last_step() -> usize {
    usize::MAX
}

/// The people at one step of a funnel: those who reached it and went on (`converted`), or
/// reached the step before and stopped (`dropped`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelPersonsQuery {
    pub funnel: FunnelQuery,
    /// Index of the step (0-based).
    pub step: usize,
    #[serde(default)]
    pub status: PersonStatus,
    /// Restricts to one breakdown value of the funnel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown_value: Option<serde_json::Value>,
    /// Page size, 1..=1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// Reached step `step - 1` and not step `step`.
    #[default]
    Dropped,
    /// Reached step `step`.
    Converted,
}
