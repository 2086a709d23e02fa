//! Sessions for events whose client sent no session id: a person's events belong to one
//! session until they are inactive for the project's timeout (30 minutes by default), so
//! session analytics work for every source. The id is a hash of the person and the session's
//! first timestamp, so a retried event lands in the same session.
//!
//! State is in memory (the last event time per person); a restart starts new sessions, and
//! people inactive for a day are forgotten to bound memory.

use sextant_core::{Event, ProjectId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries are pruned when the map reaches this size, then again when it has doubled, so a
/// million people active within a day do not make every request scan them.
const PRUNE_AT: usize = 1_000_000;
const FORGET_AFTER_MICROS: i64 = 24 * 3600 * 1_000_000;

/// (project, person) → (last event time in µs, session id).
type OpenSessions = HashMap<(ProjectId, String), (i64, String)>;

pub(crate) struct Sessionizer {
    /// The open sessions, and the size that triggers the next prune.
    open: Mutex<(OpenSessions, usize)>,
}

impl Default for Sessionizer {
    fn default() -> Self {
        Self { open: Mutex::new((HashMap::new(), PRUNE_AT)) }
    }
}

impl Sessionizer {
    /// Fills `session_id` on events that have none, in timestamp order.
    pub(crate) fn assign(&self, events: &mut [Event], timeout_minutes: u32) {
        let timeout = i64::from(timeout_minutes) * 60 * 1_000_000;
        let mut order: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].session_id.is_none() && events[i].person_id.is_some())
            .collect();
        if order.is_empty() {
            return;
        }
        order.sort_by_key(|&i| events[i].timestamp);
        let Ok(mut guard) = self.open.lock() else { return };
        let (open, prune_at) = &mut *guard;
        for i in order {
            let event = &mut events[i];
            let Some(person) = event.person_id.clone() else { continue };
            let at = event.timestamp.timestamp_micros();
            let key = (event.project_id.clone(), person);
            let session = match open.get_mut(&key) {
                Some((last, id)) if (at - *last).abs() <= timeout => {
                    *last = (*last).max(at);
                    id.clone()
                }
                _ => {
                    let id = session_id(&key.0, &key.1, at);
                    open.insert(key, (at, id.clone()));
                    id
                }
            };
            event.session_id = Some(session);
        }
        if open.len() >= *prune_at {
            let newest = open.values().map(|(t, _)| *t).max().unwrap_or(0);
            open.retain(|_, (t, _)| newest - *t < FORGET_AFTER_MICROS);
            *prune_at = PRUNE_AT.max(2 * open.len());
        }
    }
}

fn session_id(project: &ProjectId, person: &str, start_micros: i64) -> String {
    let mut hash = Sha256::new();
    hash.update(project.as_str().as_bytes());
    hash.update([0x1f]);
    hash.update(person.as_bytes());
    hash.update([0x1f]);
    hash.update(start_micros.to_le_bytes());
    format!("s_{}", hex::encode(&hash.finalize()[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_core::parse_timestamp;

    fn event(person: &str, at: &str, session: Option<&str>) -> Event {
        Event {
            project_id: ProjectId::new("prj_s"),
            event: "view".into(),
            timestamp: parse_timestamp(at).unwrap(),
            received_at: parse_timestamp(at).unwrap(),
            insert_id: format!("{person}-{at}"),
            user_id: None,
            device_id: Some(person.into()),
            person_id: Some(person.into()),
            session_id: session.map(str::to_owned),
            app: None,
            url: None,
            host: None,
            path: None,
            route: None,
            referrer: None,
            entity_type: None,
            entity_id: None,
            device_type: None,
            browser: None,
            os: None,
            country: None,
            value: None,
            library: None,
            properties: Default::default(),
        }
    }

    #[test]
    fn thirty_minutes_of_inactivity_ends_a_session() {
        let s = Sessionizer::default();
        // Out of order on purpose; the SDK's own session id is kept.
        let mut events = vec![
            event("a", "2026-11-20T10:29:00Z", None),
            event("a", "2026-11-20T10:00:00Z", None),
            event("a", "2026-11-20T11:00:00Z", None), // 31 min after 10:29: new session
            event("b", "2026-11-20T10:05:00Z", None),
            event("a", "2026-11-20T10:10:00Z", Some("sdk-session")),
        ];
        s.assign(&mut events, 30);
        let id = |i: usize| events[i].session_id.clone().unwrap();
        assert_eq!(id(0), id(1));
        assert_ne!(id(2), id(0));
        assert_ne!(id(3), id(0));
        assert_eq!(id(4), "sdk-session");

        // A later request continues the open session; a retry gets the same ids.
        let mut later = vec![event("a", "2026-11-20T11:20:00Z", None)];
        s.assign(&mut later, 30);
        assert_eq!(later[0].session_id, events[2].session_id);
        let fresh = Sessionizer::default();
        let mut retried = vec![event("a", "2026-11-20T10:00:00Z", None)];
        fresh.assign(&mut retried, 30);
        assert_eq!(retried[0].session_id, events[1].session_id);
    }
}
