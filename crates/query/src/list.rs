//! Raw events, newest first, with keyset (cursor) pagination: stable under concurrent inserts
//! and as fast on page 1000 as on page 1.

use crate::sql::{Cell, Dialect, Param, SqlBuilder, Statement};
use crate::{PlanOptions, QueryError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sextant_core::{Event, ProjectId, micros_to_datetime};

pub const MAX_PAGE_SIZE: usize = 1000;

/// Columns of the events table, in the order list plans select them.
pub const EVENT_COLUMNS: [&str; 24] = sextant_core::EVENT_FIELDS;

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventListQuery {
    /// Page size, 1..=1000 (default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
    /// Same syntax as a query's `date_range` ends.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EventListPlan {
    pub statement: Statement,
    limit: usize,
    project_id: ProjectId,
}

pub(crate) fn plan(
    q: &EventListQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<EventListPlan, QueryError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(QueryError::invalid(format!("limit must be between 1 and {MAX_PAGE_SIZE}")));
    }
    let mut b = SqlBuilder::new(dialect);
    let mut conditions =
        vec![format!("project_id = {}", b.param(Param::Text(opts.project_id.to_string())))];
    if let Some(event) = &q.event {
        conditions.push(format!("event = {}", b.param(Param::Text(event.clone()))));
    }
    if q.from.is_some() || q.to.is_some() {
        let range = crate::DateRange {
            from: q.from.clone().unwrap_or_else(|| "1970-01-01".to_owned()),
            to: q.to.clone(),
        }
        .resolve(opts.now, crate::Zone::UTC)?;
        conditions.push(format!("timestamp >= {}", b.param(Param::Timestamp(range.from))));
        conditions.push(format!("timestamp < {}", b.param(Param::Timestamp(range.to))));
    }
    if let Some(cursor) = &q.cursor {
        let (at, insert_id) = decode_cursor(cursor)?;
        let t = b.param(Param::Timestamp(at));
        let id = b.param(Param::Text(insert_id));
        conditions.push(format!("(timestamp < {t} OR (timestamp = {t} AND insert_id < {id}))"));
    }
    let fetch = b.param(Param::Int(i64::try_from(limit + 1).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {}\nFROM events\nWHERE {}\nORDER BY timestamp DESC, insert_id DESC\nLIMIT {fetch}",
        EVENT_COLUMNS.join(", "),
        conditions.join(" AND ")
    );
    Ok(EventListPlan { statement: b.finish(sql), limit, project_id: opts.project_id.clone() })
}

impl EventListPlan {
    /// Rows in `EVENT_COLUMNS` order → a page.
    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<EventPage, QueryError> {
        let has_more = rows.len() > self.limit;
        let events = rows
            .into_iter()
            .take(self.limit)
            .map(|row| event_from_row(&self.project_id, row))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = match events.last() {
            Some(last) if has_more => Some(encode_cursor(last.timestamp, &last.insert_id)),
            _ => None,
        };
        Ok(EventPage { events, next_cursor })
    }
}

/// Every event of a project (optionally within a range), oldest first: for exports.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub statement: Statement,
    project_id: ProjectId,
}

impl ExportPlan {
    pub fn new(project_id: &ProjectId, range: Option<crate::TimeRange>, dialect: Dialect) -> Self {
        let mut b = SqlBuilder::new(dialect);
        let mut conditions =
            vec![format!("project_id = {}", b.param(Param::Text(project_id.to_string())))];
        if let Some(range) = range {
            conditions.push(format!("timestamp >= {}", b.param(Param::Timestamp(range.from))));
            conditions.push(format!("timestamp < {}", b.param(Param::Timestamp(range.to))));
        }
        let sql = format!(
            "SELECT {}\nFROM events\nWHERE {}\nORDER BY timestamp, insert_id",
            EVENT_COLUMNS.join(", "),
            conditions.join(" AND ")
        );
        Self { statement: b.finish(sql), project_id: project_id.clone() }
    }

    /// One row of the statement's result as an event.
    pub fn event(&self, row: Vec<Cell>) -> Result<Event, QueryError> {
        event_from_row(&self.project_id, row)
    }
}

fn event_from_row(project_id: &ProjectId, row: Vec<Cell>) -> Result<Event, QueryError> {
    let mut r = RowReader(row.into_iter());
    r.skip(); // project_id: already known, and scoping was part of the WHERE clause
    Ok(Event {
        project_id: project_id.clone(),
        event: r.required_text()?,
        timestamp: r.timestamp()?,
        received_at: r.timestamp()?,
        insert_id: r.required_text()?,
        user_id: r.text()?,
        device_id: r.text()?,
        person_id: r.text()?,
        session_id: r.text()?,
        app: r.text()?,
        url: r.text()?,
        host: r.text()?,
        path: r.text()?,
        route: r.text()?,
        referrer: r.text()?,
        entity_type: r.text()?,
        entity_id: r.text()?,
        device_type: r.text()?,
        browser: r.text()?,
        os: r.text()?,
        country: r.text()?,
        value: r.float()?,
        library: r.text()?,
        properties: match r.text()? {
            None => sextant_core::Properties::new(),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                QueryError::internal(format!("stored properties are not a JSON object: {e}"))
            })?,
        },
    })
}

/// Reads cells in schema order, failing loudly if a backend returns another shape.
struct RowReader(std::vec::IntoIter<Cell>);

impl RowReader {
    fn next(&mut self) -> Result<Cell, QueryError> {
        self.0.next().ok_or_else(|| QueryError::internal("event row has too few columns"))
    }

    fn skip(&mut self) {
        self.0.next();
    }

    fn text(&mut self) -> Result<Option<String>, QueryError> {
        match self.next()? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s)),
            other => {
                Err(QueryError::internal(format!("expected text in event row, got {other:?}")))
            }
        }
    }

    fn required_text(&mut self) -> Result<String, QueryError> {
        self.text()?.ok_or_else(|| QueryError::internal("required event column is NULL"))
    }

    fn timestamp(&mut self) -> Result<DateTime<Utc>, QueryError> {
        match self.next()? {
            // Engines without a microsecond timestamp type (ClickHouse 18.16) return µs.
            Cell::Timestamp(micros) | Cell::Int(micros) => micros_to_datetime(micros)
                .ok_or_else(|| QueryError::internal("stored timestamp is out of range")),
            other => Err(QueryError::internal(format!(
                "expected a timestamp in event row, got {other:?}"
            ))),
        }
    }

    fn float(&mut self) -> Result<Option<f64>, QueryError> {
        match self.next()? {
            Cell::Null => Ok(None),
            Cell::Float(v) => Ok(Some(v)),
            Cell::Int(v) => Ok(Some(v as f64)),
            other => {
                Err(QueryError::internal(format!("expected a number in event row, got {other:?}")))
            }
        }
    }
}

fn encode_cursor(at: DateTime<Utc>, insert_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{insert_id}", at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, String), QueryError> {
    let invalid = || QueryError::invalid("cursor is not one this server issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (micros, insert_id) = text.split_once('.').ok_or_else(invalid)?;
    let at = micros.parse().ok().and_then(micros_to_datetime).ok_or_else(invalid)?;
    Ok((at, insert_id.to_owned()))
}
