//! The docs' "What it costs" table (docs/deploying.md), from the model: fixed fleets at a fixed hour, so the
//! table does not drift.

use crate::slo::model::SloDefinition;

use super::estimate::estimate;
use super::fleet::synthetic_fleet;
use super::layout::Layout;
use super::model::{usd, Deployment, Estimate, FleetSlo};
use super::prices;
use crate::slo::message::thousands;

/// The fleet sizes the docs' cost table shows (docs/deploying.md, "What it costs").
pub const README_FLEETS: [usize; 3] = [10, 100, 1000];
/// The hour the docs' figures are computed at (fixed, so the table does not drift).
pub const README_HOUR: i64 = 1_795_608_000; // 2026-11-25T12:00:00Z

/// README's cost table: synthetic fleets of 10, 100 and 1,000 SLOs at the template's
/// defaults and us-east-1 prices, with the production `layout` (`sloguard_aws::cost`).
/// `make cost-table` prints it; a test keeps README in step.
pub fn readme_table(layout: Layout) -> String {
    let prices = prices::for_region("us-east-1").expect("us-east-1 is known");
    let d = Deployment::default();
    let fleets: Vec<Vec<SloDefinition>> =
        README_FLEETS.iter().map(|n| synthetic_fleet(*n)).collect();
    let estimates: Vec<Estimate> = fleets
        .iter()
        .map(|f| {
            let fleet: Vec<FleetSlo> = f
                .iter()
                .map(|definition| FleetSlo {
                    definition,
                    sizes: None,
                })
                .collect();
            estimate(&fleet, &d, prices, README_HOUR, layout)
        })
        .collect();
    let mut out = String::from("| $ per month (us-east-1) |");
    for n in README_FLEETS {
        out.push_str(&format!(" {} SLOs |", thousands(n as f64)));
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(README_FLEETS.len()));
    out.push('\n');
    for (i, t) in estimates[0].terms.iter().enumerate() {
        out.push_str(&format!("| {} |", t.item));
        for e in &estimates {
            out.push_str(&format!(" {} |", usd(e.terms[i].monthly_usd)));
        }
        out.push('\n');
    }
    out.push_str("| **total** |");
    for e in &estimates {
        out.push_str(&format!(" **{}** |", usd(e.total_usd)));
    }
    // A tenth of a cent shown: the goal ($0.25 per SLO at 100 SLOs) is met by less than a cent.
    out.push_str("\n| **per SLO** |");
    for e in &estimates {
        out.push_str(&format!(" **${:.3}** |", e.per_slo_usd()));
    }
    out.push_str("\n| per SLO: metrics requested and write units per cycle, custom metrics |");
    for e in &estimates {
        out.push_str(&format!(
            " {:.2} / {:.2} / {:.1} |",
            e.per_slo(e.per_cycle.metrics_requested),
            e.per_slo(e.per_cycle.dynamodb_write_units),
            e.per_slo(e.custom_metrics as f64)
        ));
    }
    out.push('\n');
    out
}
