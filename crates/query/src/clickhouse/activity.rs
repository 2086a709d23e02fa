//! Active users, stickiness and lifecycle for ClickHouse: the distinct (person, unit) pairs
//! as the DuckDB plan has them, then each person's sorted days (or buckets) as one array,
//! where the DuckDB plan uses `lead()` and self-joins.

use super::{LINKED_PERSON, late_links};
use crate::scope::Scope;

/// The distinct (person, unit start...) of the activity events: `SELECT` of `person` and
/// `names`.
pub(crate) fn scoped(
    scope: &Scope,
    person_properties: bool,
    names: &str,
    starts: &str,
    conditions: &str,
) -> String {
    if person_properties {
        return format!(
            "SELECT DISTINCT {} AS person, {starts}\n  FROM {}\n  WHERE {conditions}",
            scope.person, scope.from
        );
    }
    let reduced = format!(
        "SELECT DISTINCT person_id, isNull(user_id) AS anon, {starts}\n  FROM {}\n  WHERE {conditions}",
        scope.from
    );
    format!(
        "SELECT DISTINCT {LINKED_PERSON} AS person, {names}\n  FROM {}",
        late_links(&scope.project, &reduced)
    )
}

/// Rows `(window, edge, delta)`: each (person, active day d) covers the days
/// `[d, min(next active day, d + window))`; `ends` are `(window, d + window)`.
pub(crate) fn active_users(scoped: &str, ends: &[(i32, String)]) -> String {
    let edges: Vec<String> = ends
        .iter()
        .flat_map(|(w, end)| {
            [
                format!("(toUInt8({w}), day, toInt64(1))"),
                format!("(toUInt8({w}), least(ifNull(next_day, {end}), {end}), toInt64(-1))"),
            ]
        })
        .collect();
    format!(
        "SELECT edge.1, edge.2, sum(edge.3) FROM (\n  SELECT pair.1 AS day, pair.2 AS next_day FROM (\n    SELECT arraySort(groupArray(day)) AS days FROM (\n  {scoped}\n    ) GROUP BY person\n  ) ARRAY JOIN arrayMap(i -> (days[i], if(i < length(days), toNullable(days[i + 1]), NULL)), arrayEnumerate(days)) AS pair\n) ARRAY JOIN [{}] AS edge\nGROUP BY edge.1, edge.2",
        edges.join(", ")
    )
}

/// Rows `(0, bucket, new, returning, resurrecting)` and `(1, bucket, dormant, NULL, NULL)`.
/// `previous` and `next` shift the bucket `b` by one interval.
pub(crate) fn lifecycle(
    scoped: &str,
    first_micros: i64,
    last_micros: i64,
    previous: &str,
    next: &str,
) -> String {
    let per_person = format!(
        "SELECT arraySort(groupArray(bucket)) AS buckets FROM (\n  {scoped}\n  ) GROUP BY person"
    );
    let (first, last) = (format!("toInt64({first_micros})"), format!("toInt64({last_micros})"));
    format!(
        "SELECT toUInt8(0), bucket, countIf(first_bucket = bucket), countIf(first_bucket < bucket AND was_active), countIf(first_bucket < bucket AND NOT was_active) FROM (\n  SELECT b AS bucket, buckets[1] AS first_bucket, has(buckets, {previous}) AS was_active\n  FROM ({per_person}) ARRAY JOIN buckets AS b\n  WHERE b >= {first}\n) GROUP BY bucket\nUNION ALL\nSELECT toUInt8(1), after, count(*), NULL, NULL FROM (\n  SELECT {next} AS after, buckets FROM ({per_person}) ARRAY JOIN buckets AS b\n) WHERE NOT has(buckets, after) AND after >= {first} AND after <= {last} GROUP BY after"
    )
}
