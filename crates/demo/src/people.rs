//! The simulated people: who they are, when they first come, whether they convert, when they
//! churn, and how active they are (Zipf: a few heavy users, a long tail of light ones).

use crate::catalog;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Zipf};

#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub index: usize,
    pub seed: u64,
    pub first_day: usize,
    pub last_day: usize,
    pub signs_up: bool,
    pub signup_day: usize,
    pub activated_day: Option<usize>,
    pub purchase_day: Option<usize>,
    /// Funnel steps already taken: 0 none, 1 signed up, 2 activated, 3 purchased.
    pub stage: u8,
    /// When the last funnel step happened: sessions are generated out of time order within a
    /// day, and a step must come after the one before it.
    pub last_step_at: Option<chrono::DateTime<chrono::Utc>>,
    pub app: &'static str,
    pub device_type: &'static str,
    pub browser: &'static str,
    pub os: &'static str,
    pub country: &'static str,
    pub plan: &'static str,
}

impl Person {
    pub fn user_id(&self) -> String {
        format!("user_{:06}", self.index)
    }

    pub fn device_id(&self) -> String {
        format!("dev_{:016x}", self.seed)
    }

    pub fn host(&self) -> &'static str {
        match self.app {
            "docs" => "docs.example.com",
            _ => "app.example.com",
        }
    }
}

pub(crate) struct Population {
    pub people: Vec<Person>,
    /// `Err` only for an empty population, where any pick will do.
    activity: Result<Zipf<f64>, rand_distr::ZipfError>,
}

impl Population {
    pub fn new(rng: &mut ChaCha8Rng, count: usize, days: usize) -> Self {
        // Signed-up users stay ~25 days on average, anonymous visitors ~3; the heaviest 2% never churn.
        let loyal = Exp::new(1.0 / 25.0).ok();
        let casual = Exp::new(1.0 / 3.0).ok();
        let people = (0..count)
            .map(|index| {
                let first_day = rng.random_range(0..days);
                let signs_up = rng.random_bool(0.45);
                let signup_day = first_day + rng.random_range(0..3);
                let activated_day = (signs_up && rng.random_bool(0.55))
                    .then(|| signup_day + rng.random_range(0..4));
                let purchase_day = activated_day
                    .filter(|_| rng.random_bool(0.35))
                    .map(|d| d + rng.random_range(0..7));
                let lifetime = if index * 50 < count {
                    days
                } else {
                    let exp = if signs_up { loyal } else { casual };
                    exp.map_or(days, |e: Exp<f64>| e.sample(rng).ceil() as usize)
                };
                let (device_type, os, browser, app) = catalog::platform(rng);
                Person {
                    index,
                    seed: rng.random(),
                    first_day,
                    last_day: first_day + lifetime.max(signup_day - first_day + 8),
                    signs_up,
                    signup_day,
                    activated_day,
                    purchase_day,
                    stage: 0,
                    last_step_at: None,
                    app,
                    device_type,
                    browser,
                    os,
                    country: catalog::country(rng),
                    plan: catalog::plan(rng),
                }
            })
            .collect::<Vec<_>>();
        let activity = Zipf::new(people.len().max(1) as f64, 1.1);
        Self { people, activity }
    }

    /// A person active on `day`, drawn by activity (rank 1 is the heaviest user).
    pub fn pick_active(&self, rng: &mut ChaCha8Rng, day: usize) -> usize {
        let mut index = 0;
        for _ in 0..64 {
            let rank = match &self.activity {
                Ok(zipf) => zipf.sample(rng) as usize,
                Err(_) => rng.random_range(1..=self.people.len().max(1)),
            };
            index = rank.saturating_sub(1).min(self.people.len().saturating_sub(1));
            let p = &self.people[index];
            if p.first_day <= day && day <= p.last_day {
                return index;
            }
        }
        index
    }
}
