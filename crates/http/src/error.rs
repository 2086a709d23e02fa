//! API errors: a stable machine `code`, a human `message`, and the one place where error kinds
//! become HTTP statuses. 5xx details go to the log, not to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sextant_core::ErrorKind;
use sextant_ingest::IngestError;
use sextant_query::QueryError;
use sextant_store::StoreError;
use std::time::Duration;

#[derive(Debug)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// Stable, documented, machine-readable.
    pub code: &'static str,
    pub message: String,
    /// Extra top-level fields of the body (e.g. per-event errors).
    pub extra: Option<serde_json::Map<String, Value>>,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, code: kind.code(), message: message.into(), extra: None, retry_after: None }
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
}

/// The single kind → status mapping.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Overloaded | ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What a client may see of an error, in any wire format's shape.
pub(crate) struct PublicError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) retry_after: Option<Duration>,
}

impl ApiError {
    /// The status from the one mapping, and the message a client may see: 5xx details go to
    /// the log (once, here) and the client gets a generic sentence.
    pub(crate) fn public(self) -> PublicError {
        let status = status_of(self.kind);
        let message = if status.is_server_error() && self.kind != ErrorKind::Overloaded {
            tracing::error!(code = self.code, detail = %self.message, "request failed");
            match self.kind {
                ErrorKind::Unavailable => {
                    "storage is temporarily unavailable; retry later".to_owned()
                }
                _ => "internal error; the details are in the server log".to_owned(),
            }
        } else {
            self.message
        };
        PublicError { status, code: self.code, message, retry_after: self.retry_after }
    }
}

/// Adds `Retry-After` (whole seconds, at least 1) when retrying helps.
pub(crate) fn with_retry_after(mut response: Response, after: Option<Duration>) -> Response {
    if let Some(after) = after
        && let Ok(value) = HeaderValue::from_str(&after.as_secs_f64().ceil().max(1.0).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The body of every error in Sextant's own API (wire formats answer in their own shapes).
/// Some errors add fields next to `error`, such as per-event findings.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorDetail {
    /// Stable and machine-readable, e.g. `invalid_query`, `rate_limited` (docs/api.md).
    pub(crate) code: String,
    /// For people; 5xx messages are generic, the details are in the server log.
    pub(crate) message: String,
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        let mut body = self.extra.take().unwrap_or_default();
        let public = self.public();
        let error = ErrorBody {
            error: ErrorDetail { code: public.code.to_owned(), message: public.message },
        };
        if let Ok(Value::Object(fields)) = serde_json::to_value(error) {
            body.extend(fields);
        }
        with_retry_after(
            (public.status, Json(Value::Object(body))).into_response(),
            public.retry_after,
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::Timeout(_) => "query_timeout",
            StoreError::Query(QueryError::Invalid(_)) => "invalid_query",
            _ => e.kind().code(),
        };
        let retry_after = (e.kind() == ErrorKind::Unavailable).then_some(Duration::from_secs(1));
        Self { retry_after, ..ApiError::new(e.kind(), e.to_string()).with_code(code) }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        StoreError::Query(e).into()
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        Self { retry_after: e.retry_after(), ..ApiError::new(e.kind(), e.to_string()) }
    }
}

/// A panicking handler answers 500 in our error shape instead of dropping the connection.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(ErrorKind::Internal, "handler panicked").into_response()
}
