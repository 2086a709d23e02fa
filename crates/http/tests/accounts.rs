//! Sign-in and protection, end to end through the router: login sessions with CSRF, gateway
//! JWTs, per-key rate limits, security headers and CORS, the audit log, and the API
//! description.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use sextant_access::{JwtOptions, JwtVerifier, RoleMapping};
use sextant_core::{Grant, Role};
use sextant_http::{AccessOptions, Gateway};
use sextant_store::{MetaStore, NewUser};
use support::{TestApp, test_app, test_app_with_access};

const PASSWORD: &str = "correct horse battery";
const JWT_SECRET: &str = "accounts-gateway-secret-of-32-bytes";

async fn user(t: &TestApp, email: &str, grants: Vec<Grant>) -> sextant_store::User {
    let org = t.meta.ensure_org("default").await.unwrap();
    let hash = sextant_access::hash_password(PASSWORD).unwrap().as_str().to_owned();
    t.meta
        .create_user(NewUser {
            org_id: org.id,
            email: email.into(),
            name: None,
            password_hash: Some(hash),
            grants,
        })
        .await
        .unwrap()
}

async fn login(t: &TestApp, email: &str, password: &str) -> support::Reply {
    t.send_raw(
        Method::POST,
        "/api/v1/auth/login",
        &[("content-type", "application/json"), ("x-forwarded-for", "203.0.113.7")],
        json!({"email": email, "password": password}).to_string(),
    )
    .await
}

fn session_of(reply: &support::Reply) -> (String, String) {
    let cookie =
        reply.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    (cookie, reply.body["csrf_token"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_need_csrf_on_changes_and_end_on_logout_or_disable() {
    let t = test_app().await;
    let ada = user(&t, "ada@example.com", vec![Grant { project: None, role: Role::Admin }]).await;
    let wrong = login(&t, "ada@example.com", "not the password").await;
    let unknown = login(&t, "nobody@example.com", PASSWORD).await;
    assert_eq!(
        (wrong.status, unknown.status),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(wrong.body, unknown.body, "the answer does not tell which emails exist");

    let ok = login(&t, "Ada@Example.com", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let set_cookie = ok.headers["set-cookie"].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http in tests");
    assert_eq!(ok.body["user"]["email"], "ada@example.com");
    assert_eq!(ok.body["projects"][0]["role"], "admin");
    let (cookie, csrf) = session_of(&ok);

    let me = t.send_raw(Method::GET, "/api/v1/auth/me", &[("cookie", &cookie)], "").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["csrf_token"], csrf.as_str());
    assert_eq!(me.body["via"], "session");

    let settings = format!("/api/v1/projects/{}/settings", t.project);
    let patch = json!({"retention_days": 90}).to_string();
    let forged = t
        .send_raw(
            Method::PATCH,
            &settings,
            &[("cookie", &cookie), ("content-type", "application/json")],
            patch.clone(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.body["error"]["code"], "csrf_failed");
    let wrong_token = t
        .send_raw(
            Method::PATCH,
            &settings,
            &[("cookie", &cookie), ("x-csrf-token", "00"), ("content-type", "application/json")],
            patch.clone(),
        )
        .await;
    assert_eq!(wrong_token.body["error"]["code"], "csrf_failed");
    let changed = t
        .send_raw(
            Method::PATCH,
            &settings,
            &[("cookie", &cookie), ("x-csrf-token", &csrf), ("content-type", "application/json")],
            patch,
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["retention_days"], 90);

    let logout = t
        .send_raw(
            Method::POST,
            "/api/v1/auth/logout",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            "",
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(logout.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let after = t.send_raw(Method::GET, "/api/v1/auth/me", &[("cookie", &cookie)], "").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "logged out at once on this node");

    // Disabling (by another admin key) ends sessions and refuses logins.
    let (cookie, _) = session_of(&login(&t, "ada@example.com", PASSWORD).await);
    let disabled = t
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", ada.id),
            Some(&t.admin_key),
            Some(json!({"disabled": true}).to_string().into()),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    let me = t.send_raw(Method::GET, "/api/v1/auth/me", &[("cookie", &cookie)], "").await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&t, "ada@example.com", PASSWORD).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_rate_limited_per_email() {
    let t = test_app_with_access(AccessOptions {
        api_requests_per_second: 0,
        login_attempts_per_minute: 3,
        ..AccessOptions::default()
    })
    .await;
    user(&t, "eve@example.com", vec![]).await;
    for _ in 0..3 {
        assert_eq!(
            login(&t, "eve@example.com", "guess-guess-guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = login(&t, "eve@example.com", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(limited.headers.contains_key("retry-after"));
}

async fn gateway_app_options(header: &str) -> AccessOptions {
    {
        let verifier = JwtVerifier::new(JwtOptions {
            hs256_secret: Some(JWT_SECRET.into()),
            jwks: None,
            issuer: Some("https://idp.example.com/".into()),
            audience: None,
            email_claim: "email".into(),
            name_claim: "name".into(),
            roles_claim: "groups".into(),
            role_map: vec![
                RoleMapping { claim_value: "analytics".into(), role: Role::Analyst, project: None },
                RoleMapping {
                    claim_value: "web-admins".into(),
                    role: Role::Admin,
                    project: Some("web".into()),
                },
            ],
            leeway: std::time::Duration::from_secs(5),
        })
        .await
        .unwrap();
        AccessOptions {
            api_requests_per_second: 0,
            gateway: Some(Gateway::new(verifier, header.into(), "default".into())),
            ..AccessOptions::default()
        }
    }
}

fn token(email: &str, groups: &[&str], exp_in: i64) -> String {
    let claims = json!({"email": email, "name": "Grace", "groups": groups, "iss": "https://idp.example.com/", "exp": chrono::Utc::now().timestamp() + exp_in});
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_jwts_create_users_and_map_their_roles() {
    let t = test_app_with_access(gateway_app_options("x-forwarded-access-token").await).await;
    let header = |jwt: &str| vec![("x-forwarded-access-token", jwt.to_owned())];
    let get = |uri: &str, jwt: String| {
        let t = &t;
        let uri = uri.to_owned();
        async move {
            let h = header(&jwt);
            let refs: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
            t.send_raw(Method::GET, &uri, &refs, "").await
        }
    };
    let me = get("/api/v1/auth/me", token("grace@example.com", &["analytics"], 300)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["via"], "jwt");
    assert_eq!(me.body["user"]["email"], "grace@example.com");
    assert_eq!(me.body["user"]["grants"], json!([{"role": "analyst"}]));
    let stored = t.meta.find_user_by_email("grace@example.com").await.unwrap().unwrap();
    assert!(!stored.user.has_password, "gateway users have no password");

    let events = format!("/api/v1/events?project={}", t.project);
    assert_eq!(
        get(&events, token("grace@example.com", &["analytics"], 300)).await.status,
        StatusCode::OK
    );
    let settings = format!("/api/v1/projects/{}/settings", t.project);
    assert_eq!(
        get(&settings, token("grace@example.com", &["analytics"], 300)).await.status,
        StatusCode::FORBIDDEN
    );
    // A new token with another group: the roles follow the token.
    let promoted = get(&settings, token("grace@example.com", &["web-admins"], 300)).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    let none = get(&events, token("grace@example.com", &[], 300)).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "no role: the project is invisible");

    let expired = get(&events, token("grace@example.com", &["analytics"], -120)).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.body["error"]["message"].as_str().unwrap().contains("JWT"), "{}", expired.body);
    let forged = {
        let claims = json!({"email": "grace@example.com", "groups": ["web-admins"], "iss": "https://idp.example.com/", "exp": chrono::Utc::now().timestamp() + 300});
        jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"not-the-gateway-secret-at-all-32b"),
        )
        .unwrap()
    };
    assert_eq!(get(&settings, forged).await.status, StatusCode::UNAUTHORIZED);

    // Disabled in Sextant: the gateway's word is not enough.
    let id = stored.user.id;
    let off = t
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&t.admin_key),
            Some(json!({"disabled": true}).to_string().into()),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(
        get(&events, token("grace@example.com", &["analytics", "x"], 301)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_requests_are_rate_limited_per_key() {
    // One request per second, bursts of two: the sixth request within a few seconds is refused
    // however slow the machine (each takes milliseconds).
    let t = test_app_with_access(AccessOptions {
        api_requests_per_second: 1,
        ..AccessOptions::default()
    })
    .await;
    let uri = format!("/api/v1/stats?project={}", t.project);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(t.get(&uri, Some(&t.secret_key)).await.status);
    }
    assert!(
        statuses[..2].iter().all(|s| *s == StatusCode::OK),
        "a burst of twice the rate: {statuses:?}"
    );
    assert_eq!(*statuses.last().unwrap(), StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    let limited = t.get(&uri, Some(&t.secret_key)).await;
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    // Other keys keep their own budget; ingestion with write keys is limited separately.
    assert_eq!(t.get(&uri, Some(&t.admin_key)).await.status, StatusCode::OK);
    let sent = t
        .post(
            "/api/v1/events",
            Some(&t.write_key),
            json!([support::event("x", "u", &support::recent(0))]),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_security_headers_and_strict_cors() {
    let t = test_app_with_access(AccessOptions {
        api_requests_per_second: 0,
        cors_allowed_origins: vec!["https://app.example.com".into()],
        ..AccessOptions::default()
    })
    .await;
    let reply = t.get("/api/v1/projects", Some(&t.admin_key)).await;
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ] {
        assert_eq!(reply.headers[name], value, "{name}");
    }
    let preflight = |origin: &'static str, uri: &'static str| {
        let t = &t;
        async move {
            let headers = [("origin", origin), ("access-control-request-method", "POST")];
            t.send_raw(Method::OPTIONS, uri, &headers, "").await
        }
    };
    let allowed = preflight("https://app.example.com", "/api/v1/query").await;
    assert_eq!(allowed.headers["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(allowed.headers["access-control-allow-credentials"], "true");
    let other = preflight("https://evil.example", "/api/v1/query").await;
    assert!(!other.headers.contains_key("access-control-allow-origin"), "{:?}", other.headers);
    // Browser SDKs send events from any site.
    let sdk = preflight("https://shop.example", "/batch/").await;
    assert_eq!(sdk.headers["access-control-allow-origin"], "https://shop.example");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_records_who_did_what_without_addresses() {
    let t = test_app().await;
    let query =
        json!({"kind": "trends", "series": [{"event": "x"}], "date_range": {"from": "-1d"}});
    let ran = t
        .send_raw(
            Method::POST,
            "/api/v1/query",
            &[
                ("authorization", &format!("Bearer {}", t.secret_key)),
                ("content-type", "application/json"),
                ("x-forwarded-for", "198.51.100.23"),
            ],
            query.to_string(),
        )
        .await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.body);
    t.get("/api/v1/events", Some("sx_sk_wrong")).await;
    t.post(
        "/api/v1/events",
        Some(&t.write_key),
        json!([support::event("x", "u", &support::recent(0))]),
    )
    .await;
    let admin_user =
        user(&t, "root@example.com", vec![Grant { project: None, role: Role::Admin }]).await;
    let (cookie, _) = session_of(&login(&t, "root@example.com", PASSWORD).await);

    let page = t.send_raw(Method::GET, "/api/v1/audit?limit=50", &[("cookie", &cookie)], "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let records = page.body["records"].as_array().unwrap();
    let actions: Vec<&str> = records.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["login", "run_query"],
        "newest first; ingestion is not audited: {records:#?}"
    );
    let query_record = &records[1];
    assert_eq!(query_record["via"], "api_key");
    assert!(query_record["actor"].as_str().unwrap().starts_with("key:"));
    assert_eq!(query_record["project_id"], t.project.as_str());
    assert_eq!(query_record["status"], 200);
    let hash = query_record["ip_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 16);
    assert!(!page.body.to_string().contains("198.51.100.23"), "addresses only as hashes");
    assert_eq!(records[0]["actor"], format!("user:{}", admin_user.id));

    // The unknown key's 401 has no organization: only the instance admin sees it.
    let all = t.get("/api/v1/audit?limit=50", Some(&t.admin_key)).await;
    let anonymous: Vec<&Value> = all.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "anonymous")
        .collect();
    assert_eq!(anonymous.len(), 1, "{}", all.body);
    assert_eq!(anonymous[0]["status"], 401);
    // Filters and pages.
    let only_queries = t.get("/api/v1/audit?action=run_query", Some(&t.admin_key)).await;
    assert_eq!(only_queries.body["records"].as_array().unwrap().len(), 1);
    let first = t.get("/api/v1/audit?limit=1", Some(&t.admin_key)).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = t.get(&format!("/api/v1/audit?limit=1&cursor={cursor}"), Some(&t.admin_key)).await;
    assert_ne!(first.body["records"][0]["id"], second.body["records"][0]["id"]);
    // A project's analyst token cannot read the log.
    let refused = t.get("/api/v1/audit", Some(&t.secret_key)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_description_is_served_and_consistent() {
    let t = test_app().await;
    let spec = t.get("/api/openapi.json", None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], "3.1.0");
    let text = spec.body.to_string();
    let mut ids = std::collections::HashSet::new();
    for item in spec.body["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "duplicate {}",
                op["operationId"]
            );
        }
    }
    // Every reference resolves.
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        let name =
            target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}"));
        assert!(spec.body["components"]["schemas"].get(name).is_some(), "{target} is not defined");
    }
    let page = t.get("/docs", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.as_str().unwrap().contains("/docs/swagger-ui-bundle.js"));
    let bundle = t.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.headers["content-encoding"], "gzip");
}
