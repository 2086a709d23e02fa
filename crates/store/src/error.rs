//! One error type for every storage backend, so callers handle storage failures uniformly.

use sextant_core::ErrorKind;
use sextant_query::QueryError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The data directory is held by another process (DuckDB allows one writer process).
    #[error("{path} is in use by another process (is `sextant serve` running?): {detail}")]
    Locked { path: String, detail: String },
    #[error("query exceeded its {0:?} time limit")]
    Timeout(std::time::Duration),
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Query(e) => e.kind(),
            StoreError::Invalid(_) | StoreError::Timeout(_) => ErrorKind::InvalidInput,
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::Conflict(_) => ErrorKind::Conflict,
            StoreError::Locked { .. } | StoreError::Unavailable(_) => ErrorKind::Unavailable,
            StoreError::Internal(_) => ErrorKind::Internal,
        }
    }
}
