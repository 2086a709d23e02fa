//! Each project's ingestion policy, compiled once (PII key words, internal-user digests) and
//! cached for a few seconds: ingestion must not read the metadata store per request, and a
//! settings change reaches every node within the cache lifetime.

use crate::IngestError;
use sextant_core::ProjectId;
use sextant_privacy::{DEFAULT_PII_KEYS, PiiPolicy};
use sextant_store::{MetaStore, ProjectSettings};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(crate) struct ProjectRules {
    pub(crate) settings: ProjectSettings,
    pub(crate) pii: PiiPolicy,
}

impl ProjectRules {
    fn compile(settings: ProjectSettings) -> Self {
        let keys: Vec<&str> = DEFAULT_PII_KEYS
            .iter()
            .copied()
            .chain(settings.pii_keys.iter().map(String::as_str))
            .collect();
        let pii = PiiPolicy::new(&keys, settings.max_property_value_bytes);
        Self { settings, pii }
    }
}

pub(crate) struct RulesCache {
    meta: Arc<dyn MetaStore>,
    entries: Mutex<HashMap<ProjectId, (Instant, Arc<ProjectRules>)>>,
}

impl RulesCache {
    pub(crate) fn new(meta: Arc<dyn MetaStore>) -> Self {
        Self { meta, entries: Mutex::default() }
    }

    pub(crate) async fn get(&self, project: &ProjectId) -> Result<Arc<ProjectRules>, IngestError> {
        if let Ok(entries) = self.entries.lock()
            && let Some((at, rules)) = entries.get(project)
            && at.elapsed() < TTL
        {
            return Ok(Arc::clone(rules));
        }
        let settings = self.meta.project_settings(project).await.map_err(|e| {
            IngestError::Unavailable(format!("cannot read the project's settings: {e}"))
        })?;
        let rules = Arc::new(ProjectRules::compile(settings));
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(project.clone(), (Instant::now(), Arc::clone(&rules)));
        }
        Ok(rules)
    }

    /// Forgets a project's cached rules, so a change made on this node applies at once.
    pub(crate) fn invalidate(&self, project: &ProjectId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(project);
        }
    }
}
