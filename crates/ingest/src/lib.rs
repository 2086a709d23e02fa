//! From request bodies to durable events: decoding (gzip, JSON shapes), validation into the
//! event model, privacy and hygiene (visitor hashes, user agents, bots, PII, allowlists,
//! sessions), and the group committer that batches many requests into one durable append.
//! Wire formats of other tools (Amplitude, PostHog, ...) map onto the same [`Ingestor`].

mod body;
mod committer;
mod error;
mod ingestor;
mod limiter;
mod raw;
mod rules;
mod sessions;
pub mod wire;

pub use body::{NativeBatch, decode_body, parse_native};
pub use committer::{Committer, CommitterSettings};
pub use error::IngestError;
pub use ingestor::{IngestReport, Ingestor, IngestorParts, Prepared, RejectedEvent};
pub use limiter::{RateLimits, Throttled};
pub use raw::{ClientHints, RawEvent};
