//! Runs of scheduled jobs, kept in the metadata store that every node shares: a node runs a
//! job's slot (say, retention for 2026-12-07) only after claiming it there, so however many
//! nodes are up, each slot runs once. A claim is a lease: the holder renews it while it
//! works, and a slot whose holder died unfinished can be claimed again once the lease expires.

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct JobRun {
    /// The job's name, e.g. `retention`.
    pub job: String,
    /// Which occurrence: for a daily job, the UTC date it ran for.
    pub slot: String,
    /// The node that holds (or held) the claim.
    pub node: String,
    pub started_at: DateTime<Utc>,
    /// Until when the claim holds unless renewed; meaningless once finished.
    pub lease_until: DateTime<Utc>,
    /// How many times the slot was claimed: more than 1 when a holder died unfinished.
    pub attempts: u32,
    pub finished_at: Option<DateTime<Utc>>,
    /// `ok` or `error`, once finished.
    pub outcome: Option<String>,
    /// What the run did (its report), or why it failed.
    pub detail: Option<String>,
}

/// The end of a claimed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    pub ok: bool,
    pub detail: String,
}
