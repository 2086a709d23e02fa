//! The event model every other crate speaks: what an event is, how raw input becomes one, and
//! the error kinds shared across crate boundaries. Pure data and validation; no IO.

mod buckets;
mod error_kind;
mod event;
mod ids;
mod input;
mod limits;
mod role;
mod timestamp;

pub use buckets::KeyedBuckets;
pub use error_kind::ErrorKind;
pub use event::{EVENT_FIELDS, Event, Properties};
pub use ids::{OrgId, ProjectId};
pub use input::{EventInput, FieldError, InputMode};
pub use limits::Limits;
pub use role::{Grant, Role};
pub use timestamp::{micros_to_datetime, parse_timestamp, truncate_to_micros};
