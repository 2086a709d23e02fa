//! Hourly rollups: per (project, UTC hour, event) the event count and the count, sum, minimum
//! and maximum of `value`, kept in the transaction that stores the events, so the rollup is
//! exactly the aggregate of the stored events at every commit. The planner reads it for trends
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
    let mut statement = conn.prepare_cached(
        "INSERT INTO rollup_hourly VALUES ($1, make_timestamp($2), $3, $4, $5, $6, $7, $8)
         ON CONFLICT (project_id, hour, event) DO UPDATE SET
           events = events + excluded.events,
           value_count = value_count + excluded.value_count,
           value_sum = CASE WHEN value_sum IS NULL THEN excluded.value_sum
                            WHEN excluded.value_sum IS NULL THEN value_sum
                            ELSE value_sum + excluded.value_sum END,
           value_min = least(coalesce(value_min, excluded.value_min), coalesce(excluded.value_min, value_min)),
           value_max = greatest(coalesce(value_max, excluded.value_max), coalesce(excluded.value_max, value_max))",
    )?;
    for ((project, hour, event), p) in partials {
        statement
            .execute(params![project, hour, event, p.events, p.values, p.sum, p.min, p.max])?;
    }
    Ok(())
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
