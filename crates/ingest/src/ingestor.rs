//! Validation, privacy and hygiene, then commit, for one request: bad events are reported by
//! index and never stop the good ones of the same batch (unless the wire format's own
//! semantics say the whole request must be refused; see [`Ingestor::prepare`]).

use crate::limiter::Limiter;
use crate::rules::{ProjectRules, RulesCache};
use crate::sessions::Sessionizer;
use crate::{ClientHints, Committer, IngestError, RateLimits, RawEvent};
use chrono::Utc;
use serde::Serialize;
use sextant_core::{Event, EventInput, FieldError, InputMode, Limits, ProjectId};
use sextant_privacy::{Hasher, UserAgentParser};
use sextant_store::MetaStore;
use sextant_telemetry::{Metrics, OutcomeLabels};
use std::sync::Arc;

/// One rejected event: its position in the request and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RejectedEvent {
    pub index: usize,
    pub errors: Vec<FieldError>,
}

/// What happened to a request's events.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IngestReport {
    pub accepted: usize,
    pub rejected: usize,
    /// Acknowledged but deliberately not stored: bots and excluded internal users.
    #[serde(skip_serializing_if = "is_zero")]
    pub dropped: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RejectedEvent>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Events checked and ready to commit, with the report of what was refused.
#[derive(Debug)]
pub struct Prepared {
    pub report: IngestReport,
    events: Vec<Event>,
}

/// Everything the ingestor needs besides the committer.
pub struct IngestorParts {
    pub limits: Limits,
    pub max_events_per_request: usize,
    pub meta: Arc<dyn MetaStore>,
    pub hasher: Hasher,
    pub user_agents: Arc<UserAgentParser>,
    pub rate_limits: RateLimits,
    pub metrics: Arc<Metrics>,
}

pub struct Ingestor {
    committer: Committer,
    parts: IngestorParts,
    rules: RulesCache,
    sessions: Sessionizer,
    limiter: Limiter,
}

/// What privacy and hygiene decided for one valid event.
enum Verdict {
    Keep,
    Drop(&'static str),
    Reject(FieldError),
}

impl Ingestor {
    pub fn new(committer: Committer, parts: IngestorParts) -> Self {
        let rules = RulesCache::new(Arc::clone(&parts.meta));
        let limiter = Limiter::new(parts.rate_limits);
        Self { committer, parts, rules, sessions: Sessionizer::default(), limiter }
    }

    /// Validates and stores; `Ok` means every accepted event is durable, `Err` that none was
    /// stored.
    pub async fn ingest(
        &self,
        project: &ProjectId,
        items: Vec<RawEvent>,
        mode: InputMode,
    ) -> Result<IngestReport, IngestError> {
        let prepared = self.prepare(project, items, mode).await?;
        self.commit(prepared).await
    }

    /// Validates `items` and applies the project's policy, storing nothing yet. Wire formats
    /// that refuse a whole request when one event is bad (Amplitude) look at the report and
    /// only then decide whether to [`commit`](Self::commit).
    pub async fn prepare(
        &self,
        project: &ProjectId,
        items: Vec<RawEvent>,
        mode: InputMode,
    ) -> Result<Prepared, IngestError> {
        let max = self.parts.max_events_per_request;
        if items.is_empty() {
            return Err(IngestError::Invalid("the request contains no events".into()));
        }
        if items.len() > max {
            return Err(IngestError::TooLarge(format!(
                "{} events in one request; the limit is {max}",
                items.len()
            )));
        }
        let rules = self.rules.get(project).await?;
        let now = Utc::now();
        let input =
            EventInput { project_id: project, received_at: now, limits: &self.parts.limits, mode };
        let salt = self.parts.hasher.daily_salt(now.date_naive());
        let mut events = Vec::with_capacity(items.len());
        // Request index of each kept event, to report throttled events by request position.
        let mut positions = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        let mut dropped = 0;
        for (index, raw) in items.into_iter().enumerate() {
            let mut event = match input.parse(raw.fields) {
                Ok(event) => event,
                Err(field_errors) => {
                    errors.push(RejectedEvent { index, errors: field_errors });
                    continue;
                }
            };
            // Imports re-load exports, which were processed when first ingested.
            let verdict = match mode {
                InputMode::Import => Verdict::Keep,
                InputMode::Api => self.apply(&rules, &mut event, &raw.client, &salt),
            };
            match verdict {
                Verdict::Keep => {
                    events.push(event);
                    positions.push(index);
                }
                Verdict::Drop(reason) => {
                    dropped += 1;
                    self.count(reason, 1);
                }
                Verdict::Reject(error) => errors.push(RejectedEvent { index, errors: vec![error] }),
            }
        }
        if mode == InputMode::Api {
            if let Err(mut throttled) = self.limiter.admit(project, &events) {
                throttled.indices = throttled.indices.iter().map(|&i| positions[i]).collect();
                self.count("rate_limited", events.len());
                return Err(IngestError::RateLimited(throttled));
            }
            self.sessions.assign(&mut events, rules.settings.session_timeout_minutes);
        }
        let report =
            IngestReport { accepted: events.len(), rejected: errors.len(), dropped, errors };
        Ok(Prepared { report, events })
    }

    /// Stores prepared events durably.
    pub async fn commit(&self, prepared: Prepared) -> Result<IngestReport, IngestError> {
        let Prepared { report, events } = prepared;
        self.committer.commit(events).await?;
        self.count("accepted", report.accepted);
        self.count("rejected", report.rejected);
        Ok(report)
    }

    /// Applies a settings change made on this node at once (other nodes within seconds).
    pub fn settings_changed(&self, project: &ProjectId) {
        self.rules.invalidate(project);
    }

    fn apply(
        &self,
        rules: &ProjectRules,
        event: &mut Event,
        client: &ClientHints,
        salt: &[u8; 32],
    ) -> Verdict {
        let settings = &rules.settings;
        if !settings.allowed_events.is_empty() && !settings.allowed_events.contains(&event.event) {
            return Verdict::Reject(FieldError::new(
                "event",
                "event_not_allowed",
                format!(
                    "event type `{}` is not allowed in this project; allowed: {}",
                    event.event,
                    settings.allowed_events.join(", ")
                ),
            ));
        }
        if is_internal(settings, event) {
            return Verdict::Drop("internal_user");
        }
        if let Some(ua) = client.user_agent.as_deref().filter(|ua| !ua.trim().is_empty()) {
            let info = self.parts.user_agents.parse(ua);
            if info.is_bot && settings.drop_bots {
                return Verdict::Drop("bot");
            }
            event.browser = event.browser.take().or_else(|| info.browser.clone());
            event.os = event.os.take().or_else(|| info.os.clone());
            if event.device_type.is_none() {
                event.device_type = Some(info.device_type.as_str().to_owned());
            }
        }
        if settings.visitor_hashing
            && event.user_id.is_none()
            && event.device_id.is_none()
            && let Some(ip) = client.ip
        {
            let host = event.host.as_deref().unwrap_or("");
            let ua = client.user_agent.as_deref().unwrap_or("");
            event.device_id = Some(self.parts.hasher.visitor_id(salt, host, &ip.to_string(), ua));
        }
        if settings.hash_user_ids
            && let Some(user) = event.user_id.take()
        {
            event.user_id = Some(self.parts.hasher.user_id(event.project_id.as_str(), &user));
        }
        event.person_id = event.user_id.clone().or_else(|| event.device_id.clone());
        let scrubbed = rules.pii.scrub(&mut event.properties);
        self.count("pii_key_stripped", scrubbed.keys_removed);
        self.count("value_capped", scrubbed.values_capped);
        Verdict::Keep
    }

    fn count(&self, outcome: &'static str, n: usize) {
        if n > 0 {
            let labels = OutcomeLabels { outcome };
            self.parts.metrics.ingest_events.get_or_create(&labels).inc_by(n as u64);
        }
    }
}

/// Internal users are matched by their user id or an `email` property, before properties are
/// scrubbed (the email itself is then removed as personal data).
fn is_internal(settings: &sextant_store::ProjectSettings, event: &Event) -> bool {
    if settings.internal_users.is_empty() {
        return false;
    }
    let email =
        ["email", "$email"].iter().find_map(|k| event.properties.get(*k).and_then(|v| v.as_str()));
    event.user_id.iter().map(String::as_str).chain(email).any(|id| settings.is_internal(id))
}
