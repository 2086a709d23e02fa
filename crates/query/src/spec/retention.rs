//! The retention spec: of the people who did a start event in a period, how many came back
//! in each later period.

use super::common::{Breakdown, Condition, DateRange, EventMatcher, Interval};
use super::version_one;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionQuery {
    #[serde(default = "version_one")]
    pub version: u32,
    /// Cohorts are the periods in this range; returns are counted up to now.
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Applied to start and return events (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    /// What puts a person into a cohort.
    pub start: EventMatcher,
    /// What counts as coming back; any event when the matcher is empty.
    #[serde(rename = "return", default)]
    pub return_event: EventMatcher,
    /// `day`, `week` or `month`.
    #[serde(default)]
    pub period: Interval,
    /// Periods per cohort, counting period 0 (the cohort's own): 2..=100.
    #[serde(default = "default_intervals")]
    pub intervals: usize,
    #[serde(default)]
    pub cohort: CohortType,
    #[serde(default)]
    pub mode: RetentionMode,
    /// For `bracket` mode: inclusive ranges of periods, e.g. `[[1, 1], [2, 7], [8, 30]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brackets: Vec<[u32; 2]>,
    /// By a property of the start event that put the person in the cohort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
}

fn default_intervals() -> usize {
    8
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CohortType {
    /// Each period in which a person did the start event is a cohort they belong to.
    #[default]
    Recurring,
    /// A person belongs only to the cohort of their first start event ever.
    FirstTime,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RetentionMode {
    /// Period `n` counts people who returned in exactly that period.
    #[default]
    NDay,
    /// Period `n` counts people who returned in that period or any later one.
    Rolling,
    /// One count per bracket: people who returned in any period of it.
    Bracket,
}
