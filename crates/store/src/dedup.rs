//! Idempotent appends, for every events backend. SDKs retry whenever an acknowledgement is
//! lost, so the same `(project_id, insert_id)` can arrive twice; within the dedup window the
//! second copy is acknowledged and not stored. A backend's single writer keeps the recent ids
//! in memory (a 128-bit digest and the receive time each, ~32 bytes) and checks a batch without
//! touching the database; on open it reloads the window from its events table.

use sextant_core::Event;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Prune expired ids after this many new ones, so pruning costs O(1) per append on average.
const PRUNE_EVERY: usize = 100_000;
/// The ids are spread over this many maps, so growing one (a rehash) stalls the writer for a
/// 64th of the time a single map of millions of ids would (measured: ~1 s at 10M ids).
const SHARDS: usize = 64;

pub struct RecentIds {
    window_micros: i64,
    /// Digest of `(project_id, insert_id)` → `received_at` in microseconds, sharded by digest.
    seen: Vec<HashMap<u128, i64>>,
    since_prune: usize,
}

/// Events that are not duplicates, with their digests (computed once per event).
pub struct Fresh {
    pub events: Vec<Event>,
    digests: Vec<u128>,
}

impl RecentIds {
    /// An empty window of `window_micros`; fill it with [`RecentIds::remember`] from the
    /// events already stored, so restarts do not forget.
    pub fn new(window_micros: i64) -> Self {
        Self { window_micros, seen: vec![HashMap::new(); SHARDS], since_prune: 0 }
    }

    /// Remembers an id stored earlier (when reloading the window).
    pub fn remember(&mut self, project: &str, insert_id: &str, received_micros: i64) {
        let key = digest(project, insert_id);
        self.shard_mut(key).insert(key, received_micros);
    }

    pub fn len(&self) -> usize {
        self.seen.iter().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.iter().all(HashMap::is_empty)
    }

    fn shard(&self, key: u128) -> &HashMap<u128, i64> {
        &self.seen[(key as usize) % SHARDS]
    }

    fn shard_mut(&mut self, key: u128) -> &mut HashMap<u128, i64> {
        &mut self.seen[(key as usize) % SHARDS]
    }

    /// Splits `events` into those to store and the number of duplicates (of earlier appends
    /// within the window, or of an earlier event of the same batch).
    pub fn fresh(&self, events: Vec<Event>) -> (Fresh, usize) {
        let mut in_batch = std::collections::HashSet::with_capacity(events.len());
        let total = events.len();
        let mut fresh =
            Fresh { events: Vec::with_capacity(total), digests: Vec::with_capacity(total) };
        for e in events {
            let key = digest(e.project_id.as_str(), &e.insert_id);
            if !self.seen_within_window(key, e.received_at.timestamp_micros())
                && in_batch.insert(key)
            {
                fresh.events.push(e);
                fresh.digests.push(key);
            }
        }
        let duplicates = total - fresh.events.len();
        (fresh, duplicates)
    }

    /// Remembers events that are now durable.
    pub fn record(&mut self, stored: &Fresh) {
        for (e, &key) in stored.events.iter().zip(&stored.digests) {
            let received = e.received_at.timestamp_micros();
            match self.shard_mut(key).entry(key) {
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
                for shard in &mut self.seen {
                    shard.retain(|_, seen| *seen >= horizon);
                }
            }
        }
    }

    fn seen_within_window(&self, key: u128, received_micros: i64) -> bool {
        self.shard(key).get(&key).is_some_and(|seen| received_micros - seen < self.window_micros)
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
