//! Two backends, the same generated events: every query of the cross-check must get the same
//! answer from both (numbers within rounding, or within the error an answer from a sketch
//! states), with and without rollups. Where the
//! cross-check compares each backend with the reference, this compares them with each other,
//! so a difference the reference does not model (e.g. a person property) still shows.
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Subject;
use super::cross_check::{SEED, difference, queries};
use super::generated::generated_events;
use sextant_core::{ProjectId, parse_timestamp};
use sextant_query::{PlanOptions, Query};

pub async fn same_answers(first: &Subject, second: &Subject) {
    let project = ProjectId::new("prj_cross_backend");
    let events = generated_events(&project, SEED);
    for batch in events.chunks(1000) {
        for subject in [first, second] {
            subject.store.append(batch.to_vec()).await.unwrap();
        }
    }
    let opts = PlanOptions {
        project_id: project,
        now: parse_timestamp("2026-11-20T12:00:00Z").unwrap(),
        max_buckets: 5000,
        rollups: true,
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for mut spec in queries() {
        loop {
            let query: Query = serde_json::from_value(spec.clone()).unwrap();
            let mut answers = Vec::new();
            // The exact answer (no rollups) first: answers from a sketch state their error,
            // and are compared within it.
            for (subject, rollups) in
                [(first, false), (first, true), (second, false), (second, true)]
            {
                let opts = PlanOptions { rollups, ..opts.clone() };
                match subject.store.query(&query, &opts).await {
                    Ok(result) => answers.push(serde_json::to_value(result).unwrap()),
                    Err(e) => {
                        failures.push(format!("query {spec} (rollups: {rollups})\nfailed: {e}"));
                    }
                }
            }
            checked += 1;
            let Some((expected, others)) = answers.split_first() else { break };
            if let Some((path, a, b)) =
                others.iter().find_map(|other| difference("$", expected, other))
            {
                failures.push(format!("query {spec}\nfirst difference at {path}: {a} vs {b}"));
                break;
            }
            match expected.get("next_cursor") {
                Some(cursor) if spec["kind"] == "funnel_persons" => spec["cursor"] = cursor.clone(),
                _ => break,
            }
        }
    }
    assert!(checked >= 40, "only {checked} answers compared");
    assert!(
        failures.is_empty(),
        "{} of {checked} answers differ between the backends:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
