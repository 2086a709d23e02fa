//! Cases on job-run claims every metadata backend must pass: each slot is won once, even by
//! concurrent claimers; a dead holder's slot is taken over only after its lease expires.
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::MetaSubject;
use crate::JobOutcome;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap() + Duration::minutes(minute)
}

pub async fn job_slots_are_claimed_once(subject: &MetaSubject) {
    let store = &subject.store;
    assert!(store.claim_job_run("retention", "2026-12-07", "a", at(0), at(10)).await.unwrap());
    // Held: nobody else, not even the holder, claims it again.
    assert!(!store.claim_job_run("retention", "2026-12-07", "b", at(5), at(15)).await.unwrap());
    assert!(!store.claim_job_run("retention", "2026-12-07", "a", at(5), at(15)).await.unwrap());
    // Other slots and other jobs are independent.
    assert!(store.claim_job_run("retention", "2026-12-08", "b", at(5), at(15)).await.unwrap());
    assert!(store.claim_job_run("rollups", "2026-12-07", "b", at(5), at(15)).await.unwrap());

    // Renewing keeps the claim past its first expiry; only the holder can renew.
    assert!(store.renew_job_run("retention", "2026-12-07", "a", at(20)).await.unwrap());
    assert!(!store.renew_job_run("retention", "2026-12-07", "b", at(30)).await.unwrap());
    assert!(!store.claim_job_run("retention", "2026-12-07", "b", at(12), at(22)).await.unwrap());

    let done = JobOutcome { ok: true, detail: "deleted 6 events".into() };
    assert!(store.finish_job_run("retention", "2026-12-07", "a", at(13), &done).await.unwrap());
    // Finished: never claimed again, whatever the time; finishing twice is refused.
    assert!(!store.claim_job_run("retention", "2026-12-07", "b", at(600), at(610)).await.unwrap());
    assert!(!store.finish_job_run("retention", "2026-12-07", "a", at(14), &done).await.unwrap());
    assert!(!store.renew_job_run("retention", "2026-12-07", "a", at(40)).await.unwrap());

    let runs = store.list_job_runs(10).await.unwrap();
    let finished = runs.iter().find(|r| r.job == "retention" && r.slot == "2026-12-07").unwrap();
    assert_eq!(finished.node, "a");
    assert_eq!(finished.attempts, 1);
    assert_eq!(finished.started_at, at(0));
    assert_eq!(finished.finished_at, Some(at(13)));
    assert_eq!(finished.outcome.as_deref(), Some("ok"));
    assert_eq!(finished.detail.as_deref(), Some("deleted 6 events"));
    assert_eq!(runs.len(), 3);
    assert!(runs.windows(2).all(|w| w[0].started_at >= w[1].started_at), "newest first");
}

pub async fn dead_holders_are_taken_over_after_their_lease(subject: &MetaSubject) {
    let store = &subject.store;
    assert!(store.claim_job_run("retention", "s", "a", at(0), at(10)).await.unwrap());
    assert!(!store.claim_job_run("retention", "s", "b", at(9), at(19)).await.unwrap());
    // `a` stopped renewing: once the lease is over, `b` takes the slot over.
    assert!(store.claim_job_run("retention", "s", "b", at(10), at(20)).await.unwrap());
    // `a` came back: its claim is gone, it can neither renew nor finish.
    assert!(!store.renew_job_run("retention", "s", "a", at(30)).await.unwrap());
    let failed = JobOutcome { ok: false, detail: "events store unavailable".into() };
    assert!(!store.finish_job_run("retention", "s", "a", at(11), &failed).await.unwrap());
    assert!(store.finish_job_run("retention", "s", "b", at(12), &failed).await.unwrap());
    let run = store.list_job_runs(1).await.unwrap().remove(0);
    assert_eq!((run.node.as_str(), run.attempts), ("b", 2));
    assert_eq!(run.outcome.as_deref(), Some("error"));
    // Failed runs are finished too: the slot is not retried (the next slot is).
    assert!(!store.claim_job_run("retention", "s", "a", at(100), at(110)).await.unwrap());
}

pub async fn concurrent_claims_have_one_winner(subject: &MetaSubject) {
    for slot in 0..20 {
        let slot = format!("slot-{slot}");
        let mut claims = tokio::task::JoinSet::new();
        for node in 0..4 {
            let store = subject.store.clone();
            let slot = slot.clone();
            claims.spawn(async move {
                store.claim_job_run("race", &slot, &format!("node-{node}"), at(0), at(10)).await
            });
        }
        let mut winners = 0;
        while let Some(claim) = claims.join_next().await {
            winners += usize::from(claim.unwrap().unwrap());
        }
        assert_eq!(winners, 1, "{slot}");
    }
}
