//! Properties and conditions, with the text semantics of `docs/queries.md`: a property is
//! compared as the text it reads as (a custom JSON property as DuckDB's `json_extract_string`
//! gives it), except numeric operators and the numeric column `value`.

use super::regex::Regex;
use serde_json::Value;
use sextant_core::Event;
use sextant_query::{Column, Condition, EventMatcher, Filter, FilterOp, PropertyRef};

/// The text of a property of `e`, `None` when the event does not have it.
pub(super) fn text(e: &Event, property: &PropertyRef) -> Option<String> {
    match property {
        PropertyRef::Column(column) => column_text(e, *column),
        PropertyRef::Custom(keys) => {
            let mut at = e.properties.get(keys.first()?)?;
            for key in &keys[1..] {
                at = at.as_object()?.get(key)?;
            }
            json_text(at)
        }
        PropertyRef::Person(_) => {
            unimplemented!("the reference implementation does not support person properties")
        }
    }
}

/// A JSON value as `json_extract_string` reads it: strings as they are, everything else as
/// its JSON text; JSON `null` is no value.
fn json_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn column_text(e: &Event, column: Column) -> Option<String> {
    let text = |v: &Option<String>| v.clone();
    match column {
        Column::Event => Some(e.event.clone()),
        Column::InsertId => Some(e.insert_id.clone()),
        Column::UserId => text(&e.user_id),
        Column::DeviceId => text(&e.device_id),
        Column::PersonId => text(&e.person_id),
        Column::SessionId => text(&e.session_id),
        Column::App => text(&e.app),
        Column::Url => text(&e.url),
        Column::Host => text(&e.host),
        Column::Path => text(&e.path),
        Column::Route => text(&e.route),
        Column::Referrer => text(&e.referrer),
        Column::EntityType => text(&e.entity_type),
        Column::EntityId => text(&e.entity_id),
        Column::DeviceType => text(&e.device_type),
        Column::Browser => text(&e.browser),
        Column::Os => text(&e.os),
        Column::Country => text(&e.country),
        Column::Value => e.value.map(|v| v.to_string()),
        Column::Library => text(&e.library),
    }
}

/// A text as a number, when it is one.
fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The numeric value of a property: the column `value` itself, otherwise its text when that
/// is a number.
pub(super) fn number(e: &Event, property: &PropertyRef) -> Option<f64> {
    match property {
        PropertyRef::Column(Column::Value) => e.value,
        other => text(e, other).and_then(|t| parse_number(&t)),
    }
}

/// The breakdown value of `e` by `property`: a string, a number for the numeric column, or
/// `null` when the event does not have it.
pub(super) fn breakdown_value(e: &Event, property: &PropertyRef) -> Value {
    if *property == PropertyRef::Column(Column::Value) {
        return e.value.and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number);
    }
    text(e, property).map_or(Value::Null, Value::String)
}

/// A filter's operand as text.
fn operand_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn operand_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

/// The operand as a list of alternatives (`eq`/`neq` accept a list).
fn alternatives(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

/// Whether the property equals one operand: numerically for `value`, as text otherwise.
fn equals(e: &Event, property: &PropertyRef, operand: &Value) -> bool {
    if *property == PropertyRef::Column(Column::Value) {
        return match (e.value, operand_number(operand)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
    }
    match (text(e, property), operand_text(operand)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

pub(super) fn filter_matches(e: &Event, f: &Filter) -> bool {
    let p = &f.property;
    let present = match p {
        PropertyRef::Column(Column::Value) => e.value.is_some(),
        other => text(e, other).is_some(),
    };
    let compare = |test: &dyn Fn(f64, f64) -> bool| -> bool {
        match (number(e, p), f.value.as_ref().and_then(operand_number)) {
            (Some(a), Some(b)) => test(a, b),
            _ => false,
        }
    };
    let value_text = || text(e, p);
    let operand = || f.value.as_ref().and_then(operand_text);
    match f.op {
        FilterOp::IsSet => present,
        FilterOp::IsNotSet => !present,
        FilterOp::Eq => alternatives(f.value.as_ref()).into_iter().any(|v| equals(e, p, v)),
        FilterOp::Neq => {
            !present || !alternatives(f.value.as_ref()).into_iter().any(|v| equals(e, p, v))
        }
        FilterOp::Contains | FilterOp::NotContains => match (value_text(), operand()) {
            (Some(t), Some(needle)) => {
                let found = t.to_lowercase().contains(&needle.to_lowercase());
                found == (f.op == FilterOp::Contains)
            }
            (None, Some(_)) => f.op == FilterOp::NotContains,
            _ => false,
        },
        FilterOp::Regex | FilterOp::NotRegex => match (value_text(), operand()) {
            (Some(t), Some(pattern)) => {
                let found = Regex::new(&pattern).is_match(&t);
                found == (f.op == FilterOp::Regex)
            }
            (None, Some(_)) => f.op == FilterOp::NotRegex,
            _ => false,
        },
        FilterOp::Gt => compare(&|a, b| a > b),
        FilterOp::Gte => compare(&|a, b| a >= b),
        FilterOp::Lt => compare(&|a, b| a < b),
        FilterOp::Lte => compare(&|a, b| a <= b),
        FilterOp::Between => {
            let bounds = alternatives(f.value.as_ref());
            let (Some(low), Some(high)) = (
                bounds.first().and_then(|v| operand_number(v)),
                bounds.get(1).and_then(|v| operand_number(v)),
            ) else {
                return false;
            };
            number(e, p).is_some_and(|v| low <= v && v <= high)
        }
    }
}

pub(super) fn condition_matches(e: &Event, c: &Condition) -> bool {
    match c {
        Condition::Filter(f) => filter_matches(e, f),
        Condition::Any { any } => any.iter().any(|c| condition_matches(e, c)),
        Condition::All { all } => all.iter().all(|c| condition_matches(e, c)),
    }
}

/// A list of conditions is ANDed.
pub(super) fn all_match(e: &Event, conditions: &[Condition]) -> bool {
    conditions.iter().all(|c| condition_matches(e, c))
}

/// An event type (any when absent) and conditions.
pub(super) fn event_matches(e: &Event, event: Option<&str>, conditions: &[Condition]) -> bool {
    event.is_none_or(|name| e.event == name) && all_match(e, conditions)
}

pub(super) fn matcher_matches(e: &Event, m: &EventMatcher) -> bool {
    event_matches(e, m.event.as_deref(), &m.filters)
}
