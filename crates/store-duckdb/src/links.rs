//! Person links in DuckDB: loading the known links on open and writing a batch's new ones
//! (`sextant_store::identity`) in the same transaction as its events.

use duckdb::Connection;
use sextant_store::identity::{KnownLinks, NewLinks};

pub(crate) fn load(conn: &Connection) -> duckdb::Result<KnownLinks> {
    let mut statement = conn.prepare("SELECT project_id, device_id FROM person_links")?;
    let mut known = KnownLinks::default();
    for link in
        statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
    {
        let (project, device) = link?;
        known.remember(project, device);
    }
    Ok(known)
}

/// Writes `links` inside the caller's transaction, a few hundred rows per statement: the
/// demo's first day alone links tens of thousands of devices, and one statement per link
/// more than doubled its load time.
pub(crate) fn insert(conn: &Connection, links: &NewLinks) -> duckdb::Result<()> {
    const ROWS: usize = 256;
    for chunk in links.chunks(ROWS) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * 4;
                format!("(${}, ${}, ${}, make_timestamp(${}))", n + 1, n + 2, n + 3, n + 4)
            })
            .collect();
        let sql =
            format!("INSERT INTO person_links VALUES {} ON CONFLICT DO NOTHING", rows.join(", "));
        let mut params: Vec<duckdb::types::Value> = Vec::with_capacity(chunk.len() * 4);
        for (project, device, user, at) in chunk {
            params.push(project.clone().into());
            params.push(device.clone().into());
            params.push(user.clone().into());
            params.push((*at).into());
        }
        conn.prepare_cached(&sql)?.execute(duckdb::params_from_iter(params))?;
    }
    Ok(())
}
