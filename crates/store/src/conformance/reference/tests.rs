//! The reference implementation against the hand-computed fixtures in `tests/fixtures`.

use super::answer;
use serde_json::Value;
use sextant_core::{Event, EventInput, InputMode, Limits, ProjectId, parse_timestamp};
use sextant_query::{PlanOptions, Query};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn events(project: &ProjectId, values: impl IntoIterator<Item = Value>) -> Vec<Event> {
    let limits = Limits::default();
    let input = EventInput {
        project_id: project,
        received_at: parse_timestamp("2026-11-20T00:00:00Z").unwrap(),
        limits: &limits,
        mode: InputMode::Import,
    };
    values.into_iter().map(|v| input.parse(v).unwrap()).collect()
}

#[test]
fn reference_answers_the_hand_computed_fixtures() {
    let project = ProjectId::new("prj_reference");
    let basic = std::fs::read_to_string(fixtures().join("events/basic.ndjson")).unwrap();
    let basic = events(&project, basic.lines().map(|l| serde_json::from_str(l).unwrap()));
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in ["trends", "funnels", "retention", "activity", "sessions", "paths"] {
        let Ok(entries) = std::fs::read_dir(fixtures().join(dir)) else { continue };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            let fixture: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let data = match fixture.get("events").and_then(Value::as_array) {
                Some(list) => events(&project, list.iter().cloned()),
                None => basic.clone(),
            };
            let query: Query = serde_json::from_value(fixture["query"].clone()).unwrap();
            let opts = PlanOptions {
                project_id: project.clone(),
                now: parse_timestamp(fixture["now"].as_str().unwrap()).unwrap(),
                max_buckets: 5000,
                rollups: true,
            };
            let got = answer(&query, &data, &opts);
            checked += 1;
            if got != fixture["expected"] {
                failures
                    .push(format!("{name}\n  expected {}\n  got      {got}", fixture["expected"]));
            }
        }
    }
    assert!(checked >= 35, "only {checked} fixtures found");
    assert!(failures.is_empty(), "{} fixtures differ:\n{}", failures.len(), failures.join("\n"));
}
