//! `sloguard history`: the stored budget history of one SLO.

use anyhow::Result;
use sloguard::app::{DefinitionStore, HistoryStore};
use sloguard::aws::AwsApp;
use sloguard::slo::message::rfc3339;
use sloguard_cli::output;

use super::UnknownSlo;

/// How far back `history` looks without `--since`.
pub const DEFAULT_SPAN_SECONDS: i64 = 86_400;

/// Which rows to show: a time range, and at most the latest `limit` of them.
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
    let snaps = match range.limit {
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
    if range.since_defaulted {
        eprintln!(
            "showing the last 24 hours (since {}); --since TIME looks further back, --limit N shows only the latest N rows",
            rfc3339(range.since)
        );
    }
    let snaps = match range.every {
        Some(every) => sloguard::report::aggregate(&snaps, every),
        None => snaps,
    };
    if format == Format::Csv {
        print!("{}", output::history_csv(&snaps));
        return Ok(());
    }
    if format == Format::Json {
        let arr: Vec<serde_json::Value> = snaps.iter().map(output::history_json).collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
        return Ok(());
    }
    if snaps.is_empty() {
        println!(
            "no history for {slo} from {} to {}",
            rfc3339(range.since),
            rfc3339(range.until)
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = snaps.iter().map(output::history_row).collect();
    print!(
        "{}",
        output::table(&output::HISTORY_HEADER, &rows, Some(1), output::colour())
    );
    Ok(())
}
