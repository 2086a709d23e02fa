//! Site domain → project, for the Plausible tracker, which sends only `domain`. Built from every
//! project's `domains` setting and cached for a few seconds; a settings change on this node
//! clears it at once.

use crate::AppState;
use sextant_core::ProjectId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(crate) struct DomainMap {
    cached: Mutex<Option<(Instant, HashMap<String, ProjectId>)>>,
}

impl DomainMap {
    pub(crate) async fn project(&self, state: &AppState, domain: &str) -> Option<ProjectId> {
        let domain = domain.trim().to_ascii_lowercase();
        if let Ok(cached) = self.cached.lock()
            && let Some((at, map)) = cached.as_ref()
            && at.elapsed() < TTL
        {
            return map.get(&domain).cloned();
        }
        let map = load(state).await;
        let found = map.get(&domain).cloned();
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), map));
        }
        found
    }

    pub(crate) fn invalidate(&self) {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = None;
        }
    }
}

async fn load(state: &AppState) -> HashMap<String, ProjectId> {
    let mut map = HashMap::new();
    let Ok(projects) = state.meta.list_projects().await else { return map };
    for project in projects {
        if let Ok(settings) = state.meta.project_settings(&project.id).await {
            for domain in settings.domains {
                map.insert(domain, project.id.clone());
            }
        }
    }
    map
}
