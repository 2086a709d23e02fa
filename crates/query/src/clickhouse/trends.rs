//! Trends grouping for ClickHouse: the DuckDB plan's `GROUPING SETS` become one `UNION ALL`
//! branch per level (per bucket, over the range), and the breakdown's top groups an `IN` test
//! on the group's key. The `matched` rows are those of the dialect-neutral planner.

use super::{group_key, group_key_columns};
use crate::TrendsQuery;
use crate::sql::SqlBuilder;

/// Rows `(is_total, bucket, is_other, b1, b2, value0, denominator0, ...)` of `matched`, as
/// `trends::grouped` returns them for DuckDB.
pub(crate) fn grouped(
    b: &mut SqlBuilder,
    q: &TrendsQuery,
    keys: &[String],
    matched: &str,
    carried: &[String],
    aggregates: &str,
    rank: &str,
) -> String {
    let null_text = b.null_text();
    let padded: Vec<String> =
        (0..2).map(|i| keys.get(i).cloned().unwrap_or_else(|| null_text.clone())).collect();
    let padded = padded.join(", ");
    let levels = |source: &str, other: &str, by: &str| {
        let by_bucket = if by.is_empty() { "bucket".to_owned() } else { format!("bucket, {by}") };
        let over_range = if by.is_empty() { String::new() } else { format!("\nGROUP BY {by}") };
        format!(
            "SELECT toUInt8(0) AS is_total, toNullable(bucket) AS bucket_start, {other} AS is_other, {padded}, {aggregates}\nFROM (\n    {source}\n)\nGROUP BY {by_bucket}\nUNION ALL\nSELECT toUInt8(1), CAST(NULL AS Nullable(Int64)), {other}, {padded}, {aggregates}\nFROM (\n    {source}\n){over_range}"
        )
    };
    let Some(bd) = &q.breakdown else {
        return levels(matched, "toUInt8(0)", "");
    };
    let limit = b.breakdown_limit(bd);
    let key_list = keys.join(", ");
    let order: Vec<String> = keys.iter().map(|k| format!("{k} NULLS LAST")).collect();
    let top = format!(
        "SELECT {} FROM (\n    SELECT {key_list}, {rank} AS matched_events FROM (\n    {matched}\n    ) GROUP BY {key_list} ORDER BY matched_events DESC, {} LIMIT {limit}\n)",
        group_key_columns(keys),
        order.join(", ")
    );
    if bd.other {
        // Groups past the limit fold into one, aggregated from the events (not from the
        // groups), so distinct counts and quantiles stay exact.
        let raw: Vec<String> = keys.iter().map(|k| format!("{k} AS raw_{k}")).collect();
        let folded_keys: Vec<String> =
            keys.iter().map(|k| format!("if(kept, raw_{k}, NULL) AS {k}")).collect();
        let carried = carried.join(", ");
        let folded = format!(
            "SELECT {carried}, toUInt8(NOT kept) AS is_other, {}\n    FROM (\n    SELECT {carried}, {}, {} IN (\n    {top}\n    ) AS kept\n    FROM (\n    {matched}\n    )\n    )",
            folded_keys.join(", "),
            raw.join(", "),
            group_key(keys),
        );
        levels(&folded, "is_other", &format!("is_other, {key_list}"))
    } else {
        format!(
            "SELECT * FROM (\n{}\n)\nWHERE {} IN (\n{top}\n)",
            levels(matched, "toUInt8(0)", &key_list),
            group_key(keys)
        )
    }
}
