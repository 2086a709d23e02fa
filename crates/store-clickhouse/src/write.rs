//! The single writer of a Sextant server: dedup, identity and events of one append, in an order
//! that never loses or doubles an acknowledged event. ClickHouse has no transactions across
//! tables, so links and person rows go first (harmless if the events then fail: a link or
//! property without its events changes no answer until they arrive) and the events last;
//! the append is acknowledged only after ClickHouse answered the events insert.

use crate::http::{Client, Mode};
use crate::literal::quote;
use crate::rows;
use serde_json::{Map, Value, json};
use sextant_core::Event;
use sextant_query::Cell;
use sextant_store::dedup::RecentIds;
use sextant_store::identity::{self, KnownLinks, NewLinks, PersonUpdates};
use sextant_store::{Appended, StoreError};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where an append's rows go: the servers holding the data (one, or every shard). Each keeps
/// a complete copy of `person_links` and `persons`; events go to one shard per person.
pub(crate) struct Targets {
    pub(crate) servers: Vec<Client>,
}

/// The shard of a person's events: FNV-1a of project and raw person id, so a person's events
/// stay together on one shard (the planner's answers do not depend on it; ClickHouse merges
/// every shard's partial aggregates, but per-person work then stays local). Stable across
/// versions and machines, unlike `std`'s hasher. FNV-1a's low bits are weak (its lowest bit
/// is the parity of the bytes' lowest bits): on the 10M demo events it put 33% of them on one
/// of two shards. MurmurHash3's 64-bit finalizer before the modulo made that 49.6%.
pub(crate) fn shard_of(event: &Event, shards: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let person = event.person_id.as_deref().unwrap_or_default();
    for byte in event.project_id.as_str().bytes().chain([0]).chain(person.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    usize::try_from(hash % shards.max(1) as u64).unwrap_or(0)
}

/// What the writer remembers between appends.
pub(crate) struct Writer {
    pub(crate) recent: RecentIds,
    pub(crate) links: KnownLinks,
    /// `(project, insert_id)` of appends that failed: ClickHouse may have written part of
    /// such a batch (one part per partition), so their retries are checked against the table.
    suspects: HashSet<(String, String)>,
    /// Version of the last person row written: strictly increasing.
    person_version: u64,
    targets: Targets,
}

impl Writer {
    /// `person_version`: the highest version stored, so new rows supersede every old one.
    pub(crate) fn new(
        recent: RecentIds,
        links: KnownLinks,
        person_version: u64,
        targets: Targets,
    ) -> Self {
        Self { recent, links, suspects: HashSet::new(), person_version, targets }
    }

    /// Writes `body` into `table` on every server (the small tables' complete copies).
    async fn everywhere(&self, table: &str, body: Vec<u8>) -> Result<(), StoreError> {
        for server in &self.targets.servers {
            server.insert(table, body.clone()).await?;
        }
        Ok(())
    }

    /// Writes the events, each on its person's shard, every shard at once; fails unless every
    /// shard wrote its part (a retry is then checked against the table: see `suspects`).
    async fn write_events(&self, events: &[Event]) -> Result<(), StoreError> {
        let servers = &self.targets.servers;
        let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); servers.len()];
        for e in events {
            let body = &mut bodies[shard_of(e, servers.len())];
            rows::event_line(e, body).map_err(json_error)?;
        }
        let mut inserts = tokio::task::JoinSet::new();
        for (server, body) in servers.iter().zip(bodies).filter(|(_, b)| !b.is_empty()) {
            let server = server.clone();
            inserts.spawn(async move { server.insert("events_local", body).await });
        }
        let mut outcome = Ok(());
        while let Some(done) = inserts.join_next().await {
            let result = done.unwrap_or_else(|e| {
                Err(StoreError::Internal(format!("an insert task failed: {e}")))
            });
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    }

    pub(crate) async fn append(
        &mut self,
        client: &Client,
        events: Vec<Event>,
    ) -> Result<Appended, StoreError> {
        let received = events.len();
        let (events, already_stored) = self.drop_stored_suspects(client, events).await?;
        let (fresh, duplicates) = self.recent.fresh(events);
        if fresh.events.is_empty() {
            return Ok(Appended { stored: 0, duplicates: duplicates + already_stored });
        }
        let new_links = self.links.new_links(&fresh.events);
        let people = identity::person_updates(&fresh.events);
        let written = self.write(client, &fresh.events, &new_links, &people).await;
        match written {
            Ok(()) => {
                for e in &fresh.events {
                    self.suspects.remove(&(e.project_id.to_string(), e.insert_id.clone()));
                }
                self.recent.record(&fresh);
                self.links.record(new_links);
                tracing::debug!(events = received, duplicates, "append acknowledged by clickhouse");
                Ok(Appended { stored: fresh.events.len(), duplicates: duplicates + already_stored })
            }
            Err(e) => {
                self.suspects.extend(
                    fresh.events.iter().map(|e| (e.project_id.to_string(), e.insert_id.clone())),
                );
                Err(e)
            }
        }
    }

    async fn write(
        &mut self,
        client: &Client,
        events: &[Event],
        links: &NewLinks,
        people: &PersonUpdates,
    ) -> Result<(), StoreError> {
        if !links.is_empty() {
            let mut body = Vec::new();
            for (project, device, user, at) in links {
                let row = json!({"project_id": project, "device_id": device, "user_id": user, "linked_at": at});
                line(&row, &mut body)?;
            }
            self.everywhere("person_links_local", body).await?;
        }
        if !people.is_empty() {
            self.write_people(client, people).await?;
        }
        self.write_events(events).await
    }

    /// Merges each person's stored properties with the batch's updates exactly as the
    /// embedded store does (`$set_once` under what is stored, `$set` over it, JSON merge
    /// patch, `null` removes a key) and writes the result as a new version.
    async fn write_people(
        &mut self,
        client: &Client,
        people: &PersonUpdates,
    ) -> Result<(), StoreError> {
        let mut by_project: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (project, person) in people.keys() {
            by_project.entry(project).or_default().push(person);
        }
        let mut stored: HashMap<(String, String), Value> = HashMap::new();
        for (project, persons) in by_project {
            let list: Vec<String> = persons.iter().map(|p| quote(p)).collect();
            let sql = format!(
                "SELECT person_id, argMax(properties, version) FROM persons WHERE project_id = {} AND person_id IN ({}) GROUP BY person_id",
                quote(project),
                list.join(", ")
            );
            for row in client.all_rows(&sql, Mode::Internal).await? {
                if let [Cell::Text(person), Cell::Text(properties)] = row.as_slice() {
                    let value = serde_json::from_str(properties).map_err(json_error)?;
                    stored.insert((project.to_owned(), person.clone()), value);
                }
            }
        }
        let mut body = Vec::new();
        for ((project, person), (set, once, _)) in people {
            let before = stored
                .remove(&(project.clone(), person.clone()))
                .unwrap_or(Value::Object(Map::new()));
            let mut merged = Value::Object(once.clone());
            merge_patch(&mut merged, &before);
            merge_patch(&mut merged, &Value::Object(set.clone()));
            let object = match merged {
                Value::Object(object) => object,
                _ => Map::new(),
            };
            let (prop_keys, prop_values) = rows::flatten(&object);
            // The wall clock, not the event's time: an imported old event must still make the
            // newest version, and versions stay ahead across restarts (loaded on open).
            let now = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0);
            self.person_version = (self.person_version + 1).max(now);
            let row = json!({
                "project_id": project,
                "person_id": person,
                "properties": Value::Object(object).to_string(),
                "prop_keys": prop_keys,
                "prop_values": prop_values,
                "version": self.person_version,
            });
            line(&row, &mut body)?;
        }
        self.everywhere("persons_local", body).await
    }

    /// Splits off events of earlier failed appends that ClickHouse stored after all.
    async fn drop_stored_suspects(
        &mut self,
        client: &Client,
        events: Vec<Event>,
    ) -> Result<(Vec<Event>, usize), StoreError> {
        let mut asked: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in &events {
            let key = (e.project_id.to_string(), e.insert_id.clone());
            if self.suspects.contains(&key) {
                asked.entry(key.0).or_default().push(quote(&key.1));
            }
        }
        if asked.is_empty() {
            return Ok((events, 0));
        }
        let mut found = HashSet::new();
        for (project, ids) in asked {
            let sql = format!(
                "SELECT DISTINCT insert_id FROM events WHERE project_id = {} AND insert_id IN ({})",
                quote(&project),
                ids.join(", ")
            );
            for row in client.all_rows(&sql, Mode::Internal).await? {
                if let Some(Cell::Text(id)) = row.into_iter().next() {
                    found.insert((project.clone(), id));
                }
            }
        }
        let before = events.len();
        let kept: Vec<Event> = events
            .into_iter()
            .filter(|e| !found.contains(&(e.project_id.to_string(), e.insert_id.clone())))
            .collect();
        for key in found {
            self.suspects.remove(&key);
        }
        let dropped = before - kept.len();
        Ok((kept, dropped))
    }
}

/// RFC 7396 JSON merge patch, as DuckDB's `json_merge_patch`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

fn line(row: &Value, out: &mut Vec<u8>) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *out, row).map_err(json_error)?;
    out.push(b'\n');
    Ok(())
}

fn json_error(e: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_stays_on_one_shard_and_people_spread() {
        let event = |person: &str| -> Event {
            serde_json::from_value(json!({
                "project_id": "prj_s", "event": "e", "timestamp": "2026-12-01T00:00:00Z",
                "received_at": "2026-12-01T00:00:00Z", "insert_id": "i", "person_id": person,
            }))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(shard_of(&event("ada"), 2), shard_of(&event("ada"), 2));
        assert_eq!(shard_of(&event("ada"), 1), 0);
        // Even for ids that differ in few bits (numbered users, hex devices), on 2 and 3 shards.
        let shapes: [fn(u32) -> String; 3] =
            [|i| format!("u{i}"), |i| format!("user-{i:06}"), |i| format!("d{:08x}", i * 2)];
        for shape in shapes {
            for shards in [2, 3] {
                let mut counts = vec![0; shards];
                for i in 0..12_000 {
                    counts[shard_of(&event(&shape(i)), shards)] += 1;
                }
                let fair = 12_000 / shards;
                assert!(
                    counts.iter().all(|&c| c * 100 > fair * 95 && c * 100 < fair * 105),
                    "{counts:?} for ids like {}",
                    shape(7)
                );
            }
        }
    }

    #[test]
    fn merge_patch_sets_nested_keys_and_removes_nulls() {
        let mut target = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut target, &json!({"a": null, "b": {"c": 4}, "e": 5}));
        assert_eq!(target, json!({"b": {"c": 4, "d": 3}, "e": 5}));
    }
}
