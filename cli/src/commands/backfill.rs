//! `sloguard backfill`: rebuild history from CloudWatch, with progress on a terminal.

use std::io::IsTerminal;

use anyhow::Result;
use sloguard::app::backfill::{backfill, BackfillRequest};
use sloguard::aws::AwsApp;
use sloguard::slo::message::{count, rfc3339};

/// Run the backfill and print a one-line summary; returns whether every evaluation worked.
pub async fn run(app: &AwsApp, req: BackfillRequest) -> Result<bool> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} evaluation times ({eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let report = backfill(app, &req, |done, total| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    })
    .await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    println!(
        "backfill {} .. {}: {}, {} written, {} already there, {} failed; nothing was sent",
        rfc3339(req.from),
        rfc3339(req.to),
        count(report.times, "evaluation time"),
        count(report.written, "snapshot"),
        report.skipped,
        report.failed.len()
    );
    for f in &report.failed {
        eprintln!("  failed: {f}");
    }
    if !report.failed.is_empty() {
        eprintln!("run the same command again to retry what failed; what was written is kept");
    }
    Ok(report.failed.is_empty())
}
