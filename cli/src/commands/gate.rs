//! `sloguard gate`: may this release go out? Exit 0 pass, 3 fail (with why), 2 error.

use std::process::ExitCode;

use anyhow::{anyhow, Result};
use sloguard_aws::AwsApp;
use sloguard_cli::output;
use sloguard_core::app::gate::{gate, GatePolicy};
use sloguard_core::app::select::Filter;
use sloguard_core::slo::message::count;

use super::{Scope, Store};

/// `sloguard gate`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// SLOs to check (default: all, or all of --team and --service).
    slos: Vec<String>,
    #[command(flatten)]
    scope: Scope,
    /// Budget that must be left, e.g. 25%.
    #[arg(long, value_name = "PERCENT")]
    min_budget: Option<String>,
    /// Fail while a page or ticket incident is open.
    #[arg(long)]
    no_open_incident: bool,
    /// Print the verdicts as JSON.
    #[arg(long)]
    json: bool,
}

/// Judge the SLOs the arguments select. Every error (a bad flag, no table, an unknown SLO,
/// no credentials) exits 2, so a pipeline can tell "cannot tell" from "fail" (3); the advice
/// on AWS access names the fix, with the SDK's details when `verbose`.
pub async fn run(args: &Args, verbose: bool) -> Result<ExitCode> {
    match check(args).await {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("error: {}", super::advise(e, verbose));
            Ok(ExitCode::from(2))
        }
    }
}

/// Parse the policy, connect and judge.
async fn check(args: &Args) -> Result<ExitCode> {
    let policy = GatePolicy {
        min_budget: args.min_budget.as_deref().map(parse_percent).transpose()?,
        no_open_incident: args.no_open_incident,
    };
    let app = args.store.connect().await?.app;
    let request = Selection {
        names: &args.slos,
        team: args.scope.team.as_deref(),
        service: args.scope.service.as_deref(),
        policy,
    };
    judge(&app, request, args.json).await
}

/// Which SLOs to judge, and against what.
pub struct Selection<'a> {
    /// SLOs named (all, or all of `team` and `service`, when empty).
    pub names: &'a [String],
    /// Only the SLOs this team owns.
    pub team: Option<&'a str>,
    /// Only the SLOs of this service.
    pub service: Option<&'a str>,
    /// What each must meet.
    pub policy: GatePolicy,
}

/// `25%` or `0.25` as a fraction of the budget.
pub fn parse_percent(s: &str) -> Result<f64> {
    let t = s.trim();
    let v: f64 = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| anyhow!("--min-budget: `{s}` is not a percentage like 25%"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(anyhow!("--min-budget: `{s}` is not between 0% and 100%"));
    }
    Ok(v)
}

/// Judge and print: exit 0 when every SLO passes, 3 when one fails; an error (unknown SLO,
/// nothing selected, storage) prints no table.
pub async fn judge(app: &AwsApp, s: Selection<'_>, json: bool) -> Result<ExitCode> {
    let filter = Filter::new(s.team, s.service);
    let verdicts = gate(&app.store, s.names, &filter, s.policy).await?;
    let pass = verdicts.iter().all(|v| v.pass);
    if json {
        println!("{}", serde_json::to_string_pretty(&verdicts)?);
    } else {
        let rows: Vec<Vec<String>> = verdicts
            .iter()
            .map(|v| {
                vec![
                    v.slo.clone(),
                    if v.pass { "pass" } else { "FAIL" }.into(),
                    v.status.as_str().into(),
                    output::pct_cell(v.budget_remaining, 1),
                    v.incident.unwrap_or("-").into(),
                    v.reasons.join("; "),
                ]
            })
            .collect();
        print!(
            "{}",
            output::table(
                &["SLO", "GATE", "STATUS", "BUDGET LEFT", "INCIDENT", "WHY"],
                &rows,
                Some(2),
                output::colour()
            )
        );
        let failing = verdicts.iter().filter(|v| !v.pass).count();
        let all = count(verdicts.len(), "SLO");
        if pass {
            let verb = if verdicts.len() == 1 { "meets" } else { "meet" };
            println!("gate: pass ({all} {verb} the policy)");
        } else {
            let verb = if failing == 1 { "does" } else { "do" };
            println!("gate: FAIL ({failing} of {all} {verb} not meet the policy)");
        }
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
