//! `GET /api/v1/audit`: the audit log, newest first, for admins of what it covers.

use crate::api::{Api, Operation, schema_of};
use crate::auth::{Caller, ProjectParam};
use crate::routes::{page_limit, query_params, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sextant_access::Permission;
use sextant_core::parse_timestamp;
use sextant_store::{AuditFilter, AuditRecord};

/// Records per page unless `limit` says otherwise.
const DEFAULT_PAGE: usize = 100;

pub(crate) fn api() -> Api {
    Api::new().add(
        Operation::get(
            "/api/v1/audit",
            "list_audit",
            "Who read or changed what: the audit log, newest first (admins)",
        )
        .tag(tags::AUDIT)
        .project_param()
        .query(
            "organization",
            "Organization id or name (instance admin keys; organization admins see their own)",
            json!({"type": "string"}),
        )
        .query("actor", "Only this actor: user:<id> or key:<id>", json!({"type": "string"}))
        .query("action", "Only this operation, e.g. run_query", json!({"type": "string"}))
        .query(
            "since",
            "RFC 3339 time, inclusive",
            json!({"type": "string", "format": "date-time"}),
        )
        .query(
            "until",
            "RFC 3339 time, exclusive",
            json!({"type": "string", "format": "date-time"}),
        )
        .query(
            "limit",
            "Page size, 1 to 1000 (default 100)",
            json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        )
        .query("cursor", "The previous page's next_cursor", json!({"type": "string"}))
        .ok(200, Some(schema_of::<AuditPage>())),
        list,
    )
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    organization: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct AuditPage {
    records: Vec<AuditRecord>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// A project's admins see its records (`?project=`); organization admins their
/// organization's; instance admin keys everyone's (narrowed by `?organization=`).
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ProjectParam(project): ProjectParam,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let p = query_params(params)?;
    let mut filter = AuditFilter::default();
    let instance = caller.instance().is_ok();
    let project_key = caller.key().is_some() && !instance;
    if project.is_some() || project_key {
        let access = caller.project(&state, project.as_deref(), Permission::Administer).await?;
        filter.project_id = Some(access.project.id);
    } else if !instance || p.organization.is_some() {
        filter.org_id = Some(caller.organization(&state, p.organization.as_deref()).await?.id);
    }
    let time = |name: &str, text: Option<String>| {
        text.map(|t| {
            parse_timestamp(&t).ok_or_else(|| {
                ApiError::invalid(format!(
                    "`{name}` must be an RFC 3339 time such as 2026-12-01T00:00:00Z"
                ))
            })
        })
        .transpose()
    };
    filter.since = time("since", p.since)?;
    filter.until = time("until", p.until)?;
    filter.actor = p.actor;
    filter.action = p.action;
    filter.before_id = p.cursor;
    let limit = page_limit(p.limit, DEFAULT_PAGE)?;
    filter.limit = limit + 1;
    let mut records = state.meta.list_audit(&filter).await?;
    let next_cursor = if records.len() > limit {
        records.truncate(limit);
        records.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Json(AuditPage { records, next_cursor }))
}
