//! Funnel results: the long-format rows of a funnel statement shaped into groups of steps, the
//! time-to-convert histogram and the conversion trend; and pages of funnel people.

use crate::results::{
    ConversionTrend, FunnelGroup, FunnelPersonsResult, FunnelResult, FunnelStep, GroupKey,
    HistogramBin, Num, group_value, percent,
};
use crate::sql::{Cell, Statement};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{FunnelOrder, FunnelQuery, Interval, QueryError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct FunnelPlan {
    pub statement: Statement,
    labels: Vec<String>,
    order: FunnelOrder,
    window_seconds: i64,
    zone: Zone,
    range: TimeRange,
    interval: Interval,
    buckets: Vec<NaiveDateTime>,
    bins: usize,
    has_breakdown: bool,
}

/// One step of one group, as read.
#[derive(Debug, Clone, Copy, Default)]
struct StepRow {
    count: u64,
    avg: Option<f64>,
    median: Option<f64>,
}

impl FunnelPlan {
    pub(crate) fn new(
        q: &FunnelQuery,
        statement: Statement,
        zone: Zone,
        range: TimeRange,
        window_seconds: i64,
        buckets: Vec<NaiveDateTime>,
    ) -> Self {
        Self {
            statement,
            labels: q.steps.iter().map(crate::EventMatcher::display).collect(),
            order: q.order,
            window_seconds,
            zone,
            range,
            interval: q.interval,
            buckets,
            bins: q.histogram_bins,
            has_breakdown: q.breakdown.is_some(),
        }
    }

    /// Rows `(row_kind, bd, bucket, i, c, f1, f2)`; see `funnel::plan`.
    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<FunnelResult, QueryError> {
        let n = self.labels.len();
        let mut groups: HashMap<GroupKey, Vec<StepRow>> = HashMap::new();
        let mut bins = vec![0u64; self.bins];
        let mut bounds: Option<(f64, f64)> = None;
        let index = crate::time::bucket_index(&self.buckets);
        let mut entered = vec![0u64; self.buckets.len()];
        let mut completed = vec![0u64; self.buckets.len()];
        for row in rows {
            let [kind, bd, bucket, i, c, f1, f2]: [Cell; 7] = row
                .try_into()
                .map_err(|_| QueryError::internal("funnel row has the wrong width"))?;
            let count = c.as_count();
            let i = i.as_i64().and_then(|v| usize::try_from(v).ok());
            match kind.as_i64() {
                Some(0 | 3) => {
                    let key = (kind.as_i64() == Some(3), bd.into_text());
                    let steps = groups.entry(key).or_insert_with(|| vec![StepRow::default(); n]);
                    if let Some(step) = i.and_then(|i| steps.get_mut(i)) {
                        *step = StepRow { count, avg: f1.as_f64(), median: f2.as_f64() };
                    }
                }
                Some(1) => {
                    if let Some(bin) = i.and_then(|i| bins.get_mut(i)) {
                        *bin = count;
                    }
                    bounds = f1.as_f64().zip(f2.as_f64());
                }
                Some(2) => {
                    if let Some(&b) = bucket.as_i64().and_then(|m| index.get(&m)) {
                        entered[b] = count;
                        // The union types this column as a double.
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let people = f1.as_f64().unwrap_or(0.0) as u64;
                        completed[b] = people;
                    }
                }
                _ => return Err(QueryError::internal("unknown funnel row kind")),
            }
        }
        if groups.is_empty() && !self.has_breakdown {
            groups.insert((false, None), vec![StepRow::default(); n]);
        }
        let mut ranked: Vec<(GroupKey, Vec<StepRow>)> = groups.into_iter().collect();
        ranked.sort_by(|((oa, ka), a), ((ob, kb), b)| {
            oa.cmp(ob).then(b[0].count.cmp(&a[0].count)).then_with(|| ka.cmp(kb))
        });
        let groups = ranked
            .into_iter()
            .map(|(group, steps)| FunnelGroup {
                breakdown_value: self.has_breakdown.then(|| group_value(&group)),
                steps: self.steps(&steps),
            })
            .collect();
        let time_to_convert = match bounds {
            None => Vec::new(),
            Some((lo, hi)) => {
                #[allow(clippy::cast_precision_loss)]
                let width = (hi - lo) / self.bins as f64;
                bins.iter()
                    .enumerate()
                    .map(|(i, &count)| {
                        #[allow(clippy::cast_precision_loss)]
                        let at = |i: usize| Num(lo + width * i as f64);
                        HistogramBin { from_seconds: at(i), to_seconds: Some(at(i + 1)), count }
                    })
                    .collect()
            }
        };
        let rate = entered.iter().zip(&completed).map(|(&e, &c)| percent(c, e)).collect();
        Ok(FunnelResult {
            order: self.order,
            window_seconds: self.window_seconds,
            from: self.zone.local_time(self.range.from),
            to: self.zone.local_time(self.range.to),
            groups,
            time_to_convert,
            conversion_trend: ConversionTrend {
                interval: self.interval,
                buckets: self.buckets.iter().map(|b| self.zone.label(*b)).collect(),
                entered,
                completed,
                rate,
            },
        })
    }

    fn steps(&self, rows: &[StepRow]) -> Vec<FunnelStep> {
        let first = rows.first().map_or(0, |r| r.count);
        rows.iter()
            .enumerate()
            .map(|(k, row)| {
                let previous = if k == 0 { first } else { rows[k - 1].count };
                let timed = k > 0 && self.order != FunnelOrder::Unordered;
                FunnelStep {
                    step: k,
                    label: self.labels[k].clone(),
                    count: row.count,
                    conversion_from_previous: percent(row.count, previous),
                    conversion_overall: percent(row.count, first),
                    avg_seconds_from_previous: row.avg.filter(|_| timed).map(Num),
                    median_seconds_from_previous: row.median.filter(|_| timed).map(Num),
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct FunnelPersonsPlan {
    pub statement: Statement,
    limit: usize,
}

impl FunnelPersonsPlan {
    pub(crate) fn new(statement: Statement, limit: usize) -> Self {
        Self { statement, limit }
    }

    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<FunnelPersonsResult, QueryError> {
        let has_more = rows.len() > self.limit;
        let persons: Vec<String> = rows
            .into_iter()
            .take(self.limit)
            .filter_map(|row| row.into_iter().next().and_then(Cell::into_text))
            .collect();
        let next_cursor = match persons.last() {
            Some(last) if has_more => Some(URL_SAFE_NO_PAD.encode(last.as_bytes())),
            _ => None,
        };
        Ok(FunnelPersonsResult { persons, next_cursor })
    }
}

/// The person id a `funnel_persons` cursor continues after.
pub(crate) fn decode_person_cursor(cursor: &str) -> Result<String, QueryError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| QueryError::invalid("cursor is not one this server issued"))
}
