//! `sloguard incidents` and `sloguard incident`: the stored incident records with their
//! figures (when the burn started, time to detect, duration, budget spent, the changes
//! before, the silences during), and one incident as a post-incident review skeleton.

use std::process::ExitCode;

use anyhow::Result;
use sloguard_aws::AwsApp;
use sloguard_core::app::incidents::{incident, incidents};
use sloguard_core::app::DefinitionStore;
use sloguard_core::report::markdown::incident_review;
use sloguard_core::slo::message::{count, rfc3339};

use super::{parse_span, parse_time, UnknownSlo};

/// How far back `incidents` looks without `--since`.
pub const DEFAULT_SPAN_SECONDS: i64 = 28 * 86_400;

/// `sloguard incidents`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::Store,
    /// Only this SLO's incidents.
    slo: Option<String>,
    /// From this time (RFC 3339) or this long ago (e.g. 7d); default 28 days.
    #[arg(long)]
    since: Option<String>,
    /// Print a JSON array instead of text.
    #[arg(long)]
    json: bool,
}

/// `sloguard incident`'s arguments.
#[derive(clap::Args)]
pub struct OneArgs {
    #[command(flatten)]
    store: super::Store,
    /// The incident's id, as `sloguard incidents` prints it (e.g. checkout-availability@20261206T1015Z).
    id: String,
    /// Print a post-incident review skeleton in Markdown (facts, changes, silences, burn
    /// charts as inline SVG links, empty Cause and Actions sections).
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// List the incidents open at any time since `--since`.
pub async fn run(args: &Args) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let since = match args.since.as_deref() {
        None => now - DEFAULT_SPAN_SECONDS,
        Some(s) if s.contains('T') => parse_time(s, "--since")?,
        Some(s) => now - parse_span(s, "--since")?,
    };
    let app = args.store.connect().await?.app;
    print(&app, args.slo.as_deref(), since, now, args.json).await?;
    Ok(ExitCode::SUCCESS)
}

/// Print the incidents (of `slo` only, when given) open at any time in [since, now].
pub async fn print(
    app: &AwsApp,
    slo: Option<&str>,
    since: i64,
    now: i64,
    json: bool,
) -> Result<()> {
    let list = incidents(&app.store, slo, since, now).await?;
    if let (Some(name), true) = (slo, list.is_empty()) {
        let defs = app.store.definitions().await?;
        if !defs.iter().any(|d| d.name == name) {
            return Err(UnknownSlo::among(name, &defs).into());
        }
    }
    if json {
        let rows: Vec<_> = list.iter().map(|f| f.to_json(now)).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{} since {}{}",
        count(list.len(), "incident"),
        rfc3339(since),
        if list.is_empty() { "" } else { ":" }
    );
    for f in &list {
        for line in f.lines(now) {
            println!("{line}");
        }
    }
    if let Some(f) = list.last() {
        println!(
            "\nA review skeleton of one: sloguard incident {} --markdown",
            f.record.id()
        );
    }
    Ok(())
}

/// Print one incident: its figures, as JSON, or the review skeleton in Markdown.
pub async fn run_one(args: &OneArgs) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let app = args.store.connect().await?.app;
    let (facts, history) = incident(&app.store, &args.id, now).await?;
    if args.markdown {
        print!("{}", incident_review(&facts, &history, now));
    } else if args.json {
        println!("{}", serde_json::to_string_pretty(&facts.to_json(now))?);
    } else {
        for line in facts.lines(now) {
            println!("{line}");
        }
        println!(
            "\nA review skeleton: sloguard incident {} --markdown",
            facts.record.id()
        );
    }
    Ok(ExitCode::SUCCESS)
}
