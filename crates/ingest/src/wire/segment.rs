//! Segment's HTTP Tracking API: `/v1/track|identify|page|screen|group|alias` (one message) and
//! `/v1/batch`. Calls other than `track` become events with reserved names: `page` →
//! `page_view`, `screen` → `screen_view`, `identify` → `$identify` (traits as `$set`, the person operation every source stores),
//! `group` → `$group`, `alias` → `$alias` (linking `previousId` to `userId`).

use super::{Native, text};
use crate::{ClientHints, RawEvent};
use serde_json::{Map, Value};
use std::net::IpAddr;

/// Segment's documented limits.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// `context` keys that become columns or client hints and are not kept.
const CONSUMED_CONTEXT: [&str; 3] = ["ip", "userAgent", "library"];

#[derive(Debug)]
pub struct Batch {
    pub write_key: Option<String>,
    pub events: Vec<RawEvent>,
    pub problems: Vec<(usize, String)>,
}

/// Parses a body for `call` (`track`, ..., or `batch`).
pub fn parse(call: &str, payload: Value) -> Result<Batch, String> {
    let Value::Object(mut body) = payload else {
        return Err("the body must be a JSON object".into());
    };
    let write_key = text(&body, "writeKey");
    let (messages, shared_context) = if call == "batch" {
        let context = body.remove("context");
        match body.remove("batch") {
            Some(Value::Array(messages)) => (messages, context),
            _ => return Err("`batch` must be an array of messages".into()),
        }
    } else {
        body.insert("type".into(), Value::from(call));
        (vec![Value::Object(body)], None)
    };
    let mut problems = Vec::new();
    let mut events = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        let size = serde_json::to_vec(&message).map_or(usize::MAX, |v| v.len());
        let mapped = if size > MAX_MESSAGE_BYTES {
            Err(format!("message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}"))
        } else {
            map_message(message, shared_context.as_ref())
        };
        match mapped {
            Ok(event) => events.push(event),
            Err(reason) => {
                problems.push((index, reason));
                events.push(RawEvent::from(Value::Null));
            }
        }
    }
    Ok(Batch { write_key, events, problems })
}

fn map_message(message: Value, shared_context: Option<&Value>) -> Result<RawEvent, String> {
    let Value::Object(mut m) = message else { return Err("a message must be an object".into()) };
    let kind = text(&m, "type").ok_or("`type` is required")?;
    let user_id = text(&m, "userId");
    let anonymous_id = text(&m, "anonymousId");
    if user_id.is_none() && anonymous_id.is_none() {
        return Err("`userId` or `anonymousId` is required".into());
    }
    let mut properties = match m.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let traits = m.remove("traits").filter(Value::is_object);
    let name = match kind.as_str() {
        "track" => text(&m, "event").ok_or("`event` is required for track")?,
        "page" | "screen" => {
            for key in ["name", "category"] {
                if let Some(v) = m.get(key).filter(|v| !v.is_null()) {
                    properties.insert(key.to_owned(), v.clone());
                }
            }
            format!("{kind}_view")
        }
        "identify" => {
            if let Some(t) = traits {
                properties.insert("$set".into(), t);
            }
            "$identify".into()
        }
        "group" => {
            let group = text(&m, "groupId").ok_or("`groupId` is required for group")?;
            properties.insert("group_id".into(), Value::from(group));
            properties.extend(traits.map(|t| ("traits".to_owned(), t)));
            "$group".into()
        }
        "alias" => "$alias".into(),
        other => return Err(format!("unknown message type `{other}`")),
    };
    let device_id = match kind.as_str() {
        "alias" => text(&m, "previousId").or(anonymous_id),
        _ => anonymous_id,
    };
    let mut context = match (m.remove("context"), shared_context) {
        (Some(Value::Object(own)), Some(Value::Object(shared))) => {
            let mut merged = shared.clone();
            merged.extend(own);
            merged
        }
        (Some(Value::Object(own)), _) => own,
        (_, Some(Value::Object(shared))) => shared.clone(),
        _ => Map::new(),
    };
    let mut out = Native::default();
    out.set("event", name);
    out.set_opt("user_id", user_id.map(Value::from));
    out.set_opt("device_id", device_id.map(Value::from));
    out.set_opt("insert_id", text(&m, "messageId").map(Value::from));
    out.set_opt("timestamp", text(&m, "timestamp").map(Value::from));
    let library = context.get("library").and_then(Value::as_object).and_then(|l| {
        let name = text(l, "name")?;
        Some(match text(l, "version") {
            Some(version) => format!("{name}/{version}"),
            None => name,
        })
    });
    out.set_opt("library", library.map(Value::from));
    let page = context.get("page").and_then(Value::as_object);
    out.set_opt(
        "url",
        page.and_then(|p| text(p, "url")).or_else(|| text(&properties, "url")).map(Value::from),
    );
    out.set_opt("referrer", page.and_then(|p| text(p, "referrer")).map(Value::from));
    out.set_opt(
        "os",
        context.get("os").and_then(Value::as_object).and_then(|o| text(o, "name")).map(Value::from),
    );
    let client = ClientHints {
        ip: text(&context, "ip").and_then(|ip| ip.parse::<IpAddr>().ok()),
        user_agent: text(&context, "userAgent"),
    };
    context.retain(|k, _| !CONSUMED_CONTEXT.contains(&k.as_str()));
    if !context.is_empty() {
        properties.insert("context".into(), Value::Object(context));
    }
    out.set("properties", properties);
    Ok(out.into_raw(client))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn batch_of_every_call() {
        let payload = json!({"writeKey": "sx_wk_1", "context": {"locale": "fr-FR"}, "batch": [
            {"type": "track", "event": "sdk_view", "anonymousId": "d-1", "messageId": "m-1",
             "timestamp": "2026-11-22T04:35:29.501Z", "properties": {"n": 1},
             "context": {"library": {"name": "analytics-python", "version": "2.4.0"}, "ip": "203.0.113.5",
                         "userAgent": "Mozilla/5.0", "page": {"url": "https://ex.com/a", "referrer": "https://r.com"}}},
            {"type": "identify", "userId": "u-1", "anonymousId": "d-1", "traits": {"plan": "pro"}},
            {"type": "page", "userId": "u-1", "name": "Pricing", "properties": {"path": "/pricing"}},
            {"type": "alias", "userId": "u-1", "previousId": "d-old"},
            {"type": "track", "userId": null, "event": "x"},
            {"type": "track", "userId": "u-1"},
        ]});
        let b = parse("batch", payload).unwrap();
        assert_eq!(b.write_key.as_deref(), Some("sx_wk_1"));
        assert_eq!(
            b.events[0].fields,
            json!({"event": "sdk_view", "device_id": "d-1", "insert_id": "m-1",
                   "timestamp": "2026-11-22T04:35:29.501Z", "library": "analytics-python/2.4.0",
                   "url": "https://ex.com/a", "referrer": "https://r.com",
                   "properties": {"n": 1, "context": {"locale": "fr-FR", "page": {"url": "https://ex.com/a", "referrer": "https://r.com"}}}})
        );
        assert_eq!(b.events[0].client.ip, Some("203.0.113.5".parse().unwrap()));
        assert_eq!(b.events[0].client.user_agent.as_deref(), Some("Mozilla/5.0"));
        assert_eq!(b.events[1].fields["event"], "$identify");
        assert_eq!(b.events[1].fields["properties"]["$set"]["plan"], "pro");
        assert_eq!(b.events[2].fields["event"], "page_view");
        assert_eq!(b.events[2].fields["properties"]["name"], "Pricing");
        assert_eq!(
            (b.events[3].fields["user_id"].clone(), b.events[3].fields["device_id"].clone()),
            (json!("u-1"), json!("d-old"))
        );
        let bad: Vec<usize> = b.problems.iter().map(|(i, _)| *i).collect();
        assert_eq!(bad, [4, 5]);
    }

    #[test]
    fn single_calls_and_limits() {
        let b = parse("track", json!({"event": "e", "userId": "u", "writeKey": "k"})).unwrap();
        assert_eq!(b.events[0].fields["event"], "e");
        let huge = json!({"event": "e", "userId": "u", "properties": {"blob": "x".repeat(40_000)}});
        assert!(parse("track", huge).unwrap().problems[0].1.contains("limit"));
        assert!(parse("batch", json!({"batch": {}})).is_err());
    }
}
