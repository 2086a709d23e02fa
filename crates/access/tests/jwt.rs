//! Gateway JWTs against real keys: the test keys in `tests/fixtures/jwt` sign tokens the way
//! a gateway would; the verifier must accept exactly the valid ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sextant_access::{JwkSource, JwtOptions, JwtVerifier, RoleMapping};
use sextant_core::Role;
use std::path::PathBuf;
use std::time::Duration;

const SECRET: &str = "a-shared-gateway-secret-of-32-bytes!";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/jwt").join(name)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(extra: Value) -> Value {
    let mut base = json!({
        "sub": "u-17", "email": "Ada@Example.com", "name": "Ada",
        "iss": "https://idp.example.com/", "aud": "sextant",
        "exp": now() + 300, "roles": ["analytics", "unrelated"],
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        for (k, v) in extra {
            if v.is_null() {
                base.remove(&k);
            } else {
                base.insert(k, v);
            }
        }
    }
    base
}

fn options(jwks: Option<JwkSource>) -> JwtOptions {
    JwtOptions {
        hs256_secret: Some(SECRET.into()),
        jwks,
        issuer: Some("https://idp.example.com/".into()),
        audience: Some("sextant".into()),
        email_claim: "email".into(),
        name_claim: "name".into(),
        roles_claim: "roles".into(),
        role_map: vec![
            RoleMapping { claim_value: "analytics".into(), role: Role::Analyst, project: None },
            RoleMapping {
                claim_value: "shop-admins".into(),
                role: Role::Admin,
                project: Some("shop".into()),
            },
        ],
        leeway: Duration::from_secs(0),
    }
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn rs256(claims: &Value, kid: &str) -> String {
    let key =
        EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa-private.pem")).unwrap()).unwrap();
    let header = Header { kid: Some(kid.into()), ..Header::new(Algorithm::RS256) };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn es256(claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(&std::fs::read(fixture("ec-private.pem")).unwrap()).unwrap();
    let header = Header { kid: Some("ec-1".into()), ..Header::new(Algorithm::ES256) };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

#[tokio::test]
async fn each_algorithm_verifies_and_maps_claims() {
    let verifier =
        JwtVerifier::new(options(Some(JwkSource::File(fixture("jwks.json"))))).await.unwrap();
    for token in
        [hs256(&claims(json!({}))), rs256(&claims(json!({})), "rsa-1"), es256(&claims(json!({})))]
    {
        let identity = verifier.verify(&token).await.unwrap();
        assert_eq!(identity.email, "ada@example.com");
        assert_eq!(identity.name.as_deref(), Some("Ada"));
        assert_eq!(identity.grants, [(Role::Analyst, None)]);
    }
    let spaced = hs256(&claims(json!({"roles": "shop-admins analytics"})));
    let identity = verifier.verify(&spaced).await.unwrap();
    assert_eq!(identity.grants, [(Role::Analyst, None), (Role::Admin, Some("shop".into()))]);
    let none = hs256(&claims(json!({"roles": null})));
    assert!(verifier.verify(&none).await.unwrap().grants.is_empty(), "valid but no role");
}

#[tokio::test]
async fn invalid_tokens_are_rejected_with_a_reason() {
    let verifier =
        JwtVerifier::new(options(Some(JwkSource::File(fixture("jwks.json"))))).await.unwrap();
    let cases = [
        (hs256(&claims(json!({"aud": "someone-else"}))), "aud"),
        (hs256(&claims(json!({"iss": "https://evil.example/"}))), "iss"),
        (hs256(&claims(json!({"exp": now() - 10}))), "expired"),
        (hs256(&claims(json!({"exp": null}))), "exp"),
        (hs256(&claims(json!({"nbf": now() + 600}))), "nbf"),
        (hs256(&claims(json!({"email": null}))), "email"),
        (rs256(&claims(json!({})), "rsa-unknown"), "rsa-unknown"),
        ("not.a.jwt".to_owned(), "malformed"),
    ];
    for (token, why) in cases {
        let err = verifier.verify(&token).await.unwrap_err();
        assert_eq!(err.kind(), sextant_core::ErrorKind::Unauthenticated, "{why}: {err}");
    }
    // A token re-signed with another secret.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(json!({})),
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes"),
    )
    .unwrap();
    assert!(verifier.verify(&forged).await.is_err());
}

#[tokio::test]
async fn algorithm_confusion_is_refused() {
    // Only a JWKS is configured: an HS256 token signed with the public key's bytes (the
    // classic confusion attack) must not verify.
    let verifier = JwtVerifier::new(JwtOptions {
        hs256_secret: None,
        ..options(Some(JwkSource::File(fixture("jwks.json"))))
    })
    .await
    .unwrap();
    let public = std::fs::read(fixture("jwks.json")).unwrap();
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(json!({})),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert!(verifier.verify(&confused).await.is_err());
    // An RS256 token whose kid names the EC key.
    let mismatched = rs256(&claims(json!({})), "ec-1");
    assert!(verifier.verify(&mismatched).await.is_err());
    // Without a JWKS, RS256 is refused outright.
    let hs_only = JwtVerifier::new(options(None)).await.unwrap();
    assert!(hs_only.verify(&rs256(&claims(json!({})), "rsa-1")).await.is_err());
}

#[tokio::test]
async fn unknown_key_ids_reload_the_jwks_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    let mut jwks: Value =
        serde_json::from_slice(&std::fs::read(fixture("jwks.json")).unwrap()).unwrap();
    let all = jwks["keys"].clone();
    jwks["keys"] = json!([all[1].clone()]);
    std::fs::write(&path, jwks.to_string()).unwrap();
    let verifier = JwtVerifier::new(options(Some(JwkSource::File(path.clone())))).await.unwrap();
    let token = rs256(&claims(json!({})), "rsa-1");
    assert!(verifier.verify(&token).await.is_err(), "key not published yet");
    // The gateway rotates in its RSA key; the next reload (rate-limited to every 30 s) or a
    // periodic refresh picks it up.
    jwks["keys"] = all;
    std::fs::write(&path, jwks.to_string()).unwrap();
    verifier.refresh().await.unwrap();
    assert_eq!(verifier.verify(&token).await.unwrap().email, "ada@example.com");
}

#[tokio::test]
async fn the_jwks_can_come_from_a_url() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    let body = std::fs::read_to_string(fixture("jwks.json")).unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
        }
    });
    let verifier = JwtVerifier::new(options(Some(JwkSource::Url(url)))).await.unwrap();
    assert_eq!(verifier.verify(&es256(&claims(json!({})))).await.unwrap().email, "ada@example.com");
    let unreachable =
        JwtVerifier::new(options(Some(JwkSource::Url("http://127.0.0.1:9/jwks".into())))).await;
    assert_eq!(unreachable.unwrap_err().kind(), sextant_core::ErrorKind::Unavailable);
}
