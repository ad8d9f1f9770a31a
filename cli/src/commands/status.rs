//! `sloguard status`: the current state of every SLO (table or the JSON contract),
//! once or, with `--watch`, refreshed until Ctrl-C.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use sloguard_aws::AwsApp;
use sloguard_cli::output;
use sloguard_core::app::apply::owner_of;
use sloguard_core::app::select::Filter;
use sloguard_core::app::DefinitionStore;
use sloguard_core::slo::message::rfc3339;
use sloguard_core::slo::status::Status;

use super::{Scope, Store};

/// `sloguard status`'s flags.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    #[command(flatten)]
    scope: Scope,
    /// Print the JSON array of the contract instead of a table.
    #[arg(long)]
    json: bool,
    /// Refresh every SECONDS (default 30) until Ctrl-C.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "30",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    watch: Option<u64>,
    /// Stop --watch after N refreshes (for tests and scripts).
    #[arg(long, hide = true, requires = "watch")]
    iterations: Option<u64>,
}

/// Print the status once, or refresh it with `--watch`.
pub async fn run(args: &Args, verbose: bool) -> Result<ExitCode> {
    let app = args.store.connect().await?.app;
    let filter = args.scope.filter();
    match args.watch {
        Some(every) => watch(&app, args.json, every, args.iterations, verbose, &filter).await?,
        None => print_of(&app, args.json, &filter).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The status table of the SLOs `filter` selects, then the conditions of every SLO that is
/// not ok; or the JSON array of the contract (`pretty` or one line). The table has a TEAM
/// column when an SLO has an owner.
pub async fn render(
    app: &AwsApp,
    json: bool,
    pretty: bool,
    now: i64,
    filter: &Filter,
) -> Result<String> {
    let defs = filter.select(app.store.definitions().await?)?;
    let mut states = sloguard_core::app::latest::states_with_latest(&app.store).await?;
    let names: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    sloguard_core::app::latest::add_history_only(&app.store, &names, &mut states).await?;
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
                let mut v = output::status_json(
                    &d.name,
                    &service,
                    objective,
                    &window,
                    states.get(&d.name),
                    now,
                );
                // An objective of an SLO with several: the SLO as written.
                if let Some(parent) = d.definition.as_ref().ok().and_then(|x| x.parent.clone()) {
                    v["objective_of"] = serde_json::json!(parent);
                }
                v["owner"] = serde_json::json!(owner_of(d));
                v
            })
            .collect();
        let text = if pretty {
            serde_json::to_string_pretty(&arr)?
        } else {
            serde_json::to_string(&arr)?
        };
        return Ok(text + "\n");
    }
    if defs.is_empty() {
        return Ok("no SLOs in the table yet: `sloguard apply FILE...`\n".into());
    }
    let colour = output::colour();
    // Who owns each SLO, when any has an owner: a column after the SLO's name.
    let teams = defs.iter().any(|d| owner_of(d).is_some());
    let rows: Vec<Vec<String>> = defs
        .iter()
        .map(|d| {
            let method = d.definition.as_ref().ok().map(|def| def.method);
            let mut row = output::status_row(&d.name, method, states.get(&d.name), now);
            if teams {
                row.insert(1, owner_of(d).unwrap_or("-").to_string());
            }
            row
        })
        .collect();
    let mut header = output::STATUS_HEADER.to_vec();
    if teams {
        header.insert(1, "TEAM");
    }
    let status_col = if teams { 2 } else { 1 };
    let mut out = output::table(&header, &rows, Some(status_col), colour);
    // An SLO with several objectives is as bad as its worst objective.
    let mut groups: std::collections::BTreeMap<String, Vec<Status>> = Default::default();
    for d in &defs {
        if let Some(parent) = d.definition.as_ref().ok().and_then(|x| x.parent.clone()) {
            let status = states
                .get(&d.name)
                .and_then(|s| s.latest.as_ref())
                .map_or(Status::NoData, |s| s.status);
            groups.entry(parent).or_default().push(status);
        }
    }
    if !groups.is_empty() {
        out.push_str(
            "
SLOS WITH SEVERAL OBJECTIVES (each row above is one objective)
",
        );
        let rows: Vec<Vec<String>> = groups
            .into_iter()
            .map(|(slo, statuses)| {
                let worst = Status::worst(statuses.iter().copied()).unwrap_or(Status::NoData);
                vec![
                    slo,
                    worst.as_str().to_string(),
                    format!("worst of {} objectives", statuses.len()),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &["SLO", "STATUS", ""],
            &rows,
            Some(1),
            colour,
        ));
    }
    let conditions: Vec<Vec<String>> = defs
        .iter()
        .filter_map(|d| states.get(&d.name)?.latest.as_ref())
        .filter(|s| !matches!(s.status, Status::Ok | Status::NoData))
        .flat_map(output::condition_rows)
        .collect();
    if !conditions.is_empty() {
        out.push_str("\nBURN-RATE CONDITIONS of the SLOs that are not ok\n");
        out.push_str(&output::table(
            &output::CONDITIONS_HEADER,
            &conditions,
            None,
            colour,
        ));
    }
    Ok(out)
}

/// Print the status of every SLO once (the demo's).
#[cfg(feature = "demo")]
pub async fn print(app: &AwsApp, json: bool) -> Result<()> {
    print_of(app, json, &Filter::default()).await
}

/// Print the status of the SLOs `filter` selects once.
pub async fn print_of(app: &AwsApp, json: bool, filter: &Filter) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    print!("{}", render(app, json, true, now, filter).await?);
    Ok(())
}

/// Print the status every `every` seconds until Ctrl-C (or `iterations` times): on a
/// terminal the screen is redrawn; otherwise each refresh follows the last (JSON one line
/// each). A failure after the first refresh is reported and retried at the next.
pub async fn watch(
    app: &AwsApp,
    json: bool,
    every: u64,
    iterations: Option<u64>,
    verbose: bool,
    filter: &Filter,
) -> Result<()> {
    let terminal = std::io::stdout().is_terminal();
    let mut done = 0u64;
    loop {
        let now = chrono::Utc::now().timestamp();
        match render(app, json, terminal, now, filter).await {
            Ok(text) => {
                if terminal {
                    print!(
                        "\x1b[2J\x1b[Hsloguard status at {}, every {every} s (Ctrl-C to stop)\n\n{text}",
                        rfc3339(now)
                    );
                } else if json {
                    print!("{text}");
                } else {
                    print!("== sloguard status at {}\n{text}", rfc3339(now));
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(e) => eprintln!(
                "error: {} (trying again in {every} s)",
                super::advise(e, verbose)
            ),
        }
        done += 1;
        if iterations.is_some_and(|n| done >= n) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(every)).await;
    }
}
