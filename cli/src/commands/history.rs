//! `sloguard history`: the stored budget history of one SLO.

use anyhow::Result;
use sloguard::app::HistoryStore;
use sloguard::aws::AwsApp;
use sloguard_cli::output;

/// Print one SLO's history table, or the JSON array of the contract.
pub async fn print(app: &AwsApp, slo: &str, since: i64, until: i64, json: bool) -> Result<()> {
    let snaps = app.store.history(slo, since, until).await?;
    if json {
        let arr: Vec<serde_json::Value> = snaps.iter().map(output::history_json).collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
        return Ok(());
    }
    if snaps.is_empty() {
        println!("no history for {slo} in that range");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = snaps.iter().map(output::history_row).collect();
    print!(
        "{}",
        output::table(&output::HISTORY_HEADER, &rows, Some(1), output::colour())
    );
    Ok(())
}
