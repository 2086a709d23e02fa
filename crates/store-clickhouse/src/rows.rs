//! Our rows as ClickHouse `JSONEachRow` lines, and the flattened form of JSON properties that
//! queries read: every path through nested objects (as the JSON pointer the planner writes) with
//! its text as `docs/queries.md` compares it — strings as they are, other values as their
//! JSON text, `null` as no value.

use serde_json::{Map, Value, json};
use sextant_core::Event;

/// `(prop_keys, prop_values)` of a properties object.
pub(crate) fn flatten(properties: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let mut keys = Vec::new();
    let mut values = Vec::new();
    walk(properties, &mut Vec::new(), &mut keys, &mut values);
    (keys, values)
}

fn walk(
    object: &Map<String, Value>,
    path: &mut Vec<String>,
    keys: &mut Vec<String>,
    values: &mut Vec<String>,
) {
    for (key, value) in object {
        path.push(key.clone());
        let text = match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        if let Some(text) = text {
            keys.push(sextant_query::json_pointer(path));
            values.push(text);
        }
        if let Value::Object(inner) = value {
            walk(inner, path, keys, values);
        }
        path.pop();
    }
}

/// One event as a `JSONEachRow` line (with its newline).
pub(crate) fn event_line(e: &Event, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let (prop_keys, prop_values) = flatten(&e.properties);
    let properties =
        if e.properties.is_empty() { None } else { Some(serde_json::to_string(&e.properties)?) };
    let row = json!({
        "project_id": e.project_id.as_str(),
        "event": e.event,
        "timestamp": e.timestamp.timestamp_micros(),
        "received_at": e.received_at.timestamp_micros(),
        "insert_id": e.insert_id,
        "user_id": e.user_id,
        "device_id": e.device_id,
        "person_id": e.person_id,
        "session_id": e.session_id,
        "app": e.app,
        "url": e.url,
        "host": e.host,
        "path": e.path,
        "route": e.route,
        "referrer": e.referrer,
        "entity_type": e.entity_type,
        "entity_id": e.entity_id,
        "device_type": e.device_type,
        "browser": e.browser,
        "os": e.os,
        "country": e.country,
        "value": e.value,
        "library": e.library,
        "properties": properties,
        "prop_keys": prop_keys,
        "prop_values": prop_values,
    });
    serde_json::to_writer(&mut *out, &row)?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn nested_paths_read_as_the_planner_addresses_them() {
        let props: Map<String, Value> = serde_json::from_value(json!({
            "plan": "pro", "n": 3, "ok": true, "gone": null,
            "a/b": {"c~d": {"e": 1.5}}, "tags": ["x"]
        }))
        .unwrap();
        let (keys, values) = flatten(&props);
        let pairs: Vec<(&str, &str)> =
            keys.iter().map(String::as_str).zip(values.iter().map(String::as_str)).collect();
        assert_eq!(
            pairs,
            vec![
                ("/a~1b", "{\"c~d\":{\"e\":1.5}}"),
                ("/a~1b/c~0d", "{\"e\":1.5}"),
                ("/a~1b/c~0d/e", "1.5"),
                ("/n", "3"),
                ("/ok", "true"),
                ("/plan", "pro"),
                ("/tags", "[\"x\"]"),
            ]
        );
    }
}
