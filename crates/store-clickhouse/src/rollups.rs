//! Hourly rollups kept by ClickHouse itself: a materialized view on each server's
//! `events_local` adds every inserted block to `<rollup>_local`, in the same `INSERT`, so
//! a rollup is as durable as the events it counts. The planner reads them as it reads
//! DuckDB's (`sextant_query`'s `rollup` module): per project, UTC hour and event, with the
//! partial hours at a range's edges read from the events.
//!
//! - `rollup_hourly` and `rollup_dimensions` hold aggregate states (`AggregatingMergeTree`):
//!   event count, and count, sum, min and max of `value`; the latter per value of each
//!   breakdown dimension (`rollup_schema::DIMENSIONS`).
//! - `rollup_actors` holds one row per raw person id and hour with its event count
//!   (`SummingMergeTree`), so people resolve through links at query time, as for events.
//!
//! There is no sketch of `value` here: quantiles read the events. Partitions are those of the
//! events (month of the UTC day, project), so retention drops them together.

use sextant_query::rollup_schema::DIMENSIONS;

/// A rollup table: its name (`<name>_local` on each server, `<name>` in front), the columns and
/// engine of the local table, and the `SELECT` that computes its rows from events.
pub(crate) struct Rollup {
    pub(crate) name: &'static str,
    /// Whether it holds the states of `value` (`VALUE_STATES`).
    pub(crate) values: bool,
    columns: &'static str,
    engine: &'static str,
    select: fn(&str) -> String,
}

/// Every rollup, in the order migrations create them.
pub(crate) const ROLLUPS: [Rollup; 3] = [
    Rollup {
        name: "rollup_hourly",
        values: true,
        columns: "project_id String, hour Int64, event String, events AggregateFunction(sum, UInt64), value_count AggregateFunction(sum, UInt64), value_sum AggregateFunction(sum, Float64), value_min AggregateFunction(min, Float64), value_max AggregateFunction(max, Float64)",
        engine: "AggregatingMergeTree ORDER BY (project_id, hour, event)",
        select: hourly,
    },
    Rollup {
        name: "rollup_dimensions",
        values: true,
        columns: "project_id String, hour Int64, event String, dimension String, dimension_value Nullable(String), events AggregateFunction(sum, UInt64), value_count AggregateFunction(sum, UInt64), value_sum AggregateFunction(sum, Float64), value_min AggregateFunction(min, Float64), value_max AggregateFunction(max, Float64)",
        // 18.16 allows no Nullable column in a sort key: the NULL value is told apart by a flag.
        engine: "AggregatingMergeTree ORDER BY (project_id, hour, event, dimension, ifNull(dimension_value, ''), isNull(dimension_value))",
        select: dimensions,
    },
    Rollup {
        name: "rollup_actors",
        values: false,
        columns: "project_id String, hour Int64, event String, person_id Nullable(String), anon UInt8, events UInt64",
        engine: "SummingMergeTree(events) ORDER BY (project_id, hour, event, ifNull(person_id, ''), isNull(person_id), anon)",
        select: actors,
    },
];

/// The UTC hour of `timestamp` (microseconds), rounded down also before 1970. The divisor of
/// `%` is cast: 18.16 types `Int64 % UInt32` as `Int32` and wraps the remainder.
const HOUR: &str =
    "(intDiv(timestamp, 3600000000) - (timestamp % toInt64(3600000000) < 0)) * 3600000000 AS hour";

/// The event count and value states of `rollup_hourly` and `rollup_dimensions`. Not
/// `minState(value)`: over a `Nullable` column its type is `AggregateFunction(min, Float64)` on
/// 18.16 but `AggregateFunction(min, Nullable(Float64))` on current releases, which refuse to
/// store it in the former. Missing values become infinities instead, which never win (values
/// are finite: JSON has no infinities) and are never read (the planner reads NULL for an hour
/// whose `value_count` is 0).
const VALUE_STATES: &str = "sumState(toUInt64(1)) AS events, sumState(toUInt64(isNotNull(value))) AS value_count, sumState(ifNull(value, 0.)) AS value_sum, minState(ifNull(value, inf)) AS value_min, maxState(ifNull(value, -inf)) AS value_max";

fn hourly(filter: &str) -> String {
    format!(
        "SELECT project_id, {HOUR}, event, {VALUE_STATES} FROM events_local{filter} GROUP BY project_id, hour, event"
    )
}

fn dimensions(filter: &str) -> String {
    let names: Vec<String> = DIMENSIONS.iter().map(|c| format!("'{}'", c.name())).collect();
    let values: Vec<&str> = DIMENSIONS.iter().map(|c| c.name()).collect();
    format!(
        "SELECT project_id, {HOUR}, event, dimension, dimension_value, {VALUE_STATES} FROM events_local ARRAY JOIN [{}] AS dimension, [{}] AS dimension_value{filter} GROUP BY project_id, hour, event, dimension, dimension_value",
        names.join(", "),
        values.join(", "),
    )
}

fn actors(filter: &str) -> String {
    format!(
        "SELECT project_id, {HOUR}, event, person_id, toUInt8(isNull(user_id)) AS anon, count() AS events FROM events_local{filter} GROUP BY project_id, hour, event, person_id, anon"
    )
}

impl Rollup {
    /// The local table, partitioned like `events_local`.
    pub(crate) fn create_local(&self) -> String {
        let (engine, order) =
            self.engine.split_once(" ORDER BY ").unwrap_or((self.engine, "tuple()"));
        format!(
            "CREATE TABLE IF NOT EXISTS {name}_local ({columns}) ENGINE = {engine} PARTITION BY (toYYYYMM(toDate(intDiv(greatest(hour, 0), 86400000000))), project_id) ORDER BY {order}",
            name = self.name,
            columns = self.columns,
        )
    }

    pub(crate) fn drop_view(&self) -> String {
        format!("DROP TABLE IF EXISTS {}_view", self.name)
    }

    /// The view that adds each block inserted into `events_local` to the local table.
    pub(crate) fn create_view(&self) -> String {
        format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {name}_view TO {name}_local AS {select}",
            name = self.name,
            select = (self.select)(""),
        )
    }

    /// Empties the rollup, then recomputes it from every event of this server.
    pub(crate) fn recompute(&self) -> [String; 2] {
        [format!("TRUNCATE TABLE {}_local", self.name), self.fill(None)]
    }

    /// Recomputes the rollup from this server's events matching `condition` (an SQL condition
    /// over `events_local`, or all of them when `None`).
    pub(crate) fn fill(&self, condition: Option<&str>) -> String {
        let filter = condition.map(|c| format!(" WHERE {c}")).unwrap_or_default();
        format!(
            "INSERT INTO {name}_local {select}",
            name = self.name,
            select = (self.select)(&filter)
        )
    }
}
