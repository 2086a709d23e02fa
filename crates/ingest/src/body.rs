//! Request bodies: decompression (bounded, so a small gzip bomb cannot exhaust memory) and the
//! shapes of the native JSON API.

use crate::IngestError;
use bytes::Bytes;
use flate2::read::GzDecoder;
use serde_json::Value;
use std::io::Read;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Undoes `Content-Encoding` (or a gzip body sent without the header), refusing results larger
/// than `max_bytes`.
pub fn decode_body(
    body: Bytes,
    content_encoding: Option<&str>,
    max_bytes: usize,
) -> Result<Bytes, IngestError> {
    let declared_gzip = match content_encoding.map(|e| e.trim().to_ascii_lowercase()) {
        None => false,
        Some(e) if e.is_empty() || e == "identity" => false,
        Some(e) if e == "gzip" || e == "x-gzip" => true,
        Some(other) => {
            return Err(IngestError::Invalid(format!(
                "unsupported Content-Encoding `{other}`; use gzip or none"
            )));
        }
    };
    if !declared_gzip && !body.starts_with(&GZIP_MAGIC) {
        return Ok(body);
    }
    gunzip(&body, max_bytes).map(Bytes::from)
}

/// Decompresses gzip, refusing results larger than `max_bytes` without inflating them fully.
pub(crate) fn gunzip(compressed: &[u8], max_bytes: usize) -> Result<Vec<u8>, IngestError> {
    let mut decoded = Vec::new();
    let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX).saturating_add(1);
    GzDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut decoded)
        .map_err(|e| IngestError::Invalid(format!("body is not valid gzip: {e}")))?;
    if decoded.len() > max_bytes {
        return Err(IngestError::TooLarge(format!(
            "decompressed body is larger than {max_bytes} bytes"
        )));
    }
    Ok(decoded)
}

/// A native `POST /api/v1/events` body.
#[derive(Debug, PartialEq)]
pub struct NativeBatch {
    pub write_key: Option<String>,
    pub events: Vec<Value>,
}

/// Accepts one event object, an array of events, or `{"write_key"?, "events": [...]}`.
pub fn parse_native(body: &[u8]) -> Result<NativeBatch, IngestError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| IngestError::Invalid(format!("body is not valid JSON: {e}")))?;
    match value {
        Value::Array(events) => Ok(NativeBatch { write_key: None, events }),
        Value::Object(mut map) if map.contains_key("events") => {
            let write_key = match map.remove("write_key") {
                None | Some(Value::Null) => None,
                Some(Value::String(key)) => Some(key),
                Some(_) => return Err(IngestError::Invalid("`write_key` must be a string".into())),
            };
            if let Some(other) = map.keys().find(|k| *k != "events") {
                return Err(IngestError::Invalid(format!(
                    "unknown field `{other}` in batch; expected `events` and optionally `write_key`"
                )));
            }
            match map.remove("events") {
                Some(Value::Array(events)) => Ok(NativeBatch { write_key, events }),
                _ => Err(IngestError::Invalid("`events` must be an array".into())),
            }
        }
        single @ Value::Object(_) => Ok(NativeBatch { write_key: None, events: vec![single] }),
        _ => Err(IngestError::Invalid(
            "body must be an event object, an array of events, or {\"events\": [...]}".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use serde_json::json;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        Bytes::from(enc.finish().unwrap())
    }

    #[test]
    fn gzip_is_detected_by_header_or_magic_bytes() {
        let plain = br#"{"event":"x"}"#;
        assert_eq!(decode_body(gzip(plain), Some("gzip"), 1000).unwrap(), &plain[..]);
        assert_eq!(decode_body(gzip(plain), None, 1000).unwrap(), &plain[..]);
        assert_eq!(decode_body(Bytes::from_static(plain), None, 1000).unwrap(), &plain[..]);
        assert!(matches!(
            decode_body(Bytes::from_static(b"nope"), Some("gzip"), 1000),
            Err(IngestError::Invalid(_))
        ));
        assert!(matches!(
            decode_body(Bytes::from_static(plain), Some("br"), 1000),
            Err(IngestError::Invalid(_))
        ));
    }

    #[test]
    fn gzip_bombs_stop_at_the_limit() {
        let bomb = gzip(&vec![b' '; 10_000_000]);
        assert!(bomb.len() < 20_000);
        let err = decode_body(bomb, Some("gzip"), 1_000_000).unwrap_err();
        assert!(matches!(err, IngestError::TooLarge(_)), "{err}");
    }

    #[test]
    fn native_shapes() {
        let single = parse_native(br#"{"event":"a"}"#).unwrap();
        assert_eq!(single.events, vec![json!({"event": "a"})]);
        let array = parse_native(br#"[{"event":"a"},{"event":"b"}]"#).unwrap();
        assert_eq!(array.events.len(), 2);
        let batch = parse_native(br#"{"write_key":"sx_wk_1","events":[{"event":"a"}]}"#).unwrap();
        assert_eq!(batch.write_key.as_deref(), Some("sx_wk_1"));
        assert!(
            parse_native(br#"{"events":{}}"#).unwrap_err().to_string().contains("must be an array")
        );
        assert!(
            parse_native(br#"{"events":[],"key":1}"#)
                .unwrap_err()
                .to_string()
                .contains("unknown field `key`")
        );
        assert!(parse_native(b"42").is_err());
        assert!(parse_native(b"{").unwrap_err().to_string().starts_with("body is not valid JSON"));
    }
}
