//! Person properties in DuckDB: a batch's folded updates (`sextant_store::identity`) merged
//! into each person's row with JSON merge-patch (`null` removes a key), in the same
//! transaction as the events.

use duckdb::{Connection, params};
use serde_json::Value;
use sextant_store::identity::PersonUpdates;

/// Writes `updates` inside the caller's transaction.
pub(crate) fn apply(conn: &Connection, updates: &PersonUpdates) -> duckdb::Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let mut statement = conn.prepare_cached(
        "INSERT INTO persons VALUES ($1, $2, json_merge_patch($4::JSON, $3::JSON), make_timestamp($5))
         ON CONFLICT (project_id, person_id) DO UPDATE SET
           properties = json_merge_patch(json_merge_patch($4::JSON, properties), $3::JSON),
           updated_at = greatest(updated_at, make_timestamp($5))",
    )?;
    for ((project, person), (set, once, at)) in updates {
        let set = Value::Object(set.clone()).to_string();
        let once = Value::Object(once.clone()).to_string();
        statement.execute(params![project, person, set, once, at])?;
    }
    Ok(())
}
