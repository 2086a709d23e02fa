//! Query strategies for ClickHouse where the DuckDB statement's shape cannot be written in the
//! SQL that ClickHouse 18.16 and current releases both understand: no CTEs (subqueries are
//! repeated instead), no `GROUPING SETS` (a `UNION ALL` per level), no window functions and no
//! ASOF joins (per-person arrays), one JOIN per SELECT, no `TRUE`/`FALSE`. The rows each
//! strategy returns have exactly the shape the kind's `assemble` reads, so results are shaped
//! by the same code on every backend.

pub(crate) mod trends;

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
