//! Filters and property references → SQL conditions and expressions.

use crate::sql::{Param, SqlBuilder};
use crate::{Filter, FilterOp, PropertyRef, QueryError};
use serde_json::Value;

/// SQL expression for a property: the column itself, or the JSON text at its path.
pub(crate) fn property_expr(b: &mut SqlBuilder, property: &PropertyRef) -> String {
    match property {
        PropertyRef::Column(c) => c.name().to_owned(),
        PropertyRef::Custom(keys) => b.json_text("properties", keys),
        PropertyRef::Person(keys) => b.json_text("person_properties", keys),
    }
}

fn is_numeric(property: &PropertyRef) -> bool {
    matches!(property, PropertyRef::Column(c) if c.is_numeric())
}

/// One SQL condition per filter, to be ANDed.
pub(crate) fn conditions(
    b: &mut SqlBuilder,
    filters: &[Filter],
) -> Result<Vec<String>, QueryError> {
    filters.iter().map(|f| condition(b, f)).collect()
}

/// `parts` ANDed; `TRUE` when there are none.
pub(crate) fn all_of(parts: &[String]) -> String {
    if parts.is_empty() { "TRUE".to_owned() } else { parts.join(" AND ") }
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
