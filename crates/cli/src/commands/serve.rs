//! `sextant serve`: the server, optionally with demo data and a query to paste.

use crate::cli::ServeArgs;
use crate::demo_data;
use crate::runtime::{self, Stores};
use sextant_config::Settings;
use sextant_demo::DemoConfig;
use sextant_store::{KeyKind, MetaStore, NewKey};

/// Name of the key minted for the printed quickstart query; older ones are revoked.
const QUICKSTART_KEY: &str = "quickstart (read-only demo key)";

pub(crate) async fn run(args: ServeArgs, settings: Settings) -> anyhow::Result<()> {
    let stores = Stores::open(&settings).await?;
    let outcome = async {
        let hint = if args.demo { Some(prepare_demo(&stores, args.demo_events).await?) } else { None };
        // Handlers go in before anything is announced; until here Ctrl-C simply ends the
        // process, which is safe (nothing has been acknowledged to anyone yet).
        let shutdown = runtime::shutdown_signal()?;
        let listener = runtime::bind(&settings).await?;
        // With port 0 the OS picks the port: print the real one.
        let url = &match listener.local_addr() {
            Ok(bound) if settings.server.listen.port() == 0 => format!("http://{bound}"),
            _ => settings.server.public_url.clone(),
        };
        tracing::info!(listen = %settings.server.listen, %url, data_dir = %settings.storage.data_dir.display(), "sextant is serving");
        println!("Sextant is running at {url}");
        match hint {
            Some(hint) => println!("{}", hint.replace("{url}", url)),
            None => println!("{}", admin_hint(&stores).await?),
        }
        runtime::serve(&settings, &stores, listener, shutdown).await
    }
    .await;
    let closed = stores.close().await;
    outcome.and(closed)
}

/// Loads demo data once and mints a fresh read key; returns what to print.
async fn prepare_demo(stores: &Stores, events: u64) -> anyhow::Result<String> {
    let project = match stores.meta.find_project("demo").await? {
        Some(p) if stores.events.project_stats(&p.id).await?.events > 0 => p,
        _ => {
            let project = demo_data::new_demo_project(stores, "demo").await?;
            let config = DemoConfig {
                project_id: project.id.clone(),
                events,
                days: 30,
                end: demo_data::default_end(),
                seed: 42,
            };
            demo_data::load(stores, config).await?;
            project
        }
    };
    let stats = stores.events.project_stats(&project.id).await?;
    for old in stores.meta.list_keys(Some(&project.id)).await? {
        if old.name == QUICKSTART_KEY && old.revoked_at.is_none() {
            stores.meta.revoke_key(&old.id).await?;
        }
    }
    let key = stores
        .meta
        .create_key(NewKey {
            kind: KeyKind::Secret,
            project_id: Some(project.id.clone()),
            name: QUICKSTART_KEY.into(),
            role: Some(sextant_core::Role::Viewer),
        })
        .await?;
    let query = r#"{"kind":"trends","series":[{"event":"page_view","math":"unique_users"},{"event":"purchase"}],"interval":"day","date_range":{"from":"-7d"}}"#;
    Ok(format!(
        "Demo project `demo` ({}) holds {} events.\nDaily unique visitors and purchases over the last 7 days:\n\n  curl -s {{url}}/api/v1/query -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{query}'\n",
        project.id, stats.events, key.secret
    ))
}

async fn admin_hint(stores: &Stores) -> anyhow::Result<String> {
    let has_admin = stores
        .meta
        .list_keys(None)
        .await?
        .iter()
        .any(|k| k.kind == KeyKind::Admin && k.revoked_at.is_none());
    Ok(if has_admin {
        "Create projects with `sextant project create NAME` or POST /api/v1/projects (admin key)."
            .to_owned()
    } else {
        "No admin key yet: create one with `sextant key create --admin`.".to_owned()
    })
}
