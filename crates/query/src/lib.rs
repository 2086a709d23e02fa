//! Query specs → SQL per dialect → results. Pure code with no IO: a store runs the
//! [`Statement`] a plan carries and hands the rows back to the plan's `assemble`.

mod filter;
mod list;
mod spec;
mod sql;
mod time;
mod trends;

pub use list::{
    EVENT_COLUMNS, EventListPlan, EventListQuery, EventPage, ExportPlan, MAX_PAGE_SIZE,
};
pub use spec::{
    Breakdown, Column, DateRange, Filter, FilterOp, Interval, Math, PropertyRef, Query, Series,
    TrendsQuery,
};
pub use sql::{Cell, Dialect, Param, Statement};
pub use time::TimeRange;
pub use trends::{MAX_BREAKDOWN_LIMIT, SeriesResult, TrendsPlan, TrendsResult};

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
}

/// The answer to any [`Query`], tagged with its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryResult {
    Trends(TrendsResult),
}

impl Plan {
    pub fn statement(&self) -> &Statement {
        match self {
            Plan::Trends(p) => &p.statement,
        }
    }

    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<QueryResult, QueryError> {
        match self {
            Plan::Trends(p) => p.assemble(rows).map(QueryResult::Trends),
        }
    }
}

/// Plans `query` for `dialect`.
pub fn plan(query: &Query, opts: &PlanOptions, dialect: Dialect) -> Result<Plan, QueryError> {
    match query {
        Query::Trends(q) => trends::plan(q, opts, dialect).map(Plan::Trends),
    }
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
