//! Idempotent appends. SDKs retry whenever an acknowledgement is lost, so the same
//! `(project_id, insert_id)` can arrive twice; within the dedup window the second copy is
//! acknowledged and not stored. The writer thread is the only one appending, so it can keep
//! the recent ids in memory (a 128-bit digest and the receive time each, ~32 bytes) and check
//! a batch without touching the database; on open the window is reloaded from the events
//! table, so restarts do not forget.

use duckdb::Connection;
use sextant_core::Event;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Prune expired ids after this many new ones, so pruning costs O(1) per append on average.
const PRUNE_EVERY: usize = 100_000;

pub(crate) struct RecentIds {
    window_micros: i64,
    /// Digest of `(project_id, insert_id)` → `received_at` in microseconds.
    seen: HashMap<u128, i64>,
    since_prune: usize,
}

impl RecentIds {
    /// Loads every id received within `window_micros` before `now_micros`.
    pub(crate) fn load(
        conn: &Connection,
        window_micros: i64,
        now_micros: i64,
    ) -> duckdb::Result<Self> {
        let mut recent = Self { window_micros, seen: HashMap::new(), since_prune: 0 };
        let mut statement = conn.prepare(
            "SELECT project_id, insert_id, epoch_us(received_at) FROM events \
             WHERE received_at >= make_timestamp($1)",
        )?;
        let mut rows = statement.query([now_micros - window_micros])?;
        while let Some(row) = rows.next()? {
            let project: String = row.get(0)?;
            let insert_id: String = row.get(1)?;
            let received: i64 = row.get(2)?;
            recent.seen.insert(digest(&project, &insert_id), received);
        }
        Ok(recent)
    }

    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    /// Splits `events` into those to store and the number of duplicates (of earlier appends
    /// within the window, or of an earlier event of the same batch).
    pub(crate) fn fresh(&self, events: Vec<Event>) -> (Vec<Event>, usize) {
        let mut in_batch = std::collections::HashSet::with_capacity(events.len());
        let total = events.len();
        let fresh: Vec<Event> = events
            .into_iter()
            .filter(|e| {
                let key = digest(e.project_id.as_str(), &e.insert_id);
                !self.seen_within_window(key, e.received_at.timestamp_micros())
                    && in_batch.insert(key)
            })
            .collect();
        let duplicates = total - fresh.len();
        (fresh, duplicates)
    }

    /// Remembers events that are now durable.
    pub(crate) fn record(&mut self, stored: &[Event]) {
        for e in stored {
            let received = e.received_at.timestamp_micros();
            match self.seen.entry(digest(e.project_id.as_str(), &e.insert_id)) {
                Entry::Occupied(mut slot) => {
                    slot.insert(received.max(*slot.get()));
                }
                Entry::Vacant(slot) => {
                    slot.insert(received);
                }
            }
            self.since_prune += 1;
            if self.since_prune >= PRUNE_EVERY {
                self.since_prune = 0;
                let horizon = received - self.window_micros;
                self.seen.retain(|_, seen| *seen >= horizon);
            }
        }
    }

    fn seen_within_window(&self, key: u128, received_micros: i64) -> bool {
        self.seen.get(&key).is_some_and(|seen| received_micros - seen < self.window_micros)
    }
}

fn digest(project: &str, insert_id: &str) -> u128 {
    let mut hash = Sha256::new();
    hash.update(project.as_bytes());
    hash.update([0x1f]);
    hash.update(insert_id.as_bytes());
    let bytes: [u8; 32] = hash.finalize().into();
    let mut first = [0u8; 16];
    first.copy_from_slice(&bytes[..16]);
    u128::from_le_bytes(first)
}
