//! The envelopes browser SDKs wrap JSON in: form fields (`data=`), query strings (`?data=`),
//! base64, gzip (announced or not). Shared by PostHog and Mixpanel, whose SDKs use all of them.

use crate::body::gunzip;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::Value;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What a request carried, before unwrapping.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub body: &'a [u8],
    pub content_type: Option<&'a str>,
    /// The raw query string.
    pub query: &'a str,
    pub max_bytes: usize,
}

/// A query or form parameter.
pub fn param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Envelope<'_> {
    pub fn param(&self, name: &str) -> Option<String> {
        param(self.query, name)
            .or_else(|| self.is_form().then(|| param(body_text(self.body), name)).flatten())
    }

    fn is_form(&self) -> bool {
        self.content_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    }

    /// The JSON payload: the form or query field `data`, else the body; each base64-decoded
    /// when it is not JSON already, and gunzipped when it starts with gzip's magic bytes.
    pub fn json(&self) -> Result<Value, String> {
        let raw: Vec<u8> = if self.is_form() {
            param(body_text(self.body), "data").ok_or("the form has no `data` field")?.into_bytes()
        } else if self.body.iter().all(u8::is_ascii_whitespace) {
            param(self.query, "data")
                .ok_or("the request has no body and no `data` parameter")?
                .into_bytes()
        } else {
            self.body.to_vec()
        };
        let compression = self.param("compression").unwrap_or_default();
        if compression == "lz64" {
            return Err("compression=lz64 is not supported; use gzip or base64".into());
        }
        let bytes = unwrap_layers(raw, self.max_bytes)?;
        serde_json::from_slice(&bytes).map_err(|e| format!("the payload is not valid JSON: {e}"))
    }
}

fn body_text(body: &[u8]) -> &str {
    std::str::from_utf8(body).unwrap_or("")
}

/// gzip → bytes; base64 (standard or URL-safe, padded or not) → bytes; at most twice.
fn unwrap_layers(mut bytes: Vec<u8>, max_bytes: usize) -> Result<Vec<u8>, String> {
    for _ in 0..3 {
        if bytes.starts_with(&GZIP_MAGIC) {
            bytes = gunzip(&bytes, max_bytes).map_err(|e| e.to_string())?;
            continue;
        }
        let trimmed = trim(&bytes);
        if matches!(trimmed.first(), Some(b'{' | b'[')) {
            return Ok(trimmed.to_vec());
        }
        bytes = decode_base64(trimmed).ok_or("the payload is neither JSON, gzip nor base64")?;
    }
    Ok(bytes)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &bytes[start..end]
}

fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let unpadded: Vec<u8> = text.iter().copied().filter(|&b| b != b'=').collect();
    let mut padded = unpadded.clone();
    padded.resize(unpadded.len().div_ceil(4) * 4, b'=');
    STANDARD.decode(&padded).or_else(|_| URL_SAFE.decode(&padded)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use std::io::Write;

    fn envelope<'a>(body: &'a [u8], content_type: Option<&'a str>, query: &'a str) -> Envelope<'a> {
        Envelope { body, content_type, query, max_bytes: 1 << 20 }
    }

    #[test]
    fn every_envelope_yields_the_same_json() {
        let json = br#"{"event":"x"}"#;
        let b64 = STANDARD.encode(json);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json).unwrap();
        let gz = gz.finish().unwrap();
        let gz_b64 = STANDARD.encode(&gz);
        let form = format!(
            "data={}",
            url::form_urlencoded::byte_serialize(b64.as_bytes()).collect::<String>()
        );
        let query = format!(
            "data={}&ip=1",
            url::form_urlencoded::byte_serialize(b64.as_bytes()).collect::<String>()
        );
        let form_ct = Some("application/x-www-form-urlencoded");
        let cases: Vec<Envelope> = vec![
            envelope(json, Some("application/json"), ""),
            envelope(&gz, None, "compression=gzip-js"),
            envelope(b64.as_bytes(), Some("text/plain"), "compression=base64"),
            envelope(gz_b64.as_bytes(), Some("text/plain"), ""),
            envelope(form.as_bytes(), form_ct, ""),
            envelope(b"", None, &query),
        ];
        for case in cases {
            assert_eq!(case.json().unwrap(), serde_json::json!({"event": "x"}), "{case:?}");
        }
        assert!(envelope(b"%%%", None, "").json().is_err());
        assert!(envelope(b"abc", None, "compression=lz64").json().unwrap_err().contains("lz64"));
    }
}
