//! Paths for ClickHouse: each person's events as one array in (time, insert_id) order, where
//! the DuckDB plan numbers them with `row_number()`; the walk is a slice of it around the first
//! anchor, and its moves the pairs of neighbours.

use crate::PathDirection;

/// Rows `(kind, path, step, from, to, people)` as the DuckDB plan returns them. `scoped`
/// selects `person, timestamp, insert_id, event, is_anchor`; `reach` is `steps - 1`; `json`
/// turns the array `g_walk` into JSON text.
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
    // One pass over the walks (18.16 has no CTE to share them): each walk is repeated once
    // per row it feeds (`i = 0`: the path, `i > 0`: its move from step `i - 1`), one GROUP BY
    // counts them all, and `LIMIT BY` keeps the top paths (every move group is its own).
    format!(
        "SELECT kind, if(kind = 0, {json}, NULL) AS path, step, from_event, to_event, people FROM (\n  SELECT toUInt8(i > 0) AS kind, if(i = 0, walk, emptyArrayString()) AS g_walk, if(i > 0, toNullable(toInt64(i) - 1), NULL) AS step, if(i > 0, toNullable(walk[i]), NULL) AS from_event, if(i > 0, toNullable(walk[i + 1]), NULL) AS to_event, count(*) AS people FROM ({walks}) ARRAY JOIN arrayPushFront(arrayEnumerate(arrayPopBack(walk)), 0) AS i GROUP BY kind, g_walk, step, from_event, to_event ORDER BY kind, people DESC, g_walk LIMIT {limit} BY kind, step, from_event, to_event\n)"
    )
}
