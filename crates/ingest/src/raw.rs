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

impl RawEvent {
    /// A native API event, whose optional `context` (`{"ip", "user_agent"}`, for servers that
    /// forward a visitor's request) becomes client hints. A malformed `context` stays in the
    /// fields, where validation reports it.
    pub fn from_native(mut fields: Value) -> Self {
        let Some(Value::Object(context)) = fields.get("context") else { return Self::from(fields) };
        let ip = match context.get("ip") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(ip)) => ip.parse().map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        };
        let user_agent = match context.get("user_agent") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(ua)) => Ok(Some(ua.clone())),
            Some(_) => Err(()),
        };
        let known = context.keys().all(|k| k == "ip" || k == "user_agent");
        match (ip, user_agent, known) {
            (Ok(ip), Ok(user_agent), true) => {
                if let Value::Object(map) = &mut fields {
                    map.remove("context");
                }
                Self { fields, client: ClientHints { ip, user_agent } }
            }
            _ => Self::from(fields),
        }
    }
}

impl From<Value> for RawEvent {
    fn from(fields: Value) -> Self {
        Self { fields, client: ClientHints::default() }
    }
}
