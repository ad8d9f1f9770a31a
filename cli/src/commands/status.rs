//! `sloguard status`: the current state of every SLO (table or the JSON contract).

use anyhow::Result;
use sloguard::app::{DefinitionStore, StateStore};
use sloguard::aws::AwsApp;
use sloguard_cli::output;

/// Print the status table, or the JSON array of the contract.
pub async fn print(app: &AwsApp, json: bool) -> Result<()> {
    let defs = app.store.definitions().await?;
    let states = app.store.states().await?;
    let now = chrono::Utc::now().timestamp();
    if json {
        let arr: Vec<serde_json::Value> = defs
            .iter()
            .map(|d| {
                let (service, objective, window) = match &d.definition {
                    Ok(def) => (
                        def.service.clone(),
                        def.objective.target,
                        def.window_label(),
                    ),
                    Err(_) => (String::new(), f64::NAN, String::new()),
                };
                output::status_json(
                    &d.name,
                    &service,
                    objective,
                    &window,
                    states.get(&d.name),
                    now,
                )
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
        return Ok(());
    }
    if defs.is_empty() {
        println!("no SLOs in the table yet: `sloguard apply FILE...`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = defs
        .iter()
        .map(|d| output::status_row(&d.name, states.get(&d.name), now))
        .collect();
    print!(
        "{}",
        output::table(&output::STATUS_HEADER, &rows, Some(1), output::colour())
    );
    Ok(())
}
