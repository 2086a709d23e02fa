//! Filters, condition groups and property references → SQL conditions and expressions.

use crate::sql::{Param, SqlBuilder};
use crate::{Condition, EventMatcher, Filter, FilterOp, PropertyRef, QueryError};
use serde_json::Value;

/// SQL expression for a property: the column itself, or the JSON text at its path.
pub(crate) fn property_expr(b: &mut SqlBuilder, property: &PropertyRef) -> String {
    match property {
        PropertyRef::Column(c) => c.name().to_owned(),
        PropertyRef::Custom(keys) => b.json_text("properties", keys),
        PropertyRef::Person(keys) => b.json_text("person_properties", keys),
    }
}

pub(crate) fn is_numeric(property: &PropertyRef) -> bool {
    matches!(property, PropertyRef::Column(c) if c.is_numeric())
}

/// One SQL condition per item, to be ANDed.
pub(crate) fn conditions(
    b: &mut SqlBuilder,
    items: &[Condition],
) -> Result<Vec<String>, QueryError> {
    items.iter().map(|c| group(b, c)).collect()
}

fn group(b: &mut SqlBuilder, item: &Condition) -> Result<String, QueryError> {
    let (items, joiner) = match item {
        Condition::Filter(f) => return condition(b, f),
        Condition::Any { any } => (any, " OR "),
        Condition::All { all } => (all, " AND "),
    };
    if items.is_empty() {
        return Err(QueryError::invalid(
            "a condition group (`any` or `all`) needs at least one item",
        ));
    }
    let parts = conditions(b, items)?;
    Ok(format!("({})", parts.join(joiner)))
}

/// What an event matcher (a step, a series) selects, as conditions to AND (none: every event
/// in scope).
pub(crate) fn matcher_conditions(
    b: &mut SqlBuilder,
    matcher: &EventMatcher,
) -> Result<Vec<String>, QueryError> {
    let mut parts = Vec::new();
    if let Some(name) = &matcher.event {
        parts.push(format!("event = {}", b.param(Param::Text(name.clone()))));
    }
    parts.extend(conditions(b, &matcher.filters)?);
    Ok(parts)
}

/// Whether any condition reads a person property (`person.<key>`).
pub(crate) fn reads_person_properties<'a>(items: impl IntoIterator<Item = &'a Condition>) -> bool {
    items
        .into_iter()
        .flat_map(Condition::filters)
        .any(|f| matches!(f.property, PropertyRef::Person(_)))
}

/// `parts` ANDed; `TRUE` when there are none.
pub(crate) fn all_of(parts: &[String]) -> String {
    if parts.is_empty() { "TRUE".to_owned() } else { parts.join(" AND ") }
}

/// One condition true for the events of any series (each given as its conditions), or `None`
/// when a series matches every event, so there is nothing to restrict.
pub(crate) fn any_series(conditions: &[Vec<String>]) -> Option<String> {
    match conditions {
        _ if conditions.iter().any(Vec::is_empty) => None,
        [only] => Some(all_of(only)),
        several => {
            let any: Vec<String> = several.iter().map(|c| format!("({})", all_of(c))).collect();
            Some(format!("({})", any.join(" OR ")))
        }
    }
}

fn condition(b: &mut SqlBuilder, filter: &Filter) -> Result<String, QueryError> {
    let name = String::from(filter.property.clone());
    let expr = property_expr(b, &filter.property);
    let value = filter.value.as_ref();
    let need_value = || {
        value.cloned().ok_or_else(|| {
            QueryError::invalid(format!("filter on `{name}` with op {:?} needs a value", filter.op))
        })
    };
    Ok(match filter.op {
        FilterOp::IsSet => format!("{expr} IS NOT NULL"),
        FilterOp::IsNotSet => format!("{expr} IS NULL"),
        FilterOp::Eq | FilterOp::Neq => {
            let values = match need_value()? {
                Value::Array(items) => items,
                single => vec![single],
            };
            if values.is_empty() {
                return Err(QueryError::invalid(format!(
                    "filter on `{name}` has an empty value list"
                )));
            }
            let placeholders = values
                .into_iter()
                .map(|v| comparable(&name, &filter.property, v).map(|p| b.param(p)))
                .collect::<Result<Vec<_>, _>>()?;
            let list = placeholders.join(", ");
            // "is not" also matches events without the property, as users expect.
            if filter.op == FilterOp::Eq {
                format!("{expr} IN ({list})")
            } else {
                format!("({expr} IS NULL OR {expr} NOT IN ({list}))")
            }
        }
        FilterOp::Contains | FilterOp::NotContains => {
            let Value::String(needle) = need_value()? else {
                return Err(QueryError::invalid(format!(
                    "filter on `{name}`: contains needs a string"
                )));
            };
            let test = b.contains(&expr, needle);
            if filter.op == FilterOp::Contains {
                test
            } else {
                format!("({expr} IS NULL OR NOT {test})")
            }
        }
        FilterOp::Regex | FilterOp::NotRegex => {
            let Value::String(pattern) = need_value()? else {
                return Err(QueryError::invalid(format!(
                    "filter on `{name}`: regex needs a string"
                )));
            };
            if let Err(e) = regex::Regex::new(&pattern) {
                return Err(QueryError::invalid(format!(
                    "filter on `{name}`: invalid regular expression: {e}"
                )));
            }
            let test = b.regex(&expr, pattern);
            if filter.op == FilterOp::Regex {
                test
            } else {
                format!("({expr} IS NULL OR NOT {test})")
            }
        }
        FilterOp::Between => {
            let bounds = need_value()?;
            let (Some(low), Some(high)) =
                (bounds.get(0).and_then(Value::as_f64), bounds.get(1).and_then(Value::as_f64))
            else {
                return Err(QueryError::invalid(format!(
                    "filter on `{name}`: between needs `[low, high]` numbers"
                )));
            };
            if bounds.as_array().map(Vec::len) != Some(2) {
                return Err(QueryError::invalid(format!(
                    "filter on `{name}`: between needs exactly `[low, high]`"
                )));
            }
            let lhs = if is_numeric(&filter.property) { expr } else { b.to_double(&expr) };
            let low = b.param(Param::Float(low));
            let high = b.param(Param::Float(high));
            format!("{lhs} BETWEEN {low} AND {high}")
        }
        FilterOp::Gt | FilterOp::Gte | FilterOp::Lt | FilterOp::Lte => {
            let number = need_value()?.as_f64().ok_or_else(|| {
                QueryError::invalid(format!("filter on `{name}`: {:?} needs a number", filter.op))
            })?;
            let lhs = if is_numeric(&filter.property) { expr } else { b.to_double(&expr) };
            let op = match filter.op {
                FilterOp::Gt => ">",
                FilterOp::Gte => ">=",
                FilterOp::Lt => "<",
                _ => "<=",
            };
            let p = b.param(Param::Float(number));
            format!("{lhs} {op} {p}")
        }
    })
}

/// Equality values compare as text (how JSON properties and text columns are read), except on
/// numeric columns.
fn comparable(name: &str, property: &PropertyRef, value: Value) -> Result<Param, QueryError> {
    if is_numeric(property) {
        return value
            .as_f64()
            .map(Param::Float)
            .ok_or_else(|| QueryError::invalid(format!("filter on `{name}` needs numbers")));
    }
    match value {
        Value::String(s) => Ok(Param::Text(s)),
        Value::Number(n) => Ok(Param::Text(n.to_string())),
        Value::Bool(v) => Ok(Param::Text(v.to_string())),
        _ => Err(QueryError::invalid(format!(
            "filter on `{name}` compares with strings, numbers or booleans"
        ))),
    }
}
