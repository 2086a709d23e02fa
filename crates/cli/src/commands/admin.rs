//! `sextant project|key`: metadata only, so they work while a server is running.

use crate::cli::{KeyCommand, ProjectCommand, ProjectKeyKind};
use crate::commands::find_project;
use crate::runtime::Stores;
use anyhow::Context;
use comfy_table::Table;
use sextant_config::Settings;
use sextant_store::{KeyKind, MetaStore, NewKey};

pub(crate) async fn project(command: ProjectCommand, settings: Settings) -> anyhow::Result<()> {
    let meta = Stores::open_meta(&settings).await?;
    match command {
        ProjectCommand::Create { name, org } => {
            let org = meta.ensure_org(&org).await?;
            let (project, write_key) = meta.create_project(&org.id, &name).await?;
            println!(
                "created project {} ({}) in organization {}",
                project.name, project.id, org.name
            );
            println!("write key (public, for sending events): {}", write_key.secret);
            println!(
                "for reading, create a secret key: sextant key create --project {}",
                project.id
            );
        }
        ProjectCommand::List => {
            let mut table = Table::new();
            table.set_header(["id", "name", "organization", "created"]);
            let orgs = meta.list_orgs().await?;
            for p in meta.list_projects().await? {
                let org = orgs
                    .iter()
                    .find(|o| o.id == p.org_id)
                    .map_or(p.org_id.to_string(), |o| o.name.clone());
                table.add_row([p.id.to_string(), p.name, org, p.created_at.to_rfc3339()]);
            }
            println!("{table}");
        }
        ProjectCommand::Settings { project, set } => {
            let project = find_project(meta.as_ref(), &project).await?;
            let mut settings = meta.project_settings(&project.id).await?;
            if let Some(json) = set {
                let patch: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json)
                    .context("--set must be a JSON object, e.g. '{\"retention_days\": 90}'")?;
                settings = settings.patched(patch).map_err(anyhow::Error::msg)?;
                meta.set_project_settings(&project.id, &settings).await?;
                eprintln!("settings of {} ({}) changed", project.name, project.id);
            }
            println!("{}", serde_json::to_string_pretty(&settings)?);
        }
    }
    meta.close().await;
    Ok(())
}

pub(crate) async fn key(command: KeyCommand, settings: Settings) -> anyhow::Result<()> {
    let meta = Stores::open_meta(&settings).await?;
    match command {
        KeyCommand::Create { admin, project, kind, role, name } => {
            let new = if admin {
                NewKey { kind: KeyKind::Admin, project_id: None, name, role: None }
            } else {
                let project =
                    find_project(meta.as_ref(), project.as_deref().unwrap_or_default()).await?;
                let (kind, role) = match kind {
                    ProjectKeyKind::Secret => (KeyKind::Secret, Some(super::accounts::role(role))),
                    ProjectKeyKind::Write => (KeyKind::Write, None),
                };
                NewKey { kind, project_id: Some(project.id), name, role }
            };
            let created = meta.create_key(new).await?;
            let scope = created
                .key
                .project_id
                .as_ref()
                .map_or_else(|| "instance-wide".to_owned(), |p| format!("project {p}"));
            let role = created.key.role.map(|r| format!(", role {r}")).unwrap_or_default();
            eprintln!(
                "created {} key {} ({scope}{role}); it is shown only now:",
                created.key.kind.as_str(),
                created.key.id
            );
            println!("{}", created.secret);
        }
        KeyCommand::List { project } => {
            let project = match project {
                Some(p) => Some(find_project(meta.as_ref(), &p).await?.id),
                None => None,
            };
            let mut table = Table::new();
            table.set_header([
                "id",
                "kind",
                "role",
                "project",
                "name",
                "key",
                "created",
                "last used",
                "revoked",
            ]);
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or_else(String::new, |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            };
            for k in meta.list_keys(project.as_ref()).await? {
                table.add_row([
                    k.id,
                    k.kind.as_str().to_owned(),
                    k.role.map_or_else(String::new, |r| r.to_string()),
                    k.project_id.map_or_else(String::new, |p| p.to_string()),
                    k.name,
                    k.public_key.unwrap_or_else(|| format!("{}…", k.prefix)),
                    time(Some(k.created_at)),
                    time(k.last_used_at),
                    time(k.revoked_at),
                ]);
            }
            println!("{table}");
        }
        KeyCommand::Revoke { id } => {
            let key = meta.revoke_key(&id).await?;
            println!("revoked {} key {}", key.kind.as_str(), key.id);
        }
    }
    meta.close().await;
    Ok(())
}
