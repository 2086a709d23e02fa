//! Every node runs the scheduler; the metadata store they share decides which node runs each
//! occurrence ("slot") of a job. A node claims the slot with a lease before running it, renews
//! the lease while it works and records the outcome, so a slot runs once however many nodes
//! are up, and is taken over by another node only if its holder died before finishing.

use crate::JobError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sextant_store::{JobOutcome, MetaStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A scheduled job. Jobs must tolerate being re-run for a slot whose first holder died midway.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// The occurrence due at `now`, e.g. the UTC date for a daily job.
    fn slot(&self, now: DateTime<Utc>) -> String;
    /// Does the work; the text returned (a summary of what was done) is kept with the run.
    async fn run(&self, now: DateTime<Utc>) -> Result<String, JobError>;
}

#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// This node's name in job runs; unique among the nodes sharing the metadata store.
    pub node: String,
    /// How long after start the first check waits, so start-up is not slowed by jobs.
    pub start_delay: Duration,
    /// How often due slots are checked.
    pub tick: Duration,
    /// How long a claim holds without renewal; the holder renews it every third of that.
    pub lease: Duration,
}

pub struct Scheduler {
    meta: Arc<dyn MetaStore>,
    jobs: Vec<Arc<dyn Job>>,
    options: SchedulerOptions,
}

impl Scheduler {
    pub fn new(
        meta: Arc<dyn MetaStore>,
        jobs: Vec<Arc<dyn Job>>,
        options: SchedulerOptions,
    ) -> Self {
        Self { meta, jobs, options }
    }

    /// Runs, one after the other, each job whose slot due at `now` this node could claim.
    /// Returns the `(job, slot)` pairs it ran. Errors are logged and kept with the run; they
    /// never stop the scheduler.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
        let mut ran = Vec::new();
        for job in &self.jobs {
            let slot = job.slot(now);
            match self
                .meta
                .claim_job_run(job.name(), &slot, &self.options.node, now, now + self.lease())
                .await
            {
                Ok(true) => {
                    self.run_claimed(job, &slot, now).await;
                    ran.push((job.name(), slot));
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(job = job.name(), %slot, error = %e, "cannot claim a job run");
                }
            }
        }
        ran
    }

    async fn run_claimed(&self, job: &Arc<dyn Job>, slot: &str, now: DateTime<Utc>) {
        let name = job.name();
        tracing::info!(job = name, slot, node = %self.options.node, "job started");
        let renewal = self.keep_claim(name, slot.to_owned());
        let outcome = match job.run(now).await {
            Ok(detail) => {
                tracing::info!(job = name, slot, %detail, "job done");
                JobOutcome { ok: true, detail }
            }
            Err(e) => {
                tracing::error!(job = name, slot, error = %e, "job failed; the next slot runs it again");
                JobOutcome { ok: false, detail: e.to_string() }
            }
        };
        renewal.abort();
        match self.meta.finish_job_run(name, slot, &self.options.node, Utc::now(), &outcome).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                job = name,
                slot,
                "the claim expired before the job ended; another node may have run it too"
            ),
            Err(e) => {
                tracing::error!(job = name, slot, error = %e, "cannot record the end of a job run");
            }
        }
    }

    /// Renews the claim every third of the lease until aborted.
    fn keep_claim(&self, job: &'static str, slot: String) -> JoinHandle<()> {
        let meta = Arc::clone(&self.meta);
        let node = self.options.node.clone();
        let every = self.options.lease / 3;
        let lease = self.lease();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match meta.renew_job_run(job, &slot, &node, Utc::now() + lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job, %slot, "lost the claim on a running job");
                        return;
                    }
                    Err(e) => tracing::warn!(job, %slot, error = %e, "cannot renew a job claim"),
                }
            }
        })
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.options.lease).unwrap_or(chrono::Duration::minutes(10))
    }

    /// Checks for due slots after the start delay and then every tick, until aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            tokio::time::sleep(self.options.start_delay).await;
            loop {
                self.run_due(Utc::now()).await;
                tokio::time::sleep(self.options.tick).await;
            }
        })
    }
}
