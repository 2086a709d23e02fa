use super::*;
use std::collections::HashMap;

fn config(events: u64) -> DemoConfig {
    DemoConfig {
        project_id: ProjectId::new("prj_demo"),
        events,
        days: 30,
        end: sextant_core::parse_timestamp("2026-11-22T00:00:00Z").unwrap(),
        seed: 7,
    }
}

fn all(events: u64) -> Vec<Event> {
    let mut demo = Demo::new(config(events));
    std::iter::from_fn(|| demo.next_day()).flatten().collect()
}

#[test]
fn exact_count_inside_the_period_and_deterministic() {
    let a = all(20_000);
    assert_eq!(a.len(), 20_000);
    let end = config(0).end;
    assert!(a.iter().all(|e| e.timestamp < end && e.timestamp >= end - Duration::days(30)));
    assert!(a.windows(2).all(|w| w[0].timestamp <= w[1].timestamp), "oldest first");
    assert_eq!(a, all(20_000), "same config, same events");
    let ids: std::collections::HashSet<_> = a.iter().map(|e| &e.insert_id).collect();
    assert_eq!(ids.len(), a.len(), "insert ids are unique");
}

#[test]
fn funnel_steps_happen_in_order_with_drop_off() {
    let events = all(60_000);
    let mut first: HashMap<(&str, &str), DateTime<Utc>> = HashMap::new();
    for e in &events {
        if let Some(user) = e.user_id.as_deref() {
            first.entry((user, e.event.as_str())).or_insert(e.timestamp);
        }
    }
    let count = |name: &str| first.keys().filter(|(_, n)| *n == name).count();
    let (signups, activations, purchases) =
        (count("signup"), count("activation"), count("purchase"));
    assert!(
        signups > activations && activations > purchases && purchases > 0,
        "{signups} > {activations} > {purchases}"
    );
    for ((user, name), t) in &first {
        let before = match *name {
            "activation" => "signup",
            "purchase" => "activation",
            _ => continue,
        };
        let earlier = first
            .get(&(*user, before))
            .unwrap_or_else(|| panic!("{user} did {name} without {before}"));
        assert!(earlier <= t);
    }
}

#[test]
fn activity_is_heavy_tailed_and_people_return() {
    let events = all(60_000);
    let mut per_person: HashMap<&str, usize> = HashMap::new();
    let mut days: HashMap<&str, std::collections::HashSet<chrono::NaiveDate>> = HashMap::new();
    for e in &events {
        let p = e.person_id.as_deref().unwrap();
        *per_person.entry(p).or_default() += 1;
        days.entry(p).or_default().insert(e.timestamp.date_naive());
    }
    let mut counts: Vec<usize> = per_person.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top = counts.iter().take(counts.len() / 100).sum::<usize>() as f64 / events.len() as f64;
    assert!(top > 0.15, "the top 1% of people make {:.0}% of events", top * 100.0);
    let returning = days.values().filter(|d| d.len() >= 3).count() as f64 / days.len() as f64;
    assert!(returning > 0.05, "{:.0}% of people come back on 3+ days", returning * 100.0);
    let kinds: std::collections::HashSet<_> = events.iter().map(|e| e.event.as_str()).collect();
    for kind in ["page_view", "feature_used", "signup", "activation", "purchase", "workflow_run"] {
        assert!(kinds.contains(kind), "no {kind}");
    }
    let apps: std::collections::HashSet<_> =
        events.iter().filter_map(|e| e.app.as_deref()).collect();
    assert!(apps.len() >= 4, "{apps:?}");
}

#[test]
fn daily_budgets_sum_exactly() {
    let end = config(0).end;
    for total in [0, 1, 29, 1_000_003] {
        assert_eq!(daily_budgets(total, 30, end).iter().sum::<u64>(), total);
    }
}
