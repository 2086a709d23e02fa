//! The permission matrix: every operation of `/api/openapi.json`, called by every kind of
//! caller (no credentials, a write key, a secret key of each role, an instance admin key,
//! people of each role by login session and by gateway JWT, a project-only admin) on their
//! own project and on another organization's, must be allowed or refused exactly as
//! `tests/fixtures/access/matrix.json` says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use sextant_access::{JwtOptions, JwtVerifier, RoleMapping};
use sextant_core::{Grant, OrgId, ProjectId, Role};
use sextant_http::{AccessOptions, Gateway};
use sextant_store::{KeyKind, MetaStore, NewKey, NewUser};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use support::{TestApp, test_app_with_access};

const JWT_SECRET: &str = "matrix-gateway-secret-of-32-bytes!!";
const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone)]
enum Auth {
    None,
    Bearer(String),
    Session { cookie: String, csrf: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Anonymous,
    WriteKey,
    Secret(Role),
    Instance,
    /// A person with `role` on the whole organization, or on the own project only.
    Person {
        role: Role,
        project_only: bool,
        session: bool,
    },
}

#[derive(Debug, Clone)]
struct Caller {
    name: String,
    kind: Kind,
    auth: Auth,
    email: Option<String>,
}

impl Caller {
    fn key(&self) -> Option<&str> {
        match (&self.kind, &self.auth) {
            (Kind::WriteKey | Kind::Secret(_) | Kind::Instance, Auth::Bearer(key)) => Some(key),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Target {
    org: OrgId,
    org_name: String,
    project: ProjectId,
}

struct World {
    t: TestApp,
    own: Target,
    other: Target,
    callers: Vec<Caller>,
    unique: AtomicU64,
}

fn role_claim(role: Role) -> String {
    format!("sx-{role}")
}

async fn world() -> World {
    let role_map = Role::ALL
        .iter()
        .map(|r| RoleMapping { claim_value: role_claim(*r), role: *r, project: None })
        .collect();
    let verifier = JwtVerifier::new(JwtOptions {
        hs256_secret: Some(JWT_SECRET.into()),
        jwks: None,
        issuer: None,
        audience: Some("sextant".into()),
        email_claim: "email".into(),
        name_claim: "name".into(),
        roles_claim: "roles".into(),
        role_map,
        leeway: std::time::Duration::from_secs(5),
    })
    .await
    .unwrap();
    let access = AccessOptions {
        api_requests_per_second: 0,
        login_attempts_per_minute: 1_000_000,
        gateway: Some(Gateway::new(verifier, "authorization".into(), "default".into())),
        ..AccessOptions::default()
    };
    let t = test_app_with_access(access).await;
    let meta = t.meta.clone();
    let default = meta.ensure_org("default").await.unwrap();
    let own =
        Target { org: default.id.clone(), org_name: default.name, project: t.project.clone() };
    let globex = meta.ensure_org("globex").await.unwrap();
    let (shop, _) = meta.create_project(&globex.id, "shop").await.unwrap();
    let other = Target { org: globex.id, org_name: globex.name, project: shop.id };

    let hash = sextant_access::hash_password(PASSWORD).unwrap().as_str().to_owned();
    let person = |email: &str, grant: Grant| NewUser {
        org_id: own.org.clone(),
        email: email.into(),
        name: None,
        password_hash: Some(hash.clone()),
        grants: vec![grant],
    };
    meta.create_user(person(
        "matrix-login@example.com",
        Grant { project: None, role: Role::Viewer },
    ))
    .await
    .unwrap();

    let mut callers = vec![
        Caller { name: "anonymous".into(), kind: Kind::Anonymous, auth: Auth::None, email: None },
        Caller {
            name: "write key".into(),
            kind: Kind::WriteKey,
            auth: Auth::Bearer(t.write_key.clone()),
            email: None,
        },
        Caller {
            name: "instance admin key".into(),
            kind: Kind::Instance,
            auth: Auth::Bearer(t.admin_key.clone()),
            email: None,
        },
    ];
    for role in Role::ALL {
        let key = meta
            .create_key(NewKey {
                kind: KeyKind::Secret,
                project_id: Some(own.project.clone()),
                name: format!("{role} token"),
                role: Some(role),
            })
            .await
            .unwrap();
        callers.push(Caller {
            name: format!("{role} secret key"),
            kind: Kind::Secret(role),
            auth: Auth::Bearer(key.secret),
            email: None,
        });
        let email = format!("session-{role}@example.com");
        meta.create_user(person(&email, Grant { project: None, role })).await.unwrap();
        callers.push(Caller {
            name: format!("{role} by session"),
            kind: Kind::Person { role, project_only: false, session: true },
            auth: login(&t, &email).await,
            email: Some(email),
        });
        callers.push(Caller {
            name: format!("{role} by gateway JWT"),
            kind: Kind::Person { role, project_only: false, session: false },
            auth: Auth::Bearer(jwt(&format!("jwt-{role}@example.com"), role)),
            email: None,
        });
    }
    let email = "project-admin@example.com";
    meta.create_user(person(
        email,
        Grant { project: Some(own.project.clone()), role: Role::Admin },
    ))
    .await
    .unwrap();
    callers.push(Caller {
        name: "project-only admin by session".into(),
        kind: Kind::Person { role: Role::Admin, project_only: true, session: true },
        auth: login(&t, email).await,
        email: Some(email.into()),
    });
    World { t, own, other, callers, unique: AtomicU64::new(0) }
}

fn jwt(email: &str, role: Role) -> String {
    let claims = json!({
        "email": email, "aud": "sextant", "roles": [role_claim(role)],
        "exp": chrono::Utc::now().timestamp() + 3600,
    });
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn login(t: &TestApp, email: &str) -> Auth {
    let reply = t
        .send_raw(
            Method::POST,
            "/api/v1/auth/login",
            &[("content-type", "application/json")],
            json!({"email": email, "password": PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "login {email}: {}", reply.body);
    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    Auth::Session { cookie, csrf: reply.body["csrf_token"].as_str().unwrap().to_owned() }
}

/// What the fixture says the caller may do on `target` (`None` for operations without one).
fn allowed(
    needs: &str,
    permissions: &BTreeMap<String, Vec<String>>,
    caller: &Caller,
    own: bool,
) -> bool {
    let may =
        |role: Role, permission: &str| permissions[role.as_str()].iter().any(|p| p == permission);
    match needs {
        "public" => true,
        "authenticated" => caller.kind != Kind::Anonymous,
        "people_or_instance" => matches!(caller.kind, Kind::Person { .. } | Kind::Instance),
        "instance" => caller.kind == Kind::Instance,
        "session" => matches!(caller.kind, Kind::Person { session: true, .. }),
        "org_admin" => match caller.kind {
            Kind::Instance => true,
            Kind::Person { role: Role::Admin, project_only: false, .. } => own,
            _ => false,
        },
        "ingest" => match caller.kind {
            Kind::WriteKey => true,
            Kind::Secret(role) => may(role, "ingest"),
            _ => false,
        },
        "ingest_write_key" => caller.kind == Kind::WriteKey,
        project => {
            let permission =
                project.strip_prefix("project:").unwrap_or_else(|| panic!("unknown need {needs}"));
            match caller.kind {
                Kind::Anonymous => false,
                Kind::Instance => true,
                Kind::WriteKey => false,
                Kind::Secret(role) | Kind::Person { role, .. } => own && may(role, permission),
            }
        }
    }
}

impl World {
    fn unique(&self) -> String {
        format!("matrix{}", self.unique.fetch_add(1, Ordering::Relaxed))
    }

    /// Replaces `$...` placeholders in every string of `value`.
    async fn fill(&self, value: &Value, target: &Target, key: &str) -> Value {
        match value {
            Value::String(s) if s == "$now_ms" => json!(chrono::Utc::now().timestamp_millis()),
            Value::String(s) => Value::String(self.fill_text(s, target, key).await),
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(Box::pin(self.fill(item, target, key)).await);
                }
                Value::Array(out)
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), Box::pin(self.fill(v, target, key)).await);
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    async fn fill_text(&self, text: &str, target: &Target, key: &str) -> String {
        let mut text = text
            .replace("$key", key)
            .replace("$project", target.project.as_str())
            .replace("$org", &target.org_name);
        if text.contains("$unique") {
            text = text.replace("$unique", &self.unique());
        }
        if text.contains("$new_key") {
            let created = self
                .t
                .meta
                .create_key(NewKey {
                    kind: KeyKind::Secret,
                    project_id: Some(target.project.clone()),
                    name: "to revoke".into(),
                    role: Some(Role::Viewer),
                })
                .await
                .unwrap();
            text = text.replace("$new_key", &created.key.id);
        }
        if text.contains("$user") {
            let user = self
                .t
                .meta
                .create_user(NewUser {
                    org_id: target.org.clone(),
                    email: format!("{}@example.com", self.unique()),
                    name: None,
                    password_hash: None,
                    grants: vec![],
                })
                .await
                .unwrap();
            text = text.replace("$user", &user.id);
        }
        text
    }
}

fn form(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_by_every_caller_on_own_and_other_projects() {
    let w = world().await;
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/access/matrix.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let permissions: BTreeMap<String, Vec<String>> =
        serde_json::from_value(fixture["permissions"].clone()).unwrap();
    let operations = fixture["operations"].as_object().unwrap();
    let document = sextant_http::openapi(&w.t.state).document().clone();

    let mut seen = Vec::new();
    let mut failures = Vec::new();
    let mut requests = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, spec) in item.as_object().unwrap() {
            let id = spec["operationId"].as_str().unwrap();
            seen.push(id.to_owned());
            let Some(entry) = operations.get(id) else {
                failures.push(format!("{id}: not in tests/fixtures/access/matrix.json"));
                continue;
            };
            let needs = entry["needs"].as_str().unwrap();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let has_project_param = spec["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "project" && p["in"] == "query"));
            let scoped = needs.starts_with("project:") || needs == "org_admin";
            let targets: Vec<(bool, &Target)> =
                if scoped { vec![(true, &w.own), (false, &w.other)] } else { vec![(true, &w.own)] };
            let keyed = entry.get("credential").is_some();
            for caller in &w.callers {
                for (own, target) in &targets {
                    let mut caller = caller.clone();
                    if entry["fresh_session"] == true
                        && let Some(email) = &caller.email
                    {
                        caller.auth = login(&w.t, email).await;
                    }
                    let key = caller.key().unwrap_or_default().to_owned();
                    let mut uri = path.replace("{project}", target.project.as_str());
                    for (name, value) in entry["path"].as_object().into_iter().flatten() {
                        let value = w.fill_text(value.as_str().unwrap(), target, &key).await;
                        uri = uri.replace(&format!("{{{name}}}"), &value);
                    }
                    let mut query: Vec<(String, String)> = Vec::new();
                    for (name, value) in entry["query"].as_object().into_iter().flatten() {
                        let values = match value {
                            Value::Array(items) => items.clone(),
                            other => vec![other.clone()],
                        };
                        for v in values {
                            query.push((
                                name.clone(),
                                w.fill_text(v.as_str().unwrap(), target, &key).await,
                            ));
                        }
                    }
                    if has_project_param {
                        query.push(("project".into(), target.project.to_string()));
                    }
                    if !query.is_empty() {
                        uri = format!("{uri}?{}", form(&query));
                    }
                    let mut headers: Vec<(String, String)> = Vec::new();
                    let body = if let Some(fields) = entry.get("form") {
                        let mut pairs = Vec::new();
                        for (name, value) in fields.as_object().unwrap() {
                            pairs.push((
                                name.clone(),
                                w.fill_text(value.as_str().unwrap(), target, &key).await,
                            ));
                        }
                        headers.push((
                            "content-type".into(),
                            "application/x-www-form-urlencoded".into(),
                        ));
                        form(&pairs)
                    } else if let Some(body) = entry.get("body") {
                        headers.push(("content-type".into(), "application/json".into()));
                        w.fill(body, target, &key).await.to_string()
                    } else {
                        String::new()
                    };
                    headers.push((
                        "user-agent".into(),
                        "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36".into(),
                    ));
                    match (entry["credential"].as_str(), &caller.auth) {
                        (Some("bearer"), _) if !key.is_empty() => {
                            headers.push(("authorization".into(), format!("Bearer {key}")));
                        }
                        (Some("basic_user"), _) if !key.is_empty() => {
                            use base64::Engine;
                            let basic =
                                base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
                            headers.push(("authorization".into(), format!("Basic {basic}")));
                        }
                        (Some(_), _) => {}
                        (None, Auth::Bearer(token)) => {
                            headers.push(("authorization".into(), format!("Bearer {token}")));
                        }
                        (None, Auth::Session { cookie, csrf }) => {
                            headers.push(("cookie".into(), cookie.clone()));
                            headers.push(("x-csrf-token".into(), csrf.clone()));
                        }
                        (None, Auth::None) => {}
                    }
                    let header_refs: Vec<(&str, &str)> =
                        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                    let reply = w.t.send_raw(method.clone(), &uri, &header_refs, body).await;
                    requests += 1;
                    let expected = allowed(needs, &permissions, &caller, *own);
                    let refusals: &[u16] = if keyed { &[400, 401, 403] } else { &[401, 403, 404] };
                    let ok = if expected {
                        reply.status.is_success()
                    } else {
                        refusals.contains(&reply.status.as_u16())
                            && (caller.kind != Kind::Anonymous
                                || keyed
                                || reply.status == StatusCode::UNAUTHORIZED)
                    };
                    if !ok {
                        failures.push(format!(
                            "{id} {method} {uri} by {} on {} project: expected {}, got {} {}",
                            caller.name,
                            if *own { "own" } else { "other" },
                            if expected { "success" } else { "refusal" },
                            reply.status,
                            reply.body.to_string().chars().take(200).collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    let stale: Vec<&String> = operations.keys().filter(|id| !seen.contains(id)).collect();
    assert!(stale.is_empty(), "fixture entries for operations that do not exist: {stale:?}");
    assert!(
        failures.is_empty(),
        "{} of {requests} requests went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(seen.len() >= 70 && requests > 1500, "{} operations, {requests} requests", seen.len());
}
