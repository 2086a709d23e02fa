//! The trends spec: series of counts or property statistics per time bucket.

use super::common::{Breakdown, Condition, DateRange, Interval, PropertyRef};
use super::version_one;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    /// Spec version; only `1` exists.
    #[serde(default = "version_one")]
    pub version: u32,
    /// What to count; 1 to 20 series, named `A`, `B`, ... in formulas.
    pub series: Vec<Series>,
    #[serde(default)]
    pub interval: Interval,
    pub date_range: DateRange,
    /// IANA time zone for buckets and calendar ranges; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Applied to every series (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
    /// Adds each series over an earlier period, aligned bucket by bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<Compare>,
    /// Arithmetic over series letters, e.g. `A / B * 100`; added as one more series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// Running totals: each bucket includes every earlier one.
    #[serde(default)]
    pub cumulative: bool,
}

/// One line on the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// Event type to count; `None` counts every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default)]
    pub math: Math,
    /// The numeric property for `sum`, `avg`, `min`, `max`, `median` and `p90`..`p99`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<PropertyRef>,
    /// Applied to this series only (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    /// Display name; defaults to the event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Math {
    /// Number of events.
    #[default]
    Total,
    /// Distinct people (anonymous devices resolved to the user they were linked to).
    UniqueUsers,
    /// Distinct session ids.
    UniqueSessions,
    /// Events per person active in the bucket (doing any event that passes the filters).
    DauNormalised,
    /// Events per person who did this event in the bucket.
    PerUserAverage,
    Sum,
    Avg,
    Min,
    Max,
    Median,
    P90,
    P95,
    P99,
}

impl Math {
    /// Maths over a numeric property.
    pub fn needs_property(self) -> bool {
        matches!(
            self,
            Math::Sum
                | Math::Avg
                | Math::Min
                | Math::Max
                | Math::Median
                | Math::P90
                | Math::P95
                | Math::P99
        )
    }

    /// The quantile (0..1) a percentile math asks for.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Math::Median => Some(0.5),
            Math::P90 => Some(0.9),
            Math::P95 => Some(0.95),
            Math::P99 => Some(0.99),
            _ => None,
        }
    }

    /// Whether the value over several buckets is the sum of the bucket values.
    pub fn is_additive(self) -> bool {
        matches!(self, Math::Total | Math::Sum)
    }
}

/// Which earlier period a trends query is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// The same length of time, immediately before.
    PreviousPeriod,
    /// The same dates one year earlier.
    PreviousYear,
}
