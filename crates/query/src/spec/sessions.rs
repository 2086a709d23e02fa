//! Specs over sequences of events: sessions (events sharing a `session_id`) and paths (what
//! people do next, or did before, around an anchor event).

use super::common::{Condition, DateRange, EventMatcher, Interval};
use super::version_one;
use serde::{Deserialize, Serialize};

/// Session counts and lengths per bucket, the length histogram, bounce rate and entry and
/// exit routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    #[serde(default = "version_one")]
    pub version: u32,
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Which events make up sessions (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    #[serde(default)]
    pub interval: Interval,
    /// Lower bounds, in seconds, of the length histogram's bins (ascending; the last bin is
    /// open-ended). Amplitude's bins by default.
    #[serde(default = "default_bins")]
    pub length_bins: Vec<f64>,
    /// How many entry and exit routes to list.
    #[serde(default = "default_routes")]
    pub routes: usize,
}

fn default_bins() -> Vec<f64> {
    vec![0.0, 3.0, 10.0, 30.0, 60.0, 180.0, 600.0, 1800.0, 3600.0]
}

fn default_routes() -> usize {
    10
}

/// The most common sequences of events after (or before) each person's first anchor event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathsQuery {
    #[serde(default = "version_one")]
    pub version: u32,
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    pub anchor: EventMatcher,
    #[serde(default)]
    pub direction: PathDirection,
    /// Path length including the anchor: 2..=7.
    #[serde(default = "default_steps")]
    pub steps: usize,
    /// How many paths to list.
    #[serde(default = "default_paths")]
    pub limit: usize,
}

fn default_steps() -> usize {
    3
}

fn default_paths() -> usize {
    20
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PathDirection {
    #[default]
    Next,
    Previous,
}
