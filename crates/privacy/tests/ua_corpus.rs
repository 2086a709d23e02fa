//! Accuracy of user-agent parsing and bot detection on the shared corpora (uap-core's test
//! expectations, isbot's crawler and browser fixtures), printed as figures and held to targets:
//! at least 99% of crawlers dropped, at most 0.5% of real browsers dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde::Deserialize;
use sextant_privacy::UserAgentParser;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn corpus(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/user-agents")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
struct Cases {
    test_cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    user_agent_string: String,
    family: String,
}

/// (matching, total, a few mismatches) of `actual` against each case's expected family.
fn accuracy(
    file: &str,
    actual: impl Fn(&str) -> Option<String>,
) -> (usize, usize, Vec<(String, String, String)>) {
    let cases: Cases = serde_yaml::from_str(&corpus(file)).unwrap();
    let mut misses = Vec::new();
    let mut hits = 0;
    for case in &cases.test_cases {
        let got = actual(&case.user_agent_string).unwrap_or_else(|| "Other".into());
        if got == case.family {
            hits += 1;
        } else if misses.len() < 5 {
            misses.push((case.user_agent_string.clone(), case.family.clone(), got));
        }
    }
    (hits, cases.test_cases.len(), misses)
}

fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole as f64
}

/// Which family of a parsed user agent a corpus file checks.
type Family<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

#[test]
fn browser_os_and_device_families_match_uap_core() {
    let parser = UserAgentParser::new().unwrap();
    let checks: [(&str, &str, Family); 3] = [
        ("browser family", "uap-test_ua.yaml", Box::new(|ua| parser.parse(ua).browser.clone())),
        ("OS family", "uap-test_os.yaml", Box::new(|ua| parser.parse(ua).os.clone())),
        ("device family", "uap-test_device.yaml", Box::new(|ua| parser.parse(ua).device.clone())),
    ];
    for (what, file, actual) in checks {
        let (hits, total, misses) = accuracy(file, actual);
        println!(
            "UA accuracy: {what}: {hits}/{total} = {:.2}% ({file}); first misses: {misses:?}",
            percent(hits, total)
        );
        assert!(percent(hits, total) >= 99.0, "{what} accuracy fell below 99%");
    }
}

#[test]
fn crawlers_are_dropped_and_browsers_are_not() {
    let parser = UserAgentParser::new().unwrap();
    let load = |file: &str| -> Vec<String> {
        let groups: BTreeMap<String, Vec<String>> = serde_yaml::from_str(&corpus(file)).unwrap();
        groups.into_values().flatten().collect()
    };
    let crawlers = load("isbot-crawlers.yml");
    let browsers = load("isbot-browsers.yml");
    let missed: Vec<&String> = crawlers.iter().filter(|ua| !parser.parse(ua).is_bot).collect();
    let flagged: Vec<&String> = browsers.iter().filter(|ua| parser.parse(ua).is_bot).collect();
    let caught = percent(crawlers.len() - missed.len(), crawlers.len());
    let misflagged = percent(flagged.len(), browsers.len());
    println!(
        "Bot accuracy: crawlers dropped {}/{} = {caught:.2}%; real browsers dropped {}/{} = \
         {misflagged:.2}%; missed crawlers: {missed:?}; misflagged browsers: {flagged:?}",
        crawlers.len() - missed.len(),
        crawlers.len(),
        flagged.len(),
        browsers.len(),
    );
    assert!(caught >= 99.0, "only {caught:.2}% of crawlers dropped");
    assert!(misflagged <= 0.5, "{misflagged:.2}% of real browsers dropped");
}
