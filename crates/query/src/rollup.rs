//! Trends from the hourly rollup (`rollup_hourly`: per project, UTC hour and event, the event
//! count and the count, sum, min and max of `value`), when a query can be answered from it:
//! no conditions besides event names, no breakdown, maths total/sum/avg/min/max of `value`,
//! buckets of an hour or more in a zone whose offsets are whole hours. Whole hours come from
//! the rollup; the partial hours at the ends of the range from the events, so any range is
//! exact. Results equal the raw path's (sums up to floating-point rounding), which the
//! conformance cross-check asserts.

use crate::filter::{all_of, matcher_conditions};
use crate::sql::{Param, SqlBuilder};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{Column, EventMatcher, Interval, Math, PropertyRef, TrendsQuery};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Whether `q` over `range` can read the rollup: the whole hours inside the range, if any.
pub(crate) fn whole_hours(q: &TrendsQuery, range: TimeRange, zone: Zone) -> Option<TimeRange> {
    let plain = q.filters.is_empty()
        && q.breakdown.is_none()
        && q.interval != Interval::Minute
        && q.series.iter().all(|s| {
            s.filters.is_empty()
                && match s.math {
                    Math::Total => true,
                    Math::Sum | Math::Avg | Math::Min | Math::Max => {
                        s.property == Some(PropertyRef::Column(Column::Value))
                    }
                    _ => false,
                }
        });
    let (first, changes) = zone.offsets(range.from, range.to);
    let hourly_zone = first % 3600 == 0
        && changes.iter().all(|(at, offset)| offset % 3600 == 0 && at.timestamp() % 3600 == 0);
    if !plain || !hourly_zone {
        return None;
    }
    let hour = TimeDelta::hours(1);
    let floor = |t: DateTime<Utc>| t.duration_trunc(hour).ok();
    let start = floor(range.from)?;
    let start = if start < range.from { start + hour } else { start };
    let end = floor(range.to)?;
    (start < end).then_some(TimeRange { from: start, to: end })
}

/// `SELECT bucket, event, events, value_count, value_sum, value_min, value_max[, s0, ...]`
/// over the rollup's whole hours and the events of the partial ones, for `q`'s series.
pub(crate) fn parts(
    b: &mut SqlBuilder,
    q: &TrendsQuery,
    project: &str,
    range: TimeRange,
    hours: TimeRange,
    zone: Zone,
    flagged: bool,
) -> String {
    let (from, to) = (b.param(Param::Timestamp(range.from)), b.param(Param::Timestamp(range.to)));
    let (a, z) = (b.param(Param::Timestamp(hours.from)), b.param(Param::Timestamp(hours.to)));
    let conditions: Vec<Vec<String>> = q
        .series
        .iter()
        .map(|s| {
            let matcher = EventMatcher { event: s.event.clone(), filters: Vec::new(), label: None };
            matcher_conditions(b, &matcher).unwrap_or_default()
        })
        .collect();
    let flags: String = if flagged {
        conditions.iter().enumerate().map(|(i, c)| format!(", ({}) AS s{i}", all_of(c))).collect()
    } else {
        String::new()
    };
    let pushed = match conditions.as_slice() {
        [only] => all_of(only),
        several if several.iter().all(|c| !c.is_empty()) => {
            let any: Vec<String> = several.iter().map(|c| format!("({})", all_of(c))).collect();
            any.join(" OR ")
        }
        _ => "TRUE".to_owned(),
    };
    format!(
        "SELECT {bucket} AS bucket, events, value_count, value_sum, value_min, value_max{flags}\n    FROM (\n      SELECT hour AS timestamp, event, events, value_count, value_sum, value_min, value_max FROM rollup_hourly WHERE project_id = {project} AND hour >= {a} AND hour < {z}\n      UNION ALL\n      SELECT timestamp, event, 1, CASE WHEN value IS NULL THEN 0 ELSE 1 END, value, value, value FROM events WHERE project_id = {project} AND ((timestamp >= {from} AND timestamp < {a}) OR (timestamp >= {z} AND timestamp < {to}))\n    ) AS parts\n    WHERE {pushed}",
        bucket = b.truncate(q.interval, &b.local_timestamp(zone, range)),
    )
}

/// `value{i}, denominator{i}` for series `i` over the parts; `flag` restricts to its events.
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
        _ => format!("coalesce(sum({}), 0)", when("events")),
    };
    format!("{value} AS v{i}, {} AS d{i}", b.null_number())
}
