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

use crate::api::{Api, Operation};
use crate::auth::Caller;
use crate::error::with_retry_after;
use crate::routes::query::{authorize, execute, plan_options};
use crate::routes::tags;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
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

pub(crate) fn api() -> Api {
    // Parameters as Amplitude documents them; unknown ones are refused with a 400.
    let op = |path, id, summary, known: &[&'static str]| {
        known.iter().fold(
            Operation::get(path, id, summary).tag(tags::AMPLITUDE).project_param().also(&[429]),
            |op, name| {
                op.query(
                    name,
                    "As in Amplitude's Dashboard REST API",
                    serde_json::json!({"type": "string"}),
                )
            },
        )
    };
    Api::new()
        .add(
            op(
                "/api/2/events/segmentation",
                "amplitude_segmentation",
                "Event segmentation",
                segmentation::SEGMENTATION,
            ),
            event_segmentation,
        )
        .add(op("/api/2/funnels", "amplitude_funnels", "Funnel analysis", specs::FUNNELS), funnels)
        .add(
            op("/api/2/retention", "amplitude_retention", "Retention analysis", specs::RETENTION),
            retention,
        )
        .add(
            op("/api/2/users", "amplitude_users", "Active and new user counts", specs::USERS),
            users,
        )
        .add(
            op(
                "/api/2/sessions/average",
                "amplitude_sessions_average",
                "Average session length",
                specs::SESSIONS,
            ),
            sessions_average,
        )
        .add(
            op(
                "/api/2/sessions/peruser",
                "amplitude_sessions_per_user",
                "Average sessions per user",
                specs::SESSIONS,
            ),
            sessions_per_user,
        )
        .add(
            op(
                "/api/2/sessions/length",
                "amplitude_sessions_length",
                "Session length distribution",
                specs::SESSION_LENGTH,
            ),
            sessions_length,
        )
}

type QueryString = Result<Query<Vec<(String, String)>>, QueryRejection>;
type CallerResult = Result<Caller, ApiError>;

/// What an endpoint's work needs: the state, the plan options for the caller's project, and
/// the caller (each query is authorised like `POST /api/v1/query`).
struct Ctx {
    state: AppState,
    opts: PlanOptions,
    caller: Caller,
}

async fn event_segmentation(
    State(state): State<AppState>,
    caller: CallerResult,
    qs: QueryString,
) -> Response {
    serve(state, caller, qs, segmentation::SEGMENTATION, |ctx, p| async move {
        let spec = segmentation::segmentation(&p).map_err(ApiError::invalid)?;
        let QueryResult::Trends(result) =
            run(&ctx, SextantQuery::Trends(spec.query.clone())).await?
        else {
            return Err(mismatch("trends"));
        };
        Ok(shape::segmentation(&spec, &result))
    })
    .await
}

async fn funnels(State(state): State<AppState>, caller: CallerResult, qs: QueryString) -> Response {
    serve(state, caller, qs, specs::FUNNELS, |ctx, p| async move {
        let spec = specs::funnel(&p).map_err(ApiError::invalid)?;
        let funnel = |query: FunnelQuery| {
            let ctx = &ctx;
            async move {
                match run(ctx, SextantQuery::Funnel(query)).await? {
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

async fn retention(
    State(state): State<AppState>,
    caller: CallerResult,
    qs: QueryString,
) -> Response {
    serve(state, caller, qs, specs::RETENTION, |ctx, p| async move {
        let spec = specs::retention(&p).map_err(ApiError::invalid)?;
        let QueryResult::Retention(result) =
            run(&ctx, SextantQuery::Retention(spec.query.clone())).await?
        else {
            return Err(mismatch("retention"));
        };
        Ok(shape::retention(&spec, &result, ctx.opts.now))
    })
    .await
}

async fn users(State(state): State<AppState>, caller: CallerResult, qs: QueryString) -> Response {
    serve(state, caller, qs, specs::USERS, |ctx, p| async move {
        match specs::users(&p).map_err(ApiError::invalid)? {
            specs::Users::Active { query, grouped } => {
                match run(&ctx, SextantQuery::Trends(query)).await? {
                    QueryResult::Trends(result) => Ok(shape::active_users(&result, grouped)),
                    _ => Err(mismatch("trends")),
                }
            }
            specs::Users::New(query) => match run(&ctx, SextantQuery::Lifecycle(query)).await? {
                QueryResult::Lifecycle(result) => Ok(shape::new_users(&result)),
                _ => Err(mismatch("lifecycle")),
            },
        }
    })
    .await
}

async fn sessions_average(
    State(state): State<AppState>,
    caller: CallerResult,
    qs: QueryString,
) -> Response {
    sessions(state, caller, qs, specs::SESSIONS, SessionMeasure::Average).await
}

async fn sessions_per_user(
    State(state): State<AppState>,
    caller: CallerResult,
    qs: QueryString,
) -> Response {
    sessions(state, caller, qs, specs::SESSIONS, SessionMeasure::PerUser).await
}

async fn sessions_length(
    State(state): State<AppState>,
    caller: CallerResult,
    qs: QueryString,
) -> Response {
    sessions(state, caller, qs, specs::SESSION_LENGTH, SessionMeasure::Length).await
}

async fn sessions(
    state: AppState,
    caller: CallerResult,
    qs: QueryString,
    known: &'static [&'static str],
    measure: SessionMeasure,
) -> Response {
    serve(state, caller, qs, known, move |ctx, p| async move {
        let spec = specs::sessions(&p).map_err(ApiError::invalid)?;
        let QueryResult::Sessions(result) =
            run(&ctx, SextantQuery::Sessions(spec.query.clone())).await?
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
    caller: CallerResult,
    qs: QueryString,
    known: &[&str],
    answer: F,
) -> Response
where
    F: FnOnce(Ctx, Params) -> Fut,
    Fut: Future<Output = Result<Value, ApiError>>,
{
    let outcome = async {
        let caller = caller.map_err(|e| match e.kind {
            ErrorKind::Unauthenticated => ApiError::new(
                ErrorKind::Unauthenticated,
                format!(
                    "{}. Amplitude clients use HTTP Basic auth: the project's write key as user name (api_key) and one of its secret keys (sx_sk_...) as password (secret_key)",
                    e.message
                ),
            ),
            _ => e,
        })?;
        let Query(mut pairs) = qs.map_err(|e| ApiError::invalid(e.body_text()))?;
        // Sextant's own `project` parameter, for callers that may see several projects.
        let named = pairs.iter().position(|(k, _)| k == "project").map(|i| pairs.remove(i).1);
        let access =
            caller.project(&state, named.as_deref(), sextant_access::Permission::Query).await?;
        let project = access.project.id;
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
        answer(Ctx { state, opts, caller }, params).await
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

async fn run(ctx: &Ctx, query: SextantQuery) -> Result<QueryResult, ApiError> {
    authorize(&ctx.state, &ctx.caller, Some(ctx.opts.project_id.as_str()), &query).await?;
    execute(&ctx.state, &ctx.opts, &query).await.map(|(result, _)| result)
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
