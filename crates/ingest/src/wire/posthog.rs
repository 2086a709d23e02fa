//! PostHog capture: `/e`, `/i/v0/e`, `/capture`, `/batch` (and `/track`, `/engage` when the
//! payload is PostHog's). A body is a JSON array of events, `{"api_key"|"token", "batch"}`, or
//! one event; the project token may sit on the batch, on each event or in its properties, and
//! one request may not mix tokens.

use super::{Native, text};
use crate::{ClientHints, RawEvent};
use serde_json::{Map, Value};
use std::net::IpAddr;

const MAX_DISTINCT_ID_CHARS: usize = 200;

/// PostHog properties that become event columns (or client hints), and are therefore not kept
/// among the properties.
const CONSUMED: [&str; 14] = [
    "token",
    "$token",
    "api_key",
    "distinct_id",
    "$lib",
    "$lib_version",
    "$current_url",
    "$referrer",
    "$session_id",
    "$device_id",
    "$anon_distinct_id",
    "$ip",
    "$raw_user_agent",
    "$insert_id",
];

#[derive(Debug)]
pub struct Capture {
    pub token: String,
    pub events: Vec<RawEvent>,
    /// Events PostHog itself would refuse, by index, with the reason.
    pub problems: Vec<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CaptureError {
    /// 400: the payload is not a capture request.
    Invalid(String),
    /// 401: no token, or several different ones.
    Token(String),
}

/// Whether a decoded payload is PostHog's rather than Mixpanel's (they share `/track` and
/// `/engage`): PostHog puts `distinct_id`/`api_key` at the top level, Mixpanel inside
/// `properties`.
pub fn looks_like_posthog(payload: &Value) -> bool {
    let first = match payload {
        Value::Array(items) => items.first(),
        other => Some(other),
    };
    let Some(Value::Object(o)) = first else { return false };
    ["api_key", "batch", "distinct_id", "$distinct_id", "uuid"].iter().any(|k| o.contains_key(*k))
}

/// Maps a decoded payload. `request` carries the connection's address and the browser's user
/// agent (only used for events from posthog-js, whose `$lib` is `web`).
pub fn parse(payload: Value, request: &ClientHints) -> Result<Capture, CaptureError> {
    let (batch_token, items) = match payload {
        Value::Array(items) => (None, items),
        Value::Object(mut o) if o.contains_key("batch") => {
            let token = text(&o, "api_key").or_else(|| text(&o, "token"));
            match o.remove("batch") {
                Some(Value::Array(items)) => (token, items),
                _ => return Err(CaptureError::Invalid("`batch` must be an array".into())),
            }
        }
        single @ Value::Object(_) => (None, vec![single]),
        _ => {
            return Err(CaptureError::Invalid(
                "the payload must be an event, an array or a batch".into(),
            ));
        }
    };
    if items.is_empty() {
        return Err(CaptureError::Invalid("the batch is empty".into()));
    }
    let mut token = batch_token;
    let mut problems = Vec::new();
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(e) = item else {
            problems.push((index, "an event must be a JSON object".into()));
            events.push(RawEvent::from(Value::Null));
            continue;
        };
        if let Some(own) = event_token(&e) {
            match &token {
                Some(t) if *t != own => {
                    return Err(CaptureError::Token("the batch mixes project tokens".into()));
                }
                _ => token = Some(own),
            }
        }
        let event = map_event(index, e, request, &mut problems);
        // An event PostHog would refuse is never stored, whatever the shared validation says.
        let refused = problems.last().is_some_and(|(i, _)| *i == index);
        events.push(if refused { RawEvent::from(Value::Null) } else { event });
    }
    let token = token.ok_or_else(|| CaptureError::Token("no project token (api_key)".into()))?;
    Ok(Capture { token, events, problems })
}

fn event_token(e: &Map<String, Value>) -> Option<String> {
    let props = e.get("properties").and_then(Value::as_object);
    ["token", "$token", "api_key"]
        .iter()
        .find_map(|k| text(e, k))
        .or_else(|| props.and_then(|p| text(p, "token")))
}

fn map_event(
    index: usize,
    mut e: Map<String, Value>,
    request: &ClientHints,
    problems: &mut Vec<(usize, String)>,
) -> RawEvent {
    let mut props = match e.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let mut out = Native::default();
    match text(&e, "event") {
        Some(name) => out.set("event", name),
        None => problems.push((index, "`event` is required".into())),
    }
    let distinct_id = ["distinct_id", "$distinct_id"]
        .iter()
        .find_map(|k| text(&e, k))
        .or_else(|| text(&props, "distinct_id"))
        .map(|id| id.chars().take(MAX_DISTINCT_ID_CHARS).collect::<String>());
    let Some(distinct_id) = distinct_id else {
        problems.push((index, "`distinct_id` is required".into()));
        return out.into_raw(ClientHints::default());
    };
    let name = text(&e, "event").unwrap_or_default();
    let (user_id, device_id) = match name.as_str() {
        "$identify" => (Some(distinct_id), text(&props, "$anon_distinct_id")),
        "$create_alias" => (text(&props, "alias"), Some(distinct_id)),
        _ => match text(&props, "$device_id") {
            Some(device) if device == distinct_id => (None, Some(device)),
            device => (Some(distinct_id), device),
        },
    };
    out.set_opt("user_id", user_id.map(Value::from));
    out.set_opt("device_id", device_id.map(Value::from));
    out.set_opt(
        "insert_id",
        text(&e, "uuid").or_else(|| text(&props, "$insert_id")).map(Value::from),
    );
    out.set_opt("timestamp", timestamp(&e));
    out.set_opt("session_id", text(&props, "$session_id").map(Value::from));
    out.set_opt("url", text(&props, "$current_url").map(Value::from));
    out.set_opt("referrer", text(&props, "$referrer").filter(|r| r != "$direct").map(Value::from));
    let lib = text(&props, "$lib");
    out.set_opt(
        "library",
        lib.as_ref().map(|lib| match text(&props, "$lib_version") {
            Some(version) => Value::from(format!("{lib}/{version}")),
            None => Value::from(lib.clone()),
        }),
    );
    let from_browser = lib.as_deref() == Some("web");
    let client = ClientHints {
        ip: text(&props, "$ip").and_then(|ip| ip.parse::<IpAddr>().ok()).or(request.ip),
        user_agent: text(&props, "$raw_user_agent")
            .or_else(|| from_browser.then(|| request.user_agent.clone()).flatten()),
    };
    for key in ["$set", "$set_once"] {
        if let Some(v) = e.remove(key).filter(Value::is_object) {
            props.insert(key.to_owned(), v);
        }
    }
    props.retain(|k, _| !CONSUMED.contains(&k.as_str()));
    out.set("properties", props);
    out.into_raw(client)
}

/// `timestamp` (ISO 8601), or `offset` milliseconds before now.
fn timestamp(e: &Map<String, Value>) -> Option<Value> {
    if let Some(t) = text(e, "timestamp") {
        return Some(Value::from(t));
    }
    let offset = e.get("offset")?.as_i64()?;
    Some(Value::from((chrono::Utc::now() - chrono::Duration::milliseconds(offset)).to_rfc3339()))
}

#[cfg(test)]
mod tests;
