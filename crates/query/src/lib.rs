//! Query specs → SQL per dialect → results. Pure code with no IO: a store runs the
//! [`Statement`]s a plan carries and hands their rows back to the plan's `assemble`.

mod activity;
mod clickhouse;
mod filter;
mod formula;
mod funnel;
mod funnel_chains;
mod funnel_result;
mod list;
mod paths;
mod results;
mod retention;
mod rollup;
pub mod rollup_schema;
mod rollup_trends;
mod scope;
mod sessions;
mod spec;
mod sql;
mod time;
mod trends;
mod trends_result;
mod zone;

pub use list::{
    EVENT_COLUMNS, EventListPlan, EventListQuery, EventPage, ExportPlan, MAX_PAGE_SIZE,
};
pub use results::*;
pub use spec::*;
pub use sql::{Cell, Dialect, Param, Statement, json_pointer};
pub use time::TimeRange;
pub use trends::MAX_BREAKDOWN_LIMIT;
pub use trends_result::{SeriesResult, TrendsPlan, TrendsResult};
pub use zone::Zone;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sextant_core::{ErrorKind, ProjectId};

/// Context every plan needs besides the spec itself.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Every statement is scoped to this project.
    pub project_id: ProjectId,
    /// "Now", for relative date ranges; fixed by the caller so plans are reproducible.
    pub now: DateTime<Utc>,
    pub max_buckets: usize,
    /// Answer from pre-aggregated rollups where a query allows it (the results are the
    /// same); off only to compare both paths.
    pub rollups: bool,
}

impl PlanOptions {
    pub fn new(project_id: ProjectId, now: DateTime<Utc>, max_buckets: usize) -> Self {
        Self { project_id, now, max_buckets, rollups: true }
    }
}

/// Why a query could not be planned or assembled.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

impl QueryError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            QueryError::Invalid(_) => ErrorKind::InvalidInput,
            QueryError::Internal(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        QueryError::Invalid(message.into())
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        QueryError::Internal(message.into())
    }
}

/// A planned query of any kind.
#[derive(Debug, Clone)]
pub enum Plan {
    Trends(TrendsPlan),
    Funnel(funnel::FunnelPlan),
    FunnelPersons(funnel::FunnelPersonsPlan),
    Retention(retention::RetentionPlan),
    Activity(activity::ActivityPlan),
    Sessions(sessions::SessionsPlan),
    Paths(paths::PathsPlan),
}

/// The answer to any [`Query`], tagged with its kind.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryResult {
    Trends(TrendsResult),
    Funnel(FunnelResult),
    FunnelPersons(FunnelPersonsResult),
    Retention(RetentionResult),
    ActiveUsers(ActiveUsersResult),
    Stickiness(StickinessResult),
    Lifecycle(LifecycleResult),
    Sessions(SessionsResult),
    Paths(PathsResult),
}

impl Plan {
    /// The statements to run; their rows go to [`Plan::assemble`] in the same order. They are
    /// independent, so a store may run them concurrently.
    pub fn statements(&self) -> &[Statement] {
        match self {
            Plan::Trends(p) => &p.statements,
            Plan::Funnel(p) => std::slice::from_ref(&p.statement),
            Plan::FunnelPersons(p) => std::slice::from_ref(&p.statement),
            Plan::Retention(p) => std::slice::from_ref(&p.statement),
            Plan::Activity(p) => std::slice::from_ref(&p.statement),
            Plan::Sessions(p) => std::slice::from_ref(&p.statement),
            Plan::Paths(p) => std::slice::from_ref(&p.statement),
        }
    }

    pub fn assemble(&self, mut results: Vec<Vec<Vec<Cell>>>) -> Result<QueryResult, QueryError> {
        if results.len() != self.statements().len() {
            return Err(QueryError::internal("one result per statement expected"));
        }
        if let Plan::Trends(p) = self {
            return p.assemble(results).map(QueryResult::Trends);
        }
        let rows = results.pop().unwrap_or_default();
        Ok(match self {
            Plan::Trends(_) => return Err(QueryError::internal("trends handled above")),
            Plan::Funnel(p) => QueryResult::Funnel(p.assemble(rows)?),
            Plan::FunnelPersons(p) => QueryResult::FunnelPersons(p.assemble(rows)?),
            Plan::Retention(p) => QueryResult::Retention(p.assemble(rows)?),
            Plan::Activity(p) => p.assemble(rows)?,
            Plan::Sessions(p) => QueryResult::Sessions(p.assemble(rows)?),
            Plan::Paths(p) => QueryResult::Paths(p.assemble(rows)?),
        })
    }
}

/// Plans `query` for `dialect`.
pub fn plan(query: &Query, opts: &PlanOptions, dialect: Dialect) -> Result<Plan, QueryError> {
    Ok(match query {
        Query::Trends(q) => Plan::Trends(trends::plan(q, opts, dialect)?),
        Query::Funnel(q) => Plan::Funnel(funnel::plan(q, opts, dialect)?),
        Query::FunnelPersons(q) => Plan::FunnelPersons(funnel::plan_persons(q, opts, dialect)?),
        Query::Retention(q) => Plan::Retention(retention::plan(q, opts, dialect)?),
        Query::ActiveUsers(q) => Plan::Activity(activity::plan_active_users(q, opts, dialect)?),
        Query::Stickiness(q) => Plan::Activity(activity::plan_stickiness(q, opts, dialect)?),
        Query::Lifecycle(q) => Plan::Activity(activity::plan_lifecycle(q, opts, dialect)?),
        Query::Sessions(q) => Plan::Sessions(sessions::plan(q, opts, dialect)?),
        Query::Paths(q) => Plan::Paths(paths::plan(q, opts, dialect)?),
    })
}

/// Plans a page of raw events for `dialect`.
pub fn plan_event_list(
    query: &EventListQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<EventListPlan, QueryError> {
    list::plan(query, opts, dialect)
}

#[cfg(test)]
mod tests;
