//! Person links: when an event carries both a user id and a device id, the device is linked to
//! that user (the first link wins), in the same transaction as the event. The writer keeps the
//! linked devices in memory so the common case (already linked) costs a set lookup.

use duckdb::{Connection, params};
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

    /// Writes `links` inside the caller's transaction.
    pub(crate) fn insert(conn: &Connection, links: &NewLinks) -> duckdb::Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let mut statement = conn.prepare_cached(
            "INSERT INTO person_links VALUES ($1, $2, $3, make_timestamp($4)) ON CONFLICT DO NOTHING",
        )?;
        for (project, device, user, at) in links {
            statement.execute(params![project, device, user, at])?;
        }
        Ok(())
    }

    /// Remembers links that are now durable.
    pub(crate) fn record(&mut self, links: NewLinks) {
        self.linked.extend(links.into_iter().map(|(project, device, _, _)| (project, device)));
    }
}
