//! Plausible's `POST /api/event`, sent by its script from visitors' browsers: no user ids at
//! all, so visitors are counted by the daily-salted hash of site, IP and user agent. Plausible's
//! `pageview` is stored as `page_view`, the name every other source uses.

use super::Native;
use crate::{ClientHints, RawEvent};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const MAX_NAME_CHARS: usize = 120;
const MAX_URL_CHARS: usize = 2000;
const MAX_PROPS: usize = 30;

/// A mapped event and the sites (`domain`, possibly a comma-separated list) it is for.
#[derive(Debug)]
pub struct PlausibleEvent {
    pub domains: Vec<String>,
    pub event: RawEvent,
}

/// Plausible's 400 body: `{"errors": {"url": ["is required"]}}`.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct Errors {
    pub errors: BTreeMap<&'static str, Vec<String>>,
}

impl Errors {
    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.entry(field).or_default().push(message.into());
    }
}

/// Maps a body (JSON whatever the content type; long and short key names).
pub fn parse(body: &[u8], client: ClientHints) -> Result<PlausibleEvent, Errors> {
    let mut errors = Errors::default();
    if client.user_agent.as_deref().is_none_or(str::is_empty) {
        errors.add("user_agent", "is required");
    }
    let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(body) else {
        errors.add("request", "must be a JSON object");
        return Err(errors);
    };
    let get =
        |long: &str, short: &str| b.get(long).or_else(|| b.get(short)).filter(|v| !v.is_null());
    let string =
        |long: &str, short: &str| get(long, short).and_then(Value::as_str).map(str::to_owned);

    let name = string("name", "n");
    match &name {
        None => errors.add("name", "is required"),
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            errors.add("name", "should be at most 120 characters");
        }
        _ => {}
    }
    let url = string("url", "u");
    match &url {
        None => errors.add("url", "is required"),
        Some(u) if u.chars().count() > MAX_URL_CHARS => {
            errors.add("url", "should be at most 2000 characters");
        }
        Some(u) if u.starts_with("data:") => errors.add("url", "is invalid"),
        _ => {}
    }
    let domains: Vec<String> = string("domain", "d")
        .map(|d| d.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if domains.is_empty() {
        errors.add("domain", "is required");
    }
    let mut properties = Map::new();
    match get("props", "p") {
        None => {}
        Some(Value::Object(p)) if p.len() <= MAX_PROPS && p.values().all(is_scalar) => {
            properties.extend(p.clone());
        }
        Some(Value::Object(p)) if p.len() > MAX_PROPS => {
            errors.add("props", "should have at most 30 pairs");
        }
        Some(_) => errors.add("props", "must be an object of strings, numbers or booleans"),
    }
    let revenue = get("revenue", "$").and_then(Value::as_object);
    let amount = revenue.and_then(|r| r.get("amount")).and_then(|a| match a {
        Value::String(s) => s.parse::<f64>().ok(),
        other => other.as_f64(),
    });
    if revenue.is_some() && amount.is_none() {
        errors.add("revenue", "must be {\"amount\", \"currency\"} with a numeric amount");
    }
    if let Some(currency) = revenue.and_then(|r| r.get("currency")).filter(|c| c.is_string()) {
        properties.insert("revenue_currency".into(), currency.clone());
    }
    if let Some(interactive) = get("interactive", "i").and_then(Value::as_bool) {
        properties.insert("interactive".into(), Value::Bool(interactive));
    }
    if !errors.errors.is_empty() {
        return Err(errors);
    }
    let mut out = Native::default();
    let name = name.unwrap_or_default();
    out.set("event", if name == "pageview" { "page_view".to_owned() } else { name });
    out.set_opt("url", url.map(Value::from));
    out.set_opt("referrer", string("referrer", "r").map(Value::from));
    out.set_opt("value", amount.map(Value::from));
    out.set("library", "plausible");
    out.set("properties", properties);
    Ok(PlausibleEvent { domains, event: out.into_raw(client) })
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client() -> ClientHints {
        ClientHints {
            ip: Some("203.0.113.9".parse().unwrap()),
            user_agent: Some("Mozilla/5.0 Chrome/124".into()),
        }
    }

    #[test]
    fn short_keys_revenue_and_props() {
        let body = br#"{"n":"sdk_purchase","u":"http://127.0.0.1:1/sdk/r","d":"a.com, b.com","r":null,"p":{"run":"r","n":2},"$":{"amount":"49.50","currency":"EUR"}}"#;
        let e = parse(body, client()).unwrap();
        assert_eq!(e.domains, ["a.com", "b.com"]);
        assert_eq!(
            e.event.fields,
            json!({"event": "sdk_purchase", "url": "http://127.0.0.1:1/sdk/r", "value": 49.5,
                   "library": "plausible", "properties": {"run": "r", "n": 2, "revenue_currency": "EUR"}})
        );
        let pageview =
            parse(br#"{"name":"pageview","url":"https://a.com/","domain":"a.com"}"#, client())
                .unwrap();
        assert_eq!(pageview.event.fields["event"], "page_view");
    }

    #[test]
    fn errors_in_plausible_shape() {
        let err = parse(br#"{"n":"x","d":"a.com","p":{"nested":{"no":1}}}"#, client()).unwrap_err();
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"errors": {"url": ["is required"], "props": ["must be an object of strings, numbers or booleans"]}})
        );
        let no_ua = parse(br#"{"n":"x","u":"https://a.com","d":"a.com"}"#, ClientHints::default())
            .unwrap_err();
        assert_eq!(no_ua.errors["user_agent"], ["is required"]);
    }
}
