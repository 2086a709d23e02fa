//! Person properties: events carrying `$set` (last write wins), `$set_once` (first write
//! wins) or `$unset` (a list of keys) update their person's row in the same transaction as
//! the events. Within a batch the operations are folded per person in timestamp order; the
//! row is then merged with JSON merge-patch (`null` removes a key).

use duckdb::{Connection, params};
use serde_json::{Map, Value};
use sextant_core::Event;
use std::collections::HashMap;

/// One person's folded operations: (set, set_once, last event time in µs).
pub(crate) type PersonUpdates =
    HashMap<(String, String), (Map<String, Value>, Map<String, Value>, i64)>;

pub(crate) fn updates(events: &[Event]) -> PersonUpdates {
    let mut order: Vec<&Event> = events
        .iter()
        .filter(|e| e.person_id.is_some())
        .filter(|e| ["$set", "$set_once", "$unset"].iter().any(|k| e.properties.contains_key(*k)))
        .collect();
    order.sort_by_key(|e| e.timestamp);
    let mut folded = PersonUpdates::new();
    for e in order {
        let Some(person) = &e.person_id else { continue };
        let key = (e.project_id.to_string(), person.clone());
        let (set, once, at) = folded.entry(key).or_insert_with(|| (Map::new(), Map::new(), 0));
        *at = (*at).max(e.timestamp.timestamp_micros());
        if let Some(Value::Object(values)) = e.properties.get("$set_once") {
            for (k, v) in values {
                if !set.contains_key(k) {
                    once.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        if let Some(Value::Object(values)) = e.properties.get("$set") {
            set.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(Value::Array(keys)) = e.properties.get("$unset") {
            for key in keys.iter().filter_map(Value::as_str) {
                set.insert(key.to_owned(), Value::Null);
                once.remove(key);
            }
        }
    }
    folded
}

/// Writes `updates` inside the caller's transaction.
pub(crate) fn apply(conn: &Connection, updates: &PersonUpdates) -> duckdb::Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let mut statement = conn.prepare_cached(
        "INSERT INTO persons VALUES ($1, $2, json_merge_patch($4::JSON, $3::JSON), make_timestamp($5))
         ON CONFLICT (project_id, person_id) DO UPDATE SET
           properties = json_merge_patch(json_merge_patch($4::JSON, properties), $3::JSON),
           updated_at = greatest(updated_at, make_timestamp($5))",
    )?;
    for ((project, person), (set, once, at)) in updates {
        let set = Value::Object(set.clone()).to_string();
        let once = Value::Object(once.clone()).to_string();
        statement.execute(params![project, person, set, once, at])?;
    }
    Ok(())
}
