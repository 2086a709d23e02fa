//! Person links: when an event carries both a user id and a device id, the device is linked to
//! that user (the first link wins), in the same transaction as the event. The writer keeps the
//! linked devices in memory so the common case (already linked) costs a set lookup.

use duckdb::Connection;
use sextant_core::Event;
use std::collections::{HashMap, HashSet};

pub(crate) struct KnownLinks {
    linked: HashSet<(String, String)>,
}

/// Links a batch adds: (project, device, user, first seen at µs).
pub(crate) type NewLinks = Vec<(String, String, String, i64)>;

impl KnownLinks {
    pub(crate) fn load(conn: &Connection) -> duckdb::Result<Self> {
        let mut statement = conn.prepare("SELECT project_id, device_id FROM person_links")?;
        let linked = statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
            .collect::<duckdb::Result<_>>()?;
        Ok(Self { linked })
    }

    /// The links `events` add, earliest event first for each device.
    pub(crate) fn new_links(&self, events: &[Event]) -> NewLinks {
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

    /// Writes `links` inside the caller's transaction, a few hundred rows per statement: the
    /// demo's first day alone links tens of thousands of devices, and one statement per link
    /// more than doubled its load time.
    pub(crate) fn insert(conn: &Connection, links: &NewLinks) -> duckdb::Result<()> {
        const ROWS: usize = 256;
        for chunk in links.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let n = i * 4;
                    format!("(${}, ${}, ${}, make_timestamp(${}))", n + 1, n + 2, n + 3, n + 4)
                })
                .collect();
            let sql = format!(
                "INSERT INTO person_links VALUES {} ON CONFLICT DO NOTHING",
                rows.join(", ")
            );
            let mut params: Vec<duckdb::types::Value> = Vec::with_capacity(chunk.len() * 4);
            for (project, device, user, at) in chunk {
                params.push(project.clone().into());
                params.push(device.clone().into());
                params.push(user.clone().into());
                params.push((*at).into());
            }
            conn.prepare_cached(&sql)?.execute(duckdb::params_from_iter(params))?;
        }
        Ok(())
    }

    /// Remembers links that are now durable.
    pub(crate) fn record(&mut self, links: NewLinks) {
        self.linked.extend(links.into_iter().map(|(project, device, _, _)| (project, device)));
    }
}
