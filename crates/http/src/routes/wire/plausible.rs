//! Plausible `POST /api/event`: `202 ok`; bots dropped silently with `202` and
//! `x-plausible-dropped: 1`; `400 {"errors": {...}}`. The site's `domain` names the project: a
//! domain in some project's `domains` setting, or the project's write key itself.

use super::{ClientIp, project_for_key};
use crate::api::Api;
use crate::routes::raw_body;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::USER_AGENT;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use sextant_core::{InputMode, ProjectId};
use sextant_ingest::ClientHints;
use sextant_ingest::wire::plausible::parse;

pub(crate) fn api() -> Api {
    Api::new()
        .add(
            super::operation(
                Method::POST,
                "/api/event",
                "plausible",
                "Plausible Events API (the tracker script)",
            )
            .ok(202, None),
            event,
        )
        .add(
            super::operation(Method::OPTIONS, "/api/event", "plausible", "CORS preflight"),
            super::preflight,
        )
}

async fn event(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match raw_body(body) {
        Ok(body) => body,
        Err(e) => return errors("request", e),
    };
    let user_agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let parsed = match parse(&body, ClientHints { ip, user_agent }) {
        Ok(parsed) => parsed,
        Err(e) => return (StatusCode::BAD_REQUEST, Json(e)).into_response(),
    };
    let mut projects: Vec<ProjectId> = Vec::new();
    for domain in &parsed.domains {
        // A write key works as the site's domain (it is public anyway); never a secret one.
        let project = if domain.starts_with("sx_wk_") {
            project_for_key(&state, domain).await.ok()
        } else if domain.starts_with("sx_") {
            None
        } else {
            state.domains.project(&state, domain).await
        };
        if let Some(project) = project.filter(|p| !projects.contains(p)) {
            projects.push(project);
        }
    }
    if projects.is_empty() {
        let message = "no project has this domain: add it to the project's `domains` setting";
        return (StatusCode::BAD_REQUEST, Json(json!({"errors": {"domain": [message]}})))
            .into_response();
    }
    let mut dropped = false;
    for project in projects {
        let event = parsed.event.clone();
        match state.ingestor.ingest(&project, vec![event], InputMode::Api).await {
            Ok(report) if report.rejected > 0 => {
                let messages: Vec<String> = report
                    .errors
                    .iter()
                    .flat_map(|r| r.errors.iter().map(|e| e.message.clone()))
                    .collect();
                return (StatusCode::BAD_REQUEST, Json(json!({"errors": {"event": messages}})))
                    .into_response();
            }
            Ok(report) => dropped |= report.dropped > 0,
            Err(e) => return errors("request", e.into()),
        }
    }
    let mut response = (StatusCode::ACCEPTED, "ok").into_response();
    if dropped {
        response.headers_mut().insert("x-plausible-dropped", HeaderValue::from_static("1"));
    }
    response
}

fn errors(field: &str, e: ApiError) -> Response {
    let p = e.public();
    (p.status, Json(json!({"errors": {field: [p.message]}}))).into_response()
}
