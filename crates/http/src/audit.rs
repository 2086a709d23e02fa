//! The audit log's write side: a middleware that records, for every authenticated operation,
//! who called (`auth::Caller` fills the request's `AuditSlot`), on what scope, with which
//! outcome; and a writer that commits records in batches. A read is answered only once its
//! record is stored (if the log cannot be written, the read fails with 503); a change that
//! already happened is answered either way and the failure is logged.

use crate::auth::Caller;
use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sextant_core::{ErrorKind, OrgId, ProjectId};
use sextant_store::{AuditRecord, MetaStore, StoreError};
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// What the request's handler learned about the caller and scope, for its audit record.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditSlot(Arc<Mutex<SlotState>>);

#[derive(Debug, Default)]
struct SlotState {
    actor: Option<String>,
    actor_name: Option<String>,
    key_id: Option<String>,
    via: Option<&'static str>,
    org_id: Option<OrgId>,
    project_id: Option<ProjectId>,
    skip: bool,
}

impl AuditSlot {
    pub(crate) fn identify(&self, caller: &Caller) {
        if let Ok(mut state) = self.0.lock() {
            state.actor = Some(caller.actor());
            state.via = Some(caller.via.as_str());
            match caller.key() {
                Some(key) => {
                    state.actor_name = Some(key.name.clone());
                    state.key_id = Some(key.id.clone());
                }
                None => {
                    if let crate::auth::Principal::Person { user } = &*caller.principal {
                        state.actor_name = Some(user.email.clone());
                        state.org_id = Some(user.org_id.clone());
                    }
                }
            }
        }
    }

    pub(crate) fn scope(&self, org: Option<OrgId>, project: Option<ProjectId>) {
        if let Ok(mut state) = self.0.lock() {
            state.org_id = org.or(state.org_id.take());
            state.project_id = project;
        }
    }

    /// Names the person a login was for.
    pub(crate) fn login(&self, user: &sextant_store::User) {
        if let Ok(mut state) = self.0.lock() {
            state.actor = Some(format!("user:{}", user.id));
            state.actor_name = Some(user.email.clone());
            state.via = Some("password");
            state.org_id = Some(user.org_id.clone());
        }
    }

    /// For requests that turn out to be ingestion only (GraphQL mutations).
    pub(crate) fn skip(&self) {
        if let Ok(mut state) = self.0.lock() {
            state.skip = true;
        }
    }
}

/// Records every audited operation after it ran.
pub(crate) async fn record(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let operation = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| state.routes.operation(request.method(), path.as_str()))
        .filter(|op| op.is_audited())
        .map(|op| (op.id.clone(), op.changes));
    let Some((action, changes)) = operation else { return next.run(request).await };
    let slot = AuditSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = crate::routes::wire::forwarded_ip(request.headers()).or(peer);
    let response = next.run(request).await;
    let Ok(filled) = slot.0.lock().map(|mut s| std::mem::take(&mut *s)) else { return response };
    if filled.skip {
        return response;
    }
    let record = AuditRecord {
        id: uuid::Uuid::now_v7().to_string(),
        at: chrono::Utc::now(),
        org_id: filled.org_id,
        project_id: filled.project_id,
        actor: filled.actor.unwrap_or_else(|| "anonymous".to_owned()),
        actor_name: filled.actor_name,
        key_id: filled.key_id,
        via: filled.via.unwrap_or("none").to_owned(),
        action: action.clone(),
        method,
        path,
        status: response.status().as_u16(),
        ip_hash: ip.map(|ip| state.audit.hash_ip(ip)),
    };
    match state.audit.write(record).await {
        Ok(()) => response,
        Err(error) if changes => {
            tracing::error!(%error, %action, "the audit record of a change could not be written");
            response
        }
        Err(error) => {
            tracing::error!(%error, %action, "the audit record could not be written; the read is refused");
            ApiError::new(ErrorKind::Unavailable, "the audit log cannot be written right now")
                .into_response()
        }
    }
}

/// Most records committed in one transaction.
const BATCH: usize = 500;
/// Records waiting for the writer; beyond this, requests wait (backpressure, nothing dropped).
const QUEUE: usize = 10_000;

type Ack = oneshot::Sender<Result<(), String>>;

/// Commits audit records in batches on one task: concurrent requests share a transaction.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<(AuditRecord, Ack)>,
    ip_key: Arc<Vec<u8>>,
}

impl AuditLog {
    /// Starts the writer. `ip_key` keys the address hashes (a server secret, never stored
    /// with the log).
    pub fn start(meta: Arc<dyn MetaStore>, ip_key: Vec<u8>) -> Self {
        let (queue, mut receiver) = mpsc::channel::<(AuditRecord, Ack)>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match receiver.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (records, acks): (Vec<AuditRecord>, Vec<Ack>) = batch.into_iter().unzip();
                let outcome =
                    meta.append_audit(&records).await.map_err(|e: StoreError| e.to_string());
                for ack in acks {
                    let _ = ack.send(outcome.clone());
                }
            }
        });
        Self { queue, ip_key: Arc::new(ip_key) }
    }

    async fn write(&self, record: AuditRecord) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        self.queue.send((record, ack)).await.map_err(|_| "the audit writer stopped".to_owned())?;
        done.await.map_err(|_| "the audit writer stopped".to_owned())?
    }

    /// 16 hex characters of HMAC-SHA256(key, address): the same address always gives the
    /// same hash, and the address cannot be read back.
    pub(crate) fn hash_ip(&self, ip: IpAddr) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.ip_key) else {
            return String::new();
        };
        mac.update(ip.to_string().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }
}
