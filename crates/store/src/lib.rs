//! The storage boundary. Everything outside the store crates talks to events and metadata only
//! through these traits; backends (DuckDB or ClickHouse; SQLite or PostgreSQL)
//! implement them and prove it by passing the shared conformance suite.

mod accounts;
mod audit;
pub mod dedup;
mod error;
mod event_store;
pub mod identity;
mod job_runs;
mod meta_store;
mod project_settings;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use accounts::{NewUser, User, UserChange, UserCredentials};
pub use audit::{AuditFilter, AuditRecord};
pub use error::StoreError;
pub use event_store::{Appended, EventStore, ProjectStats, RowSink};
pub use job_runs::{JobOutcome, JobRun};
pub use meta_store::{ApiKey, CreatedKey, KeyKind, MetaStore, NewKey, Organization, Project};
pub use project_settings::{ProjectSettings, internal_user_digest};
