//! The stored event: one row in every events backend. See `docs/schema.md` for why each column
//! exists and how backends lay it out.

use crate::ProjectId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Arbitrary, possibly nested, event properties.
pub type Properties = serde_json::Map<String, serde_json::Value>;

/// The fields of [`Event`] in storage order: every backend's events table has exactly these
/// columns, in this order.
pub const EVENT_FIELDS: [&str; 24] = [
    "project_id",
    "event",
    "timestamp",
    "received_at",
    "insert_id",
    "user_id",
    "device_id",
    "person_id",
    "session_id",
    "app",
    "url",
    "host",
    "path",
    "route",
    "referrer",
    "entity_type",
    "entity_id",
    "device_type",
    "browser",
    "os",
    "country",
    "value",
    "library",
    "properties",
];

/// A validated event, ready to store.
///
/// Common dimensions are first-class fields (stored as their own columns, so filters and
/// breakdowns on them never parse JSON); everything else lives in `properties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Event {
    pub project_id: ProjectId,
    /// Event type, such as `page_view` or `workflow_run`.
    pub event: String,
    /// When it happened (client clock), UTC, microsecond precision.
    #[serde(with = "micros_rfc3339")]
    #[schemars(with = "String")]
    pub timestamp: DateTime<Utc>,
    /// When Sextant accepted it, UTC, microsecond precision.
    #[serde(with = "micros_rfc3339")]
    #[schemars(with = "String")]
    pub received_at: DateTime<Utc>,
    /// Client-supplied idempotency key, or a server-generated UUID.
    pub insert_id: String,
    /// Identified user, as given by the SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Device or anonymous id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The actor this event counts towards in "unique users": the user id when known,
    /// otherwise the device id. Identity merging (issue: ingestion) refines it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Templated path, e.g. `/orders/:id`, so routes aggregate across ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Numeric measure: revenue, cost, duration... whatever the event type means by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// SDK that sent the event, as `name/version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: Properties,
}

/// RFC 3339 with exactly six fractional digits and a `Z`, so exports are byte-stable.
mod micros_rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        crate::parse_timestamp(&text)
            .ok_or_else(|| D::Error::custom(format!("invalid timestamp `{text}`")))
    }
}
