//! A deterministic synthetic workload that looks like a real product: Zipf-distributed user
//! activity, sessions of page views across routes, a signup → activation → purchase funnel with
//! drop-off, returning users (and churn) for retention, several apps and entities, and workflow
//! runs with durations, statuses and costs. Same config, same events, byte for byte.

mod catalog;
mod people;

use chrono::{DateTime, Duration, Utc};
use people::{Person, Population};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::{Map, Value, json};
use sextant_core::{Event, ProjectId};

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub project_id: ProjectId,
    /// Exactly this many events are generated.
    pub events: u64,
    /// Days of history, ending at `end`.
    pub days: u32,
    /// Exclusive end of the generated period.
    pub end: DateTime<Utc>,
    pub seed: u64,
}

/// Generates the workload one day at a time, oldest first; each day's events are sorted by
/// time, so stores receive them roughly in the order real traffic would arrive.
pub struct Demo {
    config: DemoConfig,
    rng: ChaCha8Rng,
    population: Population,
    /// Events still to generate for each day.
    budgets: Vec<u64>,
    day: usize,
    counter: u64,
}

impl Demo {
    pub fn new(config: DemoConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let days = config.days.max(1) as usize;
        let population = Population::new(&mut rng, people_for(config.events), days);
        let budgets = daily_budgets(config.events, days, config.end);
        Self { config, rng, population, budgets, day: 0, counter: 0 }
    }

    pub fn total_events(&self) -> u64 {
        self.config.events
    }

    /// Day `d` is the 24 hours starting `days - d` days before `end`.
    fn day_start(&self, day: usize) -> DateTime<Utc> {
        let days_back = i64::try_from(self.budgets.len() - day).unwrap_or(0);
        self.config.end - Duration::days(days_back)
    }

    /// The next day's events, or `None` when all are generated.
    pub fn next_day(&mut self) -> Option<Vec<Event>> {
        let budget = usize::try_from(*self.budgets.get(self.day)?).unwrap_or(usize::MAX);
        let day = self.day;
        let start = self.day_start(day);
        let mut events = Vec::with_capacity(budget + 64);
        while events.len() < budget {
            let index = self.population.pick_active(&mut self.rng, day);
            let mut person = self.population.people[index].clone();
            self.session(&mut person, day, start, &mut events);
            self.population.people[index] = person;
        }
        // The last session may be cut short: totals are exact.
        events.truncate(budget);
        let day_end = start + Duration::days(1);
        for e in &mut events {
            // Sessions start by 21:00 and last minutes, so this practically never bites; it
            // keeps every event inside its day (and before `end`) whatever the dice say.
            if e.timestamp >= day_end {
                e.timestamp = day_end - Duration::microseconds(1);
            }
        }
        events.sort_by(|a, b| {
            a.timestamp.cmp(&b.timestamp).then_with(|| a.insert_id.cmp(&b.insert_id))
        });
        self.day += 1;
        Some(events)
    }

    /// One visit: page views and feature use, the next funnel step when its day has come,
    /// and workflow runs for activated people.
    fn session(
        &mut self,
        person: &mut Person,
        day: usize,
        day_start: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let mut t = day_start + Duration::seconds(catalog::time_of_day(&mut self.rng));
        let session_id = format!("s{:012x}", self.rng.random::<u64>() >> 16);
        // Geometric number of page views, mean 6.
        let steps =
            1 + (self.rng.random::<f64>().ln() / (5.0f64 / 6.0).ln()).floor().min(40.0) as usize;
        let referrer = catalog::referrer(&mut self.rng);
        for step in 0..steps {
            let (route, path) = catalog::route(&mut self.rng);
            let mut event = self.base(person, &session_id, t, "page_view");
            event.url = Some(format!("https://{}{path}", person.host()));
            event.host = Some(person.host().to_owned());
            event.path = Some(path);
            event.route = Some(route.to_owned());
            if step == 0 {
                event.referrer = referrer.map(str::to_owned);
            }
            event.properties.insert("plan".into(), json!(person.plan));
            out.push(event);
            t += Duration::seconds(self.rng.random_range(5..120));
            if self.rng.random_bool(0.25) {
                let mut event = self.base(person, &session_id, t, "feature_used");
                event.properties.insert("feature".into(), json!(catalog::feature(&mut self.rng)));
                out.push(event);
                t += Duration::seconds(self.rng.random_range(2..60));
            }
        }
        t += Duration::seconds(self.rng.random_range(5..90));
        if let Some(event) = self.funnel_step(person, day, &session_id, t) {
            out.push(event);
        }
        if person.stage >= 2 && self.rng.random_bool(0.5) {
            for _ in 0..self.rng.random_range(1..=4) {
                t += Duration::seconds(self.rng.random_range(10..900));
                out.push(self.workflow_run(person, &session_id, t));
            }
        }
    }

    /// Steps happen in order, on the person's first session on or after the step's day.
    fn funnel_step(
        &mut self,
        person: &mut Person,
        day: usize,
        session_id: &str,
        t: DateTime<Utc>,
    ) -> Option<Event> {
        let due = |d: Option<usize>| d.is_some_and(|d| day >= d);
        let (name, next_stage) = match person.stage {
            0 if person.signs_up && day >= person.signup_day => ("signup", 1),
            1 if due(person.activated_day) => ("activation", 2),
            2 if due(person.purchase_day) => ("purchase", 3),
            _ => return None,
        };
        if person.last_step_at.is_some_and(|last| t <= last) {
            return None;
        }
        person.stage = next_stage;
        person.last_step_at = Some(t);
        let mut event = self.base(person, session_id, t, name);
        match name {
            "signup" => {
                event.properties.insert("plan".into(), json!(person.plan));
            }
            "activation" => {
                event
                    .properties
                    .insert("first_workflow".into(), json!(catalog::workflow_name(person.seed)));
            }
            _ => {
                let (product, price) = catalog::product(person.seed);
                event.entity_type = Some("product".into());
                event.entity_id = Some(product.into());
                event.value = Some(price);
                event.properties.insert("currency".into(), json!("USD"));
            }
        }
        Some(event)
    }

    fn workflow_run(&mut self, person: &Person, session_id: &str, t: DateTime<Utc>) -> Event {
        // Log-normal, median ~4.4 s with a long tail.
        let z: f64 = self.rng.sample(StandardNormal);
        let duration_ms = (8.4 + 0.9 * z).exp().round();
        let status = match self.rng.random_range(0..100) {
            0..92 => "success",
            92..98 => "failed",
            _ => "timeout",
        };
        let steps = self.rng.random_range(2..12);
        let workflow = self.rng.random_range(0..3);
        let mut e = self.base(person, session_id, t, "workflow_run");
        e.app = Some("automations".into());
        e.entity_type = Some("workflow".into());
        e.entity_id = Some(format!("wf_{}_{workflow}", person.index));
        e.value = Some(duration_ms);
        let cost = (f64::from(steps) * 0.0004 + duration_ms * 0.000_002) * 1e4;
        e.properties = Map::from_iter([
            ("status".into(), json!(status)),
            ("steps".into(), json!(steps)),
            ("duration_ms".into(), json!(duration_ms)),
            ("cost_usd".into(), json!(cost.round() / 1e4)),
            ("version".into(), json!(format!("v{}", 1 + person.seed % 4))),
            ("name".into(), json!(catalog::workflow_name(person.seed + workflow))),
        ]);
        e
    }

    /// An event with the person's fixed dimensions; anonymous until they sign up.
    fn base(&mut self, person: &Person, session_id: &str, t: DateTime<Utc>, name: &str) -> Event {
        self.counter += 1;
        let user_id = (person.stage >= 1).then(|| person.user_id());
        let device_id = person.device_id();
        Event {
            project_id: self.config.project_id.clone(),
            event: name.to_owned(),
            timestamp: t,
            received_at: t + Duration::milliseconds(40 + i64::from(self.rng.random::<u8>())),
            insert_id: format!("demo-{}-{}", self.config.seed, self.counter),
            person_id: Some(user_id.clone().unwrap_or_else(|| device_id.clone())),
            user_id,
            device_id: Some(device_id),
            session_id: Some(session_id.to_owned()),
            app: Some(person.app.to_owned()),
            url: None,
            host: None,
            path: None,
            route: None,
            referrer: None,
            entity_type: None,
            entity_id: None,
            device_type: Some(person.device_type.to_owned()),
            browser: Some(person.browser.to_owned()),
            os: Some(person.os.to_owned()),
            country: Some(person.country.to_owned()),
            value: None,
            library: Some("sextant-demo/1".into()),
            properties: Map::<String, Value>::new(),
        }
    }
}

/// About one person per 60 events, so heavy users dominate as in real products.
fn people_for(events: u64) -> usize {
    usize::try_from((events / 60).clamp(50, 2_000_000)).unwrap_or(50)
}

/// Splits `total` over days with weekly seasonality (quiet weekends) and slow growth;
/// the sum is exactly `total`.
fn daily_budgets(total: u64, days: usize, end: DateTime<Utc>) -> Vec<u64> {
    let weights: Vec<f64> = (0..days)
        .map(|d| {
            let date = end - Duration::days(i64::try_from(days - d).unwrap_or(0));
            let weekday = chrono::Datelike::weekday(&date).num_days_from_monday();
            let season = if weekday >= 5 { 0.6 } else { 1.0 };
            season * (1.0 + 0.5 * d as f64 / days as f64)
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut budgets: Vec<u64> =
        weights.iter().map(|w| (total as f64 * w / sum).floor() as u64).collect();
    let assigned: u64 = budgets.iter().sum();
    if let Some(last) = budgets.last_mut() {
        *last += total - assigned;
    }
    budgets
}

#[cfg(test)]
mod tests;
