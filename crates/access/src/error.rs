//! The one error type of this crate, with a kind the HTTP layer maps to a status.

use sextant_core::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The credential is malformed, expired, or its signature does not verify.
    #[error("{0}")]
    Rejected(String),
    /// A password or setting does not meet the rules.
    #[error("{0}")]
    Invalid(String),
    /// Key material could not be loaded (JWKS file or URL).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl AccessError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AccessError::Rejected(_) => ErrorKind::Unauthenticated,
            AccessError::Invalid(_) => ErrorKind::InvalidInput,
            AccessError::Unavailable(_) => ErrorKind::Unavailable,
            AccessError::Internal(_) => ErrorKind::Internal,
        }
    }
}
