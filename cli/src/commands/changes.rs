//! `sloguard changes`: the deployments recorded for the targets an SLO names in
//! `sloguard.dev/changes`, newest first.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;
use sloguard_aws::AwsApp;
use sloguard_core::app::changes::changes_of;
use sloguard_core::app::DefinitionStore;
use sloguard_core::slo::message::{relative, rfc3339};

use super::{parse_span, parse_time, SloSince, UnknownSlo};

/// How far back `changes` looks without `--since`.
pub const DEFAULT_SPAN_SECONDS: i64 = 7 * 86_400;

/// `sloguard changes`'s arguments.
#[derive(clap::Args)]
#[command(
    mut_arg("slo", |a| a.help("The SLO whose changes to list")),
    mut_arg("since", |a| a.help("From this time (RFC 3339) or this long ago (e.g. 2h, 7d); default 7 days")),
)]
pub struct Args {
    #[command(flatten)]
    of: SloSince,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// List the changes since `--since` (a time, or a span back from now).
pub async fn run(args: &Args) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let since = match args.of.since.as_deref() {
        None => now - DEFAULT_SPAN_SECONDS,
        Some(s) if s.contains('T') => parse_time(s, "--since")?,
        Some(s) => now - parse_span(s, "--since")?,
    };
    let app = args.of.store.connect().await?.app;
    print(&app, &args.of.slo, since, now, args.json).await?;
    Ok(ExitCode::SUCCESS)
}

/// Print the changes of `slo` with times in [since, until] as a table, or as JSON.
pub async fn print(app: &AwsApp, slo: &str, since: i64, until: i64, json: bool) -> Result<()> {
    let defs = app.store.definitions().await?;
    let Some(def) = defs
        .iter()
        .find(|d| d.name == slo)
        .and_then(|d| d.definition.as_ref().ok())
    else {
        return Err(UnknownSlo::among(slo, &defs).into());
    };
    let changes = changes_of(&app.store, def, since, until).await?;
    if json {
        let rows: Vec<_> = changes
            .iter()
            .map(|c| {
                json!({"target": c.target, "kind": c.kind, "at": rfc3339(c.at), "what": c.what,
                       "region": c.region, "link": c.link})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if def.settings.changes.is_empty() {
        println!("{slo} names no change targets: add the sloguard.dev/changes annotation (e.g. stack/shop-api, lambda/checkout-fn)");
        return Ok(());
    }
    println!(
        "{} for {slo} ({}) since {}:",
        sloguard_core::slo::message::count(changes.len(), "change"),
        def.settings.changes.join(", "),
        rfc3339(since)
    );
    let width = changes.iter().map(|c| c.target.len()).max().unwrap_or(0);
    for c in &changes {
        println!(
            "  {}  {:>8} ago  {:<width$}  {}\n  {:>32}{}",
            rfc3339(c.at),
            relative(until - c.at),
            c.target,
            c.what,
            "",
            c.link
        );
    }
    Ok(())
}
