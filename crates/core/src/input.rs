//! Raw JSON → validated [`Event`]. Every wire format ends here, so every source gets the same
//! limits, the same derived fields and the same precise per-field errors.

use crate::{EVENT_FIELDS, Event, Limits, ProjectId, parse_timestamp, truncate_to_micros};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// Where the event comes from; decides which server-owned fields the input may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Live ingestion: `received_at` and `person_id` belong to the server.
    Api,
    /// Re-loading an export: keeps `received_at` and `person_id` and ignores `project_id`.
    Import,
}

/// One problem with one field of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), code, message: message.into() }
    }
}

/// Turns JSON objects into events for one project.
#[derive(Debug, Clone)]
pub struct EventInput<'a> {
    pub project_id: &'a ProjectId,
    pub received_at: DateTime<Utc>,
    pub limits: &'a Limits,
    pub mode: InputMode,
}

/// Fields the server owns; only an import (re-loading an export) carries them.
/// `project_id` is then ignored: the import's target project wins.
const SERVER_FIELDS: &[&str] = &["received_at", "person_id", "project_id"];

impl EventInput<'_> {
    /// Validates one event. Reports every bad field, not just the first.
    pub fn parse(&self, value: Value) -> Result<Event, Vec<FieldError>> {
        let Value::Object(map) = value else {
            return Err(vec![FieldError::new(
                "",
                "not_an_object",
                "an event must be a JSON object",
            )]);
        };
        let mut r = Reader { input: self, errors: self.unknown_fields(&map), map };
        let limits = self.limits;

        let event = r.required_string("event", limits.max_event_name_chars);
        let timestamp = r.timestamp("timestamp").unwrap_or(self.received_at);
        let received_at = match self.mode {
            InputMode::Import => r.timestamp("received_at").unwrap_or(self.received_at),
            InputMode::Api => self.received_at,
        };
        let person_id = match self.mode {
            InputMode::Import => r.id("person_id"),
            InputMode::Api => None,
        };
        let insert_id = r.id("insert_id");
        let user_id = r.id("user_id");
        let device_id = r.id("device_id");
        let session_id = r.id("session_id");
        let entity_id = r.id("entity_id");
        let max = limits.max_string_chars;
        let app = r.string("app", max);
        let host = r.string("host", max);
        let path = r.string("path", max);
        let route = r.string("route", max);
        let entity_type = r.string("entity_type", max);
        let device_type = r.string("device_type", max);
        let browser = r.string("browser", max);
        let os = r.string("os", max);
        let library = r.string("library", max);
        let url = r.string("url", limits.max_url_chars);
        let referrer = r.string("referrer", limits.max_url_chars);
        let country = r.country();
        let value = r.number("value");
        let properties = r.properties();
        if !r.errors.is_empty() {
            return Err(r.errors);
        }

        let parsed_url = url.as_deref().and_then(|u| url::Url::parse(u).ok());
        let host =
            host.or_else(|| parsed_url.as_ref().and_then(|u| u.host_str().map(str::to_owned)));
        let path = path.or_else(|| parsed_url.as_ref().map(|u| u.path().to_owned()));
        let route = route.or_else(|| path.as_deref().map(templated_route));
        let person_id = person_id.or_else(|| user_id.clone()).or_else(|| device_id.clone());
        Ok(Event {
            project_id: self.project_id.clone(),
            event,
            timestamp,
            received_at,
            insert_id: insert_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            user_id,
            device_id,
            person_id,
            session_id,
            app,
            url,
            host,
            path,
            route,
            referrer,
            entity_type,
            entity_id,
            device_type,
            browser,
            os,
            country,
            value,
            library,
            properties,
        })
    }

    fn unknown_fields(&self, map: &Map<String, Value>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for key in map.keys() {
            let server_owned = SERVER_FIELDS.contains(&key.as_str());
            if server_owned && self.mode == InputMode::Api {
                errors.push(FieldError::new(
                    key,
                    "server_owned_field",
                    format!("`{key}` is set by the server and cannot be sent"),
                ));
            } else if key == "context" {
                // A valid context was consumed before validation (client hints).
                errors.push(FieldError::new(
                    key,
                    "invalid_value",
                    "`context` must be {\"ip\": an IP address, \"user_agent\": a string}",
                ));
            } else if !EVENT_FIELDS.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    key,
                    "unknown_field",
                    format!("unknown field `{key}`; put custom data under `properties`"),
                ));
            }
        }
        errors
    }
}

/// Takes fields out of one event object, collecting errors as it goes.
struct Reader<'a> {
    input: &'a EventInput<'a>,
    map: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Reader<'_> {
    /// JSON `null` counts as absent, as SDKs commonly send it for unset fields.
    fn take(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field).filter(|v| !v.is_null())
    }

    fn fail(&mut self, field: &str, code: &'static str, message: String) {
        self.errors.push(FieldError::new(field, code, message));
    }

    fn required_string(&mut self, field: &str, max_chars: usize) -> String {
        if self.map.get(field).is_none_or(Value::is_null) {
            self.fail(field, "missing_field", format!("`{field}` is required"));
            return String::new();
        }
        let value = self.string(field, max_chars).unwrap_or_default();
        if value.trim().is_empty() && !self.errors.iter().any(|e| e.field == field) {
            self.fail(field, "invalid_value", format!("`{field}` must not be blank"));
        }
        value
    }

    fn string(&mut self, field: &str, max_chars: usize) -> Option<String> {
        let v = self.take(field)?;
        self.check_string(field, v, max_chars)
    }

    fn check_string(&mut self, field: &str, v: Value, max_chars: usize) -> Option<String> {
        let Value::String(s) = v else {
            self.fail(field, "invalid_type", format!("`{field}` must be a string"));
            return None;
        };
        if s.chars().count() > max_chars {
            self.fail(
                field,
                "too_long",
                format!("`{field}` is longer than {max_chars} characters"),
            );
            return None;
        }
        if s.chars().any(char::is_control) {
            self.fail(field, "invalid_value", format!("`{field}` contains control characters"));
            return None;
        }
        Some(s)
    }

    /// Ids may arrive as integers (Amplitude session ids, numeric user ids); they are kept as text.
    fn id(&mut self, field: &str) -> Option<String> {
        match self.take(field)? {
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            Value::String(s) if s.is_empty() => None,
            v @ Value::String(_) => self.check_string(field, v, self.input.limits.max_string_chars),
            _ => {
                self.fail(
                    field,
                    "invalid_type",
                    format!("`{field}` must be a string or an integer"),
                );
                None
            }
        }
    }

    fn timestamp(&mut self, field: &str) -> Option<DateTime<Utc>> {
        let v = self.take(field)?;
        let parsed = match &v {
            Value::String(s) => parse_timestamp(s),
            Value::Number(n) => n.as_i64().and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
            _ => None,
        };
        let Some(t) = parsed.map(truncate_to_micros) else {
            self.fail(
                field,
                "invalid_value",
                format!(
                    "`{field}` must be an RFC 3339 string or integer milliseconds since the epoch"
                ),
            );
            return None;
        };
        let EventInput { received_at, limits, mode, .. } = *self.input;
        if mode == InputMode::Api
            && (t > received_at + limits.max_future || t < received_at - limits.max_past)
        {
            self.fail(
                field,
                "out_of_range",
                format!(
                    "`{field}` must be at most {}h ahead of and {} days behind the server clock",
                    limits.max_future.num_hours(),
                    limits.max_past.num_days()
                ),
            );
            return None;
        }
        Some(t)
    }

    fn number(&mut self, field: &str) -> Option<f64> {
        match self.take(field)?.as_f64() {
            Some(x) if x.is_finite() => Some(x),
            _ => {
                self.fail(field, "invalid_type", format!("`{field}` must be a number"));
                None
            }
        }
    }

    fn country(&mut self) -> Option<String> {
        match self.take("country")? {
            Value::String(s) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(s.to_ascii_uppercase())
            }
            _ => {
                self.fail(
                    "country",
                    "invalid_value",
                    "`country` must be an ISO 3166-1 alpha-2 code".into(),
                );
                None
            }
        }
    }

    fn properties(&mut self) -> Map<String, Value> {
        let Some(v) = self.take("properties") else { return Map::new() };
        let Value::Object(map) = v else {
            self.fail("properties", "invalid_type", "`properties` must be an object".into());
            return Map::new();
        };
        let limits = self.input.limits;
        let depth = depth(&map);
        if depth > limits.max_properties_depth {
            self.fail(
                "properties",
                "too_deep",
                format!(
                    "`properties` nests {depth} levels; the limit is {}",
                    limits.max_properties_depth
                ),
            );
        }
        let keys = key_count(&map);
        if keys > limits.max_properties {
            self.fail(
                "properties",
                "too_many",
                format!("`properties` has {keys} keys; the limit is {}", limits.max_properties),
            );
        }
        let mut size = ByteCount(0);
        let size = serde_json::to_writer(&mut size, &map).map_or(usize::MAX, |()| size.0);
        if size > limits.max_properties_bytes {
            self.fail(
                "properties",
                "too_long",
                format!(
                    "`properties` is {size} bytes; the limit is {}",
                    limits.max_properties_bytes
                ),
            );
        }
        map
    }
}

/// Measures serialized size without building the string.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn depth(map: &Map<String, Value>) -> usize {
    fn of(v: &Value) -> usize {
        match v {
            Value::Object(m) => 1 + m.values().map(of).max().unwrap_or(0),
            Value::Array(a) => 1 + a.iter().map(of).max().unwrap_or(0),
            _ => 0,
        }
    }
    1 + map.values().map(of).max().unwrap_or(0)
}

/// Keys of `map` and of every object nested in it.
fn key_count(map: &Map<String, Value>) -> usize {
    fn of(v: &Value) -> usize {
        match v {
            Value::Object(m) => m.len() + m.values().map(of).sum::<usize>(),
            Value::Array(a) => a.iter().map(of).sum(),
            _ => 0,
        }
    }
    map.len() + map.values().map(of).sum::<usize>()
}

/// `/orders/8812/items/3f2a…` → `/orders/:id/items/:id`: ids in paths would otherwise make every
/// route unique.
fn templated_route(path: &str) -> String {
    path.split('/')
        .map(|segment| if looks_like_id(segment) { ":id" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

fn looks_like_id(segment: &str) -> bool {
    let digits = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
    let hexish = segment.len() >= 16 && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    digits || hexish
}

#[cfg(test)]
mod tests;
