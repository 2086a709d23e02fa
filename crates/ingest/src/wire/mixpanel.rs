//! Mixpanel ingestion: `/track` (events), `/engage` (people updates, stored as `$identify`
//! events carrying the operations) and `/import` (historical events with an explicit
//! `$insert_id`). Mixpanel puts everything, token and ids included, inside `properties`.

use super::{Native, epoch_to_rfc3339, text};
use crate::{ClientHints, RawEvent};
use serde_json::{Map, Value};
use std::net::IpAddr;

/// Properties that become event columns or client hints.
const CONSUMED: [&str; 13] = [
    "token",
    "distinct_id",
    "time",
    "$insert_id",
    "$device_id",
    "$user_id",
    "mp_lib",
    "$lib_version",
    "$current_url",
    "$referrer",
    "ip",
    "$os",
    "$browser",
];

/// The people operations `/engage` carries.
const PEOPLE_OPERATIONS: [&str; 8] =
    ["$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset", "$delete"];

#[derive(Debug)]
pub struct Batch {
    /// The project token, when the events carry one (`/import` authenticates by header).
    pub token: Option<String>,
    pub events: Vec<RawEvent>,
    /// Events Mixpanel would refuse: index, field, reason.
    pub problems: Vec<(usize, &'static str, String)>,
}

/// Which endpoint's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Track,
    /// Also requires `time`, `distinct_id` and `$insert_id` on every event.
    Import,
}

fn items(payload: Value) -> Vec<Value> {
    match payload {
        Value::Array(items) => items,
        single => vec![single],
    }
}

/// Maps `/track` or `/import` events. `ip` is the request's address when the client asked for
/// it to be used (`ip=1`).
pub fn parse_events(payload: Value, endpoint: Endpoint, ip: Option<IpAddr>) -> Batch {
    let mut token = None;
    let mut problems = Vec::new();
    let mut events = Vec::new();
    for (index, item) in items(payload).into_iter().enumerate() {
        let (event, problem) = map_event(item, endpoint, ip, &mut token);
        if let Some((field, reason)) = problem {
            problems.push((index, field, reason));
            events.push(RawEvent::from(Value::Null));
        } else {
            events.push(event);
        }
    }
    Batch { token, events, problems }
}

type Problem = Option<(&'static str, String)>;

fn map_event(
    item: Value,
    endpoint: Endpoint,
    request_ip: Option<IpAddr>,
    token: &mut Option<String>,
) -> (RawEvent, Problem) {
    let invalid =
        |field, reason: &str| (RawEvent::from(Value::Null), Some((field, reason.to_owned())));
    let Value::Object(mut e) = item else { return invalid("event", "an event must be an object") };
    let mut props = match e.remove("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return invalid("properties", "`properties` must be an object"),
    };
    if token.is_none() {
        *token = text(&props, "token");
    }
    let mut out = Native::default();
    let Some(name) = text(&e, "event") else { return invalid("event", "`event` is required") };
    out.set("event", name);
    let (user_id, device_id) = ids(&props);
    if endpoint == Endpoint::Import {
        if text(&props, "distinct_id").is_none() {
            return invalid("properties.distinct_id", "`distinct_id` is required");
        }
        if text(&props, "$insert_id").is_none() {
            return invalid("properties.$insert_id", "`$insert_id` is required");
        }
        if props.get("time").is_none() {
            return invalid("properties.time", "`time` is required");
        }
    }
    out.set_opt("user_id", user_id.map(Value::from));
    out.set_opt("device_id", device_id.map(Value::from));
    match props.get("time") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => match n.as_f64().and_then(epoch_to_rfc3339) {
            Some(t) => out.set("timestamp", t),
            None => return invalid("properties.time", "`time` is out of range"),
        },
        Some(_) => {
            return invalid(
                "properties.time",
                "`time` must be seconds or milliseconds since the epoch",
            );
        }
    }
    out.set_opt("insert_id", text(&props, "$insert_id").map(Value::from));
    out.set_opt("url", text(&props, "$current_url").map(Value::from));
    out.set_opt("referrer", text(&props, "$referrer").filter(|r| r != "$direct").map(Value::from));
    out.set_opt("os", text(&props, "$os").map(Value::from));
    out.set_opt("browser", text(&props, "$browser").map(Value::from));
    out.set_opt(
        "library",
        text(&props, "mp_lib").map(|lib| match text(&props, "$lib_version") {
            Some(version) => Value::from(format!("mixpanel-{lib}/{version}")),
            None => Value::from(format!("mixpanel-{lib}")),
        }),
    );
    let ip = text(&props, "ip").and_then(|ip| ip.parse().ok()).or(request_ip);
    props.retain(|k, _| !CONSUMED.contains(&k.as_str()));
    out.set("properties", props);
    (out.into_raw(ClientHints { ip, user_agent: None }), None)
}

/// Mixpanel's simplified identity: `$user_id` and `$device_id` when present; otherwise the
/// distinct id is a device (`$device:` prefix, or equal to `$device_id`) or a user.
fn ids(props: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let device = text(props, "$device_id");
    if let Some(user) = text(props, "$user_id") {
        return (Some(user), device);
    }
    match text(props, "distinct_id") {
        Some(id) if id.starts_with("$device:") => (None, Some(id["$device:".len()..].to_owned())),
        Some(id) if Some(&id) == device.as_ref() => (None, device),
        Some(id) => (Some(id), device),
        None => (None, device),
    }
}

/// Maps `/engage` updates to `$identify` events whose properties hold the operations.
pub fn parse_engage(payload: Value) -> Batch {
    let mut token = None;
    let mut problems = Vec::new();
    let mut events = Vec::new();
    for (index, item) in items(payload).into_iter().enumerate() {
        let Value::Object(u) = item else {
            problems.push((index, "update", "an update must be an object".into()));
            events.push(RawEvent::from(Value::Null));
            continue;
        };
        if token.is_none() {
            token = text(&u, "$token");
        }
        let Some(distinct_id) = text(&u, "$distinct_id") else {
            problems.push((index, "$distinct_id", "`$distinct_id` is required".into()));
            events.push(RawEvent::from(Value::Null));
            continue;
        };
        let mut out = Native::default();
        out.set("event", "$identify");
        // `/engage` payloads do not name the library; the endpoint is Mixpanel's own.
        out.set("library", "mixpanel");
        match distinct_id.strip_prefix("$device:") {
            Some(device) => out.set("device_id", device),
            None => out.set("user_id", distinct_id),
        }
        if let Some(t) = u.get("$time").and_then(Value::as_f64).and_then(epoch_to_rfc3339) {
            out.set("timestamp", t);
        }
        let operations: Map<String, Value> = PEOPLE_OPERATIONS
            .iter()
            .filter_map(|op| u.get(*op).map(|v| ((*op).to_owned(), v.clone())))
            .collect();
        out.set("properties", operations);
        let ip = text(&u, "$ip").and_then(|ip| ip.parse().ok());
        events.push(out.into_raw(ClientHints { ip, user_agent: None }));
    }
    Batch { token, events, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn track_maps_ids_time_and_library() {
        let payload = json!({"event": "sdk_view", "properties": {"run": "r", "n": 3, "distinct_id": "u-1",
            "$insert_id": "ins-3", "time": 1_795_322_138_301_i64, "$device_id": "d-1", "$user_id": "u-1",
            "token": "sx_wk_1", "mp_lib": "node", "$lib_version": "0.24.0", "ip": "198.51.100.3"}});
        let b = parse_events(payload, Endpoint::Track, None);
        assert_eq!(b.token.as_deref(), Some("sx_wk_1"));
        assert!(b.problems.is_empty());
        let e = &b.events[0];
        assert_eq!(
            e.fields,
            json!({"event": "sdk_view", "user_id": "u-1", "device_id": "d-1",
                   "timestamp": "2026-11-22T04:35:38.301+00:00", "insert_id": "ins-3",
                   "library": "mixpanel-node/0.24.0", "properties": {"run": "r", "n": 3}})
        );
        assert_eq!(e.client.ip, Some("198.51.100.3".parse().unwrap()));
    }

    #[test]
    fn seconds_and_anonymous_devices() {
        let payload = json!([{"event": "a", "properties": {"distinct_id": "$device:abc", "time": 1_795_322_138}},
                             {"event": "b", "properties": {"distinct_id": "d-2", "$device_id": "d-2"}}]);
        let b = parse_events(payload, Endpoint::Track, None);
        assert_eq!(b.events[0].fields["device_id"], "abc");
        assert_eq!(b.events[0].fields["timestamp"], "2026-11-22T04:35:38+00:00");
        assert_eq!(b.events[1].fields.get("user_id"), None);
        assert_eq!(b.events[1].fields["device_id"], "d-2");
    }

    #[test]
    fn import_requires_time_distinct_id_and_insert_id() {
        let payload = json!([
            {"event": "a", "properties": {"distinct_id": "u", "$insert_id": "i", "time": 1_795_322_138}},
            {"event": "a", "properties": {"distinct_id": "u", "time": 1_795_322_138}},
            {"properties": {}}
        ]);
        let b = parse_events(payload, Endpoint::Import, None);
        let fields: Vec<_> = b.problems.iter().map(|(i, f, _)| (*i, *f)).collect();
        assert_eq!(fields, [(1, "properties.$insert_id"), (2, "event")]);
        assert_eq!(b.events[1].fields, Value::Null, "refused events are never stored");
    }

    #[test]
    fn engage_becomes_identify_events() {
        let payload = json!({"$token": "sx_wk_1", "$time": 1_795_322_143.61, "$distinct_id": "u-1",
                             "$set": {"company": "Acme"}});
        let b = parse_engage(payload);
        assert_eq!(b.token.as_deref(), Some("sx_wk_1"));
        assert_eq!(
            b.events[0].fields,
            json!({"event": "$identify", "library": "mixpanel", "user_id": "u-1", "timestamp": "2026-11-22T04:35:43.610+00:00",
                   "properties": {"$set": {"company": "Acme"}}})
        );
    }
}
