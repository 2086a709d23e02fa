//! `sextant query`: the same query specs as `POST /api/v1/query`, run against the store.

use crate::cli::{IntervalArg, MathArg, OutputFormat, QueryArgs};
use crate::commands::find_project;
use crate::runtime::Stores;
use anyhow::Context;
use chrono::Utc;
use comfy_table::Table;
use sextant_config::Settings;
use sextant_query::{
    Breakdown, Condition, DateRange, Filter, FilterOp, Interval, Math, PlanOptions, Query,
    QueryResult, Series, TrendsQuery,
};
use std::io::Read;

pub(crate) async fn run(args: QueryArgs, settings: Settings) -> anyhow::Result<()> {
    let query = match &args.file {
        Some(path) => read_spec(path)?,
        None => from_flags(&args)?,
    };
    let stores = Stores::open(&settings).await?;
    let outcome = async {
        let project = find_project(stores.meta.as_ref(), &args.project).await?;
        let opts = PlanOptions {
            project_id: project.id,
            now: sextant_core::truncate_to_micros(Utc::now()),
            max_buckets: settings.query.max_buckets,
            rollups: true,
        };
        let result = stores.events.query(&query, &opts).await?;
        match args.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&result)?),
            OutputFormat::Table => println!("{}", table(&result)),
        }
        anyhow::Ok(())
    }
    .await;
    stores.close().await?;
    outcome
}

fn read_spec(path: &std::path::Path) -> anyhow::Result<Query> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid query spec", path.display()))
}

fn from_flags(args: &QueryArgs) -> anyhow::Result<Query> {
    let filters = args
        .filters
        .iter()
        .map(|f| {
            let (property, value) = f
                .split_once('=')
                .with_context(|| format!("--where `{f}` is not PROPERTY=VALUE"))?;
            let property = property
                .to_owned()
                .try_into()
                .map_err(|e: String| anyhow::anyhow!("--where: {e}"))?;
            Ok(Condition::Filter(Filter { property, op: FilterOp::Eq, value: Some(value.into()) }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let breakdown = match &args.breakdown {
        Some(p) => Some(Breakdown {
            property: p
                .clone()
                .try_into()
                .map_err(|e: String| anyhow::anyhow!("--breakdown: {e}"))?,
            and: None,
            limit: 25,
            other: false,
        }),
        None => None,
    };
    Ok(Query::Trends(TrendsQuery {
        version: 1,
        series: vec![Series {
            event: args.event.clone(),
            math: match args.math {
                MathArg::Total => Math::Total,
                MathArg::UniqueUsers => Math::UniqueUsers,
            },
            property: None,
            filters: Vec::new(),
            label: None,
        }],
        interval: match args.interval {
            IntervalArg::Minute => Interval::Minute,
            IntervalArg::Hour => Interval::Hour,
            IntervalArg::Day => Interval::Day,
            IntervalArg::Week => Interval::Week,
            IntervalArg::Month => Interval::Month,
        },
        date_range: DateRange { from: args.from.clone(), to: args.to.clone() },
        timezone: None,
        filters,
        breakdown,
        compare: None,
        formula: None,
        cumulative: false,
    }))
}

/// One row per bucket, one column per series (and breakdown value), totals last.
fn table(result: &QueryResult) -> Table {
    let mut table = Table::new();
    let QueryResult::Trends(trends) = result else {
        // This command builds trends queries only.
        return table;
    };
    let mut header = vec!["bucket".to_owned()];
    header.extend(trends.series.iter().map(|s| match &s.breakdown_value {
        Some(v) => {
            format!("{} [{}]", s.label, v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        }
        None => s.label.clone(),
    }));
    table.set_header(header);
    for (i, bucket) in trends.buckets.iter().enumerate() {
        let mut row = vec![bucket.to_string()];
        row.extend(trends.series.iter().map(|s| number(s.values[i])));
        table.add_row(row);
    }
    let mut total = vec!["total".to_owned()];
    total.extend(trends.series.iter().map(|s| number(s.total)));
    table.add_row(total);
    table
}

fn number(value: Option<sextant_query::Num>) -> String {
    value.map_or_else(String::new, |v| serde_json::to_string(&v).unwrap_or_default())
}
