//! The permission model: what each route needs, what each role grants, and which role a
//! caller holds on a project. One table, so the rules can be read (and tested) in one place.
//!
//! | permission   | admin | analyst | viewer | business_viewer | write key |
//! |--------------|-------|---------|--------|-----------------|-----------|
//! | `Ingest`     | yes   | yes     | no     | no              | yes       |
//! | `Query`      | yes   | yes     | yes    | business events | no        |
//! | `ReadEvents` | yes   | yes     | no     | no              | no        |
//! | `ReadSystem` | yes   | yes     | yes    | no              | no        |
//! | `Administer` | yes   | no      | no     | no              | no        |
//!
//! "Business events": when the project's `business_events` setting lists event types, every
//! event type a business viewer's query names must be one of them.
//!
//! Organization-wide operations (users, new projects, the organization's audit log) need the
//! `admin` role on the organization itself; creating organizations and reading the server's
//! own metrics need an instance admin key.

use sextant_core::{Grant, ProjectId, Role};
use sextant_query::Query;

/// What a project-scoped route needs the caller to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Send events.
    Ingest,
    /// Aggregate queries: trends, funnels, retention, active users, sessions, paths.
    Query,
    /// Event- and person-level reads: raw events, the people of a funnel step, exports.
    ReadEvents,
    /// The project's operational figures (event counts, ingestion state).
    ReadSystem,
    /// Settings, keys and the project's audit log.
    Administer,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Ingest => "ingest",
            Permission::Query => "query",
            Permission::ReadEvents => "read_events",
            Permission::ReadSystem => "read_system",
            Permission::Administer => "administer",
        }
    }
}

/// Whether `role` grants `permission` on a project it applies to.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match role {
        Role::Admin => true,
        Role::Analyst => permission != P::Administer,
        Role::Viewer => matches!(permission, P::Query | P::ReadSystem),
        Role::BusinessViewer => permission == P::Query,
    }
}

/// The role `grants` give on `project`: the most trusted of the grants naming it and the
/// organization-wide ones (a grant without a project), or none.
pub fn resolve_role(grants: &[Grant], project: &ProjectId) -> Option<Role> {
    grants.iter().filter(|g| g.project.as_ref().is_none_or(|p| p == project)).map(|g| g.role).min()
}

/// Whether a business viewer may run `query` (an aggregate query: people-level ones need
/// `ReadEvents`, which they lack). When the project lists its business events, every series,
/// step and matcher must name one of them, so kinds that follow every event of a person
/// (sessions, paths) are refused too. Returns the reason when not.
pub fn business_query_allowed(
    query: &Query,
    business_events: Option<&[String]>,
) -> Result<(), String> {
    let Some(allowed) = business_events else { return Ok(()) };
    let Some(names) = query.event_names() else {
        return Err(format!(
            "this project limits business viewers to its business events; a `{}` query must name one in every series and step",
            query.kind()
        ));
    };
    match names.iter().find(|name| !allowed.iter().any(|a| a == *name)) {
        Some(name) => Err(format!(
            "`{name}` is not one of this project's business events ({})",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_table_in_the_module_doc_holds() {
        use Permission as P;
        let expected = [
            (Role::Admin, [true, true, true, true, true]),
            (Role::Analyst, [true, true, true, true, false]),
            (Role::Viewer, [false, true, false, true, false]),
            (Role::BusinessViewer, [false, true, false, false, false]),
        ];
        for (role, row) in expected {
            let got = [P::Ingest, P::Query, P::ReadEvents, P::ReadSystem, P::Administer]
                .map(|p| role_allows(role, p));
            assert_eq!(got, row, "{role}");
        }
    }

    #[test]
    fn the_most_trusted_applicable_grant_wins() {
        let shop = ProjectId::new("prj_shop");
        let blog = ProjectId::new("prj_blog");
        let grants = [
            Grant { project: None, role: Role::Viewer },
            Grant { project: Some(shop.clone()), role: Role::Admin },
        ];
        assert_eq!(resolve_role(&grants, &shop), Some(Role::Admin));
        assert_eq!(resolve_role(&grants, &blog), Some(Role::Viewer));
        let only_shop = [Grant { project: Some(shop.clone()), role: Role::Analyst }];
        assert_eq!(resolve_role(&only_shop, &blog), None);
        assert_eq!(resolve_role(&[], &shop), None);
    }

    #[test]
    fn business_viewers_query_business_events_only() {
        let query = |json: &str| serde_json::from_str::<Query>(json).unwrap();
        let trends = query(
            r#"{"kind":"trends","series":[{"event":"purchase"},{"event":"signup"}],"date_range":{"from":"-7d"}}"#,
        );
        let any_event = query(r#"{"kind":"trends","series":[{}],"date_range":{"from":"-7d"}}"#);
        let paths =
            query(r#"{"kind":"paths","anchor":{"event":"signup"},"date_range":{"from":"-7d"}}"#);
        let business = ["purchase".to_owned(), "signup".to_owned()];
        assert!(business_query_allowed(&trends, Some(&business)).is_ok());
        assert!(business_query_allowed(&trends, None).is_ok());
        assert!(business_query_allowed(&any_event, None).is_ok());
        assert!(business_query_allowed(&any_event, Some(&business)).is_err());
        let narrow = ["purchase".to_owned()];
        let refused = business_query_allowed(&trends, Some(&narrow)).unwrap_err();
        assert!(refused.contains("`signup`"), "{refused}");
        assert!(business_query_allowed(&paths, None).is_ok());
        assert!(business_query_allowed(&paths, Some(&business)).is_err());
    }
}
