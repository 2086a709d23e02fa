//! Translation between our types and DuckDB's: parameters in, cells out, events appended.

use duckdb::types::{TimeUnit, ToSqlOutput, Value, ValueRef};
use duckdb::{Appender, ToSql};
use sextant_core::Event;
use sextant_query::{Cell, Param};

pub(crate) fn param_value(param: &Param) -> Value {
    match param {
        Param::Text(s) => Value::Text(s.clone()),
        Param::Int(v) => Value::BigInt(*v),
        Param::Float(v) => Value::Double(*v),
        Param::Timestamp(t) => Value::Timestamp(TimeUnit::Microsecond, t.timestamp_micros()),
    }
}

pub(crate) fn cell(value: ValueRef<'_>) -> Result<Cell, String> {
    Ok(match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Boolean(v) => Cell::Int(i64::from(v)),
        ValueRef::TinyInt(v) => Cell::Int(v.into()),
        ValueRef::SmallInt(v) => Cell::Int(v.into()),
        ValueRef::Int(v) => Cell::Int(v.into()),
        ValueRef::BigInt(v) => Cell::Int(v),
        ValueRef::UTinyInt(v) => Cell::Int(v.into()),
        ValueRef::USmallInt(v) => Cell::Int(v.into()),
        ValueRef::UInt(v) => Cell::Int(v.into()),
        ValueRef::UBigInt(v) => Cell::Int(i64::try_from(v).map_err(|_| "UBIGINT out of range")?),
        ValueRef::HugeInt(v) => Cell::Int(i64::try_from(v).map_err(|_| "HUGEINT out of range")?),
        ValueRef::Float(v) => Cell::Float(v.into()),
        ValueRef::Double(v) => Cell::Float(v),
        ValueRef::Timestamp(unit, v) => Cell::Timestamp(unit.to_micros(v)),
        ValueRef::Text(bytes) => Cell::Text(String::from_utf8_lossy(bytes).into_owned()),
        other => return Err(format!("unsupported result type {:?}", other.data_type())),
    })
}

fn micros(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::Timestamp(TimeUnit::Microsecond, t.timestamp_micros())
}

/// Appends one event as a row, columns in schema order. Borrows every string: the demo loads
/// millions of events through here.
pub(crate) fn append_event(appender: &mut Appender<'_>, e: &Event) -> duckdb::Result<()> {
    let project = ToSqlOutput::Borrowed(ValueRef::Text(e.project_id.as_str().as_bytes()));
    let timestamp = micros(e.timestamp);
    let received_at = micros(e.received_at);
    let properties =
        if e.properties.is_empty() { None } else { serde_json::to_string(&e.properties).ok() };
    let row: [&dyn ToSql; 24] = [
        &project,
        &e.event,
        &timestamp,
        &received_at,
        &e.insert_id,
        &e.user_id,
        &e.device_id,
        &e.person_id,
        &e.session_id,
        &e.app,
        &e.url,
        &e.host,
        &e.path,
        &e.route,
        &e.referrer,
        &e.entity_type,
        &e.entity_id,
        &e.device_type,
        &e.browser,
        &e.os,
        &e.country,
        &e.value,
        &e.library,
        &properties,
    ];
    appender.append_row(row.as_slice())
}
