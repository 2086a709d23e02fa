//! One module per resource, each with `fn api() -> Api`: its operations and their handlers.

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod amplitude;
pub(crate) mod audit;
pub(crate) mod docs;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod jobs;
pub(crate) mod query;
pub(crate) mod session;
pub(crate) mod wire;

/// OpenAPI tags, one per group of operations.
pub(crate) mod tags {
    pub(crate) const HEALTH: &str = "Health";
    pub(crate) const INGESTION: &str = "Ingestion";
    pub(crate) const QUERIES: &str = "Queries";
    pub(crate) const ADMIN: &str = "Administration";
    pub(crate) const ACCOUNTS: &str = "Accounts";
    pub(crate) const AUDIT: &str = "Audit log";
    pub(crate) const AMPLITUDE: &str = "Amplitude Dashboard API";
    pub(crate) const WIRE: &str = "Other tools' ingestion";

    /// The order the API description (and `/docs`) lists them in.
    pub(crate) const ALL: [&str; 8] =
        [QUERIES, INGESTION, ADMIN, ACCOUNTS, AUDIT, AMPLITUDE, WIRE, HEALTH];
}

use crate::ApiError;
use axum::extract::Query;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::{StatusCode, Uri};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use sextant_core::ErrorKind;

pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(ErrorKind::NotFound, format!("no route for {}", uri.path()))
}

/// The raw body, with an oversized one reported in our error shape (413) instead of axum's
/// plain-text rejection.
pub(crate) fn raw_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        let kind = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorKind::PayloadTooLarge
        } else {
            ErrorKind::InvalidInput
        };
        ApiError::new(kind, rejection.body_text())
    })
}

/// Parses a JSON body with an error naming what is wrong and where.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(format!("invalid request body: {e}")).with_code("invalid_body")
    })
}

/// A parsed query string, with a malformed one reported in our error shape.
pub(crate) fn query_params<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(params)| params)
        .map_err(|e| ApiError::invalid(e.body_text()).with_code("invalid_parameters"))
}

/// A listing's `limit` parameter: `default` when absent, else 1 to 1000.
pub(crate) fn page_limit(limit: Option<usize>, default: usize) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("`limit` must be 1 to 1000"));
    }
    Ok(limit)
}
