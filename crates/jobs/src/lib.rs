//! Scheduled jobs, driven only through the storage traits so every backend gets them, and run
//! once per slot across all the nodes sharing a metadata store (see `scheduler`). Retention is
//! the first; alerts, reports and insights join here as more `Job`s.

mod retention;
mod scheduler;

pub use retention::{RetentionJob, RetentionReport, enforce_retention};
pub use scheduler::{Job, Scheduler, SchedulerOptions};

use sextant_core::ErrorKind;
use sextant_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl JobError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            JobError::Store(e) => e.kind(),
        }
    }
}
