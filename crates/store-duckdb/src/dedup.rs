//! Reloads the dedup window (`sextant_store::dedup`) from the events table on open, so
//! restarts do not forget recent insert ids.

use duckdb::Connection;
use sextant_store::dedup::RecentIds;

/// Every id received within `window_micros` before `now_micros`.
pub(crate) fn load(
    conn: &Connection,
    window_micros: i64,
    now_micros: i64,
) -> duckdb::Result<RecentIds> {
    let mut recent = RecentIds::new(window_micros);
    let mut statement = conn.prepare(
        "SELECT project_id, insert_id, epoch_us(received_at) FROM events \
         WHERE received_at >= make_timestamp($1)",
    )?;
    let mut rows = statement.query([now_micros - window_micros])?;
    while let Some(row) = rows.next()? {
        let project: String = row.get(0)?;
        let insert_id: String = row.get(1)?;
        recent.remember(&project, &insert_id, row.get(2)?);
    }
    Ok(recent)
}
