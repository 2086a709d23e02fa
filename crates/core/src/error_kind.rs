//! Error kinds shared by every library crate, so the HTTP layer can map any error to a status
//! in one place without knowing which crate produced it.

use std::fmt;

/// What went wrong, at the granularity a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request or its data is malformed or violates a limit.
    InvalidInput,
    /// No valid credentials were presented.
    Unauthenticated,
    /// The credentials are valid but do not allow this action.
    Forbidden,
    /// The addressed resource does not exist (or is not visible to the caller).
    NotFound,
    /// The resource already exists or the change conflicts with current state.
    Conflict,
    /// The body is larger than allowed.
    PayloadTooLarge,
    /// Sextant is alive but shedding load; the caller should retry later.
    Overloaded,
    /// The caller (a project's keys, or one user) sends faster than its configured rate.
    RateLimited,
    /// A dependency (storage) is not available right now.
    Unavailable,
    /// A bug or an unexpected failure.
    Internal,
}

impl ErrorKind {
    /// Stable machine-readable code used in API error bodies.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
