//! Query specs: plain serialisable data, so alerts, dashboards and reports can store and re-run
//! them. Documented in `docs/api.md`; new fields must be optional (`#[serde(default)]`).

use serde::{Deserialize, Serialize};

/// Any query Sextant can answer. The `kind` tag selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Query {
    Trends(TrendsQuery),
}

impl Query {
    pub fn kind(&self) -> &'static str {
        match self {
            Query::Trends(_) => "trends",
        }
    }
}

/// Event counts or unique users per time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    /// Spec version; only `1` exists.
    #[serde(default = "version_one")]
    pub version: u32,
    /// What to count; at least one.
    pub series: Vec<Series>,
    #[serde(default)]
    pub interval: Interval,
    pub date_range: DateRange,
    /// Applied to every series (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
}

fn version_one() -> u32 {
    1
}

/// One line on the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// Event type to count; `None` counts every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default)]
    pub math: Math,
    /// Applied to this series only (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// Display name; defaults to the event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Math {
    /// Number of events.
    #[default]
    Total,
    /// Distinct people (`person_id`).
    UniqueUsers,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Minute,
    Hour,
    #[default]
    Day,
    /// ISO weeks, starting Monday.
    Week,
    Month,
}

impl Interval {
    pub fn name(self) -> &'static str {
        match self {
            Interval::Minute => "minute",
            Interval::Hour => "hour",
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }
}

/// `[from, to)`. Each end is an RFC 3339 timestamp, a date (`from`: its first instant; `to`:
/// the end of that day, so dates are inclusive), `now`, or relative to now: `-30m`, `-24h`,
/// `-7d`, `-4w`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A condition on one property of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub property: PropertyRef,
    pub op: FilterOp,
    /// A scalar; a list means "any of" for `eq` and "none of" for `neq`. Absent for `is_set`
    /// and `is_not_set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Eq,
    Neq,
    /// Case-insensitive substring.
    Contains,
    NotContains,
    Gt,
    Gte,
    Lt,
    Lte,
    IsSet,
    IsNotSet,
}

/// Split each series by the values of one property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    pub property: PropertyRef,
    /// Keep the most frequent values only.
    #[serde(default = "default_breakdown_limit")]
    pub limit: usize,
}

fn default_breakdown_limit() -> usize {
    25
}

/// A built-in column (`country`, `app`, ...), a custom property: `properties.plan` or, for
/// nested objects, `properties.plan.tier`, or a person property set by identify calls
/// (`$set`, `$set_once`, traits): `person.company`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PropertyRef {
    Column(Column),
    /// Path of keys into `properties`.
    Custom(Vec<String>),
    /// Path of keys into the person's properties.
    Person(Vec<String>),
}

/// Built-in event columns that queries may filter and break down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Event,
    InsertId,
    UserId,
    DeviceId,
    PersonId,
    SessionId,
    App,
    Url,
    Host,
    Path,
    Route,
    Referrer,
    EntityType,
    EntityId,
    DeviceType,
    Browser,
    Os,
    Country,
    Value,
    Library,
}

impl Column {
    pub const ALL: [Column; 20] = [
        Column::Event,
        Column::InsertId,
        Column::UserId,
        Column::DeviceId,
        Column::PersonId,
        Column::SessionId,
        Column::App,
        Column::Url,
        Column::Host,
        Column::Path,
        Column::Route,
        Column::Referrer,
        Column::EntityType,
        Column::EntityId,
        Column::DeviceType,
        Column::Browser,
        Column::Os,
        Column::Country,
        Column::Value,
        Column::Library,
    ];

    /// The column's name in every backend's events table.
    pub fn name(self) -> &'static str {
        match self {
            Column::Event => "event",
            Column::InsertId => "insert_id",
            Column::UserId => "user_id",
            Column::DeviceId => "device_id",
            Column::PersonId => "person_id",
            Column::SessionId => "session_id",
            Column::App => "app",
            Column::Url => "url",
            Column::Host => "host",
            Column::Path => "path",
            Column::Route => "route",
            Column::Referrer => "referrer",
            Column::EntityType => "entity_type",
            Column::EntityId => "entity_id",
            Column::DeviceType => "device_type",
            Column::Browser => "browser",
            Column::Os => "os",
            Column::Country => "country",
            Column::Value => "value",
            Column::Library => "library",
        }
    }

    pub fn is_numeric(self) -> bool {
        self == Column::Value
    }
}

impl TryFrom<String> for PropertyRef {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let keys = |path: &str| -> Result<Vec<String>, String> {
            let keys: Vec<String> = path.split('.').map(str::to_owned).collect();
            if keys.iter().any(String::is_empty) {
                return Err(format!("`{text}` has an empty key"));
            }
            Ok(keys)
        };
        if let Some(path) = text.strip_prefix("properties.") {
            return keys(path).map(PropertyRef::Custom);
        }
        if let Some(path) = text.strip_prefix("person.") {
            return keys(path).map(PropertyRef::Person);
        }
        Column::ALL.into_iter().find(|c| c.name() == text).map(PropertyRef::Column).ok_or_else(
            || {
                format!(
                    "unknown property `{text}`; use a built-in column, `properties.<key>` or `person.<key>`"
                )
            },
        )
    }
}

impl From<PropertyRef> for String {
    fn from(p: PropertyRef) -> String {
        match p {
            PropertyRef::Column(c) => c.name().to_owned(),
            PropertyRef::Custom(keys) => format!("properties.{}", keys.join(".")),
            PropertyRef::Person(keys) => format!("person.{}", keys.join(".")),
        }
    }
}
