//! DuckDB errors → [`StoreError`], in one place.

use sextant_store::StoreError;

pub(crate) fn internal(e: duckdb::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Statements come from the planner, so a failing one is our bug, not the caller's.
pub(crate) fn query(e: duckdb::Error) -> StoreError {
    StoreError::Internal(format!("query failed: {e}"))
}

/// Opening fails with a lock error when another process has the file.
pub(crate) fn open(path: &std::path::Path, e: duckdb::Error) -> StoreError {
    let detail = e.to_string();
    if detail.contains("lock") {
        StoreError::Locked { path: path.display().to_string(), detail }
    } else {
        StoreError::Unavailable(format!("cannot open {}: {detail}", path.display()))
    }
}
