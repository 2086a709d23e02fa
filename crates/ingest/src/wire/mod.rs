//! Other tools' ingestion formats, each mapped onto native event objects so that every source
//! gets the same validation, privacy and hygiene. Pure: bodies in, [`RawEvent`]s out; the HTTP
//! layer owns authentication and each format's response shapes.
//!
//! Reference for every format: `../shared/docs/wire-compat.md`.

pub mod amplitude;
pub mod graphql;
pub mod mixpanel;
pub mod payload;
pub mod plausible;
pub mod posthog;
pub mod segment;

use crate::RawEvent;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

/// A native event object under construction.
#[derive(Debug, Default)]
pub(crate) struct Native(Map<String, Value>);

impl Native {
    pub(crate) fn set(&mut self, field: &str, value: impl Into<Value>) {
        let value = value.into();
        if !value.is_null() {
            self.0.insert(field.to_owned(), value);
        }
    }

    /// Sets `field` from `value` when it is present (non-null).
    pub(crate) fn set_opt(&mut self, field: &str, value: Option<Value>) {
        if let Some(v) = value {
            self.set(field, v);
        }
    }

    pub(crate) fn into_raw(self, client: crate::ClientHints) -> RawEvent {
        RawEvent { fields: Value::Object(self.0), client }
    }
}

/// Integer epoch times in seconds or milliseconds (Mixpanel sends either): values below
/// 10^11 are seconds (10^11 s is the year 5138; 10^11 ms is 1973).
pub(crate) fn epoch_to_rfc3339(n: f64) -> Option<String> {
    let millis = if n.abs() < 1e11 { n * 1000.0 } else { n };
    let at: DateTime<Utc> = Utc.timestamp_millis_opt(millis as i64).single()?;
    Some(at.to_rfc3339())
}

/// A string value of `map[key]`, with numbers stringified (ids often arrive as numbers).
pub(crate) fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
