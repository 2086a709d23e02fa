//! Paths for ClickHouse: each person's events as one array in (time, insert_id) order, where
//! the DuckDB plan numbers them with `row_number()`; the walk is a slice of it around the first
//! anchor, and its moves the pairs of neighbours.

use crate::PathDirection;

/// Rows `(kind, path, step, from, to, people)` as the DuckDB plan returns them. `scoped`
/// selects `person, timestamp, insert_id, event, is_anchor`; `reach` is `steps - 1`; `json`
/// turns the array `walk` into JSON text.
pub(crate) fn statement(
    scoped: &str,
    direction: PathDirection,
    reach: i64,
    limit: &str,
    json: &str,
) -> String {
    // 1-based positions in the sorted events; `at` is the first anchor (0: none).
    let slice = match direction {
        PathDirection::Next => format!("arraySlice(evs, at, {})", reach + 1),
        PathDirection::Previous => {
            format!(
                "arraySlice(evs, greatest(at - {reach}, 1), at - greatest(at - {reach}, 1) + 1)"
            )
        }
    };
    let walks = format!(
        "SELECT person, arrayMap(x -> x.3, {slice}) AS walk FROM (\n  SELECT person, evs, arrayFirstIndex(x -> x.4 = 1, evs) AS at FROM (\n    SELECT person, arraySort(groupArray((timestamp, insert_id, event, toUInt8(ifNull(is_anchor, 0))))) AS evs FROM (\n  {scoped}\n    ) GROUP BY person\n  )\n) WHERE at > 0"
    );
    format!(
        "SELECT * FROM (\n  SELECT 0 AS kind, {json} AS path, NULL AS step, NULL AS from_event, NULL AS to_event, count(*) AS people FROM ({walks}) GROUP BY walk ORDER BY people DESC, walk LIMIT {limit}\n)\nUNION ALL\nSELECT 1 AS kind, NULL AS path, i - 1 AS step, walk[i] AS from_event, walk[i + 1] AS to_event, count(*) AS people FROM ({walks}) ARRAY JOIN arrayEnumerate(arrayPopBack(walk)) AS i GROUP BY step, from_event, to_event"
    )
}
