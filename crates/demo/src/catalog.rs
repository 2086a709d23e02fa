//! Weighted vocabularies the generator draws from: routes, referrers, platforms, countries,
//! plans, products.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if pick < *weight {
            return *item;
        }
        pick -= weight;
    }
    items[0].0
}

/// Seconds after the start of the day a session begins: busy working hours, quiet nights,
/// never after 21:00 so sessions end within the day.
pub(crate) fn time_of_day(rng: &mut ChaCha8Rng) -> i64 {
    let hour: i64 = weighted(
        rng,
        &[
            (0, 1),
            (1, 1),
            (2, 1),
            (3, 1),
            (4, 1),
            (5, 2),
            (6, 4),
            (7, 7),
            (8, 10),
            (9, 12),
            (10, 13),
            (11, 12),
            (12, 10),
            (13, 11),
            (14, 12),
            (15, 12),
            (16, 11),
            (17, 9),
            (18, 7),
            (19, 6),
            (20, 4),
        ],
    );
    hour * 3600 + rng.random_range(0..3600)
}

/// (route template, concrete path).
pub(crate) fn route(rng: &mut ChaCha8Rng) -> (&'static str, String) {
    let route = weighted(
        rng,
        &[
            ("/", 18),
            ("/dashboard", 25),
            ("/reports/:id", 12),
            ("/workflows", 10),
            ("/workflows/:id", 9),
            ("/settings", 4),
            ("/pricing", 6),
            ("/docs/:id", 8),
            ("/checkout", 3),
            ("/search", 5),
        ],
    );
    let path = route.replace(":id", &rng.random_range(1..400).to_string());
    (route, path)
}

pub(crate) fn referrer(rng: &mut ChaCha8Rng) -> Option<&'static str> {
    weighted(
        rng,
        &[
            (None, 50),
            (Some("https://www.google.com/"), 25),
            (Some("https://news.ycombinator.com/"), 6),
            (Some("https://twitter.com/"), 5),
            (Some("https://newsletter.example.com/"), 8),
            (Some("https://github.com/"), 6),
        ],
    )
}

pub(crate) fn feature(rng: &mut ChaCha8Rng) -> &'static str {
    weighted(
        rng,
        &[
            ("filter", 30),
            ("export_csv", 12),
            ("share_link", 10),
            ("dark_mode", 5),
            ("invite_teammate", 4),
            ("schedule_report", 6),
            ("create_alert", 7),
        ],
    )
}

/// (device type, OS, browser, app).
pub(crate) fn platform(
    rng: &mut ChaCha8Rng,
) -> (&'static str, &'static str, &'static str, &'static str) {
    weighted(
        rng,
        &[
            (("desktop", "Windows", "Chrome", "web"), 30),
            (("desktop", "Mac OS X", "Chrome", "web"), 14),
            (("desktop", "Mac OS X", "Safari", "web"), 9),
            (("desktop", "Windows", "Edge", "web"), 8),
            (("desktop", "Linux", "Firefox", "web"), 5),
            (("desktop", "Windows", "Firefox", "docs"), 4),
            (("mobile", "iOS", "Mobile Safari", "ios"), 14),
            (("mobile", "Android", "Chrome Mobile", "android"), 12),
            (("tablet", "iOS", "Mobile Safari", "ios"), 4),
        ],
    )
}

pub(crate) fn country(rng: &mut ChaCha8Rng) -> &'static str {
    weighted(
        rng,
        &[
            ("US", 34),
            ("DE", 12),
            ("GB", 10),
            ("FR", 8),
            ("IN", 9),
            ("BR", 6),
            ("CA", 5),
            ("NL", 4),
            ("JP", 4),
            ("ES", 3),
            ("AU", 3),
            ("SE", 2),
        ],
    )
}

pub(crate) fn plan(rng: &mut ChaCha8Rng) -> &'static str {
    weighted(rng, &[("free", 70), ("pro", 22), ("team", 8)])
}

/// What a person buys: (product id, price in USD).
pub(crate) fn product(seed: u64) -> (&'static str, f64) {
    match seed % 10 {
        0..=5 => ("pro_monthly", 19.0),
        6..=8 => ("team_monthly", 49.0),
        _ => ("enterprise_annual", 990.0),
    }
}

pub(crate) fn workflow_name(seed: u64) -> &'static str {
    const NAMES: [&str; 6] = [
        "nightly-sync",
        "invoice-reminders",
        "lead-scoring",
        "slack-digest",
        "data-cleanup",
        "churn-alerts",
    ];
    NAMES[(seed % NAMES.len() as u64) as usize]
}
