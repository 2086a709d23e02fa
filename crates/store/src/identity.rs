//! Identity, for every events backend: which device → user links a batch adds (the first
//! link of a device wins, so events before sign-up and after it count as one person without
//! rewriting history), and how a batch's `$set` / `$set_once` / `$unset` fold per person. The
//! backends store both in the same write as the events.

use serde_json::{Map, Value};
use sextant_core::Event;
use std::collections::{HashMap, HashSet};

/// The devices already linked, kept by a backend's single writer so the common case (already
/// linked) costs a set lookup.
#[derive(Debug, Default)]
pub struct KnownLinks {
    linked: HashSet<(String, String)>,
}

/// Links a batch adds: (project, device, user, first seen at µs).
pub type NewLinks = Vec<(String, String, String, i64)>;

impl KnownLinks {
    /// Remembers a link stored earlier (when loading).
    pub fn remember(&mut self, project: String, device: String) {
        self.linked.insert((project, device));
    }

    /// The links `events` add, earliest event first for each device.
    pub fn new_links(&self, events: &[Event]) -> NewLinks {
        let mut found: HashMap<(String, String), (String, i64)> = HashMap::new();
        for e in events {
            let (Some(user), Some(device)) = (&e.user_id, &e.device_id) else { continue };
            let key = (e.project_id.to_string(), device.clone());
            if self.linked.contains(&key) {
                continue;
            }
            let at = e.timestamp.timestamp_micros();
            let link = found.entry(key).or_insert_with(|| (user.clone(), at));
            if at < link.1 {
                *link = (user.clone(), at);
            }
        }
        found
            .into_iter()
            .map(|((project, device), (user, at))| (project, device, user, at))
            .collect()
    }

    /// Remembers links that are now durable.
    pub fn record(&mut self, links: NewLinks) {
        self.linked.extend(links.into_iter().map(|(project, device, _, _)| (project, device)));
    }
}

/// One person's folded operations: (set, set_once, last event time in µs).
pub type PersonUpdates = HashMap<(String, String), (Map<String, Value>, Map<String, Value>, i64)>;

pub fn person_updates(events: &[Event]) -> PersonUpdates {
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
