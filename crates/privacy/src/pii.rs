//! Free-form properties are where personal data slips in (`email`, `customerPhone`,
//! `billing_address`, an `access_token` copied from a header). Keys are split into words
//! (snake_case, camelCase, kebab-case, dots, `$`) and removed, at any depth, when their words
//! contain a denylisted term: `card` catches `credit_card` but not `cardinality`, `token`
//! catches `accessToken` but not `tokens_used`. Long string values are cut to a byte cap.

use serde_json::{Map, Value};

/// The default denylist. `ip` and `user agent` are here too: raw ones must never be stored,
/// whichever property an SDK puts them in.
pub const DEFAULT_PII_KEYS: [&str; 12] = [
    "email",
    "phone",
    "password",
    "passwd",
    "token",
    "ssn",
    "card",
    "address",
    "ip",
    "user_agent",
    "useragent",
    "secret",
];

#[derive(Debug, Clone)]
pub struct PiiPolicy {
    /// Each denylisted term as its sequence of lower-case words.
    terms: Vec<Vec<String>>,
    /// Each term's words run together: a key can only match a term if its lower-cased letters
    /// and digits contain this, which rules out almost every key without splitting it.
    squashed: Vec<String>,
    max_value_bytes: usize,
}

/// What scrubbing removed or cut, for counters and logs (never the values themselves).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scrubbed {
    pub keys_removed: usize,
    pub values_capped: usize,
}

impl PiiPolicy {
    pub fn new<S: AsRef<str>>(keys: &[S], max_value_bytes: usize) -> Self {
        let terms: Vec<Vec<String>> =
            keys.iter().map(|k| words(k.as_ref())).filter(|w| !w.is_empty()).collect();
        let squashed = terms.iter().map(|t| t.concat()).collect();
        Self { terms, squashed, max_value_bytes }
    }

    /// Whether a property named `key` is personal data under this policy.
    pub fn is_pii_key(&self, key: &str) -> bool {
        let squashed: String =
            key.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        if !self.squashed.iter().any(|term| squashed.contains(term.as_str())) {
            return false;
        }
        let key_words = words(key);
        self.terms.iter().any(|term| {
            key_words.windows(term.len()).any(|w| w == term.as_slice())
                || key_words.concat() == term.concat()
        })
    }

    /// Removes PII keys and caps string values, recursively, in place.
    pub fn scrub(&self, properties: &mut Map<String, Value>) -> Scrubbed {
        let mut scrubbed = Scrubbed::default();
        self.scrub_object(properties, &mut scrubbed);
        scrubbed
    }

    fn scrub_object(&self, object: &mut Map<String, Value>, scrubbed: &mut Scrubbed) {
        let before = object.len();
        object.retain(|key, _| !self.is_pii_key(key));
        scrubbed.keys_removed += before - object.len();
        for value in object.values_mut() {
            self.scrub_value(value, scrubbed);
        }
    }

    fn scrub_value(&self, value: &mut Value, scrubbed: &mut Scrubbed) {
        match value {
            Value::Object(object) => self.scrub_object(object, scrubbed),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_value(v, scrubbed)),
            Value::String(s) if s.len() > self.max_value_bytes => {
                let mut end = self.max_value_bytes;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.truncate(end);
                scrubbed.values_capped += 1;
            }
            _ => {}
        }
    }
}

/// `billingAddress_2` → `["billing", "address", "2"]`; `$email` → `["email"]`.
fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            flush(&mut words, &mut current);
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            flush(&mut words, &mut current);
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    flush(&mut words, &mut current);
    words
}

fn flush(words: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        words.push(std::mem::take(current));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> PiiPolicy {
        PiiPolicy::new(&DEFAULT_PII_KEYS, 16)
    }

    #[test]
    fn keys_match_by_words_not_substrings() {
        let p = policy();
        for key in [
            "email",
            "$email",
            "userEmail",
            "email_address",
            "Phone",
            "phone-number",
            "password",
            "accessToken",
            "api_token",
            "ssn",
            "credit_card",
            "CardNumber",
            "billing.address",
            "$ip",
            "client_ip",
            "ipAddress",
            "user_agent",
            "userAgent",
            "$raw_user_agent",
            "client_secret",
        ] {
            assert!(p.is_pii_key(key), "{key} should be stripped");
        }
        for key in [
            "plan",
            "tokens_used",
            "cardinality",
            "scorecard",
            "zip",
            "ship_to_country",
            "agent",
            "emailed",
            "description",
        ] {
            assert!(!p.is_pii_key(key), "{key} should be kept");
        }
    }

    #[test]
    fn scrubs_recursively_and_caps_values() {
        let mut props = json!({
            "plan": "pro",
            "email": "a@example.com",
            "customer": {"name": "kept", "phone": "+1 555", "orders": [{"card": "4111", "sku": "a"}]},
            "note": "0123456789abcdefXYZ",
            "accents": "ééééééééé",
        });
        let scrubbed = policy().scrub(props.as_object_mut().unwrap());
        assert_eq!(scrubbed, Scrubbed { keys_removed: 3, values_capped: 2 });
        assert_eq!(
            props,
            json!({
                "plan": "pro",
                "customer": {"name": "kept", "orders": [{"sku": "a"}]},
                "note": "0123456789abcdef",
                "accents": "éééééééé",
            })
        );
    }

    #[test]
    fn custom_terms_can_be_phrases() {
        let p = PiiPolicy::new(&["date of birth", "iban"], 2048);
        assert!(p.is_pii_key("dateOfBirth"));
        assert!(p.is_pii_key("customer_iban"));
        assert!(!p.is_pii_key("date"));
    }
}
