//! Hourly rollups, kept in the transaction that stores the events, so each rollup (summed per
//! key) is exactly an aggregate of the stored events at every commit:
//! - `rollup_hourly`, per (project, UTC hour, event): the event count and the count, sum,
//!   minimum and maximum of `value`;
//! - `rollup_actors`, per (project, UTC hour, event, person id, anonymous or not): the event
//!   count, so distinct people per hour, day or week are read from ~12x fewer rows (demo data).
//!
//! The planner reads them for the queries they can answer (see `sextant_query`'s `rollup`).

use duckdb::{Connection, params};
use sextant_core::Event;
use std::collections::{BTreeSet, HashMap};

const HOUR_MICROS: i64 = 3_600_000_000;

/// Partial aggregates of one (project, hour, event).
#[derive(Debug, Default)]
struct Partial {
    events: i64,
    values: i64,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

/// The hours that may hold partial rows: `None` after opening, when an earlier run may have
/// left them anywhere.
#[derive(Debug, Default)]
pub(crate) struct Touched(Option<BTreeSet<i64>>);

fn hour_value(micros: i64) -> duckdb::types::Value {
    duckdb::types::Value::Timestamp(duckdb::types::TimeUnit::Microsecond, micros)
}

/// Adds `events` (already stored by this transaction) to the rollups.
pub(crate) fn add(
    conn: &Connection,
    events: &[Event],
    touched: &mut Touched,
) -> duckdb::Result<()> {
    let mut partials: HashMap<(&str, i64, &str), Partial> = HashMap::new();
    let mut actors: HashMap<(&str, i64, &str, Option<&str>, bool), i64> = HashMap::new();
    for e in events {
        let hour = e.timestamp.timestamp_micros().div_euclid(HOUR_MICROS) * HOUR_MICROS;
        let p = partials.entry((e.project_id.as_str(), hour, e.event.as_str())).or_default();
        p.events += 1;
        if let Some(v) = e.value {
            p.values += 1;
            p.sum = Some(p.sum.unwrap_or(0.0) + v);
            p.min = Some(p.min.map_or(v, |m| m.min(v)));
            p.max = Some(p.max.map_or(v, |m| m.max(v)));
        }
        let person = e.person_id.as_deref();
        *actors
            .entry((e.project_id.as_str(), hour, e.event.as_str(), person, e.user_id.is_none()))
            .or_default() += 1;
    }
    if let Some(hours) = &mut touched.0 {
        hours.extend(partials.keys().map(|(_, hour, _)| *hour));
    }
    // Appended as partial rows, not upserted: an upsert per key cost ~30% of ingest
    // throughput (sextant-bench), appending costs next to nothing. Readers sum (or take
    // distinct) partials; `compact` folds them now and then.
    let mut appender = conn.appender("rollup_hourly")?;
    for ((project, hour, event), p) in partials {
        appender.append_row(params![
            project,
            hour_value(hour),
            event,
            p.events,
            p.values,
            p.sum,
            p.min,
            p.max
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("rollup_actors")?;
    for ((project, hour, event, person, anon), events) in actors {
        appender.append_row(params![project, hour_value(hour), event, person, anon, events])?;
    }
    appender.flush()
}

/// Folds the partial rows of the touched hours into one row per key, in one transaction, so
/// the rollups stay about one row per key whatever the number of commits.
pub(crate) fn compact(conn: &Connection, touched: &mut Touched) -> duckdb::Result<()> {
    conn.execute_batch(
        "BEGIN TRANSACTION; CREATE OR REPLACE TEMP TABLE rollup_touched (hour TIMESTAMP NOT NULL);",
    )?;
    let folded = (|| {
        match &touched.0 {
            Some(hours) => {
                let mut insert = conn.prepare("INSERT INTO rollup_touched VALUES (?)")?;
                for hour in hours {
                    insert.execute([hour_value(*hour)])?;
                }
            }
            None => conn.execute_batch(
                "INSERT INTO rollup_touched
                   SELECT hour FROM rollup_hourly GROUP BY project_id, hour, event HAVING count(*) > 1
                   UNION
                   SELECT hour FROM rollup_actors GROUP BY ALL HAVING count(*) > 1;",
            )?,
        }
        conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE hourly_folded AS
               SELECT project_id, hour, event, sum(events), sum(value_count), sum(value_sum), min(value_min), max(value_max)
               FROM rollup_hourly WHERE hour IN (SELECT hour FROM rollup_touched) GROUP BY project_id, hour, event;
             CREATE OR REPLACE TEMP TABLE actors_folded AS
               SELECT project_id, hour, event, person_id, anon, sum(events)
               FROM rollup_actors WHERE hour IN (SELECT hour FROM rollup_touched) GROUP BY project_id, hour, event, person_id, anon;
             DELETE FROM rollup_hourly WHERE hour IN (SELECT hour FROM rollup_touched);
             DELETE FROM rollup_actors WHERE hour IN (SELECT hour FROM rollup_touched);
             INSERT INTO rollup_hourly SELECT * FROM hourly_folded;
             INSERT INTO rollup_actors SELECT * FROM actors_folded;
             DROP TABLE hourly_folded; DROP TABLE actors_folded; DROP TABLE rollup_touched;
             COMMIT;",
        )
    })();
    match folded {
        Ok(()) => {
            *touched = Touched(Some(BTreeSet::new()));
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The statements that rebuild a project's rollup rows for hours `[$2, $3)` (µs) from its
/// events, after deleting them.
const REBUILD: &[&str] = &[
    "DELETE FROM rollup_hourly WHERE project_id = $1 AND hour >= make_timestamp($2) AND hour < make_timestamp($3)",
    "INSERT INTO rollup_hourly
     SELECT project_id, date_trunc('hour', timestamp), event, count(*), count(value), sum(value), min(value), max(value)
     FROM events WHERE project_id = $1 AND timestamp >= make_timestamp($2) AND timestamp < make_timestamp($3)
     GROUP BY ALL",
    "DELETE FROM rollup_actors WHERE project_id = $1 AND hour >= make_timestamp($2) AND hour < make_timestamp($3)",
    "INSERT INTO rollup_actors
     SELECT project_id, date_trunc('hour', timestamp), event, person_id, user_id IS NULL, count(*)
     FROM events WHERE project_id = $1 AND timestamp >= make_timestamp($2) AND timestamp < make_timestamp($3)
     GROUP BY ALL",
];

/// After a project's events in `[from, to)` (µs) were deleted: rebuilds the rollup rows of
/// every hour the range touches from the events left in them (the edge hours keep events
/// outside the range; the others are now empty).
pub(crate) fn rebuild(conn: &Connection, project: &str, from: i64, to: i64) -> duckdb::Result<()> {
    let first = from.div_euclid(HOUR_MICROS) * HOUR_MICROS;
    let end = (to + HOUR_MICROS - 1).div_euclid(HOUR_MICROS) * HOUR_MICROS;
    for sql in REBUILD {
        conn.execute(sql, params![project, first, end])?;
    }
    Ok(())
}
