//! Retention planning: cohorts of people by the period of their start event, then their
//! returns per later period, in one statement. Calendar periods come from the local time in
//! the query's zone. Semantics: `docs/queries.md`.

use crate::clickhouse;
use crate::filter::{all_of, matcher_conditions, property_expr, reads_person_properties};
use crate::results::{Cohort, GroupKey, RetentionResult, RetentionSummary, group_value, percent};
use crate::rollup::{ActorGrain, actor_source, names_only};
use crate::scope::{Needs, scope};
use crate::sql::{Cell, Dialect, Param, SqlBuilder, Statement};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{
    CohortType, Interval, PlanOptions, PropertyRef, QueryError, RetentionMode, RetentionQuery,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::{BTreeMap, HashMap};

const MAX_INTERVALS: usize = 100;

#[derive(Debug, Clone)]
pub struct RetentionPlan {
    pub statement: Statement,
    period: Interval,
    zone: Zone,
    range: TimeRange,
    now: DateTime<Utc>,
    /// Positions after the size: periods `1..intervals` or brackets.
    positions: Vec<[u32; 2]>,
    mode: RetentionMode,
    has_breakdown: bool,
}

pub(crate) fn plan(
    q: &RetentionQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<RetentionPlan, QueryError> {
    if q.version != 1 {
        return Err(QueryError::invalid(format!("unsupported retention version {}", q.version)));
    }
    if !matches!(q.period, Interval::Day | Interval::Week | Interval::Month) {
        return Err(QueryError::invalid("retention period must be day, week or month"));
    }
    if !(2..=MAX_INTERVALS).contains(&q.intervals) {
        return Err(QueryError::invalid(format!("intervals must be 2..={MAX_INTERVALS}")));
    }
    let positions: Vec<[u32; 2]> = match q.mode {
        RetentionMode::Bracket => {
            if q.brackets.is_empty() || q.brackets.iter().any(|[a, b]| *a == 0 || a > b) {
                return Err(QueryError::invalid(
                    "bracket mode needs `brackets` like [[1, 1], [2, 7]] with 1 <= low <= high",
                ));
            }
            q.brackets.clone()
        }
        _ => {
            if !q.brackets.is_empty() {
                return Err(QueryError::invalid("`brackets` only apply to bracket mode"));
            }
            (1..q.intervals).filter_map(|n| u32::try_from(n).ok()).map(|n| [n, n]).collect()
        }
    };
    let zone = Zone::parse(q.timezone.as_deref())?;
    let range = q.date_range.resolve(opts.now, zone)?;
    // Returns count up to now; first-time cohorts need every earlier start event.
    let read = TimeRange {
        from: match q.cohort {
            CohortType::Recurring => range.from,
            CohortType::FirstTime => DateTime::<Utc>::UNIX_EPOCH,
        },
        to: opts.now.max(range.to),
    };
    let mut b = SqlBuilder::new(dialect);
    let person_properties =
        reads_person_properties(
            q.filters.iter().chain(&q.start.filters).chain(&q.return_event.filters),
        ) || q.breakdown.as_ref().is_some_and(|bd| matches!(bd.property, PropertyRef::Person(_)));
    // Cohorts and returns only need each person's periods and whether the first start falls
    // in the range: the people active per hour hold them, with hours around the range's ends
    // read from the events.
    let eligible = q.breakdown.is_none() && names_only(&q.filters, [&q.start, &q.return_event]);
    let cuts = [range.from, range.to];
    let grain = ActorGrain::of([q.period]);
    let actors = actor_source(&mut b, opts, eligible, read, &cuts, zone, grain);
    // Counted people only: the rollups' keys tell them apart, faster than the ids.
    let person_keys = actors.is_some();
    let needs = Needs { persons: true, person_properties, person_keys };
    let scope = scope(&mut b, opts, read, zone, &q.filters, needs, actors)?;
    let start = matcher_conditions(&mut b, &q.start)?;
    let start = b.all_of(&start);
    let back = matcher_conditions(&mut b, &q.return_event)?;
    let back = b.all_of(&back);
    let breakdown = match &q.breakdown {
        Some(bd) => {
            let expr = property_expr(&mut b, &bd.property);
            b.to_text(&expr)
        }
        None => b.null_text(),
    };
    let from = b.param(Param::Int(range.from.timestamp_micros()));
    let to = b.param(Param::Int(range.to.timestamp_micros()));
    let mut conditions = scope.conditions.clone();
    conditions.push(scope.has_person(dialect));
    conditions.push(format!("(({start}) OR ({back}))"));
    let scoped = format!(
        "SELECT {person} AS person, {ts} AS ts, {period} AS period, {breakdown} AS bd, ({start}) AS is_start, ({back}) AS is_return\n  FROM {source}\n  WHERE {conditions}",
        person = scope.person,
        ts = b.epoch_micros("timestamp"),
        period = b.truncate(q.period, &scope.local_time),
        source = scope.from,
        conditions = all_of(&conditions),
    );
    let sql = match dialect {
        Dialect::DuckDb => statement(&mut b, q, &scoped, (&from, &to), &positions),
        Dialect::ClickHouse => {
            clickhouse::retention::statement(&mut b, q, &scoped, (&from, &to), &positions)
        }
    };
    Ok(RetentionPlan {
        statement: b.finish(sql),
        period: q.period,
        zone,
        range,
        now: opts.now,
        positions,
        mode: q.mode,
        has_breakdown: q.breakdown.is_some(),
    })
}

/// The DuckDB statement over `scoped` (`person, ts, period, bd, is_start, is_return`);
/// `range` holds the placeholders of the range's ends in µs.
fn statement(
    b: &mut SqlBuilder,
    q: &RetentionQuery,
    scoped: &str,
    (from, to): (&str, &str),
    positions: &[[u32; 2]],
) -> String {
    let offset = b.units_between(q.period, "cohorts.cohort", "returns.period");
    let first_bd = b.arg_min("bd", "ts");
    let cohorts = match q.cohort {
        CohortType::Recurring => format!(
            "SELECT person, period AS cohort, {first_bd} AS bd FROM scoped WHERE is_start AND ts >= {from} AND ts < {to} GROUP BY person, period"
        ),
        CohortType::FirstTime => format!(
            "SELECT person, {first_period} AS cohort, {first_bd} AS bd FROM scoped WHERE is_start GROUP BY person HAVING min(ts) >= {from} AND min(ts) < {to}",
            first_period = b.arg_min("period", "ts"),
        ),
    };
    let grouped = match &q.breakdown {
        None => "SELECT *, FALSE AS is_other FROM raw_cohorts".to_owned(),
        Some(bd) => {
            let limit = b.breakdown_limit(bd);
            let keep = if bd.other { "" } else { " WHERE top_groups.kept" };
            format!(
                "SELECT raw_cohorts.person, raw_cohorts.cohort, CASE WHEN top_groups.kept IS NULL THEN NULL ELSE raw_cohorts.bd END AS bd, top_groups.kept IS NULL AS is_other FROM raw_cohorts LEFT JOIN (SELECT bd, TRUE AS kept FROM raw_cohorts GROUP BY bd ORDER BY count(*) DESC, bd NULLS LAST LIMIT {limit}) AS top_groups ON raw_cohorts.bd IS NOT DISTINCT FROM top_groups.bd{keep}"
            )
        }
    };
    // (row_kind, cohort, bd, is_other, position, people): kind 0 = cohort size; kind 1 =
    // people at a position (n_day: the period; bracket: the bracket's index + 1; rolling: the
    // person's last period, summed from the end when assembled).
    let returned = match q.mode {
        RetentionMode::NDay => format!(
            "SELECT 1, cohort, bd, is_other, period_offset, count(DISTINCT person) FROM offsets WHERE period_offset BETWEEN 1 AND {last} GROUP BY ALL",
            last = q.intervals - 1
        ),
        RetentionMode::Rolling => format!(
            "SELECT 1, cohort, bd, is_other, least(last_offset, {last}), count(*) FROM (SELECT person, cohort, bd, is_other, max(period_offset) AS last_offset FROM offsets GROUP BY ALL) GROUP BY ALL",
            last = q.intervals - 1
        ),
        RetentionMode::Bracket => format!(
            "SELECT 1, cohort, bd, is_other, position, count(DISTINCT person) FROM (SELECT *, CASE{arms} END AS position FROM offsets) WHERE position IS NOT NULL GROUP BY ALL",
            arms = bracket_arms(positions),
        ),
    };
    format!(
        "WITH scoped AS (\n  {scoped}\n),\nraw_cohorts AS (\n  {cohorts}\n),\ncohorts AS (\n  {grouped}\n),\nreturns AS (\n  SELECT DISTINCT person, period FROM scoped WHERE is_return\n),\noffsets AS (\n  SELECT cohorts.person, cohorts.cohort, cohorts.bd, cohorts.is_other, {offset} AS period_offset\n  FROM cohorts JOIN returns ON returns.person = cohorts.person AND returns.period > cohorts.cohort\n)\nSELECT 0, cohort, bd, is_other, 0, count(DISTINCT person) FROM cohorts GROUP BY ALL\nUNION ALL\n{returned}",
    )
}

/// `CASE` arms numbering the brackets a `period_offset` falls in (from 1).
pub(crate) fn bracket_arms(positions: &[[u32; 2]]) -> String {
    positions
        .iter()
        .enumerate()
        .map(|(i, [a, z])| format!(" WHEN period_offset BETWEEN {a} AND {z} THEN {}", i + 1))
        .collect()
}

/// Cohorts in time order, then values before `null`: (start, (other, is null, value)).
type CohortOrder = (i64, (bool, bool, String));
/// Per group: summed counts and sizes by position.
type Sums = (Vec<u64>, Vec<u64>);

impl RetentionPlan {
    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<RetentionResult, QueryError> {
        let width = self.positions.len() + 1;
        // (cohort start, group order) → (group, counts by position); values before `null`.
        let mut table: BTreeMap<CohortOrder, (GroupKey, Vec<u64>)> = BTreeMap::new();
        for row in rows {
            let [kind, cohort, bd, other, position, people]: [Cell; 6] = row
                .try_into()
                .map_err(|_| QueryError::internal("retention row has the wrong width"))?;
            let Some(cohort) = cohort.as_i64() else {
                return Err(QueryError::internal("retention row without a cohort"));
            };
            let group: GroupKey = (other.as_i64() == Some(1), bd.into_text());
            let order = (group.0, group.1.is_none(), group.1.clone().unwrap_or_default());
            let (_, counts) =
                table.entry((cohort, order)).or_insert_with(|| (group, vec![0; width]));
            let people = people.as_count();
            let position = position.as_i64().and_then(|v| usize::try_from(v).ok()).unwrap_or(0);
            if kind.as_i64() == Some(0) {
                counts[0] = people;
            } else if let Some(slot) = counts.get_mut(position) {
                *slot += people;
            }
        }
        let mut cohorts = Vec::new();
        let mut summaries: HashMap<GroupKey, Sums> = HashMap::new();
        for ((micros, _), (group, mut counts)) in table {
            if self.mode == RetentionMode::Rolling {
                // Last-period counts → "in this period or later".
                for i in (1..width.saturating_sub(1)).rev() {
                    counts[i] += counts[i + 1];
                }
            }
            let start = DateTime::<Utc>::from_timestamp_micros(micros)
                .ok_or_else(|| QueryError::internal("cohort out of range"))?
                .naive_utc();
            let counts: Vec<Option<u64>> = counts
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    (i == 0 || self.started(start, self.positions[i - 1][0])).then_some(c)
                })
                .collect();
            let size = counts[0].unwrap_or(0);
            let (sums, sizes) =
                summaries.entry(group.clone()).or_insert_with(|| (vec![0; width], vec![0; width]));
            for (i, c) in counts.iter().enumerate() {
                if let Some(c) = c {
                    sums[i] += c;
                    sizes[i] += size;
                }
            }
            cohorts.push(Cohort {
                breakdown_value: self.has_breakdown.then(|| group_value(&group)),
                start: self.zone.label(start),
                size,
                percentages: counts.iter().map(|c| c.map(|c| percent(c, size))).collect(),
                counts,
            });
        }
        let mut summary: Vec<(GroupKey, Sums)> = summaries.into_iter().collect();
        summary.sort_by(|(ga, (_, a)), (gb, (_, b))| {
            ga.0.cmp(&gb.0)
                .then(b[0].cmp(&a[0]))
                .then(ga.1.is_none().cmp(&gb.1.is_none()))
                .then_with(|| ga.1.cmp(&gb.1))
        });
        Ok(RetentionResult {
            period: self.period,
            from: self.zone.local_time(self.range.from),
            to: self.zone.local_time(self.range.to),
            cohorts,
            summary: summary
                .into_iter()
                .map(|(group, (counts, sizes))| RetentionSummary {
                    breakdown_value: self.has_breakdown.then(|| group_value(&group)),
                    percentages: counts.iter().zip(&sizes).map(|(&c, &s)| percent(c, s)).collect(),
                    counts,
                    sizes,
                })
                .collect(),
        })
    }

    /// Whether period `n` after the cohort starting at `start` has begun by now.
    fn started(&self, start: NaiveDateTime, n: u32) -> bool {
        self.period
            .add(start, i64::from(n))
            .is_some_and(|local| self.zone.instant(local) <= self.now)
    }
}
