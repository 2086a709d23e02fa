//! Ingestion errors and their kinds.

use crate::Throttled;
use sextant_core::ErrorKind;
use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    TooLarge(String),
    /// The commit queue is full; nothing of this request was stored.
    #[error("ingestion is overloaded; retry after {} s", retry_after.as_secs().max(1))]
    Overloaded { retry_after: Duration },
    /// Over a rate limit; nothing of this request was stored.
    #[error(
        "rate limit of {} events/s exceeded{}; retry after {} s",
        .0.threshold,
        if .0.users.is_empty() { String::new() } else { format!(" for {} users", .0.users.len()) },
        .0.retry_after.as_secs()
    )]
    RateLimited(Throttled),
    /// The store failed; nothing of this request was stored.
    #[error("events could not be stored: {0}")]
    Unavailable(String),
}

impl IngestError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            IngestError::Invalid(_) => ErrorKind::InvalidInput,
            IngestError::TooLarge(_) => ErrorKind::PayloadTooLarge,
            IngestError::Overloaded { .. } => ErrorKind::Overloaded,
            IngestError::RateLimited(_) => ErrorKind::RateLimited,
            IngestError::Unavailable(_) => ErrorKind::Unavailable,
        }
    }

    /// How long a client should wait before retrying, when retrying can help.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            IngestError::Overloaded { retry_after } => Some(*retry_after),
            IngestError::RateLimited(throttled) => Some(throttled.retry_after),
            IngestError::Unavailable(_) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }
}
