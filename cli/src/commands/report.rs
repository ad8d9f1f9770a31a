//! `sloguard report` and `sloguard review`: budget charts in one HTML file, and the
//! SLO review digest (printed, or sent to the topic with `--send`).

use std::path::Path;

use anyhow::{Context as _, Result};
use sloguard::app::report::{digest_notification, review_views, send_review, slo_views};
use sloguard::app::DefinitionStore;
use sloguard::aws::AwsApp;
use sloguard::report::page;
use sloguard::slo::message::count;

use super::UnknownSlo;

/// Write the report of `names` (all when empty) over the last `days` to `out`.
pub async fn report(
    app: &AwsApp,
    names: &[String],
    seconds: i64,
    out: &Path,
    now: i64,
) -> Result<()> {
    let since = now - seconds;
    // A name the table does not hold is a usage error (exit 2) naming those it may mean.
    if !names.is_empty() {
        let defs = app.store.definitions().await?;
        if let Some(missing) = names.iter().find(|n| !defs.iter().any(|d| d.name == **n)) {
            return Err(UnknownSlo::among(missing, &defs).into());
        }
    }
    let views = slo_views(&app.store, (!names.is_empty()).then_some(names), since, now).await?;
    let html = page("sloguard: SLO report", &views, (since, now), now);
    std::fs::write(out, &html).with_context(|| format!("cannot write {}", out.display()))?;
    let points: usize = views.iter().map(|v| v.history.len()).sum();
    println!(
        "wrote {} ({}, {}, {} KB): open it in a browser",
        out.display(),
        count(views.len(), "SLO"),
        count(points, "snapshot"),
        html.len().div_ceil(1024)
    );
    Ok(())
}

/// Print the review of the last `seconds`, or send it once to the topic.
pub async fn review(app: &AwsApp, seconds: i64, send: bool, now: i64) -> Result<()> {
    let days = (seconds / 86_400).max(1);
    if send {
        let sent = send_review(&app.store, &app.notifier, days, now).await?;
        println!(
            "{}",
            if sent {
                "review digest sent"
            } else {
                "this week's review digest was already sent"
            }
        );
        return Ok(());
    }
    let views = review_views(&app.store, days, now).await?;
    let n = digest_notification(&views, days, now);
    println!("{}\n\n{}", n.subject, n.body);
    Ok(())
}

/// `sloguard report`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::Store,
    /// SLOs to include (default: all).
    slos: Vec<String>,
    /// How far back (e.g. 7d, 30d).
    #[arg(long, default_value = "30d")]
    since: String,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE.html")]
    out: std::path::PathBuf,
}

/// `sloguard review`'s flags.
#[derive(clap::Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    store: super::Store,
    /// SNS topic ARN that --send sends to (overrides SLO_TOPIC_ARN).
    #[arg(long)]
    topic_arn: Option<String>,
    /// How far back (e.g. 28d).
    #[arg(long, default_value = "28d")]
    since: String,
    /// Send it to the topic (--topic-arn or SLO_TOPIC_ARN) as one info message (once a week) instead of printing it.
    #[arg(long)]
    send: bool,
}

/// Write the report file the flags name.
pub async fn run(args: &Args) -> Result<std::process::ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let span = super::parse_span(&args.since, "--since")?;
    let app = args.store.connect().await?.app;
    report(&app, &args.slos, span, &args.out, now).await?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Print the review, or send it with `--send` (which needs a topic).
pub async fn run_review(args: &ReviewArgs) -> Result<std::process::ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let span = super::parse_span(&args.since, "--since")?;
    let c = super::connect(args.store.table.as_deref(), args.topic_arn.as_deref()).await?;
    if args.send && c.settings.topic_arn.is_none() {
        anyhow::bail!("--send needs a topic: set SLO_TOPIC_ARN or give --topic-arn");
    }
    review(&c.app, span, args.send, now).await?;
    Ok(std::process::ExitCode::SUCCESS)
}
