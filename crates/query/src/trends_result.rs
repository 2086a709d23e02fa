//! Trends results: rows from the planned statements shaped into series lines, with empty
//! buckets filled, groups ranked, running totals, formulas and the comparison period.

use crate::formula::Formula;
use crate::results::{LocalTime, Num};
use crate::rollup_schema::RELATIVE_ERROR;
use crate::sql::{Cell, Statement};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{Interval, Math, OTHER_GROUP, QueryError, TrendsQuery};
use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;
use sextant_core::micros_to_datetime;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TrendsResult {
    pub interval: Interval,
    pub from: LocalTime,
    pub to: LocalTime,
    /// Start of each bucket; every series has one value per bucket.
    pub buckets: Vec<LocalTime>,
    pub series: Vec<SeriesResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SeriesResult {
    /// Index of the series in the query; the formula's index is the number of series.
    pub series: usize,
    pub label: String,
    /// Absent for the formula.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub math: Option<Math>,
    /// Present when the query has a breakdown: a value, `[first, second]`, `null` for events
    /// without the property, or `"$other"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown_value: Option<Value>,
    /// The comparison period's line, aligned to `buckets` by position.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub compare: bool,
    pub values: Vec<Option<Num>>,
    /// Over the whole range (distinct people over the range, not a sum of buckets).
    pub total: Option<Num>,
    /// Present when the values are quantiles read from the rollups' sketch: each is within
    /// this relative error of the exact quantile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_error: Option<f64>,
}

/// Where each bucket of one statement goes.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    buckets: Vec<NaiveDateTime>,
    index: HashMap<i64, usize>,
    range: TimeRange,
    /// Whether quantiles come from the sketch (`rollup_trends`).
    sketched: bool,
}

impl Layout {
    pub(crate) fn new(buckets: Vec<NaiveDateTime>, range: TimeRange, sketched: bool) -> Self {
        let index = crate::time::bucket_index(&buckets);
        Self { buckets, index, range, sketched }
    }
}

/// A planned trends query: its statements (the current range, then the comparison range)
/// plus what is needed to shape their rows.
#[derive(Debug, Clone)]
pub struct TrendsPlan {
    pub statements: Vec<Statement>,
    layouts: Vec<Layout>,
    interval: Interval,
    zone: Zone,
    range: TimeRange,
    series: Vec<(String, Math)>,
    formula: Option<(String, Formula)>,
    cumulative: bool,
    /// Breakdown properties: 0, 1 or 2.
    breakdown: usize,
}

impl TrendsPlan {
    pub(crate) fn new(
        q: &TrendsQuery,
        zone: Zone,
        range: TimeRange,
        current: (Statement, Layout),
        compare: Option<(Statement, Layout)>,
        formula: Option<Formula>,
    ) -> Self {
        let (statements, layouts) = std::iter::once(current).chain(compare).unzip();
        let series = q
            .series
            .iter()
            .map(|s| {
                let label = s
                    .label
                    .clone()
                    .or_else(|| s.event.clone())
                    .unwrap_or_else(|| "all events".into());
                (label, s.math)
            })
            .collect();
        Self {
            statements,
            layouts,
            interval: q.interval,
            zone,
            range,
            series,
            formula: q.formula.clone().zip(formula),
            cumulative: q.cumulative,
            breakdown: q.breakdown.as_ref().map_or(0, |b| 1 + usize::from(b.and.is_some())),
        }
    }

    /// Shapes rows `(is_total, bucket, is_other, b1, b2, value0, denominator0, ...)` of each
    /// statement into the result.
    pub fn assemble(&self, results: Vec<Vec<Vec<Cell>>>) -> Result<TrendsResult, QueryError> {
        let width = self.layouts.first().map_or(0, |l| l.buckets.len());
        let mut series = Vec::new();
        for (n, (rows, layout)) in results.into_iter().zip(&self.layouts).enumerate() {
            let lines = self.lines(rows, layout, width)?;
            series.extend(self.shape(lines, n > 0, layout.sketched));
        }
        Ok(TrendsResult {
            interval: self.interval,
            from: self.zone.local_time(self.range.from),
            to: self.zone.local_time(self.range.to),
            buckets: self
                .layouts
                .first()
                .map_or_else(Vec::new, |l| l.buckets.iter().map(|b| self.zone.label(*b)).collect()),
            series,
        })
    }

    /// Per series, the lines of each group, `width` values long.
    fn lines(
        &self,
        rows: Vec<Vec<Cell>>,
        layout: &Layout,
        width: usize,
    ) -> Result<Vec<HashMap<Group, Line>>, QueryError> {
        let mut lines: Vec<HashMap<Group, Line>> = vec![HashMap::new(); self.series.len()];
        for row in rows {
            let mut cells = row.into_iter();
            let mut next = || cells.next().ok_or_else(|| QueryError::internal("short trends row"));
            let is_total = next()?.as_i64() == Some(1);
            let bucket = next()?;
            let other = next()?.as_i64() == Some(1);
            let keys = [Key::from(next()?), Key::from(next()?)];
            let group = Group { other, keys };
            let slot = if is_total {
                None
            } else {
                let found = bucket.as_i64().and_then(|micros| layout.index.get(&micros).copied());
                match found {
                    // A comparison range may have more buckets than the current one.
                    Some(i) if i < width => Some(i),
                    Some(_) => continue,
                    None => {
                        return Err(QueryError::internal(format!(
                            "bucket {bucket:?} is outside the planned range {:?}",
                            layout.range
                        )));
                    }
                }
            };
            for (series, (_, math)) in self.series.iter().enumerate() {
                let value = ratio(next()?, next()?);
                let line =
                    lines[series].entry(group.clone()).or_insert_with(|| Line::empty(*math, width));
                match slot {
                    None => line.total = value,
                    Some(i) => line.values[i] = value.or(line.values[i]),
                }
            }
        }
        if self.cumulative {
            for line in lines.iter_mut().flat_map(HashMap::values_mut) {
                let mut running = 0.0;
                for v in &mut line.values {
                    running += v.unwrap_or(0.0);
                    *v = Some(running);
                }
            }
        }
        Ok(lines)
    }

    /// Ranked series lines, then the formula's, for one statement.
    fn shape(
        &self,
        mut lines: Vec<HashMap<Group, Line>>,
        compare: bool,
        sketched: bool,
    ) -> Vec<SeriesResult> {
        let width = self.layouts.first().map_or(0, |l| l.buckets.len());
        if self.breakdown == 0 {
            for (by_group, (_, math)) in lines.iter_mut().zip(&self.series) {
                by_group.entry(Group::default()).or_insert_with(|| Line::empty(*math, width));
            }
        }
        let mut out = Vec::new();
        for (i, (by_group, (label, math))) in lines.iter().zip(&self.series).enumerate() {
            let error = (sketched && math.quantile().is_some()).then_some(RELATIVE_ERROR);
            for (group, line) in self.ranked(by_group) {
                out.push(self.result(i, label, Some(*math), group, line, (compare, error)));
            }
        }
        if let Some((text, formula)) = &self.formula {
            let mut groups: Vec<&Group> = lines.iter().flat_map(HashMap::keys).collect();
            groups.sort();
            groups.dedup();
            let mut computed: Vec<(Group, Line)> = groups
                .into_iter()
                .map(|group| {
                    let inputs: Vec<Line> = lines
                        .iter()
                        .zip(&self.series)
                        .map(|(by_group, (_, math))| {
                            by_group
                                .get(group)
                                .cloned()
                                .unwrap_or_else(|| Line::empty(*math, width))
                        })
                        .collect();
                    let at = |pick: &dyn Fn(&Line) -> Option<f64>| {
                        formula.eval(&inputs.iter().map(pick).collect::<Vec<_>>())
                    };
                    let values = (0..width).map(|b| at(&|l: &Line| l.values[b])).collect();
                    (group.clone(), Line { values, total: at(&|l: &Line| l.total) })
                })
                .collect();
            computed.sort_by(|(ga, a), (gb, b)| rank(a, b).then_with(|| ga.cmp(gb)));
            for (group, line) in &computed {
                out.push(self.result(self.series.len(), text, None, group, line, (compare, None)));
            }
        }
        out
    }

    fn ranked<'a>(&self, by_group: &'a HashMap<Group, Line>) -> Vec<(&'a Group, &'a Line)> {
        let mut groups: Vec<(&Group, &Line)> = by_group
            .iter()
            .filter(|(_, line)| self.breakdown == 0 || line.total.is_some_and(|t| t != 0.0))
            .collect();
        groups.sort_by(|(ga, a), (gb, b)| {
            ga.other.cmp(&gb.other).then_with(|| rank(a, b)).then_with(|| ga.cmp(gb))
        });
        groups
    }

    fn result(
        &self,
        series: usize,
        label: &str,
        math: Option<Math>,
        group: &Group,
        line: &Line,
        (compare, relative_error): (bool, Option<f64>),
    ) -> SeriesResult {
        SeriesResult {
            series,
            label: label.to_owned(),
            math,
            breakdown_value: (self.breakdown > 0).then(|| group.to_json(self.breakdown)),
            compare,
            values: line.values.iter().map(|v| v.map(Num)).collect(),
            total: line.total.map(Num),
            relative_error,
        }
    }
}

/// Larger totals first.
fn rank(a: &Line, b: &Line) -> std::cmp::Ordering {
    b.total.unwrap_or(f64::MIN).total_cmp(&a.total.unwrap_or(f64::MIN))
}

/// A value, divided by its denominator when the math has one (`None` when that is 0).
fn ratio(value: Cell, denominator: Cell) -> Option<f64> {
    let value = value.as_f64();
    match denominator {
        Cell::Null => value,
        d => d.as_f64().filter(|d| *d != 0.0).and_then(|d| value.map(|v| v / d)),
    }
}

/// One (series, group) line.
#[derive(Debug, Clone)]
struct Line {
    values: Vec<Option<f64>>,
    total: Option<f64>,
}

impl Line {
    /// Counts and sums of nothing are 0; averages, extremes and quantiles of nothing are
    /// undefined.
    fn empty(math: Math, width: usize) -> Self {
        let zero =
            matches!(math, Math::Total | Math::UniqueUsers | Math::UniqueSessions | Math::Sum)
                .then_some(0.0);
        Line { values: vec![zero; width], total: zero }
    }
}

/// A breakdown group: up to two values, or the folded rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Group {
    other: bool,
    keys: [Key; 2],
}

impl Group {
    fn to_json(&self, properties: usize) -> Value {
        if self.other {
            return Value::String(OTHER_GROUP.to_owned());
        }
        let [first, second] = &self.keys;
        if properties == 2 {
            Value::Array(vec![first.to_json(), second.to_json()])
        } else {
            first.to_json()
        }
    }
}

/// A breakdown value as a hashable, orderable key (numbers by their text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Text(String),
    Number(String),
    /// SQL NULL: events without the property, or no second property.
    #[default]
    Absent,
}

impl From<Cell> for Key {
    fn from(cell: Cell) -> Self {
        match cell {
            Cell::Null => Key::Absent,
            Cell::Text(s) => Key::Text(s),
            Cell::Int(v) => Key::Number(v.to_string()),
            Cell::Float(v) => Key::Number(v.to_string()),
            Cell::Timestamp(v) => {
                Key::Text(micros_to_datetime(v).map_or_else(|| v.to_string(), |t| t.to_rfc3339()))
            }
        }
    }
}

impl Key {
    fn to_json(&self) -> Value {
        match self {
            Key::Absent => Value::Null,
            Key::Text(s) => Value::String(s.clone()),
            Key::Number(n) => serde_json::from_str(n).unwrap_or_else(|_| Value::String(n.clone())),
        }
    }
}
