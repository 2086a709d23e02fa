//! Amplitude Dashboard REST API parameters → Sextant's query vocabulary: the query string,
//! dates, intervals, and the JSON parameters (events `e`, segments `s`, group-bys `g`) with
//! their property names and filter operators. Pure; an error is the message of a 400.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use sextant_query::{
    Breakdown, Column, Condition, DateRange, EventMatcher, Filter, FilterOp, Interval, PropertyRef,
};

/// What went wrong, for the client.
pub(crate) type Invalid = String;

/// Most group-by values an answer lists (Amplitude's `limit`, default 100).
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

/// A request's query string, each name possibly repeated, checked against the names the
/// endpoint takes.
#[derive(Debug)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Refuses names outside `known`, saying which Amplitude parameters are not supported.
    pub(crate) fn new(pairs: Vec<(String, String)>, known: &[&str]) -> Result<Self, Invalid> {
        for (name, _) in &pairs {
            if known.contains(&name.as_str()) {
                continue;
            }
            return Err(match name.as_str() {
                "rollingWindow" | "rollingAverage" | "timezone" | "tz" | "se2" | "e3" => {
                    format!("`{name}` is not supported by Sextant's Amplitude API")
                }
                _ => {
                    format!("unknown parameter `{name}`; this endpoint takes {}", known.join(", "))
                }
            });
        }
        Ok(Self(pairs))
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The parameter's value; given twice is an error.
    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, Invalid> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [value] => Ok(Some(value)),
            _ => Err(format!("`{name}` is given more than once")),
        }
    }

    pub(crate) fn required(&self, name: &str) -> Result<&str, Invalid> {
        self.one(name)?.ok_or_else(|| format!("`{name}` is required"))
    }

    /// `start` and `end` (`YYYYMMDD`, both days included).
    pub(crate) fn dates(&self) -> Result<(NaiveDate, NaiveDate), Invalid> {
        let start = date(self.required("start")?, "start")?;
        let end = date(self.required("end")?, "end")?;
        if end < start {
            return Err(format!("`end` ({end}) is before `start` ({start})"));
        }
        Ok((start, end))
    }

    /// The days from `start` to `end`, both included.
    pub(crate) fn date_range(&self) -> Result<DateRange, Invalid> {
        let (start, end) = self.dates()?;
        Ok(DateRange { from: start.to_string(), to: Some(end.to_string()) })
    }

    /// `i`: 1 (daily, the default), 7 (weekly), 30 (monthly); -3600000 (hourly) where allowed.
    pub(crate) fn interval(&self, hourly: bool) -> Result<Interval, Invalid> {
        match self.one("i")? {
            None | Some("1") => Ok(Interval::Day),
            Some("7") => Ok(Interval::Week),
            Some("30") => Ok(Interval::Month),
            Some("-3600000") if hourly => Ok(Interval::Hour),
            Some("-300000") => Err("`i=-300000` (real-time, 5-minute buckets) is not supported; \
                                    use -3600000 (hourly), 1, 7 or 30"
                .to_owned()),
            Some(other) => Err(format!(
                "`i` must be {}1 (daily), 7 (weekly) or 30 (monthly), not `{other}`",
                if hourly { "-3600000 (hourly), " } else { "" }
            )),
        }
    }

    /// The segment `s`: its conditions, ANDed. Only one segment is supported.
    pub(crate) fn segment(&self) -> Result<Vec<Condition>, Invalid> {
        match self.all("s").as_slice() {
            [] => Ok(Vec::new()),
            [one] => segment(one),
            _ => Err("only one segment `s` is supported".to_owned()),
        }
    }

    /// Group-bys `g` (user properties).
    pub(crate) fn group_by(&self) -> Result<Vec<PropertyRef>, Invalid> {
        self.all("g").into_iter().map(|g| property(g, Scope::User)).collect()
    }

    /// `limit`: how many group-by values (1..=1000, default 100).
    pub(crate) fn limit(&self) -> Result<usize, Invalid> {
        let Some(text) = self.one("limit")? else { return Ok(DEFAULT_LIMIT) };
        text.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| {
            format!("`limit` must be a whole number from 1 to {MAX_LIMIT}, not `{text}`")
        })
    }
}

/// A breakdown over `properties` (none, one or two), keeping the `limit` largest groups.
pub(crate) fn breakdown(
    properties: Vec<PropertyRef>,
    limit: usize,
    max: usize,
) -> Result<Option<Breakdown>, Invalid> {
    if properties.len() > max {
        return Err(format!("at most {max} group-by properties here, not {}", properties.len()));
    }
    let mut properties = properties.into_iter();
    Ok(properties.next().map(|property| Breakdown {
        property,
        and: properties.next(),
        limit,
        other: false,
    }))
}

/// `YYYYMMDD`.
fn date(text: &str, name: &str) -> Result<NaiveDate, Invalid> {
    let well_formed = text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit());
    well_formed
        .then(|| NaiveDate::parse_from_str(text, "%Y%m%d").ok())
        .flatten()
        .ok_or_else(|| format!("`{name}` must be a date formatted YYYYMMDD, not `{text}`"))
}

/// Whose property a name is: the event's, or the user's (Amplitude's user properties include
/// the device and location fields every event carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Event,
    User,
}

/// An Amplitude property name as a Sextant property: `gp:<key>` is a custom user property
/// (`person.<key>`), Amplitude's built-in names map to columns or to where the Amplitude
/// ingestion keeps them, and other event property names to `properties.<key>`. Dots address
/// nested objects, as Amplitude shows them.
pub(crate) fn property(name: &str, scope: Scope) -> Result<PropertyRef, Invalid> {
    let keys = |path: &str| -> Result<Vec<String>, Invalid> {
        let keys: Vec<String> = path.split('.').map(str::to_owned).collect();
        if keys.iter().any(String::is_empty) {
            return Err(format!("property `{name}` has an empty key"));
        }
        Ok(keys)
    };
    if let Some(path) = name.strip_prefix("gp:") {
        return keys(path).map(PropertyRef::Person);
    }
    let column = match name {
        "event_type" => Column::Event,
        "user_id" => Column::UserId,
        "device_id" => Column::DeviceId,
        "session_id" => Column::SessionId,
        "country" => Column::Country,
        "os" | "os_name" => Column::Os,
        "device_type" => Column::DeviceType,
        "library" => Column::Library,
        "revenue" | "$revenue" => Column::Value,
        // Device and location fields without a column: the Amplitude ingestion keeps them in
        // `properties` under these names.
        "version" => return Ok(PropertyRef::Custom(vec!["app_version".to_owned()])),
        "platform"
        | "app_version"
        | "os_version"
        | "device_brand"
        | "device_manufacturer"
        | "device_model"
        | "carrier"
        | "city"
        | "region"
        | "dma"
        | "language" => {
            return Ok(PropertyRef::Custom(vec![name.to_owned()]));
        }
        _ if scope == Scope::Event => return keys(name).map(PropertyRef::Custom),
        _ => {
            return Err(format!(
                "unknown user property `{name}`: custom user properties take the `gp:` prefix \
                 (`gp:{name}`); built-in ones are country, os, platform, device_type, city, \
                 region, language, version, user_id, ..."
            ));
        }
    };
    Ok(PropertyRef::Column(column))
}

/// Amplitude's "no value" in filters and group labels.
pub(crate) const NONE: &str = "(none)";

/// A filter of an Amplitude operator on `property`.
pub(crate) fn condition(
    property: PropertyRef,
    op: &str,
    values: &[Value],
) -> Result<Condition, Invalid> {
    let name = String::from(property.clone());
    if values.is_empty() {
        return Err(format!("the filter on `{name}` has no values"));
    }
    let filter = |op: FilterOp, value: Option<Value>| {
        Condition::Filter(Filter { property: property.clone(), op, value })
    };
    let text = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("the filter on `{name}` compares with text or numbers, not {other}")),
    };
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    };
    // Equality on the numeric column compares numbers; everywhere else text.
    let comparable = |v: &Value| -> Result<Value, Invalid> {
        if matches!(property, PropertyRef::Column(c) if c.is_numeric()) {
            number(v)
                .map(Value::from)
                .ok_or_else(|| format!("the filter on `{name}` needs numbers, not {v}"))
        } else {
            text(v).map(Value::String)
        }
    };
    let group = |mut items: Vec<Condition>, any: bool| {
        if items.len() == 1 {
            items.remove(0)
        } else if any {
            Condition::Any { any: items }
        } else {
            Condition::All { all: items }
        }
    };
    Ok(match op {
        "is" | "is not" => {
            let positive = op == "is";
            let (none, some): (Vec<&Value>, Vec<&Value>) =
                values.iter().partition(|v| v.as_str() == Some(NONE));
            let mut items = Vec::new();
            if !none.is_empty() {
                items.push(filter(
                    if positive { FilterOp::IsNotSet } else { FilterOp::IsSet },
                    None,
                ));
            }
            if !some.is_empty() {
                let list = some.into_iter().map(comparable).collect::<Result<Vec<_>, _>>()?;
                let op = if positive { FilterOp::Eq } else { FilterOp::Neq };
                items.push(filter(op, Some(Value::Array(list))));
            }
            group(items, positive)
        }
        "contains" | "does not contain" => {
            let positive = op == "contains";
            let op = if positive { FilterOp::Contains } else { FilterOp::NotContains };
            let items = values
                .iter()
                .map(|v| text(v).map(|t| filter(op, Some(Value::String(t)))))
                .collect::<Result<Vec<_>, _>>()?;
            group(items, positive)
        }
        "less" | "less or equal" | "greater" | "greater or equal" => {
            let [value] = values else {
                return Err(format!("`{op}` on `{name}` takes exactly one value"));
            };
            let bound = number(value)
                .ok_or_else(|| format!("`{op}` on `{name}` needs a number, not {value}"))?;
            let op = match op {
                "less" => FilterOp::Lt,
                "less or equal" => FilterOp::Lte,
                "greater" => FilterOp::Gt,
                _ => FilterOp::Gte,
            };
            filter(op, Some(Value::from(bound)))
        }
        "set is" | "set is not" | "set contains" | "set does not contain" => {
            return Err(format!(
                "`{op}` (array properties) is not supported; use `is`, `is not`, `contains` or \
                 `does not contain`"
            ));
        }
        other => {
            return Err(format!(
                "unknown operator `{other}`; use is, is not, contains, does not contain, less, \
                 less or equal, greater, greater or equal"
            ));
        }
    })
}

#[derive(Debug, Deserialize)]
struct SegmentItem {
    prop: String,
    op: String,
    values: Vec<Value>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// A segment `[{"prop", "op", "values"}, ...]` (user properties) as conditions to AND.
pub(crate) fn segment(text: &str) -> Result<Vec<Condition>, Invalid> {
    let items: Vec<SegmentItem> = serde_json::from_str(text).map_err(|e| {
        format!("`s` must be a JSON array of {{\"prop\", \"op\", \"values\"}}: {e}")
    })?;
    items
        .into_iter()
        .map(|item| {
            if item.kind.as_deref().is_some_and(|k| k != "property") {
                return Err(format!(
                    "segment conditions of type `{}` (who performed an event, cohorts) are not \
                     supported; only user property conditions",
                    item.kind.unwrap_or_default()
                ));
            }
            if item.prop == "userdata_cohort" {
                return Err("cohort segments are not supported".to_owned());
            }
            condition(property(&item.prop, Scope::User)?, &item.op, &item.values)
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct RawEvent {
    event_type: String,
    #[serde(default)]
    filters: Vec<RawFilter>,
    #[serde(default)]
    group_by: Vec<RawGroupBy>,
}

#[derive(Debug, Deserialize)]
struct RawFilter {
    subprop_type: String,
    subprop_key: String,
    subprop_op: String,
    subprop_value: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct RawGroupBy {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

/// An Amplitude event parameter (`e`, `se`, `re`): what it matches, and its group-bys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) matcher: EventMatcher,
    pub(crate) group_by: Vec<PropertyRef>,
}

/// Parses the event `{"event_type", "filters", "group_by"}` of parameter `name`. `_all` and
/// `_active` match any event (every event counts as active), and so do the other special
/// event types the endpoint accepts (`specials`); the label keeps the name given.
pub(crate) fn event(text: &str, name: &str, specials: &[&str]) -> Result<Event, Invalid> {
    let raw: RawEvent = serde_json::from_str(text).map_err(|e| {
        format!("`{name}` must be a JSON event like {{\"event_type\": \"purchase\"}}: {e}")
    })?;
    let event = match raw.event_type.as_str() {
        "_all" | "_active" => None,
        special if specials.contains(&special) => None,
        "" => return Err(format!("`{name}`: event_type is empty")),
        special if special.starts_with('_') => {
            return Err(format!("`{name}`: event_type `{special}` is not supported here"));
        }
        plain => Some(plain.to_owned()),
    };
    let scope = |kind: &str| match kind {
        "event" => Ok(Scope::Event),
        "user" => Ok(Scope::User),
        other => Err(format!("`{name}`: property type `{other}` must be `event` or `user`")),
    };
    let filters = raw
        .filters
        .iter()
        .map(|f| {
            let property = property(&f.subprop_key, scope(&f.subprop_type)?)?;
            condition(property, &f.subprop_op, &f.subprop_value)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let group_by = raw
        .group_by
        .iter()
        .map(|g| property(&g.value, scope(&g.kind)?))
        .collect::<Result<Vec<_>, _>>()?;
    let matcher = EventMatcher { event, filters, label: Some(raw.event_type) };
    Ok(Event { matcher, group_by })
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
