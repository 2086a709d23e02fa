//! Cases every metadata backend must pass.
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::MetaSubject;
use crate::{KeyKind, NewKey, ProjectSettings, StoreError};
use sextant_core::{ErrorKind, ProjectId};

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
        })
        .await
        .unwrap();
    assert!(secret.secret.starts_with("sx_sk_"));
    assert_eq!(secret.key.public_key, None, "secret keys are never stored in clear");
    assert_eq!(secret.key.prefix, secret.secret[..12]);

    let found = subject.store.authenticate(&secret.secret).await.unwrap().unwrap();
    assert_eq!(found, secret.key);
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
        .create_key(NewKey { kind: KeyKind::Admin, project_id: None, name: "ops".into() })
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
        })
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    let bad = subject
        .store
        .create_key(NewKey { kind: KeyKind::Secret, project_id: None, name: "x".into() })
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    let missing = subject
        .store
        .create_key(NewKey {
            kind: KeyKind::Secret,
            project_id: Some(ProjectId::new("prj_missing")),
            name: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert_eq!(subject.store.list_keys(None).await.unwrap().len(), 1);
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

pub async fn users_are_unique_by_email(subject: &MetaSubject) {
    let org = subject.store.ensure_org("Acme").await.unwrap();
    let ada = subject.store.create_user(&org.id, " Ada@Example.com ", Some("Ada")).await.unwrap();
    assert_eq!(ada.email, "ada@example.com");
    let dup = subject.store.create_user(&org.id, "ada@example.com", None).await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::Conflict);
    assert_eq!(
        subject.store.create_user(&org.id, "not-an-email", None).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(subject.store.list_users(&org.id).await.unwrap(), vec![ada]);
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
