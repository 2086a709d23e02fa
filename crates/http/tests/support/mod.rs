//! The in-process test application on real stores, shared by the HTTP test files.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sextant_core::{Limits, ProjectId};
use sextant_http::{AccessOptions, AppState, HttpLimits, app};
use sextant_ingest::{Committer, CommitterSettings, Ingestor, IngestorParts, RateLimits};
use sextant_meta_sql::SqlMetaStore;
use sextant_privacy::{Hasher, UserAgentParser};
use sextant_store::{EventStore, KeyKind, MetaStore, NewKey};
use sextant_store_duckdb::{DuckDbOptions, DuckDbStore};
use sextant_telemetry::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

pub struct TestApp {
    pub router: axum::Router,
    pub state: AppState,
    pub meta: Arc<SqlMetaStore>,
    pub project: ProjectId,
    pub write_key: String,
    pub secret_key: String,
    pub admin_key: String,
    _dir: tempfile::TempDir,
}

const INGEST_LIMITS: RateLimits = RateLimits { per_project: 100_000.0, per_user: 1_000.0 };

/// Tests send bursts far beyond a person's pace: API rate limits are off unless a test sets
/// them.
fn test_access() -> AccessOptions {
    AccessOptions { api_requests_per_second: 0, ..AccessOptions::default() }
}

pub async fn test_app_with(max_pending_events: usize) -> TestApp {
    build(max_pending_events, INGEST_LIMITS, test_access()).await
}

pub async fn test_app_rate_limited(rate_limits: RateLimits) -> TestApp {
    build(100_000, rate_limits, test_access()).await
}

/// The test application with the given sign-in and protection options.
pub async fn test_app_with_access(access: AccessOptions) -> TestApp {
    build(100_000, INGEST_LIMITS, access).await
}

async fn build(
    max_pending_events: usize,
    rate_limits: RateLimits,
    access: AccessOptions,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let events: Arc<dyn EventStore> =
        Arc::new(DuckDbStore::open(dir.path(), &DuckDbOptions::default()).unwrap());
    let meta = Arc::new(
        SqlMetaStore::connect(&format!("sqlite://{}/meta.sqlite", dir.path().display()))
            .await
            .unwrap(),
    );
    let metrics = Arc::new(Metrics::new());
    let settings = CommitterSettings {
        max_batch_events: 10_000,
        max_pending_events,
        retry_after: Duration::from_secs(3),
    };
    let (committer, _task) = Committer::start(Arc::clone(&events), settings, Arc::clone(&metrics));
    let parts = IngestorParts {
        limits: Limits::default(),
        max_events_per_request: 2000,
        meta: meta.clone(),
        hasher: Hasher::new("test-secret-of-16-bytes"),
        user_agents: Arc::new(UserAgentParser::new().unwrap()),
        rate_limits,
        metrics: Arc::clone(&metrics),
    };
    let ingestor = Arc::new(Ingestor::new(committer, parts));
    let org = meta.ensure_org("default").await.unwrap();
    let (project, write) = meta.create_project(&org.id, "web").await.unwrap();
    let secret = meta
        .create_key(NewKey {
            kind: KeyKind::Secret,
            project_id: Some(project.id.clone()),
            name: "t".into(),
            role: Some(sextant_core::Role::Analyst),
        })
        .await
        .unwrap();
    let admin = meta
        .create_key(NewKey { kind: KeyKind::Admin, project_id: None, name: "t".into(), role: None })
        .await
        .unwrap();
    let limits = HttpLimits {
        max_body_bytes: 1 << 20,
        request_timeout: Duration::from_secs(10),
        max_buckets: 1000,
    };
    let state = AppState::new(meta.clone(), events, ingestor, metrics, limits, access);
    TestApp {
        router: app(state.clone()),
        state,
        meta,
        project: project.id,
        write_key: write.secret,
        secret_key: secret.secret,
        admin_key: admin.secret,
        _dir: dir,
    }
}

pub async fn test_app() -> TestApp {
    test_app_with(100_000).await
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestApp {
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        body: Option<Body>,
    ) -> Reply {
        let auth = key.map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| (header::AUTHORIZATION.as_str(), a.as_str())).collect();
        self.send_raw(method, uri, &headers, body.unwrap_or_else(Body::empty)).await
    }

    /// Any request, with exactly the given headers.
    pub async fn send_raw(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.into()).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, headers, body }
    }

    /// Every stored event of the test project, newest first.
    pub async fn stored(&self) -> Vec<Value> {
        let mut events = Vec::new();
        let mut uri = "/api/v1/events?limit=1000".to_owned();
        loop {
            let page = self.get(&uri, Some(&self.secret_key)).await.body;
            events.extend(page["events"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => uri = format!("/api/v1/events?limit=1000&cursor={cursor}"),
                None => return events,
            }
        }
    }

    pub async fn post(&self, uri: &str, key: Option<&str>, body: Value) -> Reply {
        self.send(Method::POST, uri, key, Some(Body::from(body.to_string()))).await
    }

    pub async fn get(&self, uri: &str, key: Option<&str>) -> Reply {
        self.send(Method::GET, uri, key, None).await
    }
}

pub fn event(name: &str, user: &str, at: &str) -> Value {
    json!({"event": name, "user_id": user, "timestamp": at})
}

pub fn recent(hours_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours_ago)).to_rfc3339()
}
