//! Amplitude's Dashboard REST API (`GET /api/2/...`), so Amplitude API clients can query
//! Sextant unchanged. A request is read into Sextant query specs (`params`, `segmentation`,
//! `specs`), run like any query (`routes::query::execute`), and answered in Amplitude's shapes
//! (`shape`). Credentials are HTTP Basic `api_key:secret_key`: the project's write key and one
//! of its secret keys. Errors are `{"code": <status>, "error": "<message>"}` with the status
//! from `error::status_of`.

mod params;
mod segmentation;
mod shape;
mod specs;

use crate::auth::{self, Action};
use crate::error::with_retry_after;
use crate::routes::query::{execute, plan_options};
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use params::Params;
use serde_json::{Value, json};
use sextant_core::{ErrorKind, ProjectId};
use sextant_query::{FunnelQuery, PlanOptions, Query as SextantQuery, QueryResult};
use shape::SessionMeasure;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Most Dashboard API requests one project may have running at once (Amplitude's limit too);
/// more get a 429.
pub(crate) const MAX_RUNNING_PER_PROJECT: usize = 5;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/2/events/segmentation", get(event_segmentation))
        .route("/api/2/funnels", get(funnels))
        .route("/api/2/retention", get(retention))
        .route("/api/2/users", get(users))
        .route("/api/2/sessions/average", get(sessions_average))
        .route("/api/2/sessions/peruser", get(sessions_per_user))
        .route("/api/2/sessions/length", get(sessions_length))
}

type QueryString = Result<Query<Vec<(String, String)>>, QueryRejection>;

async fn event_segmentation(
    State(state): State<AppState>,
    headers: HeaderMap,
    qs: QueryString,
) -> Response {
    serve(state, headers, qs, segmentation::SEGMENTATION, |state, opts, p| async move {
        let spec = segmentation::segmentation(&p).map_err(ApiError::invalid)?;
        let QueryResult::Trends(result) =
            run(&state, &opts, SextantQuery::Trends(spec.query.clone())).await?
        else {
            return Err(mismatch("trends"));
        };
        Ok(shape::segmentation(&spec, &result))
    })
    .await
}

async fn funnels(State(state): State<AppState>, headers: HeaderMap, qs: QueryString) -> Response {
    serve(state, headers, qs, specs::FUNNELS, |state, opts, p| async move {
        let spec = specs::funnel(&p).map_err(ApiError::invalid)?;
        let funnel = |query: FunnelQuery| {
            let (state, opts) = (&state, &opts);
            async move {
                match run(state, opts, SextantQuery::Funnel(query)).await? {
                    QueryResult::Funnel(result) => Ok(result),
                    _ => Err(mismatch("funnel")),
                }
            }
        };
        let result = funnel(spec.query.clone()).await?;
        // Per day of entry, people reaching each step: the conversion trends of the funnel
        // cut after each step (without groups only).
        let days = if spec.grouped {
            None
        } else {
            let trend = &result.conversion_trend;
            let mut days = vec![trend.entered.clone()];
            for last in 1..spec.query.steps.len() - 1 {
                days.push(funnel(spec.through(last)).await?.conversion_trend.completed);
            }
            days.push(trend.completed.clone());
            Some(days)
        };
        Ok(shape::funnel(&result, days.as_deref()))
    })
    .await
}

async fn retention(State(state): State<AppState>, headers: HeaderMap, qs: QueryString) -> Response {
    serve(state, headers, qs, specs::RETENTION, |state, opts, p| async move {
        let spec = specs::retention(&p).map_err(ApiError::invalid)?;
        let QueryResult::Retention(result) =
            run(&state, &opts, SextantQuery::Retention(spec.query.clone())).await?
        else {
            return Err(mismatch("retention"));
        };
        Ok(shape::retention(&spec, &result, opts.now))
    })
    .await
}

async fn users(State(state): State<AppState>, headers: HeaderMap, qs: QueryString) -> Response {
    serve(state, headers, qs, specs::USERS, |state, opts, p| async move {
        match specs::users(&p).map_err(ApiError::invalid)? {
            specs::Users::Active { query, grouped } => {
                match run(&state, &opts, SextantQuery::Trends(query)).await? {
                    QueryResult::Trends(result) => Ok(shape::active_users(&result, grouped)),
                    _ => Err(mismatch("trends")),
                }
            }
            specs::Users::New(query) => {
                match run(&state, &opts, SextantQuery::Lifecycle(query)).await? {
                    QueryResult::Lifecycle(result) => Ok(shape::new_users(&result)),
                    _ => Err(mismatch("lifecycle")),
                }
            }
        }
    })
    .await
}

async fn sessions_average(
    State(state): State<AppState>,
    headers: HeaderMap,
    qs: QueryString,
) -> Response {
    sessions(state, headers, qs, specs::SESSIONS, SessionMeasure::Average).await
}

async fn sessions_per_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    qs: QueryString,
) -> Response {
    sessions(state, headers, qs, specs::SESSIONS, SessionMeasure::PerUser).await
}

async fn sessions_length(
    State(state): State<AppState>,
    headers: HeaderMap,
    qs: QueryString,
) -> Response {
    sessions(state, headers, qs, specs::SESSION_LENGTH, SessionMeasure::Length).await
}

async fn sessions(
    state: AppState,
    headers: HeaderMap,
    qs: QueryString,
    known: &'static [&'static str],
    measure: SessionMeasure,
) -> Response {
    serve(state, headers, qs, known, move |state, opts, p| async move {
        let spec = specs::sessions(&p).map_err(ApiError::invalid)?;
        let QueryResult::Sessions(result) =
            run(&state, &opts, SextantQuery::Sessions(spec.query.clone())).await?
        else {
            return Err(mismatch("sessions"));
        };
        Ok(shape::sessions(measure, &result, &spec.bins))
    })
    .await
}

/// What every endpoint does around its own work: authenticate, read the query string (only
/// the `known` names), hold one of the project's running-request slots, then answer.
async fn serve<F, Fut>(
    state: AppState,
    headers: HeaderMap,
    qs: QueryString,
    known: &[&str],
    answer: F,
) -> Response
where
    F: FnOnce(AppState, PlanOptions, Params) -> Fut,
    Fut: Future<Output = Result<Value, ApiError>>,
{
    let outcome = async {
        let project = project(&state, &headers).await?;
        let Query(pairs) = qs.map_err(|e| ApiError::invalid(e.body_text()))?;
        let params = Params::new(pairs, known).map_err(ApiError::invalid)?;
        let _slot = state.amplitude_running.take(&project).ok_or_else(|| {
            let message = format!(
                "too many concurrent requests: at most {MAX_RUNNING_PER_PROJECT} Dashboard API \
                 requests per project run at once"
            );
            ApiError {
                retry_after: Some(Duration::from_secs(1)),
                ..ApiError::new(ErrorKind::RateLimited, message)
            }
        })?;
        let opts = plan_options(&state, project);
        answer(state, opts, params).await
    }
    .await;
    match outcome {
        Ok(body) => Json(body).into_response(),
        Err(e) => {
            let public = e.public();
            let body = json!({"code": public.status.as_u16(), "error": public.message});
            with_retry_after((public.status, Json(body)).into_response(), public.retry_after)
        }
    }
}

/// The project of the Basic credentials `api_key:secret_key`: a write key and a secret key of
/// the same project (anything else is a 401).
async fn project(state: &AppState, headers: &HeaderMap) -> Result<ProjectId, ApiError> {
    let refused = |message: &str| ApiError::new(ErrorKind::Unauthenticated, message);
    let (api_key, secret_key) = auth::basic(headers).ok_or_else(|| {
        refused(
            "use HTTP Basic auth: the project's write key as user name (api_key) and one of its \
             secret keys (sx_sk_...) as password (secret_key)",
        )
    })?;
    let known = |e: ApiError, which: &str| {
        if e.kind == ErrorKind::Unauthenticated {
            refused(&format!("the {which} is unknown or revoked"))
        } else {
            e
        }
    };
    let api = auth::authenticate(state, &api_key).await.map_err(|e| known(e, "api_key"))?;
    let secret =
        auth::authenticate(state, &secret_key).await.map_err(|e| known(e, "secret_key"))?;
    let project = secret
        .project(Action::Read)
        .map_err(|_| refused("the secret_key must be a project's secret key (sx_sk_...)"))?;
    if api.key.project_id.as_ref() != Some(&project) {
        return Err(refused("the api_key and the secret_key belong to different projects"));
    }
    Ok(project)
}

async fn run(
    state: &AppState,
    opts: &PlanOptions,
    query: SextantQuery,
) -> Result<QueryResult, ApiError> {
    execute(state, opts, &query).await.map(|(result, _)| result)
}

fn mismatch(kind: &str) -> ApiError {
    ApiError::new(ErrorKind::Internal, format!("a {kind} query answered with another kind"))
}

/// Dashboard API requests running per project.
#[derive(Debug, Default)]
pub(crate) struct Running {
    projects: Mutex<HashMap<ProjectId, usize>>,
}

/// One running request; the slot frees when it is dropped.
pub(crate) struct Slot {
    running: Arc<Running>,
    project: ProjectId,
}

impl Running {
    /// A slot for one more request of `project`, unless it already runs the most allowed.
    pub(crate) fn take(self: &Arc<Self>, project: &ProjectId) -> Option<Slot> {
        let mut projects = self.projects.lock().unwrap_or_else(PoisonError::into_inner);
        let count = projects.entry(project.clone()).or_default();
        if *count >= MAX_RUNNING_PER_PROJECT {
            return None;
        }
        *count += 1;
        Some(Slot { running: Arc::clone(self), project: project.clone() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut projects = self.running.projects.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = projects.get_mut(&self.project) {
            *count -= 1;
            if *count == 0 {
                projects.remove(&self.project);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_runs_at_most_five_requests_at_once() {
        let running = Arc::new(Running::default());
        let (a, b) = (ProjectId::new("prj_a"), ProjectId::new("prj_b"));
        let mut slots: Vec<Slot> =
            (0..MAX_RUNNING_PER_PROJECT).filter_map(|_| running.take(&a)).collect();
        assert_eq!(slots.len(), MAX_RUNNING_PER_PROJECT);
        assert!(running.take(&a).is_none(), "a sixth request of the same project waits");
        assert!(running.take(&b).is_some(), "other projects are not affected");
        slots.pop();
        assert!(running.take(&a).is_some(), "a finished request frees its slot");
        drop(slots);
        assert!(running.projects.lock().unwrap_or_else(PoisonError::into_inner).is_empty());
    }
}
