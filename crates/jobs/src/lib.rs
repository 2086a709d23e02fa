//! Scheduled maintenance jobs, driven only through the storage traits so every backend gets
//! them. Retention is the first; rollups, alerts and reports join here. Running a job exactly
//! once across several nodes is the scale-out issue's (leases); a single node runs them itself.

mod retention;

pub use retention::{RetentionReport, enforce_retention, spawn_daily_retention};

use sextant_core::ErrorKind;
use sextant_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("retention: {0}")]
    Store(#[from] StoreError),
}

impl JobError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            JobError::Store(e) => e.kind(),
        }
    }
}
