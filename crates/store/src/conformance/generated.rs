//! Deterministic generated events for the cross-check: about 3000 events of about 60 people
//! over 45 days (2026-10-05 .. 2026-11-18, UTC), across the Europe/Berlin DST change of
//! 2026-10-25. People: identified users (sometimes also sending their device id, sometimes
//! the device id alone), anonymous devices that identify later (an event with both ids),
//! devices that never do, two shared devices seen with two users each, and a few events
//! without any person. Some events share timestamps; some people do steps out of order.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use sextant_core::{Event, ProjectId};
use std::collections::HashSet;

/// A tiny xorshift generator: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng((seed ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + i64::try_from(self.below(u64::try_from(high - low).unwrap_or(1).max(1))).unwrap_or(0)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Always sends a user id; sometimes with its device, sometimes the device alone.
    User,
    /// Anonymous device until its signup, which carries both ids.
    LateIdentified,
    /// Never identifies.
    Anonymous,
}

#[derive(Debug, Clone)]
struct Person {
    kind: Kind,
    user: String,
    device: String,
    country: Option<&'static str>,
    browser: &'static str,
    plan: &'static str,
    /// Day index (from 2026-10-05) of their first activity.
    first_day: i64,
    activity: u64,
}

const DAYS: i64 = 45;
const PATHS: &[&str] =
    &["/", "/pricing", "/docs", "/blog/1", "/blog/22", "/Pricing/Enterprise", "/signup"];
const FEATURES: &[&str] = &["export", "search", "share"];
const PRICES: &[f64] = &[9.99, 19.0, 49.5, 99.0, 120.25, 5.0, 30.0];

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-10-05T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// Builds events one at a time.
struct Builder {
    project: ProjectId,
    rng: Rng,
    events: Vec<Event>,
}

impl Builder {
    fn event(
        &mut self,
        name: &str,
        t: DateTime<Utc>,
        user: Option<&str>,
        device: Option<&str>,
    ) -> &mut Event {
        let user = user.map(str::to_owned);
        let device = device.map(str::to_owned);
        self.events.push(Event {
            project_id: self.project.clone(),
            event: name.to_owned(),
            timestamp: t,
            received_at: t,
            insert_id: String::new(),
            person_id: user.clone().or_else(|| device.clone()),
            user_id: user,
            device_id: device,
            session_id: None,
            app: Some("web".to_owned()),
            url: None,
            host: None,
            path: None,
            route: None,
            referrer: None,
            entity_type: None,
            entity_id: None,
            device_type: None,
            browser: None,
            os: None,
            country: None,
            value: None,
            library: Some("sextant-js/1.2.0".to_owned()),
            properties: Map::new(),
        });
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Who an event of `p` is sent as, given whether they have identified yet.
    fn ids(&mut self, p: &Person, identified: bool) -> (Option<String>, Option<String>) {
        match (p.kind, identified) {
            (Kind::Anonymous, _) | (Kind::LateIdentified, false) => (None, Some(p.device.clone())),
            _ => {
                let roll = self.rng.below(100);
                if roll < 15 {
                    (None, Some(p.device.clone()))
                } else if roll < 40 {
                    (Some(p.user.clone()), Some(p.device.clone()))
                } else {
                    (Some(p.user.clone()), None)
                }
            }
        }
    }

    /// One event of `p` with their usual columns and properties.
    fn person_event(
        &mut self,
        p: &Person,
        name: &str,
        t: DateTime<Utc>,
        identified: bool,
        session: &str,
    ) -> &mut Event {
        let (user, device) = self.ids(p, identified);
        let travel = self.rng.chance(5);
        let country = if travel { Some("ES") } else { p.country };
        let with_plan = p.kind != Kind::Anonymous && self.rng.chance(85);
        let e = self.event(name, t, user.as_deref(), device.as_deref());
        e.session_id = Some(session.to_owned());
        e.country = country.map(str::to_owned);
        e.browser = Some(p.browser.to_owned());
        e.properties.insert("session_id".into(), json!(session));
        if with_plan {
            e.properties.insert("plan".into(), json!(p.plan));
        }
        e
    }

    fn page_view(&mut self, p: &Person, t: DateTime<Utc>, identified: bool, session: &str) {
        let path = self.rng.pick(PATHS);
        let referred = self.rng.chance(20);
        let e = self.person_event(p, "page_view", t, identified, session);
        e.host = Some("app.example".to_owned());
        e.path = Some(path.to_owned());
        // Blog posts carry a templated route; other pages only their path (sessions' entry
        // and exit routes fall back to it).
        if path.starts_with("/blog/") {
            e.route = Some("/blog/:id".to_owned());
        }
        e.url = Some(format!("https://app.example{path}"));
        if referred {
            e.referrer = Some("https://search.example/?q=sextant".to_owned());
        }
    }

    fn feature_used(&mut self, p: &Person, t: DateTime<Utc>, identified: bool, session: &str) {
        let feature = self.rng.pick(FEATURES);
        let roll = self.rng.below(100);
        let duration = match roll {
            0..5 => json!("n/a"),
            5..10 => json!(self.rng.range(10, 900) as f64 + 0.5),
            _ => json!(self.rng.range(20, 6000)),
        };
        let beta = self.rng.chance(30);
        let tier =
            (self.rng.chance(30)).then(|| if self.rng.chance(50) { "gold" } else { "silver" });
        let e = self.person_event(p, "feature_used", t, identified, session);
        e.route = Some(format!("/app/{feature}"));
        e.properties.insert("feature".into(), json!(feature));
        e.properties.insert("duration_ms".into(), duration);
        e.properties.insert("beta".into(), json!(beta));
        if let Some(tier) = tier {
            e.properties.insert("meta".into(), json!({"tier": tier}));
        }
    }

    fn purchase(&mut self, p: &Person, t: DateTime<Utc>, session: &str) {
        let price = self.rng.pick(PRICES);
        let e = self.person_event(p, "purchase", t, true, session);
        e.value = Some(price);
        e.properties.insert("currency".into(), json!("EUR"));
    }
}

fn people(rng: &mut Rng) -> Vec<Person> {
    let countries = [Some("DE"), Some("DE"), Some("FR"), Some("US"), Some("GB"), None];
    let browsers = ["Chrome", "Firefox", "Safari"];
    let mut out = Vec::new();
    for (kind, count, prefix) in
        [(Kind::User, 28, "u"), (Kind::LateIdentified, 14, "a"), (Kind::Anonymous, 18, "v")]
    {
        for i in 1..=count {
            out.push(Person {
                kind,
                user: format!("{prefix}{i:02}"),
                device: format!("dev-{prefix}{i:02}"),
                country: rng.pick(&countries),
                browser: rng.pick(&browsers),
                plan: if rng.chance(35) { "pro" } else { "free" },
                first_day: if kind == Kind::Anonymous {
                    rng.range(0, 40)
                } else {
                    rng.range(0, 30)
                },
                activity: 20 + rng.below(35),
            });
        }
    }
    out
}

/// The generated events for `project`, sorted by time (the order to append them in).
pub fn generated_events(project: &ProjectId, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let persons = people(&mut rng);
    let mut b = Builder { project: project.clone(), rng, events: Vec::new() };
    for (pi, p) in persons.iter().enumerate() {
        let signup_day = match p.kind {
            Kind::Anonymous => None,
            Kind::User if b.rng.chance(85) => Some(p.first_day),
            _ => Some((p.first_day + b.rng.range(1, 10)).min(DAYS - 2)),
        };
        let activation_day = signup_day.filter(|_| b.rng.chance(60)).map(|d| d + b.rng.range(0, 4));
        // Some people pay before they sign up.
        let early_purchase = p.kind == Kind::User && signup_day.is_some_and(|d| d > p.first_day);
        for day in p.first_day..DAYS {
            let is_signup = signup_day == Some(day);
            let active = day == p.first_day
                || is_signup
                || activation_day == Some(day)
                || b.rng.chance(p.activity);
            if !active {
                continue;
            }
            let identified = p.kind == Kind::User || signup_day.is_some_and(|d| day >= d);
            let session = format!("s-{pi}-{day}");
            let minute = b.rng.range(7 * 60, 22 * 60);
            let micros = if b.rng.chance(30) { b.rng.range(0, 1_000_000) } else { 0 };
            let mut t = start()
                + Duration::days(day)
                + Duration::minutes(minute)
                + Duration::microseconds(micros);
            let views = b.rng.range(1, 7);
            let features = if identified || b.rng.chance(30) { b.rng.range(0, 4) } else { 0 };
            // Now and then the next event has the same timestamp (never two page views: which
            // of those starts a funnel attempt would be a coin toss).
            let step = |b: &mut Builder, t: &mut DateTime<Utc>, tie: bool| {
                if !(tie && b.rng.chance(10)) {
                    *t += Duration::seconds(b.rng.range(5, 1200));
                }
            };
            for v in 0..views {
                b.page_view(p, t, identified, &session);
                step(&mut b, &mut t, (v == 0 && is_signup) || v + 1 == views);
                if v == 0 && is_signup {
                    // The signup carries both ids: it links the device.
                    let plan = p.plan;
                    let e = b.event("signup", t, Some(&p.user), Some(&p.device));
                    e.session_id = Some(session.clone());
                    e.country = p.country.map(str::to_owned);
                    e.properties.insert("plan".into(), json!(plan));
                    if b.rng.chance(15) {
                        // Activated at the very same instant.
                        b.person_event(p, "activation", t, true, &session);
                    }
                    step(&mut b, &mut t, false);
                }
            }
            for _ in 0..features {
                b.feature_used(p, t, identified, &session);
                step(&mut b, &mut t, true);
            }
            if activation_day == Some(day) && !is_signup {
                b.person_event(p, "activation", t, true, &session);
                step(&mut b, &mut t, true);
            }
            let buys = identified && signup_day.is_some_and(|d| day > d) && b.rng.chance(25);
            let buys_early = early_purchase && day == p.first_day;
            if buys || buys_early {
                b.purchase(p, t, &session);
                if b.rng.chance(40) {
                    // A thank-you page at the same instant.
                    b.page_view(p, t, identified, &session);
                }
            }
        }
    }
    special_cases(&mut b, &persons);
    let Builder { mut rng, mut events, .. } = b;
    events.sort_by_key(|e| e.timestamp);
    let mut seen = HashSet::new();
    for e in &mut events {
        let mut id = format!("g{:012x}", rng.next() >> 16);
        while !seen.insert(id.clone()) {
            id = format!("g{:012x}", rng.next() >> 16);
        }
        e.insert_id = id;
        e.received_at = e.timestamp + Duration::milliseconds(rng.range(0, 5000));
    }
    events
}

/// Hand-placed events: around the DST change and local midnights in Berlin, shared devices,
/// and events without a person.
fn special_cases(b: &mut Builder, persons: &[Person]) {
    let dst = [
        "2026-10-24T21:59:59.999999Z", // 23:59:59.999999 CEST on 10-24
        "2026-10-24T22:00:00Z",        // 00:00 CEST on 10-25
        "2026-10-25T00:30:00Z",        // 02:30 CEST
        "2026-10-25T00:59:59.999999Z", // 02:59:59.999999 CEST
        "2026-10-25T01:00:00Z",        // 02:00 CET (the second 02:00)
        "2026-10-25T01:30:00Z",        // 02:30 CET
        "2026-10-25T02:00:00Z",        // 03:00 CET
        "2026-10-25T22:59:59.999999Z", // 23:59:59.999999 CET on 10-25
        "2026-10-25T23:00:00Z",        // 00:00 CET on 10-26
    ];
    for (i, p) in persons.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        for (k, text) in dst.iter().enumerate() {
            if (i + k) % 3 == 0 {
                continue;
            }
            let session = format!("s-dst-{i}");
            match k % 3 {
                0 => b.page_view(p, at(text), true, &session),
                1 => b.feature_used(p, at(text), true, &session),
                _ if p.kind != Kind::Anonymous => b.purchase(p, at(text), &session),
                _ => b.page_view(p, at(text), true, &session),
            }
        }
    }
    // Shared devices: the first user seen with each device gets its anonymous events.
    for (device, first, second, day) in
        [("kiosk-1", "u03", "u07", 8), ("kiosk-2", "u11", "u15", 20)]
    {
        let t = start() + Duration::days(day) + Duration::hours(9);
        b.event("page_view", t, None, Some(device));
        b.event("page_view", t + Duration::minutes(5), Some(first), Some(device));
        b.event("feature_used", t + Duration::minutes(6), None, Some(device));
        b.event("page_view", t + Duration::days(3), Some(second), Some(device));
        b.event("purchase", t + Duration::days(3) + Duration::minutes(1), None, Some(device))
            .value = Some(42.0);
        b.event("page_view", t + Duration::days(4), None, Some(device));
    }
    // System events without a person.
    for k in 0..20 {
        let t = start() + Duration::days(k * 2) + Duration::hours(3);
        let status = if k % 3 == 0 { "failed" } else { "success" };
        let value = 100.0 * (k + 1) as f64;
        let e = b.event("workflow_run", t, None, None);
        e.app = Some("automations".to_owned());
        e.entity_type = Some("workflow".to_owned());
        e.entity_id = Some(format!("wf-{}", k % 4));
        e.value = Some(value);
        e.properties.insert("status".into(), Value::String(status.to_owned()));
    }
}
