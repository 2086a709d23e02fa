//! Query specs: plain serialisable data, so alerts, dashboards and reports can store and re-run
//! them. Documented in `docs/queries.md`; new fields must be optional (`#[serde(default)]`).

mod activity;
mod common;
mod funnel;
mod retention;
mod sessions;
mod trends;

pub use activity::{ActiveUsersQuery, LifecycleQuery, StickinessQuery};
pub use common::{
    Breakdown, Column, Condition, DateRange, EventMatcher, Filter, FilterOp, Interval, OTHER_GROUP,
    PropertyRef,
};
pub use funnel::{Exclusion, FunnelOrder, FunnelPersonsQuery, FunnelQuery, PersonStatus};
pub use retention::{CohortType, RetentionMode, RetentionQuery};
pub use sessions::{PathDirection, PathsQuery, SessionsQuery};
pub use trends::{Compare, Math, Series, TrendsQuery};

use serde::{Deserialize, Serialize};

/// Any query Sextant can answer. The `kind` tag selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Query {
    Trends(TrendsQuery),
    Funnel(FunnelQuery),
    FunnelPersons(FunnelPersonsQuery),
    Retention(RetentionQuery),
    ActiveUsers(ActiveUsersQuery),
    Stickiness(StickinessQuery),
    Lifecycle(LifecycleQuery),
    Sessions(SessionsQuery),
    Paths(PathsQuery),
}

impl Query {
    pub fn kind(&self) -> &'static str {
        match self {
            Query::Trends(_) => "trends",
            Query::Funnel(_) => "funnel",
            Query::FunnelPersons(_) => "funnel_persons",
            Query::Retention(_) => "retention",
            Query::ActiveUsers(_) => "active_users",
            Query::Stickiness(_) => "stickiness",
            Query::Lifecycle(_) => "lifecycle",
            Query::Sessions(_) => "sessions",
            Query::Paths(_) => "paths",
        }
    }

    /// The event types the query reads, when every series, step and matcher names one; `None`
    /// when any of them matches every event, or the kind follows every event of a person
    /// (funnel people, sessions, paths).
    pub fn event_names(&self) -> Option<Vec<&str>> {
        let matchers: Vec<Option<&String>> = match self {
            Query::Trends(q) => q.series.iter().map(|s| s.event.as_ref()).collect(),
            Query::Funnel(q) => q
                .steps
                .iter()
                .map(|s| s.event.as_ref())
                .chain(q.exclusions.iter().map(|x| x.event.as_ref()))
                .collect(),
            Query::Retention(q) => vec![q.start.event.as_ref(), q.return_event.event.as_ref()],
            Query::ActiveUsers(q) => vec![q.activity.event.as_ref()],
            Query::Stickiness(q) => vec![q.activity.event.as_ref()],
            Query::Lifecycle(q) => vec![q.activity.event.as_ref()],
            Query::FunnelPersons(_) | Query::Sessions(_) | Query::Paths(_) => return None,
        };
        matchers.into_iter().map(|m| m.map(String::as_str)).collect()
    }
}

pub(crate) fn version_one() -> u32 {
    1
}
