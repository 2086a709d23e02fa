//! `GET /api/v1/jobs`: the latest runs of scheduled jobs (which node ran which slot, and how it
//! went), for instance admins watching a single node or a cluster.

use crate::api::{Api, Operation, schema_of};
use crate::auth::Caller;
use crate::routes::{page_limit, query_params, tags};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sextant_store::JobRun;

pub(crate) fn api() -> Api {
    Api::new().add(
        Operation::get(
            "/api/v1/jobs",
            "list_job_runs",
            "The latest runs of scheduled jobs, newest first, with the node that ran each (instance admin key)",
        )
        .tag(tags::ADMIN)
        .query(
            "limit",
            "How many runs, 1 to 1000 (default 100)",
            json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        )
        .ok(200, Some(schema_of::<JobRunList>())),
        list,
    )
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JobRunList {
    runs: Vec<JobRun>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<JobRunList>, ApiError> {
    caller.instance()?;
    let limit = page_limit(query_params(params)?.limit, 100)?;
    Ok(Json(JobRunList { runs: state.meta.list_job_runs(limit).await? }))
}
