//! From request bodies to durable events: decoding (gzip, JSON shapes), validation into the
//! event model, and the group committer that batches many requests into one durable append.
//! Wire formats of other tools (Amplitude, PostHog, ...) will live here too, each mapping onto
//! the same [`Ingestor`].

mod body;
mod committer;
mod error;
mod ingestor;

pub use body::{NativeBatch, decode_body, parse_native};
pub use committer::{Committer, CommitterSettings};
pub use error::IngestError;
pub use ingestor::{IngestReport, Ingestor, RejectedEvent};
