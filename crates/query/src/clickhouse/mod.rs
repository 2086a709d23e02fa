//! Query strategies for ClickHouse where the DuckDB statement's shape cannot be written in the
//! SQL that ClickHouse 18.16 and current releases both understand: no CTEs (subqueries are
//! repeated instead), no `GROUPING SETS` (a `UNION ALL` per level), no window functions and no
//! ASOF joins (per-person arrays), one JOIN per SELECT, no `TRUE`/`FALSE`. The rows each
//! strategy returns have exactly the shape the kind's `assemble` reads, so results are shaped
//! by the same code on every backend.

pub(crate) mod activity;
pub(crate) mod funnel;
pub(crate) mod paths;
pub(crate) mod retention;
pub(crate) mod trends;

#[cfg(test)]
mod tests;

/// The tuple that identifies a group of `keys` in an `IN` test: ClickHouse's `IN` never
/// matches NULL, and the null group is a group like any other.
pub(crate) fn group_key(keys: &[String]) -> String {
    format!("({})", group_key_columns(keys))
}

/// The columns of [`group_key`], to `SELECT` in the subquery of an `IN`.
pub(crate) fn group_key_columns(keys: &[String]) -> String {
    let parts: Vec<String> =
        keys.iter().map(|k| format!("isNull({k}), ifNull(toString({k}), '')")).collect();
    parts.join(", ")
}

/// `SELECT {columns}, {key} AS kept FROM ({relation})` where `kept` tells whether the row's
/// group (`key`, one column) is among the `limit` groups with the most rows, ties by value, a
/// NULL group last: breakdowns keep those and drop or fold the rest.
pub(crate) fn top_groups(relation: &str, columns: &str, key: &str, limit: &str) -> String {
    let k = [key.to_owned()];
    format!(
        "SELECT {columns}, {} IN (SELECT {} FROM (SELECT {key}, count(*) AS rows FROM ({relation}) GROUP BY {key} ORDER BY rows DESC, {key} NULLS LAST LIMIT {limit})) AS kept FROM ({relation})",
        group_key(&k),
        group_key_columns(&k),
    )
}

/// `{relation} ANY LEFT JOIN` the project's person links: for relations reduced to few rows
/// with `person_id` and `anon`, resolved after reducing (see `scope::late_links`). The
/// resolved person is [`LINKED_PERSON`].
pub(crate) fn late_links(project: &str, relation: &str) -> String {
    format!(
        "(\n  {relation}\n) AS reduced ANY LEFT JOIN ({}) AS links ON if(anon, ifNull(person_id, ''), '') = linked_device",
        links(project)
    )
}

/// The resolved person after [`late_links`].
pub(crate) const LINKED_PERSON: &str = "if(link_found = 1, linked_user, person_id)";

/// Each linked device's user: the earliest link, exact before merges and whichever server
/// stored it. `link_found` tells a match from the defaults of a missed lookup.
pub(crate) fn links(project: &str) -> String {
    format!(
        "SELECT device_id AS linked_device, argMin(user_id, linked_at) AS linked_user, toUInt8(1) AS link_found FROM person_links WHERE project_id = {project} GROUP BY device_id"
    )
}
