//! Limits applied to every incoming event. Configurable; the defaults suit product analytics.

use chrono::Duration;

/// Bounds on a single event, checked during validation.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest event name, in characters.
    pub max_event_name_chars: usize,
    /// Longest value of any string field other than `url`/`referrer`, in characters.
    pub max_string_chars: usize,
    /// Longest `url` or `referrer`, in characters.
    pub max_url_chars: usize,
    /// Largest serialized `properties` object, in bytes.
    pub max_properties_bytes: usize,
    /// Deepest nesting allowed inside `properties`.
    pub max_properties_depth: usize,
    /// Most keys in `properties`, counting nested objects' keys too.
    pub max_properties: usize,
    /// How far ahead of the server clock an event may be stamped.
    pub max_future: Duration,
    /// How far behind the server clock an event may be stamped.
    pub max_past: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_event_name_chars: 200,
            max_string_chars: 1024,
            max_url_chars: 2048,
            max_properties_bytes: 32 * 1024,
            max_properties_depth: 8,
            max_properties: 1000,
            max_future: Duration::hours(24),
            max_past: Duration::days(5 * 365),
        }
    }
}
