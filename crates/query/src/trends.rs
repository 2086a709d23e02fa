//! Trends: one scan computes every series (conditional aggregates), per bucket and per
//! breakdown value, plus whole-range totals via grouping sets, so unique-user totals are exact
//! rather than sums of per-bucket uniques.

use crate::filter::{all_of, conditions, property_expr};
use crate::sql::{Cell, Dialect, Param, SqlBuilder, Statement};
use crate::time::TimeRange;
use crate::{Interval, Math, PlanOptions, QueryError, Series, TrendsQuery};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sextant_core::micros_to_datetime;
use std::collections::HashMap;

/// Upper bound on breakdown groups, whatever the query asks for.
pub const MAX_BREAKDOWN_LIMIT: usize = 1000;
const MAX_SERIES: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendsResult {
    pub interval: Interval,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Start of each bucket; every series has one value per bucket.
    pub buckets: Vec<DateTime<Utc>>,
    pub series: Vec<SeriesResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesResult {
    /// Index of the series in the query.
    pub series: usize,
    pub label: String,
    pub math: Math,
    /// Present when the query has a breakdown; `null` groups events without the property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown_value: Option<Value>,
    pub values: Vec<u64>,
    /// Over the whole range: the event count, or the distinct people (not a sum of buckets).
    pub total: u64,
}

/// A planned trends query: the statement plus what is needed to shape its rows.
#[derive(Debug, Clone)]
pub struct TrendsPlan {
    pub statement: Statement,
    interval: Interval,
    range: TimeRange,
    buckets: Vec<DateTime<Utc>>,
    series: Vec<(String, Math)>,
    has_breakdown: bool,
}

pub(crate) fn plan(
    q: &TrendsQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<TrendsPlan, QueryError> {
    if q.version != 1 {
        return Err(QueryError::invalid(format!(
            "unsupported trends version {}; this server knows 1",
            q.version
        )));
    }
    if q.series.is_empty() || q.series.len() > MAX_SERIES {
        return Err(QueryError::invalid(format!("a trends query needs 1 to {MAX_SERIES} series")));
    }
    let range = q.date_range.resolve(opts.now)?;
    let buckets = q.interval.buckets(range, opts.max_buckets)?;
    let mut builder = SqlBuilder::new(dialect);
    let b = &mut builder;

    let mut scope = vec![
        format!("project_id = {}", b.param(Param::Text(opts.project_id.to_string()))),
        format!("timestamp >= {}", b.param(Param::Timestamp(range.from))),
        format!("timestamp < {}", b.param(Param::Timestamp(range.to))),
    ];
    scope.extend(conditions(b, &q.filters)?);
    let bucket = b.truncate(q.interval, "timestamp");
    let breakdown = match &q.breakdown {
        Some(bd) => property_expr(b, &bd.property),
        None => b.null_text(),
    };
    let flags = q
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| Ok(format!("({}) AS s{i}", series_condition(b, s)?)))
        .collect::<Result<Vec<_>, QueryError>>()?;
    let any_series = (0..q.series.len()).map(|i| format!("s{i}")).collect::<Vec<_>>().join(" OR ");
    let aggregates = q
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| match s.math {
            Math::Total => format!("{} AS v{i}", b.count_if(&format!("s{i}"))),
            Math::UniqueUsers => {
                format!("{} AS v{i}", b.count_distinct_if("person_id", &format!("s{i}")))
            }
        })
        .collect::<Vec<_>>()
        .join(", ");

    let mut sql = format!(
        "WITH matched AS (\n  SELECT * FROM (\n    SELECT {bucket} AS bucket, {breakdown} AS breakdown, person_id, {flags}\n    FROM events\n    WHERE {scope}\n  ) WHERE {any_series}\n)",
        flags = flags.join(", "),
        scope = all_of(&scope),
    );
    let source = match &q.breakdown {
        Some(bd) => {
            let limit = bd.limit.clamp(1, MAX_BREAKDOWN_LIMIT);
            let limit = b.param(Param::Int(i64::try_from(limit).unwrap_or(25)));
            sql.push_str(&format!(
                ",\ntop_breakdowns AS (\n  SELECT breakdown FROM matched GROUP BY breakdown ORDER BY count(*) DESC, breakdown NULLS LAST LIMIT {limit}\n)"
            ));
            "matched JOIN top_breakdowns ON matched.breakdown IS NOT DISTINCT FROM top_breakdowns.breakdown"
        }
        None => "matched",
    };
    let grouping = if q.breakdown.is_some() {
        "GROUPING SETS ((bucket, matched.breakdown), (matched.breakdown))"
    } else {
        "GROUPING SETS ((bucket), ())"
    };
    let selected_breakdown =
        if q.breakdown.is_some() { "matched.breakdown".to_owned() } else { b.null_text() };
    sql.push_str(&format!(
        "\nSELECT GROUPING(bucket) AS is_total, bucket, {selected_breakdown} AS breakdown, {aggregates}\nFROM {source}\nGROUP BY {grouping}"
    ));

    let series = q
        .series
        .iter()
        .map(|s| {
            (
                s.label
                    .clone()
                    .or_else(|| s.event.clone())
                    .unwrap_or_else(|| "all events".to_owned()),
                s.math,
            )
        })
        .collect();
    Ok(TrendsPlan {
        statement: builder.finish(sql),
        interval: q.interval,
        range,
        buckets,
        series,
        has_breakdown: q.breakdown.is_some(),
    })
}

fn series_condition(b: &mut SqlBuilder, s: &Series) -> Result<String, QueryError> {
    let mut parts = Vec::new();
    if let Some(name) = &s.event {
        parts.push(format!("event = {}", b.param(Param::Text(name.clone()))));
    }
    parts.extend(conditions(b, &s.filters)?);
    Ok(all_of(&parts))
}

/// Accumulates one (series, breakdown value) line.
struct Line {
    values: Vec<u64>,
    total: u64,
}

impl TrendsPlan {
    /// Shapes rows `(is_total, bucket, breakdown, v0, v1, ...)` into the result, zero-filling
    /// empty buckets.
    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<TrendsResult, QueryError> {
        let index: HashMap<i64, usize> =
            self.buckets.iter().enumerate().map(|(i, b)| (b.timestamp_micros(), i)).collect();
        let mut lines: Vec<HashMap<BreakdownKey, Line>> =
            (0..self.series.len()).map(|_| HashMap::new()).collect();
        for row in rows {
            let mut cells = row.into_iter();
            let (Some(is_total), Some(bucket), Some(breakdown)) =
                (cells.next(), cells.next(), cells.next())
            else {
                return Err(QueryError::internal("trends row is missing columns"));
            };
            let is_total = is_total.as_i64() == Some(1);
            let key = BreakdownKey::from(breakdown);
            for (series, cell) in cells.enumerate() {
                let value = cell.as_i64().and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
                let Some(lines) = lines.get_mut(series) else {
                    return Err(QueryError::internal("trends row has too many columns"));
                };
                let line = lines
                    .entry(key.clone())
                    .or_insert_with(|| Line { values: vec![0; self.buckets.len()], total: 0 });
                if is_total {
                    line.total = value;
                } else if let Some(&i) = bucket.as_i64().and_then(|micros| index.get(&micros)) {
                    line.values[i] = value;
                } else {
                    return Err(QueryError::internal(format!(
                        "bucket {bucket:?} is outside the planned range"
                    )));
                }
            }
        }

        let mut series = Vec::new();
        for (i, (by_breakdown, (label, math))) in lines.into_iter().zip(&self.series).enumerate() {
            let mut group: Vec<(BreakdownKey, Line)> = by_breakdown.into_iter().collect();
            if !self.has_breakdown && group.is_empty() {
                group.push((
                    BreakdownKey::Null,
                    Line { values: vec![0; self.buckets.len()], total: 0 },
                ));
            }
            group.retain(|(_, line)| !self.has_breakdown || line.total > 0);
            group.sort_by(|(ka, a), (kb, b)| b.total.cmp(&a.total).then_with(|| ka.cmp(kb)));
            series.extend(group.into_iter().map(|(key, line)| SeriesResult {
                series: i,
                label: label.clone(),
                math: *math,
                breakdown_value: self.has_breakdown.then(|| key.into_json()),
                values: line.values,
                total: line.total,
            }));
        }
        Ok(TrendsResult {
            interval: self.interval,
            from: self.range.from,
            to: self.range.to,
            buckets: self.buckets.clone(),
            series,
        })
    }
}

/// Breakdown values as a hashable, orderable key (floats by their bits' text).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum BreakdownKey {
    Text(String),
    Number(String),
    Null,
}

impl From<Cell> for BreakdownKey {
    fn from(cell: Cell) -> Self {
        match cell {
            Cell::Null => BreakdownKey::Null,
            Cell::Text(s) => BreakdownKey::Text(s),
            Cell::Int(v) => BreakdownKey::Number(v.to_string()),
            Cell::Float(v) => BreakdownKey::Number(v.to_string()),
            Cell::Timestamp(v) => BreakdownKey::Text(
                micros_to_datetime(v).map_or_else(|| v.to_string(), |t| t.to_rfc3339()),
            ),
        }
    }
}

impl BreakdownKey {
    fn into_json(self) -> Value {
        match self {
            BreakdownKey::Null => Value::Null,
            BreakdownKey::Text(s) => Value::String(s),
            BreakdownKey::Number(n) => serde_json::from_str(&n).unwrap_or(Value::String(n)),
        }
    }
}
