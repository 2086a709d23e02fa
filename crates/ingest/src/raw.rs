//! An event as a wire format hands it over: native-shaped fields, plus what the request said
//! about the visitor (IP address, user agent). Privacy processing turns those two into a
//! visitor hash and browser/OS/device families; they are never stored, logged or printed.

use serde_json::Value;
use std::fmt;
use std::net::IpAddr;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientHints {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl fmt::Debug for ClientHints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHints")
            .field("ip", &self.ip.map(|_| "<redacted>"))
            .field("user_agent", &self.user_agent.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    /// A native event object (see `sextant_core::EventInput`).
    pub fields: Value,
    pub client: ClientHints,
}

impl From<Value> for RawEvent {
    fn from(fields: Value) -> Self {
        Self { fields, client: ClientHints::default() }
    }
}
