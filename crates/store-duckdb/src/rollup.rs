//! Hourly rollups: per (project, UTC hour, event) the event count and the count, sum, minimum
//! and maximum of `value`, kept in the transaction that stores the events, so the rollup
//! (summed per key) is exactly the aggregate of the stored events at every commit. The planner reads it for trends
//! it can answer from it (see `sextant_query`'s `rollup` module).

use duckdb::{Connection, params};
use sextant_core::Event;
use std::collections::HashMap;

/// Partial aggregates of one (project, hour, event).
#[derive(Debug, Default)]
struct Partial {
    events: i64,
    values: i64,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

const HOUR_MICROS: i64 = 3_600_000_000;

/// Adds `events` (already stored by this transaction) to the rollup.
pub(crate) fn add(conn: &Connection, events: &[Event]) -> duckdb::Result<()> {
    let mut partials: HashMap<(&str, i64, &str), Partial> = HashMap::new();
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
    }
    if partials.is_empty() {
        return Ok(());
    }
    // Appended as partial rows, not upserted: an upsert per key cost ~30% of ingest
    // throughput (sextant-bench), appending costs next to nothing. Readers sum the partials;
    // `compact` folds them now and then.
    let mut appender = conn.appender("rollup_hourly")?;
    for ((project, hour, event), p) in partials {
        let hour = duckdb::types::Value::Timestamp(duckdb::types::TimeUnit::Microsecond, hour);
        appender
            .append_row(params![project, hour, event, p.events, p.values, p.sum, p.min, p.max])?;
    }
    appender.flush()?;
    Ok(())
}

/// Folds the partial rows of each (project, hour, event) into one, in its own transaction,
/// so the rollup stays about one row per key whatever the number of commits.
pub(crate) fn compact(conn: &Connection) -> duckdb::Result<()> {
    conn.execute_batch(
        "BEGIN TRANSACTION;
         CREATE OR REPLACE TEMP TABLE rollup_folded AS
           SELECT project_id, hour, event, sum(events) AS events, sum(value_count) AS value_count,
                  sum(value_sum) AS value_sum, min(value_min) AS value_min, max(value_max) AS value_max
           FROM rollup_hourly GROUP BY project_id, hour, event HAVING count(*) > 1;
         DELETE FROM rollup_hourly WHERE (project_id, hour, event) IN (SELECT project_id, hour, event FROM rollup_folded);
         INSERT INTO rollup_hourly SELECT * FROM rollup_folded;
         DROP TABLE rollup_folded;
         COMMIT;",
    )
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// After a project's events in `[from, to)` (µs) were deleted: rebuilds the rollup rows of
/// every hour the range touches from the events left in them (the edge hours keep events
/// outside the range; the others are now empty).
pub(crate) fn rebuild(conn: &Connection, project: &str, from: i64, to: i64) -> duckdb::Result<()> {
    let first = from.div_euclid(HOUR_MICROS) * HOUR_MICROS;
    let end = (to + HOUR_MICROS - 1).div_euclid(HOUR_MICROS) * HOUR_MICROS;
    conn.execute(
        "DELETE FROM rollup_hourly WHERE project_id = $1 AND hour >= make_timestamp($2) AND hour < make_timestamp($3)",
        params![project, first, end],
    )?;
    conn.execute(
        "INSERT INTO rollup_hourly
         SELECT project_id, date_trunc('hour', timestamp), event, count(*), count(value), sum(value), min(value), max(value)
         FROM events WHERE project_id = $1 AND timestamp >= make_timestamp($2) AND timestamp < make_timestamp($3)
         GROUP BY ALL",
        params![project, first, end],
    )?;
    Ok(())
}
