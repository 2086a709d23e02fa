//! Rate limits on ingestion, per project (its write keys) and per user, as token buckets: a
//! sustained rate with bursts of twice as much. A request is admitted whole or not at all, so
//! a client told to retry (429) never double-stores what it resends.

use sextant_core::{Event, ProjectId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept before idle ones are forgotten; after a prune, the next one waits until the
/// map has doubled, so pruning costs O(1) per request on average however many users are
/// active.
const PRUNE_AT: usize = 100_000;
/// A bucket untouched this long has refilled to its burst (twice the rate): forgetting it
/// changes nothing.
const IDLE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Events per second per project; 0 turns the limit off.
    pub per_project: f64,
    /// Events per second per user (user id, else device id); 0 turns the limit off.
    pub per_user: f64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { per_project: 100_000.0, per_user: 1_000.0 }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Throttled {
    pub retry_after: Duration,
    /// The limit that was hit, events per second.
    pub threshold: f64,
    /// Users over their limit, and the indices (among the checked events) of their events.
    pub users: Vec<String>,
    pub indices: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Project(ProjectId),
    User(ProjectId, String),
}

pub(crate) struct Limiter {
    limits: RateLimits,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    by_key: HashMap<Key, Bucket>,
    prune_at: usize,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self { limits, buckets: Mutex::new(Buckets { by_key: HashMap::new(), prune_at: PRUNE_AT }) }
    }

    /// Takes tokens for `events` of `project` if every bucket involved has enough.
    pub(crate) fn admit(&self, project: &ProjectId, events: &[Event]) -> Result<(), Throttled> {
        self.admit_at(project, events, Instant::now())
    }

    fn admit_at(
        &self,
        project: &ProjectId,
        events: &[Event],
        now: Instant,
    ) -> Result<(), Throttled> {
        let mut wanted: HashMap<Key, f64> = HashMap::new();
        if self.limits.per_project > 0.0 {
            wanted.insert(Key::Project(project.clone()), events.len() as f64);
        }
        if self.limits.per_user > 0.0 {
            for e in events {
                if let Some(user) = &e.person_id {
                    *wanted.entry(Key::User(project.clone(), user.clone())).or_default() += 1.0;
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let Ok(mut guard) = self.buckets.lock() else { return Ok(()) };
        let state = &mut *guard;
        let buckets = &mut state.by_key;
        let mut short: Vec<(Key, f64)> = Vec::new();
        for (key, need) in &wanted {
            let rate = self.rate(key);
            let bucket =
                buckets.entry(key.clone()).or_insert(Bucket { tokens: 2.0 * rate, at: now });
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * rate).min(2.0 * rate);
            bucket.at = now;
            if bucket.tokens < *need {
                short.push((key.clone(), (need - bucket.tokens) / rate));
            }
        }
        if short.is_empty() {
            for (key, need) in &wanted {
                if let Some(bucket) = buckets.get_mut(key) {
                    bucket.tokens -= need;
                }
            }
            if buckets.len() > state.prune_at {
                buckets.retain(|_, b| now.saturating_duration_since(b.at) < IDLE);
                state.prune_at = PRUNE_AT.max(2 * buckets.len());
            }
            return Ok(());
        }
        let wait = short.iter().map(|(_, seconds)| *seconds).fold(0.0, f64::max);
        let project_hit = short.iter().any(|(key, _)| matches!(key, Key::Project(_)));
        let users: Vec<String> = short
            .iter()
            .filter_map(|(key, _)| match key {
                Key::User(_, user) => Some(user.clone()),
                Key::Project(_) => None,
            })
            .collect();
        let indices = events
            .iter()
            .enumerate()
            .filter(|(_, e)| project_hit || e.person_id.as_ref().is_some_and(|p| users.contains(p)))
            .map(|(i, _)| i)
            .collect();
        let threshold = if project_hit { self.limits.per_project } else { self.limits.per_user };
        Err(Throttled {
            retry_after: Duration::from_secs_f64(wait.clamp(1.0, 3600.0).ceil()),
            threshold,
            users,
            indices,
        })
    }

    fn rate(&self, key: &Key) -> f64 {
        match key {
            Key::Project(_) => self.limits.per_project,
            Key::User(..) => self.limits.per_user,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_core::parse_timestamp;

    fn events(users: &[&str]) -> Vec<Event> {
        users
            .iter()
            .map(|u| {
                let mut e: Event = serde_json::from_value(serde_json::json!({
                    "project_id": "prj_r", "event": "x", "timestamp": "2026-11-20T00:00:00Z",
                    "received_at": "2026-11-20T00:00:00Z", "insert_id": "i"
                }))
                .unwrap();
                e.person_id = Some((*u).to_owned());
                e.timestamp = parse_timestamp("2026-11-20T00:00:00Z").unwrap();
                e
            })
            .collect()
    }

    #[test]
    fn users_get_bursts_then_their_rate() {
        let limiter = Limiter::new(RateLimits { per_project: 0.0, per_user: 2.0 });
        let p = ProjectId::new("prj_r");
        let t0 = Instant::now();
        limiter.admit_at(&p, &events(&["a", "a", "a", "a", "b"]), t0).unwrap();
        let refused = limiter.admit_at(&p, &events(&["b", "a"]), t0).unwrap_err();
        assert_eq!(
            (refused.users.clone(), refused.indices.clone()),
            (vec!["a".to_owned()], vec![1])
        );
        assert_eq!(refused.threshold, 2.0);
        // Refused requests take nothing: b's budget is intact.
        limiter.admit_at(&p, &events(&["b", "b", "b"]), t0).unwrap();
        // One second later, a has two more.
        limiter.admit_at(&p, &events(&["a", "a"]), t0 + Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn the_project_limit_refuses_the_whole_request() {
        let limiter = Limiter::new(RateLimits { per_project: 10.0, per_user: 0.0 });
        let p = ProjectId::new("prj_r");
        let t0 = Instant::now();
        limiter.admit_at(&p, &events(&["a"; 20]), t0).unwrap();
        let refused = limiter.admit_at(&p, &events(&["b"; 5]), t0).unwrap_err();
        assert_eq!(refused.indices, [0, 1, 2, 3, 4]);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        limiter.admit_at(&ProjectId::new("prj_other"), &events(&["a"; 20]), t0).unwrap();
    }
}
