//! `sextant user` and `sextant audit`: people and the audit log, metadata only, so they work
//! while a server is running.

use crate::cli::{AuditArgs, OutputFormat, RoleArg, UserCommand};
use crate::commands::find_project;
use crate::runtime::Stores;
use anyhow::Context;
use comfy_table::Table;
use sextant_config::Settings;
use sextant_core::{Grant, Role};
use sextant_store::{AuditFilter, MetaStore, NewUser, User, UserChange};
use std::io::BufRead;

pub(crate) fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::Admin => Role::Admin,
        RoleArg::Analyst => Role::Analyst,
        RoleArg::Viewer => Role::Viewer,
        RoleArg::BusinessViewer => Role::BusinessViewer,
    }
}

pub(crate) async fn user(command: UserCommand, settings: Settings) -> anyhow::Result<()> {
    let meta = Stores::open_meta(&settings).await?;
    let outcome = run_user(command, meta.as_ref()).await;
    meta.close().await;
    outcome
}

async fn run_user(command: UserCommand, meta: &dyn MetaStore) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            email,
            name,
            org,
            role: role_arg,
            project,
            password_stdin,
            no_password,
        } => {
            let org = meta.ensure_org(&org).await?;
            let project = match project {
                Some(p) => {
                    let found = find_project(meta, &p).await?;
                    anyhow::ensure!(
                        found.org_id == org.id,
                        "project `{p}` is not in organization {}",
                        org.name
                    );
                    Some(found.id)
                }
                None => None,
            };
            let password_hash = if no_password {
                None
            } else {
                let password = read_password(password_stdin)?;
                let hash =
                    tokio::task::spawn_blocking(move || sextant_access::hash_password(&password))
                        .await?
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                Some(hash.as_str().to_owned())
            };
            let grants = vec![Grant { project, role: role(role_arg) }];
            let user = meta
                .create_user(NewUser { org_id: org.id, email, name, password_hash, grants })
                .await?;
            println!(
                "created user {} ({}) in organization {} with {}",
                user.email,
                user.id,
                org.name,
                describe_grants(&user)
            );
        }
        UserCommand::List { org: name } => {
            let orgs = meta.list_orgs().await?;
            let org = orgs
                .into_iter()
                .find(|o| o.name == name || o.id.as_str() == name)
                .ok_or_else(|| anyhow::anyhow!("no organization `{name}`"))?;
            let mut table = Table::new();
            table.set_header(["id", "email", "name", "roles", "password", "created", "disabled"]);
            for u in meta.list_users(&org.id).await? {
                table.add_row([
                    u.id.clone(),
                    u.email.clone(),
                    u.name.clone().unwrap_or_default(),
                    describe_grants(&u),
                    if u.has_password { "yes" } else { "no (gateway only)" }.to_owned(),
                    u.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    u.disabled_at.map_or_else(String::new, |t| {
                        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    }),
                ]);
            }
            println!("{table}");
        }
        UserCommand::Disable { user } | UserCommand::Enable { user } if user.is_empty() => {
            anyhow::bail!("name the user by email or id");
        }
        UserCommand::Disable { user } => {
            let found = find_user(meta, &user).await?;
            meta.update_user(
                &found.id,
                UserChange { disabled: Some(true), ..UserChange::default() },
            )
            .await?;
            println!(
                "disabled {} ({}); their sessions ended (other servers within 10 s)",
                found.email, found.id
            );
        }
        UserCommand::Enable { user } => {
            let found = find_user(meta, &user).await?;
            meta.update_user(
                &found.id,
                UserChange { disabled: Some(false), ..UserChange::default() },
            )
            .await?;
            println!("enabled {} ({})", found.email, found.id);
        }
    }
    Ok(())
}

fn describe_grants(user: &User) -> String {
    if user.grants.is_empty() {
        return "no role".to_owned();
    }
    let each: Vec<String> = user
        .grants
        .iter()
        .map(|g| match &g.project {
            Some(p) => format!("{} on {p}", g.role),
            None => format!("{} on the organization", g.role),
        })
        .collect();
    each.join(", ")
}

async fn find_user(meta: &dyn MetaStore, email_or_id: &str) -> anyhow::Result<User> {
    if let Some(user) = meta.get_user(email_or_id).await? {
        return Ok(user);
    }
    meta.find_user_by_email(email_or_id)
        .await?
        .map(|c| c.user)
        .ok_or_else(|| anyhow::anyhow!("no user `{email_or_id}`"))
}

/// A password from stdin (scripts) or typed at a prompt without echo being turned off: the
/// prompt says so, and scripts should prefer stdin.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if !from_stdin {
        eprint!(
            "password for the new user (at least 10 characters; it will be visible as you type, or use --password-stdin): "
        );
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password given (use --no-password for gateway-only users)"
    );
    Ok(password)
}

pub(crate) async fn audit(args: AuditArgs, settings: Settings) -> anyhow::Result<()> {
    let meta = Stores::open_meta(&settings).await?;
    let outcome = run_audit(args, meta.as_ref()).await;
    meta.close().await;
    outcome
}

async fn run_audit(args: AuditArgs, meta: &dyn MetaStore) -> anyhow::Result<()> {
    let since = sextant_query::DateRange { from: args.since.clone(), to: None }
        .resolve(chrono::Utc::now(), sextant_query::Zone::UTC)
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?
        .from;
    let mut filter =
        AuditFilter { since: Some(since), limit: args.limit.max(1), ..AuditFilter::default() };
    if let Some(project) = &args.project {
        filter.project_id = Some(find_project(meta, project).await?.id);
    }
    if let Some(org) = &args.org {
        let found = meta
            .list_orgs()
            .await?
            .into_iter()
            .find(|o| &o.name == org || o.id.as_str() == org)
            .ok_or_else(|| anyhow::anyhow!("no organization `{org}`"))?;
        filter.org_id = Some(found.id);
    }
    filter.actor = match args.actor {
        Some(actor) if actor.contains('@') => {
            Some(format!("user:{}", find_user(meta, &actor).await?.id))
        }
        other => other,
    };
    filter.action = args.action;
    let records = meta.list_audit(&filter).await?;
    match args.format {
        OutputFormat::Json => {
            for record in &records {
                println!("{}", serde_json::to_string(record)?);
            }
        }
        OutputFormat::Table => {
            let mut table = Table::new();
            table.set_header([
                "time", "actor", "via", "action", "project", "status", "path", "address",
            ]);
            for r in &records {
                let who = match &r.actor_name {
                    Some(name) => format!("{} ({name})", r.actor),
                    None => r.actor.clone(),
                };
                table.add_row([
                    r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    who,
                    r.via.clone(),
                    r.action.clone(),
                    r.project_id.as_ref().map_or_else(String::new, ToString::to_string),
                    r.status.to_string(),
                    format!("{} {}", r.method, r.path),
                    r.ip_hash.clone().unwrap_or_default(),
                ]);
            }
            println!("{table}");
            eprintln!("{} records since {since}", records.len());
        }
    }
    Ok(())
}
