//! Specs about how often people are active: active users over rolling windows, stickiness,
//! lifecycle.

use super::common::{Condition, DateRange, EventMatcher, Interval};
use super::version_one;
use serde::{Deserialize, Serialize};

/// Daily, weekly and monthly active users, for each day of the range: distinct people active
/// on that day, in the 7 days, and in the 30 days ending with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveUsersQuery {
    #[serde(default = "version_one")]
    pub version: u32,
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    /// What counts as activity; any event when empty.
    #[serde(default)]
    pub activity: EventMatcher,
}

/// How many days per week (or month) people are active: for `n` = 1..=7 (or 31), the number
/// of (person, period) pairs with exactly `n` active days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StickinessQuery {
    #[serde(default = "version_one")]
    pub version: u32,
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    #[serde(default)]
    pub activity: EventMatcher,
    /// `week` (default) or `month`.
    #[serde(default = "week")]
    pub period: Interval,
}

fn week() -> Interval {
    Interval::Week
}

/// Per interval: people new (first activity ever), returning (also active the interval
/// before), resurrecting (active before, but not the interval before) and dormant (active the
/// interval before, not in this one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleQuery {
    #[serde(default = "version_one")]
    pub version: u32,
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    #[serde(default)]
    pub activity: EventMatcher,
    #[serde(default)]
    pub interval: Interval,
}
