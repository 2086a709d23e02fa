//! Rate limits on ingestion, per project (its write keys) and per user, as token buckets: a
//! sustained rate with bursts of twice as much. A request is admitted whole or not at all, so
//! a client told to retry (429) never double-stores what it resends.

use sextant_core::{Event, KeyedBuckets, ProjectId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

pub(crate) struct Limiter {
    limits: RateLimits,
    buckets: Mutex<Buckets>,
}

struct Buckets {
    projects: KeyedBuckets<ProjectId>,
    users: KeyedBuckets<(ProjectId, String)>,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        let (project, user) = (limits.per_project, limits.per_user);
        Self {
            limits,
            buckets: Mutex::new(Buckets {
                projects: KeyedBuckets::new(project, 2.0 * project),
                users: KeyedBuckets::new(user, 2.0 * user),
            }),
        }
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
        let mut per_user: HashMap<(ProjectId, String), f64> = HashMap::new();
        if self.limits.per_user > 0.0 {
            for e in events {
                if let Some(user) = &e.person_id {
                    *per_user.entry((project.clone(), user.clone())).or_default() += 1.0;
                }
            }
        }
        let check_project = self.limits.per_project > 0.0;
        if !check_project && per_user.is_empty() {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        let need = events.len() as f64;
        let project_wait =
            if check_project { buckets.projects.check(project, need, now).err() } else { None };
        let mut short: Vec<(String, Duration)> = Vec::new();
        for (key, n) in &per_user {
            if let Err(wait) = buckets.users.check(key, *n, now) {
                short.push((key.1.clone(), wait));
            }
        }
        if project_wait.is_none() && short.is_empty() {
            if check_project {
                buckets.projects.take(project, need, now);
            }
            for (key, n) in &per_user {
                buckets.users.take(key, *n, now);
            }
            return Ok(());
        }
        let wait = short.iter().map(|(_, w)| *w).chain(project_wait).max().unwrap_or_default();
        let users: Vec<String> = short.into_iter().map(|(user, _)| user).collect();
        let project_hit = project_wait.is_some();
        let indices = events
            .iter()
            .enumerate()
            .filter(|(_, e)| project_hit || e.person_id.as_ref().is_some_and(|p| users.contains(p)))
            .map(|(i, _)| i)
            .collect();
        let threshold = if project_hit { self.limits.per_project } else { self.limits.per_user };
        Err(Throttled {
            retry_after: Duration::from_secs_f64(wait.as_secs_f64().clamp(1.0, 3600.0).ceil()),
            threshold,
            users,
            indices,
        })
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
