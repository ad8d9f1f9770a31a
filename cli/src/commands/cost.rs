//! `sloguard cost`: the expected monthly AWS bill of the applied fleet (or of a
//! hypothetical one), term by term, from `sloguard_core::cost`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use sloguard_core::app::DefinitionStore;
use sloguard_core::cost::{self, Deployment, FleetSlo, ItemSizes};
use sloguard_core::settings::{self, Overrides, Settings};
use sloguard_core::slo::message::count;
use sloguard_core::slo::model::SloDefinition;

use super::{read_files, Connection, Store};

/// `sloguard cost`'s flags.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// Price a hypothetical fleet of N ratio SLOs, each on metrics of its own (no table needed).
    #[arg(long, value_name = "N", conflicts_with = "fleet")]
    slos: Option<usize>,
    /// Price the SLOs of these files or folders instead of the table.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    fleet: Vec<PathBuf>,
    #[arg(long, value_name = "MINUTES", allow_negative_numbers = true,
          help = settings::SCHEDULE_MINUTES.flag_help())]
    schedule_minutes: Option<String>,
    #[arg(long, value_name = "DAYS", allow_negative_numbers = true,
          help = settings::HISTORY_DAYS.flag_help())]
    history_days: Option<String>,
    #[arg(long, value_name = "HOURS", allow_negative_numbers = true,
          help = settings::RECONCILE_HOURS.flag_help())]
    reconcile_hours: Option<String>,
    #[arg(long, value_name = "SLOS", allow_negative_numbers = true,
          help = settings::SHARD_SIZE.flag_help())]
    shard_size: Option<String>,
    /// A measured shard time in seconds (the evaluator's REPORT Duration for one shard);
    /// default: estimated.
    #[arg(long)]
    cycle_seconds: Option<f64>,
    /// Whose prices (us-east-1, us-east-2, us-west-2, eu-west-1).
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Print the estimate as JSON.
    #[arg(long)]
    json: bool,
    /// Print the cost table of docs/deploying.md (10, 100 and 1,000 SLOs) and nothing else.
    #[arg(long, hide = true)]
    readme_table: bool,
}

/// Price the fleet the flags name (files, a synthetic fleet, or the table) and print the bill.
pub async fn run(args: &Args) -> Result<ExitCode> {
    if args.readme_table {
        print!("{}", cost::readme_table(sloguard_aws::cost::LAYOUT));
        return Ok(ExitCode::SUCCESS);
    }
    // The deployed stack's settings, as the functions read them, with the flags on top:
    // checked by the same rules (a value out of range is the same error from either).
    let flags = Overrides::default()
        .set(&settings::TABLE, args.store.table.as_deref())
        .set(
            &settings::SCHEDULE_MINUTES,
            args.schedule_minutes.as_deref(),
        )
        .set(&settings::HISTORY_DAYS, args.history_days.as_deref())
        .set(&settings::RECONCILE_HOURS, args.reconcile_hours.as_deref())
        .set(&settings::SHARD_SIZE, args.shard_size.as_deref());
    let deployed = Settings::without_table(|k| std::env::var(k).ok(), &flags)?;
    let options = CostOptions {
        slos: args.slos,
        fleet: args.fleet.clone(),
        region: args.region.clone(),
        deployment: Deployment {
            cycle_seconds: args.cycle_seconds,
            ..Deployment::from_settings(&deployed)
        },
        json: args.json,
    };
    if args.slos.is_some() || !args.fleet.is_empty() {
        price(Source::Offline, &options).await?;
    } else {
        let conn = args.store.connect().await?;
        price(Source::Table(&conn), &options).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Which fleet to price and how the stack is deployed.
pub struct CostOptions {
    /// A hypothetical fleet of this many ratio SLOs on metrics of their own.
    pub slos: Option<usize>,
    /// SLO files to price instead of the table.
    pub fleet: Vec<PathBuf>,
    /// Region whose prices to use.
    pub region: String,
    /// The deployment (schedule, history, measured cycle time).
    pub deployment: Deployment,
    /// Print JSON.
    pub json: bool,
}

/// Where the definitions come from: files, a synthetic fleet, or the table.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// `--slos N` or `--fleet FILE...`: no AWS access needed.
    Offline,
    /// The applied fleet, read from the table like `status`.
    Table(&'a Connection),
}

/// Price the fleet and print the bill.
pub async fn price(source: Source<'_>, o: &CostOptions) -> Result<()> {
    let prices = cost::prices::for_region(&o.region).ok_or_else(|| {
        anyhow!(
            "--region: no prices for `{}`; known: {}",
            o.region,
            cost::prices::REGIONS
                .iter()
                .map(|p| p.region)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let (defs, sizes): (Vec<SloDefinition>, HashMap<String, ItemSizes>) = match source {
        Source::Offline => match o.slos {
            Some(n) => (cost::synthetic_fleet(n), HashMap::new()),
            None => {
                let loaded = sloguard_core::slo::load::load(&read_files(&o.fleet)?);
                if !loaded.problems.is_empty() {
                    bail!(
                        "{} in the files; run `sloguard validate` first",
                        count(loaded.problems.len(), "problem")
                    );
                }
                (loaded.slos, HashMap::new())
            }
        },
        Source::Table(conn) => {
            let stored = conn.app.store.definitions().await?;
            let sizes = conn.app.store.item_sizes().await?;
            let defs: Vec<SloDefinition> = stored
                .into_iter()
                .filter_map(|d| d.definition.ok())
                .collect();
            (defs, sizes)
        }
    };
    if defs.is_empty() {
        bail!("no SLOs to price: apply some, or use --slos N or --fleet FILE...");
    }
    let fleet: Vec<FleetSlo> = defs
        .iter()
        .map(|definition| FleetSlo {
            definition,
            sizes: sizes.get(&definition.name).copied(),
        })
        .collect();
    let hour = chrono::Utc::now().timestamp();
    let estimate = cost::estimate(
        &fleet,
        &o.deployment,
        prices,
        hour,
        sloguard_aws::cost::LAYOUT,
    );
    if o.json {
        println!("{}", serde_json::to_string_pretty(&estimate)?);
    } else {
        let measured = fleet.iter().filter(|f| f.sizes.is_some()).count();
        print!("{}", estimate.render());
        if matches!(source, Source::Table(_)) {
            println!(
                "item sizes: measured in the table for {measured} of {}, estimated for the rest",
                count(fleet.len(), "SLO")
            );
        }
    }
    Ok(())
}
