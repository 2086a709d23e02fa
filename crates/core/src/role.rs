//! The roles a person or a service token holds in an organization or a project. What each may
//! do is decided in one place, `sextant-access`; this is only the stored vocabulary.

use crate::ProjectId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A role, from most to least trusted.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in its scope: settings, keys, members, audit log, plus what analysts do.
    Admin,
    /// Reads everything (queries, raw events, people), sends events, edits dashboards and
    /// alerts.
    Analyst,
    /// Runs queries and reads dashboards, including operational (system) metrics; no raw
    /// events or people.
    Viewer,
    /// Business metrics only: aggregate queries over the project's business events.
    BusinessViewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Viewer, Role::BusinessViewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::BusinessViewer => "business_viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role held on one project, or on every project of the organization when `project` is
/// absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Grant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectId>,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text_and_json() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap_or_default();
            assert_eq!(json, format!("\"{role}\""));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
