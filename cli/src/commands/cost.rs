//! `sloguard cost`: the expected monthly AWS bill of the applied fleet (or of a
//! hypothetical one), term by term, from `sloguard::cost`.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use sloguard::app::DefinitionStore;
use sloguard::cost::{self, Deployment, FleetSlo, ItemSizes};
use sloguard::slo::model::SloDefinition;

use super::{read_files, Connection};

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
pub async fn run(source: Source<'_>, o: &CostOptions) -> Result<()> {
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
                let loaded = sloguard::slo::load::load(&read_files(&o.fleet)?);
                if !loaded.problems.is_empty() {
                    bail!(
                        "{} problem(s) in the files; run `sloguard validate` first",
                        loaded.problems.len()
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
    let estimate = cost::estimate(&fleet, &o.deployment, prices, hour);
    if o.json {
        println!("{}", serde_json::to_string_pretty(&estimate)?);
    } else {
        let measured = fleet.iter().filter(|f| f.sizes.is_some()).count();
        print!("{}", estimate.render());
        if matches!(source, Source::Table(_)) {
            println!(
                "item sizes: measured in the table for {measured} of {} SLOs, estimated for the rest",
                fleet.len()
            );
        }
    }
    Ok(())
}
