//! `sextant demo`: generate the synthetic workload straight into the store, with progress.

use crate::cli::DemoArgs;
use crate::demo_data::{default_end, load, new_demo_project};
use crate::runtime::Stores;
use anyhow::Context;
use sextant_config::Settings;
use sextant_demo::DemoConfig;

pub(crate) async fn run(args: DemoArgs, settings: Settings) -> anyhow::Result<()> {
    let stores = Stores::open(&settings).await?;
    let end = match &args.end {
        Some(text) => sextant_core::parse_timestamp(text)
            .with_context(|| format!("--end: cannot read `{text}`"))?,
        None => default_end(),
    };
    let outcome = async {
        let project = new_demo_project(&stores, &args.project).await?;
        let config = DemoConfig {
            project_id: project.id.clone(),
            events: args.events,
            days: args.days,
            end,
            seed: args.seed,
        };
        load(&stores, config).await?;
        println!(
            "project {} ({}) now holds {} demo events; query it with:",
            project.name, project.id, args.events
        );
        println!(
            "  sextant query --project {} --event page_view --math unique-users --from -7d",
            project.name
        );
        anyhow::Ok(())
    }
    .await;
    stores.close().await?;
    outcome
}
