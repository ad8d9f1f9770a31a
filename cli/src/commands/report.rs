//! `sloguard report`: budget charts in one HTML file.

use std::path::Path;

use anyhow::{Context as _, Result};
use sloguard_aws::AwsApp;
use sloguard_core::app::select::Filter;
use sloguard_core::app::views::{slo_views_of, Detail, ReadBudget};
use sloguard_core::app::DefinitionStore;
use sloguard_core::report::page;
use sloguard_core::slo::message::count;

use super::UnknownSlo;

/// Write the report of `names` (all when empty) over the last `days` to `out` (the demo's).
#[cfg(feature = "demo")]
pub async fn report(
    app: &AwsApp,
    names: &[String],
    seconds: i64,
    out: &Path,
    now: i64,
) -> Result<()> {
    report_of(app, names, &Filter::default(), seconds, out, now).await
}

/// Write the report of `names` (all when empty) that `filter` selects (a team's, a
/// service's) over the last `seconds` to `out`.
pub async fn report_of(
    app: &AwsApp,
    names: &[String],
    filter: &Filter,
    seconds: i64,
    out: &Path,
    now: i64,
) -> Result<()> {
    let since = now - seconds;
    // A name, team or service the table does not hold is a usage error (exit 2) naming
    // those it may mean.
    if !names.is_empty() || !filter.is_all() {
        let defs = app.store.definitions().await?;
        if let Some(missing) = names.iter().find(|n| !defs.iter().any(|d| d.name == **n)) {
            return Err(UnknownSlo::among(missing, &defs).into());
        }
        filter.check(&defs)?;
        filter.check_names(names, &defs)?;
    }
    let views = slo_views_of(
        &app.store,
        (!names.is_empty()).then_some(names),
        filter,
        (since, now),
        Detail::Sections,
        &mut ReadBudget::unlimited(),
    )
    .await?;
    for note in &views.notes {
        eprintln!("note: {note}");
    }
    let title = format!("sloguard: SLO report{}", filter.describe());
    let html = page(&title, &views.slos, (since, now), now, &views.notes).into_string();
    std::fs::write(out, &html).with_context(|| format!("cannot write {}", out.display()))?;
    let views = views.slos;
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

/// `sloguard report`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::Store,
    /// SLOs to include (default: all, or all of --team and --service).
    slos: Vec<String>,
    #[command(flatten)]
    scope: super::Scope,
    /// How far back (e.g. 7d, 30d).
    #[arg(long, default_value = "30d")]
    since: String,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE.html")]
    out: std::path::PathBuf,
}

/// Write the report file the flags name.
pub async fn run(args: &Args) -> Result<std::process::ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let span = super::parse_span(&args.since, "--since")?;
    let app = args.store.connect().await?.app;
    report_of(&app, &args.slos, &args.scope.filter(), span, &args.out, now).await?;
    Ok(std::process::ExitCode::SUCCESS)
}
