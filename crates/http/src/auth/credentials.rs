//! Reading credentials out of request headers: bearer tokens, HTTP Basic pairs and cookies.

use crate::ApiError;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use base64::Engine;
use sextant_core::ErrorKind;

/// The web UI's session cookie.
pub(crate) const SESSION_COOKIE: &str = "sextant_session";

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else { return Ok(None) };
    let text = value.to_str().map_err(|_| {
        ApiError::new(ErrorKind::Unauthenticated, "the Authorization header is not valid text")
    })?;
    if text.starts_with("Basic ") || text.starts_with("basic ") {
        return Ok(None);
    }
    let token =
        text.strip_prefix("Bearer ").or_else(|| text.strip_prefix("bearer ")).ok_or_else(|| {
            ApiError::new(ErrorKind::Unauthenticated, "use `Authorization: Bearer <key>`")
        })?;
    Ok(Some(token.trim()))
}

/// The user name and password of `Authorization: Basic base64(user:password)`, if the header
/// is there and readable (the password is empty when there is no `:`).
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':').unwrap_or((text.as_str(), ""));
    Some((user.to_owned(), password.to_owned()))
}

/// The value of cookie `name`, if sent.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_are_read_from_their_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers).unwrap(), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer  sx_sk_abc "));
        assert_eq!(bearer(&headers).unwrap(), Some("sx_sk_abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Token x"));
        assert!(bearer(&headers).is_err());
        // base64("wk:sk")
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic d2s6c2s="));
        assert_eq!(bearer(&headers).unwrap(), None);
        assert_eq!(basic(&headers), Some(("wk".into(), "sk".into())));
        headers.insert(COOKIE, HeaderValue::from_static("theme=dark; sextant_session=sxs_1"));
        headers.append(COOKIE, HeaderValue::from_static("other=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("sxs_1"));
        assert_eq!(cookie(&headers, "other"), Some("2"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
