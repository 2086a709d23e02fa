//! Retention for ClickHouse: the DuckDB plan's CTEs as nested SELECTs, its non-equality join
//! (returns after the cohort) as an equality join on the person filtered after, and `GROUP BY
//! ALL` spelled out.

use super::top_groups;
use crate::retention::bracket_arms;
use crate::sql::SqlBuilder;
use crate::{CohortType, RetentionMode, RetentionQuery};

/// Rows `(kind, cohort, bd, is_other, position, people)` as the DuckDB plan returns them.
/// `scoped` selects `person, ts, period, bd, is_start, is_return`; `range` holds the
/// placeholders of the range's ends in µs.
pub(crate) fn statement(
    b: &mut SqlBuilder,
    q: &RetentionQuery,
    scoped: &str,
    range: (&str, &str),
    positions: &[[u32; 2]],
) -> String {
    let (from, to) = range;
    let first_bd = b.arg_min("bd", "ts");
    let raw_cohorts = match q.cohort {
        CohortType::Recurring => format!(
            "SELECT person, period AS cohort, {first_bd} AS bd FROM (\n  {scoped}\n) WHERE is_start AND ts >= {from} AND ts < {to} GROUP BY person, period"
        ),
        CohortType::FirstTime => format!(
            "SELECT person, {} AS cohort, {first_bd} AS bd FROM (\n  {scoped}\n) WHERE is_start GROUP BY person HAVING min(ts) >= {from} AND min(ts) < {to}",
            b.arg_min("period", "ts"),
        ),
    };
    let cohorts = match &q.breakdown {
        None => format!("SELECT person, cohort, bd, toUInt8(0) AS is_other FROM ({raw_cohorts})"),
        Some(bd) => {
            let limit = b.breakdown_limit(bd);
            let keep = if bd.other { "" } else { " WHERE kept" };
            let marked = top_groups(&raw_cohorts, "person, cohort, bd AS raw_bd", "bd", &limit);
            format!(
                "SELECT person, cohort, if(kept, raw_bd, NULL) AS bd, toUInt8(NOT kept) AS is_other FROM ({marked}){keep}"
            )
        }
    };
    let offset = b.units_between(q.period, "cohort", "period");
    let offsets = format!(
        "SELECT person, cohort, bd, is_other, {offset} AS period_offset FROM ({cohorts}) AS cohorts ALL INNER JOIN (SELECT DISTINCT person, period FROM (\n  {scoped}\n) WHERE is_return) AS returns USING person WHERE period > cohort"
    );
    let last = q.intervals - 1;
    let groups = "cohort, bd, is_other";
    let returned = match q.mode {
        RetentionMode::NDay => format!(
            "SELECT 1, cohort, bd, is_other, period_offset, uniqExact(person) FROM ({offsets}) WHERE period_offset BETWEEN 1 AND {last} GROUP BY {groups}, period_offset"
        ),
        RetentionMode::Rolling => format!(
            "SELECT 1, cohort, bd, is_other, least(last_offset, {last}) AS position, count(*) FROM (SELECT person, cohort, bd, is_other, max(period_offset) AS last_offset FROM ({offsets}) GROUP BY person, {groups}) GROUP BY {groups}, position"
        ),
        RetentionMode::Bracket => format!(
            "SELECT 1, cohort, bd, is_other, position, uniqExact(person) FROM (SELECT person, cohort, bd, is_other, CASE{} END AS position FROM ({offsets})) WHERE position IS NOT NULL GROUP BY {groups}, position",
            bracket_arms(positions),
        ),
    };
    // Named: current releases refuse two columns both named `0` in a `UNION ALL` whose other
    // branches type them differently.
    format!(
        "SELECT 0 AS kind, cohort, bd, is_other, 0 AS position, uniqExact(person) AS people FROM ({cohorts}) GROUP BY {groups}\nUNION ALL\n{returned}"
    )
}
