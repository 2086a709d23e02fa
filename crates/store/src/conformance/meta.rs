//! Cases every metadata backend must pass.
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::MetaSubject;
use crate::{
    AuditFilter, AuditRecord, KeyKind, NewKey, NewUser, ProjectSettings, StoreError, UserChange,
};
use chrono::{Duration, TimeZone, Utc};
use sextant_core::{ErrorKind, Grant, OrgId, ProjectId, Role};

pub async fn orgs_are_idempotent_by_name(subject: &MetaSubject) {
    let a = subject.store.ensure_org("Acme").await.unwrap();
    let again = subject.store.ensure_org("  Acme ").await.unwrap();
    assert_eq!(a, again);
    subject.store.ensure_org("Globex").await.unwrap();
    let names: Vec<_> =
        subject.store.list_orgs().await.unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["Acme", "Globex"]);
    assert_eq!(subject.store.ensure_org(" ").await.unwrap_err().kind(), ErrorKind::InvalidInput);
}

pub async fn projects_come_with_a_write_key(subject: &MetaSubject) {
    let org = subject.store.ensure_org("Acme").await.unwrap();
    let (project, write) = subject.store.create_project(&org.id, "Web").await.unwrap();
    assert!(project.id.as_str().starts_with("prj_"));
    assert_eq!(write.key.kind, KeyKind::Write);
    assert_eq!(write.key.project_id.as_ref(), Some(&project.id));
    assert_eq!(
        write.key.public_key.as_deref(),
        Some(write.secret.as_str()),
        "write keys are public and shown again"
    );
    let dup = subject.store.create_project(&org.id, "Web").await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::Conflict);
    assert_eq!(dup.to_string(), "a project named `Web` already exists in this organization");
    let other = subject.store.ensure_org("Globex").await.unwrap();
    subject
        .store
        .create_project(&other.id, "Web")
        .await
        .expect("names are unique per organization only");
    let missing = subject
        .store
        .create_project(&sextant_core::OrgId::new("org_missing"), "X")
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert_eq!(subject.store.list_projects().await.unwrap().len(), 2);
}

pub async fn keys_authenticate_until_revoked(subject: &MetaSubject) {
    let org = subject.store.ensure_org("Acme").await.unwrap();
    let (project, write) = subject.store.create_project(&org.id, "Web").await.unwrap();
    let secret = subject
        .store
        .create_key(NewKey {
            kind: KeyKind::Secret,
            project_id: Some(project.id.clone()),
            name: "dashboards".into(),
            role: Some(Role::Viewer),
        })
        .await
        .unwrap();
    assert!(secret.secret.starts_with("sx_sk_"));
    assert_eq!(secret.key.public_key, None, "secret keys are never stored in clear");
    assert_eq!(secret.key.prefix, secret.secret[..12]);

    let found = subject.store.authenticate(&secret.secret).await.unwrap().unwrap();
    assert_eq!(found, secret.key);
    assert_eq!(found.role, Some(Role::Viewer));
    assert_eq!(found.last_used_at, None);
    let used = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    subject.store.touch_key(&found.id, used).await.unwrap();
    let found = subject.store.authenticate(&secret.secret).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(used));
    assert_eq!(
        subject.store.authenticate(&write.secret).await.unwrap().unwrap().kind,
        KeyKind::Write
    );
    assert_eq!(subject.store.authenticate("sx_sk_wrong").await.unwrap(), None);

    let keys = subject.store.list_keys(Some(&project.id)).await.unwrap();
    assert_eq!(keys.len(), 2);
    let revoked = subject.store.revoke_key(&secret.key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(subject.store.authenticate(&secret.secret).await.unwrap(), None);
    let again = subject.store.revoke_key(&secret.key.id).await.unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at, "revoking twice keeps the first time");
    assert_eq!(
        subject.store.revoke_key("key_missing").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

pub async fn key_scopes_are_checked(subject: &MetaSubject) {
    let admin = subject
        .store
        .create_key(NewKey {
            kind: KeyKind::Admin,
            project_id: None,
            name: "ops".into(),
            role: None,
        })
        .await
        .unwrap();
    assert!(admin.secret.starts_with("sx_ak_"));
    assert_eq!(subject.store.authenticate(&admin.secret).await.unwrap().unwrap().project_id, None);
    let bad = subject
        .store
        .create_key(NewKey {
            kind: KeyKind::Admin,
            project_id: Some(ProjectId::new("prj_x")),
            name: "x".into(),
            role: None,
        })
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    let bad = subject
        .store
        .create_key(NewKey {
            kind: KeyKind::Secret,
            project_id: None,
            name: "x".into(),
            role: Some(Role::Viewer),
        })
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    let (project, _) = subject
        .store
        .create_project(&subject.store.ensure_org("Acme").await.unwrap().id, "Web")
        .await
        .unwrap();
    for (kind, role) in [(KeyKind::Secret, None), (KeyKind::Write, Some(Role::Admin))] {
        let bad = subject
            .store
            .create_key(NewKey {
                kind,
                project_id: Some(project.id.clone()),
                name: "x".into(),
                role,
            })
            .await;
        assert!(matches!(bad, Err(StoreError::Invalid(_))), "{kind:?} with {role:?}");
    }
    let missing = subject
        .store
        .create_key(NewKey {
            kind: KeyKind::Secret,
            project_id: Some(ProjectId::new("prj_missing")),
            name: "x".into(),
            role: Some(Role::Analyst),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert_eq!(
        subject.store.list_keys(None).await.unwrap().len(),
        2,
        "the admin and the write key"
    );
}

pub async fn find_project_by_id_or_name(subject: &MetaSubject) {
    let acme = subject.store.ensure_org("Acme").await.unwrap();
    let globex = subject.store.ensure_org("Globex").await.unwrap();
    let (web, _) = subject.store.create_project(&acme.id, "Web").await.unwrap();
    let (_, _) = subject.store.create_project(&acme.id, "Shared").await.unwrap();
    let (shared2, _) = subject.store.create_project(&globex.id, "Shared").await.unwrap();
    assert_eq!(subject.store.find_project("Web").await.unwrap(), Some(web.clone()));
    assert_eq!(subject.store.find_project(web.id.as_str()).await.unwrap(), Some(web));
    assert_eq!(subject.store.find_project("Nope").await.unwrap(), None);
    let ambiguous = subject.store.find_project("Shared").await.unwrap_err();
    assert_eq!(ambiguous.kind(), ErrorKind::Conflict);
    assert_eq!(subject.store.find_project(shared2.id.as_str()).await.unwrap(), Some(shared2));
}

fn new_user(org: &OrgId, email: &str, grants: Vec<Grant>) -> NewUser {
    NewUser {
        org_id: org.clone(),
        email: email.into(),
        name: None,
        password_hash: Some("$argon2id$v=19$stored-as-given".into()),
        grants,
    }
}

pub async fn users_are_unique_by_email(subject: &MetaSubject) {
    let org = subject.store.ensure_org("Acme").await.unwrap();
    let ada = subject
        .store
        .create_user(NewUser {
            name: Some("Ada".into()),
            ..new_user(&org.id, " Ada@Example.com ", vec![])
        })
        .await
        .unwrap();
    assert_eq!(ada.email, "ada@example.com");
    assert!(ada.has_password);
    let dup =
        subject.store.create_user(new_user(&org.id, "ada@example.com", vec![])).await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::Conflict);
    for bad in ["not-an-email", "@example.com", "a b@example.com"] {
        let err = subject.store.create_user(new_user(&org.id, bad, vec![])).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    assert_eq!(subject.store.list_users(&org.id).await.unwrap(), vec![ada.clone()]);
    let found = subject.store.find_user_by_email("ADA@example.com").await.unwrap().unwrap();
    assert_eq!(found.user, ada);
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$v=19$stored-as-given"));
    assert!(subject.store.find_user_by_email("bob@example.com").await.unwrap().is_none());
    assert_eq!(subject.store.get_user(&ada.id).await.unwrap(), Some(ada));
    assert_eq!(subject.store.get_user("usr_missing").await.unwrap(), None);
}

pub async fn users_hold_grants_within_their_organization(subject: &MetaSubject) {
    let store = &subject.store;
    let acme = store.ensure_org("Acme").await.unwrap();
    let globex = store.ensure_org("Globex").await.unwrap();
    let (web, _) = store.create_project(&acme.id, "Web").await.unwrap();
    let (foreign, _) = store.create_project(&globex.id, "Web").await.unwrap();
    let grants = vec![
        Grant { project: None, role: Role::Viewer },
        Grant { project: Some(web.id.clone()), role: Role::Admin },
    ];
    let ada =
        store.create_user(new_user(&acme.id, "ada@example.com", grants.clone())).await.unwrap();
    assert_eq!(ada.grants, grants);
    let outside = new_user(
        &acme.id,
        "eve@example.com",
        vec![Grant { project: Some(foreign.id.clone()), role: Role::Admin }],
    );
    assert_eq!(store.create_user(outside).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(
        store.find_user_by_email("eve@example.com").await.unwrap().is_none(),
        "nothing half-created"
    );
    let twice = vec![
        Grant { project: None, role: Role::Viewer },
        Grant { project: None, role: Role::Admin },
    ];
    let err = store
        .update_user(&ada.id, UserChange { grants: Some(twice), ..UserChange::default() })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let changed = store
        .update_user(
            &ada.id,
            UserChange {
                name: Some("Ada L.".into()),
                grants: Some(vec![Grant { project: None, role: Role::Analyst }]),
                ..UserChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.name.as_deref(), Some("Ada L."));
    assert_eq!(changed.grants, [Grant { project: None, role: Role::Analyst }]);
    assert_eq!(store.list_users(&acme.id).await.unwrap(), vec![changed]);
    assert!(store.list_users(&globex.id).await.unwrap().is_empty());
    let missing = store.update_user("usr_missing", UserChange::default()).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

pub async fn sessions_live_until_expiry_or_disable(subject: &MetaSubject) {
    let store = &subject.store;
    let org = store.ensure_org("Acme").await.unwrap();
    let ada = store.create_user(new_user(&org.id, "ada@example.com", vec![])).await.unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    store.create_session("hash-a", &ada.id, now + Duration::hours(1)).await.unwrap();
    store.create_session("hash-b", &ada.id, now + Duration::hours(1)).await.unwrap();
    assert_eq!(
        store.session_user("hash-a", now).await.unwrap().map(|u| u.id),
        Some(ada.id.clone())
    );
    assert_eq!(
        store.session_user("hash-a", now + Duration::hours(1)).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.session_user("hash-x", now).await.unwrap(), None);
    store.delete_session("hash-a").await.unwrap();
    assert_eq!(store.session_user("hash-a", now).await.unwrap(), None, "logged out");
    assert!(store.session_user("hash-b", now).await.unwrap().is_some());

    let disabled = store
        .update_user(&ada.id, UserChange { disabled: Some(true), ..UserChange::default() })
        .await
        .unwrap();
    assert!(disabled.disabled_at.is_some());
    assert_eq!(store.session_user("hash-b", now).await.unwrap(), None, "disabling ends sessions");
    let enabled = store
        .update_user(&ada.id, UserChange { disabled: Some(false), ..UserChange::default() })
        .await
        .unwrap();
    assert_eq!(enabled.disabled_at, None);

    store.create_session("hash-c", &ada.id, now + Duration::hours(1)).await.unwrap();
    store
        .update_user(
            &ada.id,
            UserChange { password_hash: Some("$argon2id$new".into()), ..UserChange::default() },
        )
        .await
        .unwrap();
    assert_eq!(
        store.session_user("hash-c", now).await.unwrap(),
        None,
        "a new password ends sessions"
    );
    let missing = store.create_session("hash-d", "usr_missing", now).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

fn audit_record(
    id: &str,
    minute: u32,
    org: Option<&str>,
    actor: &str,
    action: &str,
) -> AuditRecord {
    AuditRecord {
        id: id.into(),
        at: Utc.with_ymd_and_hms(2026, 12, 1, 10, minute, 0).unwrap(),
        org_id: org.map(OrgId::new),
        project_id: org.map(|o| ProjectId::new(format!("prj_{o}"))),
        actor: actor.into(),
        actor_name: Some("ada@example.com".into()),
        key_id: None,
        via: "session".into(),
        action: action.into(),
        method: "GET".into(),
        path: "/api/v1/query".into(),
        status: 200,
        ip_hash: Some("5f1d".into()),
    }
}

pub async fn audit_records_page_filter_and_expire(subject: &MetaSubject) {
    let store = &subject.store;
    let records: Vec<AuditRecord> = (0..7)
        .map(|i| {
            let org = if i % 2 == 0 { "org_a" } else { "org_b" };
            let action = if i == 3 { "revoke_key" } else { "run_query" };
            audit_record(&format!("0190-{i:02}"), i, Some(org), &format!("user:u{}", i % 3), action)
        })
        .collect();
    store.append_audit(&records[..3]).await.unwrap();
    store.append_audit(&records[3..]).await.unwrap();
    store.append_audit(&[]).await.unwrap();
    let all =
        store.list_audit(&AuditFilter { limit: 100, ..AuditFilter::default() }).await.unwrap();
    let newest_first: Vec<AuditRecord> = records.iter().rev().cloned().collect();
    assert_eq!(all, newest_first, "round trip, newest first");

    let page = |filter: AuditFilter| async move {
        let records = store.list_audit(&filter).await.unwrap();
        records.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        page(AuditFilter { limit: 2, ..AuditFilter::default() }).await,
        ["0190-06", "0190-05"]
    );
    assert_eq!(
        page(AuditFilter { limit: 2, before_id: Some("0190-05".into()), ..AuditFilter::default() })
            .await,
        ["0190-04", "0190-03"]
    );
    assert_eq!(
        page(AuditFilter {
            org_id: Some(OrgId::new("org_b")),
            limit: 10,
            ..AuditFilter::default()
        })
        .await,
        ["0190-05", "0190-03", "0190-01"]
    );
    assert_eq!(
        page(AuditFilter {
            project_id: Some(ProjectId::new("prj_org_a")),
            actor: Some("user:u0".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await,
        ["0190-06", "0190-00"]
    );
    assert_eq!(
        page(AuditFilter {
            action: Some("revoke_key".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await,
        ["0190-03"]
    );
    let at = |minute| Some(Utc.with_ymd_and_hms(2026, 12, 1, 10, minute, 0).unwrap());
    assert_eq!(
        page(AuditFilter { since: at(2), until: at(4), limit: 10, ..AuditFilter::default() }).await,
        ["0190-03", "0190-02"]
    );
    assert_eq!(store.purge_expired(at(3).unwrap(), at(3).unwrap()).await.unwrap(), 3);
    assert_eq!(page(AuditFilter { limit: 100, ..AuditFilter::default() }).await.len(), 4);
}

pub async fn project_settings_round_trip(subject: &MetaSubject) {
    let org = subject.store.ensure_org("Acme").await.unwrap();
    let (project, _) = subject.store.create_project(&org.id, "Web").await.unwrap();
    let store = &subject.store;
    assert_eq!(store.project_settings(&project.id).await.unwrap(), ProjectSettings::default());
    let changed = ProjectSettings {
        allowed_events: vec!["page_view".into(), "signup".into()],
        hash_user_ids: true,
        internal_users: vec![crate::internal_user_digest("alice@example.com")],
        retention_days: 30,
        business_events: Some(vec!["purchase".into()]),
        ..ProjectSettings::default()
    };
    store.set_project_settings(&project.id, &changed).await.unwrap();
    assert_eq!(store.project_settings(&project.id).await.unwrap(), changed);

    let invalid = ProjectSettings { retention_days: 0, ..changed.clone() };
    let err = store.set_project_settings(&project.id, &invalid).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(store.project_settings(&project.id).await.unwrap(), changed, "unchanged");

    let missing = ProjectId::new("prj_missing");
    assert_eq!(store.project_settings(&missing).await.unwrap_err().kind(), ErrorKind::NotFound);
    let err = store.set_project_settings(&missing, &changed).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
