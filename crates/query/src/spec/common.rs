//! The vocabulary every query kind shares: date ranges, intervals, filters and their groups,
//! property references, breakdowns.

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Minute,
    Hour,
    #[default]
    Day,
    /// ISO weeks, starting Monday.
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn name(self) -> &'static str {
        match self {
            Interval::Minute => "minute",
            Interval::Hour => "hour",
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }
}

/// `[from, to)`. Each end is an RFC 3339 timestamp, a date (`from`: its first instant; `to`:
/// the end of that day, so dates are inclusive), `now`, or relative to now: `-30m`, `-24h`,
/// `-7d`, `-4w`. `from` may also name a calendar period in the query's time zone: `today`,
/// `yesterday`, `this_week`, `last_week`, `this_month`, `last_month`, `this_year`,
/// `last_year`; without `to`, the range is that period (up to now for current ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A condition on one property of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub property: PropertyRef,
    pub op: FilterOp,
    /// A scalar; a list means "any of" for `eq` and "none of" for `neq`. Absent for `is_set`
    /// and `is_not_set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Regular expression (RE2 syntax), matched anywhere in the text.
    Regex,
    NotRegex,
    /// Inclusive numeric range: `value` is `[low, high]`.
    Between,
}

/// A filter, or a group of conditions: `{"any": [...]}` (OR) or `{"all": [...]}` (AND).
/// Lists of conditions elsewhere in a query are ANDed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Condition {
    Filter(Filter),
    Any { any: Vec<Condition> },
    All { all: Vec<Condition> },
}

impl<'de> Deserialize<'de> for Condition {
    /// By hand rather than `untagged`, so a bad filter gets its own error message instead of
    /// "did not match any variant".
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        let group = |key: &str| -> Option<Result<Vec<Condition>, D::Error>> {
            let object = value.as_object()?;
            let items = object.get(key)?;
            if object.len() != 1 {
                return Some(Err(D::Error::custom(format!(
                    "a condition group has only the key `{key}`"
                ))));
            }
            Some(Vec::<Condition>::deserialize(items).map_err(D::Error::custom))
        };
        if let Some(any) = group("any") {
            return any.map(|any| Condition::Any { any });
        }
        if let Some(all) = group("all") {
            return all.map(|all| Condition::All { all });
        }
        Filter::deserialize(value).map(Condition::Filter).map_err(D::Error::custom)
    }
}

impl Condition {
    /// Every filter in the condition, however deeply grouped.
    pub fn filters(&self) -> Vec<&Filter> {
        match self {
            Condition::Filter(f) => vec![f],
            Condition::Any { any: items } | Condition::All { all: items } => {
                items.iter().flat_map(Condition::filters).collect()
            }
        }
    }
}

/// What one funnel step, retention event or series matches: an event type (any when absent)
/// and conditions on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventMatcher {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Condition>,
    /// Display name; defaults to the event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl EventMatcher {
    pub fn display(&self) -> String {
        self.label.clone().or_else(|| self.event.clone()).unwrap_or_else(|| "any event".to_owned())
    }
}

/// Split results by the values of one property (or, in trends, two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    pub property: PropertyRef,
    /// A second property: groups are value pairs, reported as `[first, second]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub and: Option<PropertyRef>,
    /// Keep the most frequent values only.
    #[serde(default = "default_breakdown_limit")]
    pub limit: usize,
    /// Fold the values past `limit` into one `"$other"` group instead of dropping them.
    #[serde(default)]
    pub other: bool,
}

/// The value reported for the group of values past a breakdown's limit.
pub const OTHER_GROUP: &str = "$other";

fn default_breakdown_limit() -> usize {
    25
}

/// A built-in column (`country`, `app`, ...), a custom property: `properties.plan` or, for
/// nested objects, `properties.plan.tier`, or a person property set by identify calls
/// (`$set`, `$set_once`, traits): `person.company`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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
