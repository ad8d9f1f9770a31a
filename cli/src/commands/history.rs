//! `sloguard history`: the stored budget history of one SLO, or of each SLO of a team or
//! service (`--team`, `--service`).

use std::process::ExitCode;

use anyhow::Result;
use sloguard_aws::AwsApp;
use sloguard_cli::output;
use sloguard_core::app::select::Filter;
use sloguard_core::app::{DefinitionStore, HistoryStore, Snapshot};
use sloguard_core::slo::message::rfc3339;

use super::{parse_span, parse_time, Scope, Store, UnknownSlo};

/// How far back `history` looks without `--since`.
pub const DEFAULT_SPAN_SECONDS: i64 = 86_400;

/// `sloguard history`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// The SLO whose history to print (optional with --team or --service: each of theirs).
    #[arg(required_unless_present_any = ["team", "service"])]
    slo: Option<String>,
    #[command(flatten)]
    scope: Scope,
    /// From this time (RFC 3339); default 24 hours before --until (with --every and --limit, that many periods).
    #[arg(long)]
    since: Option<String>,
    /// Until this time (RFC 3339); default now.
    #[arg(long)]
    until: Option<String>,
    /// Only the latest N rows of the range.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    limit: Option<u32>,
    /// One row per period (1h, 1d...): last budget, highest burn, worst status.
    #[arg(long, value_name = "PERIOD")]
    every: Option<String>,
    /// Print a JSON array of snapshots instead of a table.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV for spreadsheets.
    #[arg(long)]
    csv: bool,
}

/// Print the history of the range the flags give (the last 24 hours by default).
pub async fn run(args: &Args) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let until = args
        .until
        .as_deref()
        .map(|u| parse_time(u, "--until"))
        .transpose()?
        .unwrap_or(now);
    let every = args
        .every
        .as_deref()
        .map(|e| parse_span(e, "--every"))
        .transpose()?;
    let limit = args.limit.map(|n| n as usize);
    // `--every 1d --limit 7` asks for the latest 7 days: look back that far by default.
    let periods_back = every.zip(limit).map(|(e, n)| until - e.max(60) * n as i64);
    let since = match args.since.as_deref() {
        Some(s) => parse_time(s, "--since")?,
        None => periods_back.unwrap_or(until - DEFAULT_SPAN_SECONDS),
    };
    let range = Range {
        since,
        until,
        limit,
        since_defaulted: args.since.is_none() && periods_back.is_none(),
        every,
    };
    let format = match (args.json, args.csv) {
        (true, _) => Format::Json,
        (_, true) => Format::Csv,
        _ => Format::Table,
    };
    let filter = args.scope.filter();
    if args.slo.is_none() && format == Format::Csv {
        anyhow::bail!("--csv prints one SLO's history (its columns are its windows): name the SLO");
    }
    let app = args.store.connect().await?.app;
    match &args.slo {
        Some(slo) => {
            if !filter.is_all() {
                let defs = app.store.definitions().await?;
                filter.check(&defs)?;
                filter.check_names(std::slice::from_ref(slo), &defs)?;
            }
            print(&app, slo, range, format).await?
        }
        None => print_each(&app, &filter, range, format).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Which rows to show: a time range, and at most the latest `limit` of them (of the
/// periods, with `every`).
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub since: i64,
    pub until: i64,
    pub limit: Option<usize>,
    /// `since` is the default (the last 24 hours), so say so and how to see more.
    pub since_defaulted: bool,
    /// Aggregate into periods of this many seconds (`--every 1h|1d`).
    pub every: Option<i64>,
}

/// How to print the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    /// For spreadsheets.
    Csv,
}

/// Print one SLO's history table, or the JSON array of the contract; an SLO that is
/// neither defined nor has history here is an `UnknownSlo`.
pub async fn print(app: &AwsApp, slo: &str, range: Range, format: Format) -> Result<()> {
    let snaps = snapshots(app, slo, range).await?;
    if range.since_defaulted {
        defaulted_note(range);
    }
    match format {
        Format::Csv => print!("{}", output::history_csv(&snaps)),
        Format::Json => {
            let arr: Vec<serde_json::Value> = snaps.iter().map(output::history_json).collect();
            println!("{}", serde_json::to_string_pretty(&arr)?);
        }
        Format::Table => print!("{}", table(slo, &snaps, range)),
    }
    Ok(())
}

/// Print the history of each SLO `filter` selects: a table each under its name, or one
/// JSON array of the contract's snapshots, each with its `slo`.
pub async fn print_each(app: &AwsApp, filter: &Filter, range: Range, format: Format) -> Result<()> {
    let defs = filter.select(app.store.definitions().await?)?;
    if range.since_defaulted {
        defaulted_note(range);
    }
    let mut all = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        let snaps = snapshots(app, &d.name, range).await?;
        match format {
            Format::Json => all.extend(snaps.iter().map(|s| {
                let mut v = output::history_json(s);
                v["slo"] = serde_json::json!(d.name);
                v
            })),
            _ => {
                let gap = if i == 0 { "" } else { "\n" };
                print!("{gap}== {}\n{}", d.name, table(&d.name, &snaps, range));
            }
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(())
}

/// Say that the range is the default one, and how to see more.
fn defaulted_note(range: Range) {
    eprintln!(
        "showing the last 24 hours (since {}); --since TIME looks further back, --limit N shows only the latest N rows",
        rfc3339(range.since)
    );
}

/// One SLO's snapshots in the range (aggregated with `every`, the latest `limit`); an SLO
/// that is neither defined nor has history here is an `UnknownSlo`.
async fn snapshots(app: &AwsApp, slo: &str, range: Range) -> Result<Vec<Snapshot>> {
    // Aggregated rows are limited after aggregating: `--every 1d --limit 7` is a week.
    let snaps = match range.limit.filter(|_| range.every.is_none()) {
        Some(n) => {
            app.store
                .latest_history(slo, range.since, range.until, n)
                .await?
        }
        None => app.store.history(slo, range.since, range.until).await?,
    };
    let defs = app.store.definitions().await?;
    if !defs.iter().any(|d| d.name == slo) {
        if snaps.is_empty() {
            return Err(UnknownSlo::among(slo, &defs).into());
        }
        eprintln!("note: {slo} is no longer defined; this is the history it left");
    }
    Ok(match range.every {
        Some(every) => {
            let mut periods = sloguard_core::report::aggregate(&snaps, every);
            let older = periods
                .len()
                .saturating_sub(range.limit.unwrap_or(usize::MAX));
            periods.drain(..older);
            periods
        }
        None => snaps,
    })
}

/// The history table, or a line saying the range holds none.
fn table(slo: &str, snaps: &[Snapshot], range: Range) -> String {
    if snaps.is_empty() {
        return format!(
            "no history for {slo} from {} to {}\n",
            rfc3339(range.since),
            rfc3339(range.until)
        );
    }
    let rows: Vec<Vec<String>> = snaps.iter().map(output::history_row).collect();
    output::table(&output::HISTORY_HEADER, &rows, Some(1), output::colour())
}
