//! Paths planning: each person's events numbered in time order, the walk of `steps` events
//! from (or up to) their first anchor event, then the most common walks and every step-to-step
//! move. Semantics: `docs/queries.md`.

use crate::clickhouse;
use crate::filter::{all_of, matcher_conditions, reads_person_properties};
use crate::results::{PathCount, PathsResult, Transition};
use crate::scope::{Needs, scope};
use crate::sql::{Cell, Dialect, Param, SqlBuilder, Statement};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{PathDirection, PathsQuery, PlanOptions, QueryError};

const MAX_PATHS: usize = 1000;

#[derive(Debug, Clone)]
pub struct PathsPlan {
    pub statement: Statement,
    zone: Zone,
    range: TimeRange,
}

pub(crate) fn plan(
    q: &PathsQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<PathsPlan, QueryError> {
    if q.version != 1 {
        return Err(QueryError::invalid(format!("unsupported paths version {}", q.version)));
    }
    if !(2..=7).contains(&q.steps) {
        return Err(QueryError::invalid("steps must be 2..=7 (the anchor included)"));
    }
    if !(1..=MAX_PATHS).contains(&q.limit) {
        return Err(QueryError::invalid(format!("limit must be 1..={MAX_PATHS}")));
    }
    let zone = Zone::parse(q.timezone.as_deref())?;
    let range = q.date_range.resolve(opts.now, zone)?;
    let mut b = SqlBuilder::new(dialect);
    let needs = Needs {
        persons: true,
        person_properties: reads_person_properties(q.filters.iter().chain(&q.anchor.filters)),
        person_keys: false,
    };
    let scope = scope(&mut b, opts, range, zone, &q.filters, needs, None)?;
    let anchor = matcher_conditions(&mut b, &q.anchor)?;
    let anchor = b.all_of(&anchor);
    let mut conditions = scope.conditions.clone();
    conditions.push(scope.has_person(dialect));
    let reach = i64::try_from(q.steps - 1).unwrap_or(1);
    let (low, high) = match q.direction {
        PathDirection::Next => (0, reach),
        PathDirection::Previous => (-reach, 0),
    };
    let low = b.param(Param::Int(low));
    let high = b.param(Param::Int(high));
    let limit = b.param(Param::Int(i64::try_from(q.limit).unwrap_or(20)));
    // Rows (kind, path, step, from, to, people): 0 a path (JSON array), 1 a move.
    if dialect == Dialect::ClickHouse {
        let scoped = format!(
            "SELECT {} AS person, timestamp, insert_id, event, ({anchor}) AS is_anchor\n  FROM {}\n  WHERE {}",
            scope.person,
            scope.from,
            all_of(&conditions)
        );
        let json = b.list_to_json("g_walk");
        let sql = clickhouse::paths::statement(&scoped, q.direction, reach, &limit, &json);
        return Ok(PathsPlan { statement: b.finish(sql), zone, range });
    }
    let sql = format!(
        "WITH scoped AS (\n  SELECT {person} AS person, timestamp, insert_id, event, ({anchor}) AS is_anchor\n  FROM {source}\n  WHERE {conditions}\n),\nnumbered AS (\n  SELECT *, row_number() OVER (PARTITION BY person ORDER BY timestamp, insert_id) AS seq FROM scoped\n),\nanchors AS (\n  SELECT person, min(seq) AS at FROM numbered WHERE is_anchor GROUP BY person\n),\nwalked AS (\n  SELECT numbered.person, numbered.seq, numbered.event, numbered.seq - min(numbered.seq) OVER (PARTITION BY numbered.person) AS position\n  FROM numbered JOIN anchors ON anchors.person = numbered.person AND numbered.seq BETWEEN anchors.at + {low} AND anchors.at + {high}\n)\nSELECT * FROM (\n  SELECT 0, {json}, NULL, NULL, NULL, count(*) AS people FROM (SELECT person, {walk} AS walk FROM walked GROUP BY person) GROUP BY walk ORDER BY people DESC, walk LIMIT {limit}\n)\nUNION ALL\nSELECT 1, NULL, here.position, here.event, next.event, count(*) FROM walked AS here JOIN walked AS next ON next.person = here.person AND next.seq = here.seq + 1 GROUP BY here.position, here.event, next.event",
        person = scope.person,
        source = scope.from,
        conditions = all_of(&conditions),
        walk = b.list_agg("event", "seq"),
        json = b.list_to_json("walk"),
    );
    Ok(PathsPlan { statement: b.finish(sql), zone, range })
}

impl PathsPlan {
    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<PathsResult, QueryError> {
        let mut paths = Vec::new();
        let mut transitions = Vec::new();
        for row in rows {
            let [kind, path, step, from, to, people]: [Cell; 6] = row
                .try_into()
                .map_err(|_| QueryError::internal("paths row has the wrong width"))?;
            let people = people.as_count();
            if kind.as_i64() == Some(0) {
                let text = path.into_text().unwrap_or_default();
                let events: Vec<String> = serde_json::from_str(&text)
                    .map_err(|e| QueryError::internal(format!("path is not a JSON list: {e}")))?;
                paths.push(PathCount { events, people });
            } else {
                transitions.push(Transition {
                    step: step.as_i64().and_then(|v| usize::try_from(v).ok()).unwrap_or(0),
                    from: from.into_text().unwrap_or_default(),
                    to: to.into_text().unwrap_or_default(),
                    people,
                });
            }
        }
        paths.sort_by(|a, b| b.people.cmp(&a.people).then_with(|| a.events.cmp(&b.events)));
        transitions.sort_by(|a, b| {
            a.step
                .cmp(&b.step)
                .then(b.people.cmp(&a.people))
                .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
        });
        Ok(PathsResult {
            from: self.zone.local_time(self.range.from),
            to: self.zone.local_time(self.range.to),
            paths,
            transitions,
        })
    }
}
