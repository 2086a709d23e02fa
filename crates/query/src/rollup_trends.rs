//! Trends from the hourly rollups instead of the events: totals and `value` aggregates from
//! `rollup_hourly` (or, broken down by a dimension, from `rollup_dimensions`), and quantiles of
//! `value` from the bucket counts of `rollup_value_buckets`. The partial hours at the range's
//! edges are read from the events in the same shapes (see `rollup::pieces`).

use crate::filter::{all_of, any_series, matcher_conditions};
use crate::rollup::{Pieces, pieces, plain_trends, raw_arm, within};
use crate::rollup_schema::DIMENSIONS;
use crate::sql::{Dialect, Param, SqlBuilder};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{Column, EventMatcher, Math, PropertyRef, Series, TrendsQuery};

/// How a trends statement reads the hourly rollups.
#[derive(Debug)]
pub(crate) struct HourlyRead {
    pieces: Pieces,
    /// The breakdown column, read from `rollup_dimensions`.
    dimension: Option<Column>,
    /// Whether some series' quantiles come from the sketch (within `RELATIVE_ERROR`).
    pub(crate) sketched: bool,
}

impl HourlyRead {
    pub(crate) fn broken_down(&self) -> bool {
        self.dimension.is_some()
    }
}

/// Whether `q` over `range` can be answered from the hourly rollups: maths total, or
/// sum / avg / min / max / quantiles of `value`, no conditions besides event names, and a
/// breakdown (if any) by one dimension. Broken-down quantiles, and quantiles a formula
/// reads, need exact values, so they read the events; so do all quantiles on ClickHouse,
/// which keeps no sketch (its quantile statement would need window functions 18.16 lacks).
pub(crate) fn hourly_read(
    q: &TrendsQuery,
    range: TimeRange,
    zone: Zone,
    dialect: Dialect,
) -> Option<HourlyRead> {
    let dimension = match &q.breakdown {
        None => None,
        Some(bd) => match (&bd.property, &bd.and) {
            (PropertyRef::Column(column), None) if DIMENSIONS.contains(column) => Some(*column),
            _ => return None,
        },
    };
    let sketch_allowed = dimension.is_none() && q.formula.is_none() && dialect == Dialect::DuckDb;
    let plain = plain_trends(q, |s| {
        let of_value = s.property == Some(PropertyRef::Column(Column::Value));
        match s.math {
            Math::Total => true,
            Math::Sum | Math::Avg | Math::Min | Math::Max => of_value,
            Math::Median | Math::P90 | Math::P95 | Math::P99 => of_value && sketch_allowed,
            _ => false,
        }
    });
    if !plain {
        return None;
    }
    let sketched = q.series.iter().any(|s| s.math.quantile().is_some());
    pieces(range, &[], zone, false).map(|pieces| HourlyRead { pieces, dimension, sketched })
}

/// The conditions of a series (event names only, see `hourly_read`).
fn series_conditions(b: &mut SqlBuilder, s: &Series) -> Vec<String> {
    let matcher = EventMatcher { event: s.event.clone(), filters: Vec::new(), label: None };
    matcher_conditions(b, &matcher).unwrap_or_default()
}

/// `SELECT bucket[, b1], events, value_count, value_sum, value_min, value_max[, s0, ...]`:
/// the rolled rows and the raw edge events of `q`'s series, `s{i}` flagging series `i`.
pub(crate) fn parts(
    b: &mut SqlBuilder,
    q: &TrendsQuery,
    project: &str,
    range: TimeRange,
    read: &HourlyRead,
    zone: Zone,
    flagged: bool,
) -> String {
    let (rolled, raw_key) = rolled_hours(b, project, read);
    let raw = raw_arm(
        b,
        &read.pieces,
        &format!(
            "timestamp, event, {raw_key}1, CASE WHEN value IS NULL THEN 0 ELSE 1 END, value, value, value"
        ),
        project,
    );
    let conditions: Vec<Vec<String>> = q.series.iter().map(|s| series_conditions(b, s)).collect();
    let flags: String = if flagged {
        conditions.iter().enumerate().map(|(i, c)| format!(", ({}) AS s{i}", b.all_of(c))).collect()
    } else {
        String::new()
    };
    let b1 = if read.broken_down() { "b1, " } else { "" };
    format!(
        "SELECT {bucket} AS bucket, {b1}events, value_count, value_sum, value_min, value_max{flags}\n    FROM (\n      {rolled}{raw}\n    ) AS parts\n    WHERE {pushed}",
        bucket = b.truncate(q.interval, &b.local_timestamp(zone, range)),
        pushed = any_series(&conditions).unwrap_or_else(|| b.all_of(&[])),
    )
}

/// The `SELECT` of the whole hours' rows (`timestamp, event[, b1], events, value_count,
/// value_sum, value_min, value_max`), and the breakdown column for the events' arm.
/// DuckDB's tables hold plain partial sums, summed by the caller like events; ClickHouse's
/// hold aggregate states (merged by `AggregatingMergeTree`), finalised here per hour, which on
/// a cluster runs on every shard before the rows meet.
fn rolled_hours(b: &mut SqlBuilder, project: &str, read: &HourlyRead) -> (String, String) {
    // `source` ends where the project's condition follows.
    let (source, key, raw_key) = match read.dimension {
        None => ("rollup_hourly WHERE".to_owned(), String::new(), String::new()),
        Some(column) => {
            let name = b.param(Param::Text(column.name().to_owned()));
            (
                format!("rollup_dimensions WHERE dimension = {name} AND"),
                "dimension_value AS b1, ".to_owned(),
                format!("{} AS b1, ", column.name()),
            )
        }
    };
    let rolled = within(b, "hour", &read.pieces.rolled);
    let filter = format!("{source} project_id = {project} AND {rolled}");
    let sql = match b.dialect {
        Dialect::DuckDb => format!(
            "SELECT hour AS timestamp, event, {key}events, value_count, value_sum, value_min, value_max FROM {filter}"
        ),
        Dialect::ClickHouse => {
            let grouped = if read.broken_down() { ", dimension_value" } else { "" };
            // An hour without values has zero states: NULL, as an aggregate over no values.
            format!(
                "SELECT hour AS timestamp, event, {key}n AS events, nv AS value_count, if(nv = 0, NULL, vs) AS value_sum, if(nv = 0, NULL, vmin) AS value_min, if(nv = 0, NULL, vmax) AS value_max FROM (SELECT hour, event{grouped}, sumMerge(events) AS n, sumMerge(value_count) AS nv, sumMerge(value_sum) AS vs, minMerge(value_min) AS vmin, maxMerge(value_max) AS vmax FROM {filter} GROUP BY hour, event{grouped})"
            )
        }
    };
    (sql, raw_key)
}

/// The columns of `parts` besides the breakdown key.
pub(crate) fn carried(series: usize, flagged: bool) -> Vec<String> {
    let columns = ["bucket", "events", "value_count", "value_sum", "value_min", "value_max"];
    let flags = (0..series).filter(|_| flagged).map(|i| format!("s{i}"));
    columns.into_iter().map(str::to_owned).chain(flags).collect()
}

/// `value{i}, denominator{i}` for series `i` over the parts; `flag` restricts to its events.
/// Quantiles are NULL here: `quantiles` computes them.
pub(crate) fn aggregate(b: &SqlBuilder, i: usize, math: Math, flag: Option<String>) -> String {
    let when = |column: &str| match &flag {
        Some(f) => format!("CASE WHEN {f} THEN {column} END"),
        None => column.to_owned(),
    };
    let value = match math {
        Math::Sum => format!("sum({})", when("value_sum")),
        Math::Avg => {
            format!("sum({}) / nullif(sum({}), 0)", when("value_sum"), when("value_count"))
        }
        Math::Min => format!("min({})", when("value_min")),
        Math::Max => format!("max({})", when("value_max")),
        Math::Median | Math::P90 | Math::P95 | Math::P99 => b.null_number(),
        _ => format!("coalesce(sum({}), 0)", when("events")),
    };
    format!("{value} AS v{i}, {} AS d{i}", b.null_number())
}

/// For each quantile series `i`: `(i, SELECT is_total, bucket, v)`, its quantile per bucket
/// and over the range, interpolated between the values at ranks `⌊p(n−1)⌋` and `⌈p(n−1)⌉`
/// like the exact quantile, each read from the summed bucket counts.
pub(crate) fn quantiles(
    b: &mut SqlBuilder,
    q: &TrendsQuery,
    project: &str,
    range: TimeRange,
    read: &HourlyRead,
    zone: Zone,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, s) in q.series.iter().enumerate() {
        let Some(p) = s.math.quantile() else { continue };
        let condition = all_of(&series_conditions(b, s));
        let rolled = within(b, "hour", &read.pieces.rolled);
        let raw = raw_arm(
            b,
            &read.pieces,
            &format!("timestamp, event, {}, 1", b.value_bucket("value")),
            project,
        );
        let cells = format!(
            "SELECT GROUPING(bucket) AS is_total, bucket, value_bucket, sum(n) AS n\n  FROM (\n    SELECT {bucket} AS bucket, value_bucket, n FROM (\n      SELECT hour AS timestamp, event, bucket AS value_bucket, n FROM rollup_value_buckets WHERE project_id = {project} AND {rolled}{raw}\n    ) AS parts\n    WHERE value_bucket IS NOT NULL AND {condition}\n  )\n  GROUP BY GROUPING SETS ((bucket, value_bucket), (value_bucket))",
            bucket = b.truncate(q.interval, &b.local_timestamp(zone, range)),
        );
        let ranked = format!(
            "SELECT is_total, bucket, value_bucket, sum(n) OVER (PARTITION BY is_total, bucket ORDER BY value_bucket) AS upto, {p} * (sum(n) OVER (PARTITION BY is_total, bucket) - 1) AS position\n  FROM ({cells}\n  )"
        );
        let ends = format!(
            "SELECT is_total, bucket, max(position) AS position, min(CASE WHEN upto > floor(position) THEN value_bucket END) AS low, min(CASE WHEN upto > ceil(position) THEN value_bucket END) AS high\n  FROM ({ranked})\n  GROUP BY is_total, bucket"
        );
        let (low, high) = (b.bucket_value("low"), b.bucket_value("high"));
        out.push((
            i,
            format!(
                "SELECT is_total, bucket, {low} + (position - floor(position)) * ({high} - {low}) AS v\n  FROM ({ends})"
            ),
        ));
    }
    out
}
