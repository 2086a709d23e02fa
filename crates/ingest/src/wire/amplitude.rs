//! Amplitude HTTP V2 (`POST /2/httpapi`), Batch (`POST /batch`) and Identify
//! (`POST /identify`). Amplitude's SDKs drop the event indices a 400 lists and retry the rest,
//! so a request with any bad event is refused whole, with every bad index listed, and nothing
//! of it is stored; the retry then stores the good ones exactly once.

use super::{Native, text};
use crate::{ClientHints, RawEvent};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Ids Amplitude treats as absent (compared case-insensitively).
const INVALID_IDS: [&str; 14] = [
    "anonymous",
    "nil",
    "none",
    "null",
    "n/a",
    "na",
    "undefined",
    "unknown",
    "",
    "00000000-0000-0000-0000-000000000000",
    "{}",
    "lmy47d",
    "0",
    "-1",
];
const DEFAULT_MIN_ID_LENGTH: usize = 5;

/// Fields copied into `properties` under their Amplitude names: device and context data that
/// the event model has no column for.
const CONTEXT_FIELDS: [&str; 20] = [
    "app_version",
    "platform",
    "os_version",
    "device_brand",
    "device_manufacturer",
    "device_model",
    "carrier",
    "region",
    "city",
    "dma",
    "language",
    "location_lat",
    "location_lng",
    "price",
    "quantity",
    "productId",
    "revenueType",
    "event_id",
    "groups",
    "group_properties",
];

/// An upload, mapped: events in request order, and what Amplitude's own checks found.
#[derive(Debug)]
pub struct Upload {
    pub api_key: String,
    pub events: Vec<RawEvent>,
    pub problems: Problems,
}

/// Indices of bad events by Amplitude field name, as the 400 body lists them.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Problems {
    pub events_with_invalid_fields: BTreeMap<String, Vec<usize>>,
    pub events_with_missing_fields: BTreeMap<String, Vec<usize>>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.events_with_invalid_fields.is_empty() && self.events_with_missing_fields.is_empty()
    }

    fn invalid(&mut self, field: &str, index: usize) {
        push_index(self.events_with_invalid_fields.entry(field.to_owned()).or_default(), index);
    }

    fn missing(&mut self, field: &str, index: usize) {
        push_index(self.events_with_missing_fields.entry(field.to_owned()).or_default(), index);
    }

    /// Adds a problem found by the shared validation, named by the native field.
    pub fn add_native(&mut self, native_field: &str, missing: bool, index: usize) {
        let field = amplitude_field(native_field);
        if missing { self.missing(field, index) } else { self.invalid(field, index) }
    }
}

fn push_index(list: &mut Vec<usize>, index: usize) {
    if list.last() != Some(&index) {
        list.push(index);
    }
}

/// Why a body is not an upload at all (answered 400 with Amplitude's shape).
#[derive(Debug, Clone, PartialEq)]
pub enum UploadError {
    /// `{"error": "Request missing required field", "missing_field": <field>}`
    MissingField(&'static str),
    /// Malformed body.
    Invalid(String),
}

/// Parses an HTTP V2 or Batch body. `request_ip` stands for `"ip": "$remote"`.
pub fn parse_upload(body: &[u8], request_ip: Option<IpAddr>) -> Result<Upload, UploadError> {
    let Value::Object(mut request) = serde_json::from_slice(body)
        .map_err(|e| UploadError::Invalid(format!("Invalid JSON request body: {e}")))?
    else {
        return Err(UploadError::Invalid("the body must be a JSON object".into()));
    };
    let api_key = match request.remove("api_key") {
        Some(Value::String(key)) if !key.is_empty() => key,
        _ => return Err(UploadError::MissingField("api_key")),
    };
    let events = match request.remove("events") {
        Some(Value::Array(events)) if !events.is_empty() => events,
        _ => return Err(UploadError::MissingField("events")),
    };
    let min_id_length = request
        .get("options")
        .and_then(|o| o.get("min_id_length"))
        .and_then(Value::as_u64)
        .map_or(DEFAULT_MIN_ID_LENGTH, |n| n as usize);
    let mut problems = Problems::default();
    let events = events
        .into_iter()
        .enumerate()
        .map(|(index, event)| map_event(index, event, min_id_length, request_ip, &mut problems))
        .collect();
    Ok(Upload { api_key, events, problems })
}

fn map_event(
    index: usize,
    event: Value,
    min_id_length: usize,
    request_ip: Option<IpAddr>,
    problems: &mut Problems,
) -> RawEvent {
    let Value::Object(e) = event else {
        problems.invalid("event", index);
        return RawEvent::from(Value::Null);
    };
    let mut out = Native::default();
    match text(&e, "event_type") {
        Some(name) => out.set("event", name),
        None => problems.missing("event_type", index),
    }
    let user_id = valid_id(&e, "user_id", min_id_length);
    let device_id = valid_id(&e, "device_id", min_id_length);
    if user_id.is_none() && device_id.is_none() {
        problems.missing("user_id", index);
        problems.missing("device_id", index);
    }
    out.set_opt("user_id", user_id.map(Value::from));
    out.set_opt("device_id", device_id.map(Value::from));
    match e.get("time") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.is_i64() => out.set("timestamp", n.clone()),
        Some(_) => problems.invalid("time", index),
    }
    out.set_opt("insert_id", e.get("insert_id").cloned());
    match e.get("session_id") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_i64() == Some(-1) => {}
        Some(Value::Number(n)) if n.is_i64() => out.set("session_id", n.to_string()),
        Some(_) => problems.invalid("session_id", index),
    }
    out.set_opt("library", e.get("library").cloned());
    out.set_opt("os", e.get("os_name").cloned());
    let revenue = e.get("revenue").and_then(Value::as_f64).or_else(|| {
        let price = e.get("price")?.as_f64()?;
        Some(price * e.get("quantity").and_then(Value::as_f64).unwrap_or(1.0))
    });
    out.set_opt("value", revenue.map(Value::from));

    let mut properties = match e.get("event_properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            problems.invalid("event_properties", index);
            Map::new()
        }
    };
    match e.get("user_properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(user)) => properties.extend(person_operations(user)),
        Some(_) => problems.invalid("user_properties", index),
    }
    for field in CONTEXT_FIELDS {
        if let Some(v) = e.get(field).filter(|v| !v.is_null()) {
            properties.insert(field.to_owned(), v.clone());
        }
    }
    match e.get("country").and_then(Value::as_str) {
        Some(code) if code.len() == 2 => out.set("country", code),
        Some(name) => drop(properties.insert("country_name".into(), json!(name))),
        None => {}
    }
    out.set("properties", properties);

    let ip = match e.get("ip").and_then(Value::as_str) {
        Some("$remote") => request_ip,
        Some(ip) => ip.parse().ok(),
        None => None,
    };
    out.into_raw(ClientHints { ip, user_agent: None })
}

/// Amplitude `user_properties` as the person operations every source stores: `$set`,
/// `$set_once` and `$unset` (a list of keys). A plain object means `$set`.
fn person_operations(user: &Map<String, Value>) -> Map<String, Value> {
    let mut ops = Map::new();
    if !user.keys().any(|k| k.starts_with('$')) {
        ops.insert("$set".into(), Value::Object(user.clone()));
        return ops;
    }
    for (from, to) in [("$set", "$set"), ("$setOnce", "$set_once")] {
        if let Some(values @ Value::Object(_)) = user.get(from) {
            ops.insert(to.into(), values.clone());
        }
    }
    if let Some(Value::Object(keys)) = user.get("$unset") {
        ops.insert("$unset".into(), keys.keys().cloned().map(Value::from).collect());
    }
    ops
}

/// The id under `key`, unless it is on Amplitude's invalid list or shorter than the minimum,
/// in which case Amplitude removes it from the event.
fn valid_id(e: &Map<String, Value>, key: &str, min_length: usize) -> Option<String> {
    let id = text(e, key)?;
    let lower = id.to_ascii_lowercase();
    (id.chars().count() >= min_length && !INVALID_IDS.contains(&lower.as_str())).then_some(id)
}

/// Native field → Amplitude field, for errors found by the shared validation.
fn amplitude_field(native: &str) -> &str {
    match native {
        "event" => "event_type",
        "timestamp" => "time",
        "properties" => "event_properties",
        "os" => "os_name",
        "value" => "revenue",
        other => other,
    }
}

/// An Identify API body (`api_key=…&identification=<JSON object or array>`), as `$identify`
/// events carrying the user properties.
pub fn parse_identify(form: &[u8]) -> Result<(String, Vec<RawEvent>), UploadError> {
    let mut api_key = None;
    let mut identification = None;
    for (key, value) in url::form_urlencoded::parse(form) {
        match key.as_ref() {
            "api_key" => api_key = Some(value.into_owned()),
            "identification" => identification = Some(value.into_owned()),
            _ => {}
        }
    }
    let api_key = api_key.filter(|k| !k.is_empty()).ok_or(UploadError::MissingField("api_key"))?;
    let identification = identification.ok_or(UploadError::MissingField("identification"))?;
    let parsed: Value = serde_json::from_str(&identification)
        .map_err(|e| UploadError::Invalid(format!("`identification` is not valid JSON: {e}")))?;
    let items = match parsed {
        Value::Array(items) => items,
        single => vec![single],
    };
    let events = items
        .into_iter()
        .map(|item| {
            let mut out = Native::default();
            out.set("event", "$identify");
            if let Value::Object(i) = &item {
                out.set_opt("user_id", text(i, "user_id").map(Value::from));
                out.set_opt("device_id", text(i, "device_id").map(Value::from));
                let properties = match i.get("user_properties") {
                    Some(Value::Object(user)) => person_operations(user),
                    _ => Map::new(),
                };
                out.set("properties", properties);
            }
            out.into_raw(ClientHints::default())
        })
        .collect();
    Ok((api_key, events))
}

#[cfg(test)]
mod tests;
