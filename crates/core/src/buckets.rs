//! Token buckets per key, the arithmetic behind every rate limit (ingestion per project and
//! user, API requests per caller, login attempts): a sustained rate with a burst capacity, and
//! a check separate from the take so a request needing several buckets is admitted whole or
//! not at all.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Buckets kept before idle ones are forgotten; after a prune, the next one waits until the map
/// has doubled, so pruning costs O(1) per request on average however many keys are active.
const PRUNE_AT: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct KeyedBuckets<K> {
    /// Tokens added per second.
    rate: f64,
    /// Most tokens a bucket holds (the burst).
    capacity: f64,
    buckets: HashMap<K, Bucket>,
    prune_at: usize,
}

impl<K: Hash + Eq + Clone> KeyedBuckets<K> {
    pub fn new(rate: f64, capacity: f64) -> Self {
        Self { rate, capacity, buckets: HashMap::new(), prune_at: PRUNE_AT }
    }

    /// Refills `key`'s bucket to `now`; `Err(wait)` when it holds fewer than `need` tokens,
    /// with how long until it would. Takes nothing.
    pub fn check(&mut self, key: &K, need: f64, now: Instant) -> Result<(), Duration> {
        let (rate, capacity) = (self.rate, self.capacity);
        let bucket =
            self.buckets.entry(key.clone()).or_insert(Bucket { tokens: capacity, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= need {
            Ok(())
        } else if rate > 0.0 {
            Err(Duration::from_secs_f64(((need - bucket.tokens) / rate).min(86_400.0)))
        } else {
            Err(Duration::from_secs(86_400))
        }
    }

    /// Takes `n` tokens from `key`'s bucket (after a successful `check`), forgetting buckets
    /// that have been idle long enough to be full again.
    pub fn take(&mut self, key: &K, n: f64, now: Instant) {
        if let Some(bucket) = self.buckets.get_mut(key) {
            bucket.tokens -= n;
        }
        if self.buckets.len() > self.prune_at {
            let full_after = if self.rate > 0.0 { self.capacity / self.rate } else { f64::MAX };
            self.buckets
                .retain(|_, b| now.saturating_duration_since(b.at).as_secs_f64() < full_after);
            self.prune_at = PRUNE_AT.max(2 * self.buckets.len());
        }
    }

    /// `check` then `take` for a request that needs one bucket.
    pub fn admit(&mut self, key: &K, need: f64, now: Instant) -> Result<(), Duration> {
        self.check(key, need, now)?;
        self.take(key, need, now);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_the_sustained_rate() {
        let mut buckets = KeyedBuckets::new(2.0, 4.0);
        let t0 = Instant::now();
        assert!(buckets.admit(&"a", 4.0, t0).is_ok());
        assert_eq!(buckets.check(&"a", 1.0, t0), Err(Duration::from_millis(500)));
        assert!(buckets.admit(&"b", 1.0, t0).is_ok(), "keys are independent");
        assert!(buckets.admit(&"a", 1.0, t0 + Duration::from_millis(500)).is_ok());
        assert!(buckets.check(&"a", 5.0, t0 + Duration::from_secs(60)).is_err(), "capped");
        assert!(buckets.check(&"a", 1.0, t0 + Duration::from_secs(60)).is_ok());
        assert_eq!(buckets.len(), 2);
    }

    #[test]
    fn idle_buckets_are_pruned() {
        let mut buckets = KeyedBuckets::new(1.0, 1.0);
        let t0 = Instant::now();
        for i in 0..PRUNE_AT {
            buckets.admit(&i, 1.0, t0).ok();
        }
        assert_eq!(buckets.len(), PRUNE_AT);
        buckets.admit(&PRUNE_AT, 1.0, t0 + Duration::from_secs(2)).ok();
        assert_eq!(buckets.len(), 1, "only the new bucket is not full again");
    }
}
