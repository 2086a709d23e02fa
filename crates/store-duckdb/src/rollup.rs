//! Hourly rollups, kept in the transaction that stores the events, so each rollup (summed per
//! key) is exactly an aggregate of the stored events at every commit:
//! - `rollup_hourly`, per (project, UTC hour, event): the event count and the count, sum,
//!   minimum and maximum of `value`;
//! - `rollup_dimensions`, the same per value of each of `rollup_schema::DIMENSIONS`, so
//!   breakdowns by them read ~10x fewer rows than the events (demo data);
//! - `rollup_value_buckets`, per sketch bucket of `value` (`rollup_schema::value_bucket`):
//!   how many values fell in it, so quantiles over any hours come from summed counts;
//! - `rollup_actors`, per (project, UTC hour, event, person id, anonymous or not): the event
//!   count, so distinct people per hour, day or week are read from ~12x fewer rows (demo data),
//!   and the events' times (`times`, µs, in no order; `last_ts` their maximum), so a funnel
//!   finds a person's latest step-0 event before a later step without scanning the events;
//! - `rollup_actors_daily`, the same per UTC day: ~2.1x fewer rows again for queries in days
//!   or longer (UTC).
//!
//! Both people tables also hold each person id's 128-bit key (`person_key`, see
//! [`person_key`]), which distinct counts hash and compare ~1.5x faster than the ids.
//!
//! The planner reads them for the queries they can answer (see `sextant_query`'s `rollup`).

use duckdb::{Connection, params};
use sextant_core::Event;
use sextant_query::rollup_schema::{DIMENSIONS, value_bucket, value_bucket_sql};
use sextant_query::{Column, Dialect};
use std::collections::{BTreeSet, HashMap};

const HOUR_MICROS: i64 = 3_600_000_000;
const DAY_MICROS: i64 = 24 * HOUR_MICROS;

/// A rollup table: its time column (`hour` or `day`, also the unit it truncates to), its key
/// columns, and how partial rows of one key fold into one (the table's columns are the keys,
/// then the folds, in order).
struct Table {
    name: &'static str,
    time: &'static str,
    keys: &'static str,
    folds: &'static str,
}

impl Table {
    fn unit_micros(&self) -> i64 {
        if self.time == "day" { DAY_MICROS } else { HOUR_MICROS }
    }
}

const VALUE_FOLDS: &str =
    "sum(events), sum(value_count), sum(value_sum), min(value_min), max(value_max)";

/// The key is a function of the person id: any row's is every row's.
const PEOPLE_FOLDS: &str = "sum(events), any_value(person_key)";

const TIMED_PEOPLE_FOLDS: &str =
    "sum(events), any_value(person_key), max(last_ts), flatten(list(times))";

const TABLES: [Table; 5] = [
    Table {
        name: "rollup_hourly",
        time: "hour",
        keys: "project_id, hour, event",
        folds: VALUE_FOLDS,
    },
    Table {
        name: "rollup_dimensions",
        time: "hour",
        keys: "project_id, hour, event, dimension, dimension_value",
        folds: VALUE_FOLDS,
    },
    Table {
        name: "rollup_value_buckets",
        time: "hour",
        keys: "project_id, hour, event, bucket",
        folds: "sum(n)",
    },
    Table {
        name: "rollup_actors",
        time: "hour",
        keys: "project_id, hour, event, person_id, anon",
        folds: TIMED_PEOPLE_FOLDS,
    },
    Table {
        name: "rollup_actors_daily",
        time: "day",
        keys: "project_id, day, event, person_id, anon",
        folds: PEOPLE_FOLDS,
    },
];

/// `SELECT` of `table`'s rows from the events where `filter` holds.
fn from_events(table: &Table, filter: &str) -> String {
    const HOUR: &str = "project_id, date_trunc('hour', timestamp) AS hour, event";
    const VALUES: &str = "count(*), count(value), sum(value), min(value), max(value)";
    match table.name {
        "rollup_hourly" => {
            format!("SELECT {HOUR}, {VALUES} FROM events WHERE {filter} GROUP BY ALL")
        }
        "rollup_actors" => hourly_actors_from_events(filter),
        "rollup_actors_daily" => actors_from_events("day", "", filter),
        "rollup_dimensions" => dimensions_from_events(filter),
        _ => value_buckets_from_events(filter),
    }
}

/// `SELECT` of `rollup_actors`' rows from the events where `filter` holds, in time order.
pub(crate) fn hourly_actors_from_events(filter: &str) -> String {
    actors_from_events("hour", ", max(epoch_us(timestamp)), list(epoch_us(timestamp))", filter)
}

/// `SELECT` of the people per `unit` (`hour` or `day`) from the events where `filter` holds,
/// with `extra` aggregates after the key.
fn actors_from_events(unit: &str, extra: &str, filter: &str) -> String {
    format!(
        "SELECT project_id, date_trunc('{unit}', timestamp) AS {unit}, event, person_id, user_id IS NULL, count(*), md5_number(person_id){extra} FROM events WHERE {filter} GROUP BY ALL ORDER BY project_id, {unit}"
    )
}

/// A person id's key: what DuckDB's `md5_number` gives for it (the MD5 digest read as a
/// little-endian 128-bit integer), so backfills in SQL and this writer agree, which a test
/// checks. At 128 bits, ids that share a key are as unlikely as for ClickHouse's `uniqExact`,
/// which also counts 128-bit hashes of strings.
fn person_key(person: Option<&str>) -> duckdb::types::Value {
    use md5::Digest;
    match person {
        Some(id) => {
            duckdb::types::Value::UHugeInt(u128::from_le_bytes(md5::Md5::digest(id).into()))
        }
        None => duckdb::types::Value::Null,
    }
}

/// `SELECT` of `rollup_dimensions`' rows from the events where `filter` holds, in time order.
pub(crate) fn dimensions_from_events(filter: &str) -> String {
    let pairs: Vec<String> =
        DIMENSIONS.iter().map(|c| format!("('{name}', {name})", name = c.name())).collect();
    format!(
        "SELECT project_id, date_trunc('hour', timestamp) AS hour, event, d.dimension, d.dimension_value, count(*), count(value), sum(value), min(value), max(value)
         FROM events, LATERAL (VALUES {}) AS d(dimension, dimension_value)
         WHERE {filter} GROUP BY ALL ORDER BY project_id, hour",
        pairs.join(", ")
    )
}

/// `SELECT` of `rollup_value_buckets`' rows from the events where `filter` holds, in time
/// order.
pub(crate) fn value_buckets_from_events(filter: &str) -> String {
    format!(
        "SELECT project_id, date_trunc('hour', timestamp) AS hour, event, {} AS bucket, count(*)
         FROM events WHERE value IS NOT NULL AND {filter} GROUP BY ALL ORDER BY project_id, hour",
        value_bucket_sql(Dialect::DuckDb, "value")
    )
}

/// An event's value of a dimension column.
fn dimension_value(e: &Event, column: Column) -> Option<&str> {
    let value = match column {
        Column::App => &e.app,
        Column::Host => &e.host,
        Column::Route => &e.route,
        Column::EntityType => &e.entity_type,
        Column::DeviceType => &e.device_type,
        Column::Browser => &e.browser,
        Column::Os => &e.os,
        Column::Country => &e.country,
        Column::Library => &e.library,
        _ => return None,
    };
    value.as_deref()
}

/// Partial aggregates of one key.
#[derive(Debug, Default)]
struct Partial {
    events: i64,
    values: i64,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

impl Partial {
    fn add(&mut self, value: Option<f64>) {
        self.events += 1;
        if let Some(v) = value {
            self.values += 1;
            self.sum = Some(self.sum.unwrap_or(0.0) + v);
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
    }
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
    type Hour<'a> = (&'a str, i64, &'a str);
    let mut partials: HashMap<Hour, Partial> = HashMap::new();
    let mut dimensions: HashMap<(Hour, &str, Option<&str>), Partial> = HashMap::new();
    let mut buckets: HashMap<(Hour, i32), i64> = HashMap::new();
    // Per person-hour, the events' times; per person-day, their count.
    let mut actors: HashMap<(Hour, Option<&str>, bool), Vec<i64>> = HashMap::new();
    let mut daily_actors: HashMap<(Hour, Option<&str>, bool), i64> = HashMap::new();
    for e in events {
        let at = e.timestamp.timestamp_micros();
        let micros = at.div_euclid(HOUR_MICROS) * HOUR_MICROS;
        let hour = (e.project_id.as_str(), micros, e.event.as_str());
        partials.entry(hour).or_default().add(e.value);
        for column in DIMENSIONS {
            let key = (hour, column.name(), dimension_value(e, column));
            dimensions.entry(key).or_default().add(e.value);
        }
        if let Some(v) = e.value {
            *buckets.entry((hour, value_bucket(v))).or_default() += 1;
        }
        let (person, anon) = (e.person_id.as_deref(), e.user_id.is_none());
        actors.entry((hour, person, anon)).or_default().push(at);
        let day = (hour.0, micros.div_euclid(DAY_MICROS) * DAY_MICROS, hour.2);
        *daily_actors.entry((day, person, anon)).or_default() += 1;
    }
    if let Some(hours) = &mut touched.0 {
        hours.extend(partials.keys().map(|(_, hour, _)| *hour));
    }
    // Appended as partial rows, not upserted: an upsert per key cost ~30% of ingest
    // throughput (sextant-bench), appending costs next to nothing. Readers sum (or take
    // distinct) partials; `compact` folds them now and then.
    let mut appender = conn.appender("rollup_hourly")?;
    for ((project, hour, event), p) in partials {
        let (events, values, sum, min, max) = (p.events, p.values, p.sum, p.min, p.max);
        appender.append_row(params![
            project,
            hour_value(hour),
            event,
            events,
            values,
            sum,
            min,
            max
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("rollup_dimensions")?;
    for (((project, hour, event), dimension, value), p) in dimensions {
        let (events, values, sum, min, max) = (p.events, p.values, p.sum, p.min, p.max);
        appender.append_row(params![
            project,
            hour_value(hour),
            event,
            dimension,
            value,
            events,
            values,
            sum,
            min,
            max
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("rollup_value_buckets")?;
    for (((project, hour, event), bucket), n) in buckets {
        appender.append_row(params![project, hour_value(hour), event, bucket, n])?;
    }
    appender.flush()?;
    let mut keys: HashMap<Option<&str>, duckdb::types::Value> = HashMap::new();
    let mut key = |person| keys.entry(person).or_insert_with(|| person_key(person)).clone();
    let mut appender = conn.appender("rollup_actors")?;
    for (((project, hour, event), person, anon), times) in actors {
        let (events, last) =
            (i64::try_from(times.len()).unwrap_or(i64::MAX), times.iter().max().copied());
        let times = duckdb::types::Value::List(
            times.into_iter().map(duckdb::types::Value::BigInt).collect(),
        );
        let (hour, key) = (hour_value(hour), key(person));
        appender
            .append_row(params![project, hour, event, person, anon, events, key, last, times])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("rollup_actors_daily")?;
    for (((project, day, event), person, anon), events) in daily_actors {
        let (day, key) = (hour_value(day), key(person));
        appender.append_row(params![project, day, event, person, anon, events, key])?;
    }
    appender.flush()?;
    Ok(())
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
            None => {
                let repeated: Vec<String> = TABLES
                    .iter()
                    .map(|t| {
                        format!(
                            "SELECT {} FROM {} GROUP BY {} HAVING count(*) > 1",
                            t.time, t.name, t.keys
                        )
                    })
                    .collect();
                conn.execute_batch(&format!(
                    "INSERT INTO rollup_touched {};",
                    repeated.join(" UNION ")
                ))?;
            }
        }
        let mut fold = String::new();
        for Table { name, time, keys, folds } in &TABLES {
            // A day-long table folds the days of the touched hours.
            let touched =
                format!("{time} IN (SELECT date_trunc('{time}', hour) FROM rollup_touched)");
            fold.push_str(&format!(
                "CREATE OR REPLACE TEMP TABLE folded AS
                   SELECT {keys}, {folds} FROM {name} WHERE {touched} GROUP BY {keys};
                 DELETE FROM {name} WHERE {touched};
                 INSERT INTO {name} SELECT * FROM folded;
                 DROP TABLE folded;\n"
            ));
        }
        conn.execute_batch(&format!("{fold}DROP TABLE rollup_touched; COMMIT;"))
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

/// After a project's events in `[from, to)` (µs) were deleted: rebuilds the rollup rows of
/// every hour (or day) the range touches from the events left in them (the edge hours keep
/// events outside the range; the others are now empty).
pub(crate) fn rebuild(conn: &Connection, project: &str, from: i64, to: i64) -> duckdb::Result<()> {
    let within = |column: &str| {
        format!(
            "project_id = $1 AND {column} >= make_timestamp($2) AND {column} < make_timestamp($3)"
        )
    };
    for table in &TABLES {
        let unit = table.unit_micros();
        let first = from.div_euclid(unit) * unit;
        let end = (to + unit - 1).div_euclid(unit) * unit;
        let name = table.name;
        conn.execute(
            &format!("DELETE FROM {name} WHERE {}", within(table.time)),
            params![project, first, end],
        )?;
        let rows = from_events(table, &within("timestamp"));
        conn.execute(&format!("INSERT INTO {name} {rows}"), params![project, first, end])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_keys_are_duckdbs_md5_numbers() {
        let conn = Connection::open_in_memory().unwrap();
        for id in ["", "abc", "dev_ba9289a0e52717aa", "user@example.com", "ünïcødé 👤"] {
            let sql: duckdb::types::Value =
                conn.query_row("SELECT md5_number(?)", [id], |row| row.get(0)).unwrap();
            assert_eq!(person_key(Some(id)), sql, "{id}");
        }
        assert_eq!(person_key(None), duckdb::types::Value::Null);
    }
}
