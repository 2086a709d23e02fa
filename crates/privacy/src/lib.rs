//! Privacy by design, applied to every event before it is stored: visitors are counted with a
//! daily-rotating salted hash instead of their IP address, user agents are reduced to browser,
//! OS and device type (bots are recognised and dropped), and personal data in free-form
//! properties is stripped. Pure code: no IO, no clock; callers pass dates in.

mod bots;
mod pii;
mod user_agent;
mod visitor;

pub use bots::BotDetector;
pub use pii::{DEFAULT_PII_KEYS, PiiPolicy, Scrubbed};
pub use user_agent::{ClientInfo, DeviceType, UserAgentParser};
pub use visitor::{Hasher, normalise_user_agent};

use sextant_core::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The compiled-in user-agent or bot data does not load: a packaging bug.
    #[error("user-agent data: {0}")]
    Data(String),
    /// A configured pattern or key list is unusable.
    #[error("{0}")]
    Config(String),
}

impl PrivacyError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            PrivacyError::Data(_) => ErrorKind::Internal,
            PrivacyError::Config(_) => ErrorKind::InvalidInput,
        }
    }
}
