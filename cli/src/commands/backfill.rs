//! `sloguard backfill`: rebuild history from CloudWatch, with progress on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use sloguard_aws::AwsApp;
use sloguard_core::app::backfill::{backfill, BackfillError, BackfillRequest};
use sloguard_core::app::DefinitionStore;
use sloguard_core::slo::message::{count, rfc3339};

use super::{parse_span, parse_time, Store, UnknownSlo};

/// `sloguard backfill`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// SLOs to rebuild (default: all).
    slos: Vec<String>,
    /// First evaluation time (RFC 3339).
    #[arg(long)]
    from: String,
    /// End of the range, exclusive (RFC 3339).
    #[arg(long)]
    to: String,
    /// Time between evaluations (e.g. 5m, 1h).
    #[arg(long, default_value = "1h")]
    step: String,
}

/// Rebuild the range; exit 2 when an evaluation failed (what was written is kept).
pub async fn run(args: &Args) -> Result<ExitCode> {
    let request = BackfillRequest {
        slos: (!args.slos.is_empty()).then(|| args.slos.clone()),
        from: parse_time(&args.from, "--from")?,
        to: parse_time(&args.to, "--to")?,
        step: parse_span(&args.step, "--step")?,
        now: chrono::Utc::now().timestamp(),
    };
    let complete = rebuild(&args.store.connect().await?.app, request).await?;
    Ok(if complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Run the backfill and print a one-line summary; returns whether every evaluation worked.
async fn rebuild(app: &AwsApp, req: BackfillRequest) -> Result<bool> {
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
    let report = match backfill(app, &req, |done, total| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    })
    .await
    {
        // Exit 2 with the stored names it may mean, as every verb that takes a name does.
        Err(BackfillError::UnknownSlo(name)) => {
            let defs = app.store.definitions().await?;
            return Err(UnknownSlo::among(&name, &defs).into());
        }
        other => other?,
    };
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
