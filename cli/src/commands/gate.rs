//! `sloguard gate`: may this release go out? Exit 0 pass, 3 fail (with why), 2 error.

use std::process::ExitCode;

use anyhow::{anyhow, Result};
use sloguard::app::gate::{gate, GateError, GatePolicy};
use sloguard::aws::AwsApp;
use sloguard_cli::output;

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

/// Judge and print; errors (unknown SLO, nothing selected, storage) exit 2 with no table.
pub async fn run(
    app: &AwsApp,
    names: &[String],
    service: Option<&str>,
    policy: GatePolicy,
    json: bool,
) -> Result<ExitCode> {
    let verdicts = match gate(&app.store, names, service, policy).await {
        Ok(v) => v,
        Err(e @ (GateError::UnknownSlo { .. } | GateError::NothingSelected(_))) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: {}", super::advise(e.into(), false));
            return Ok(ExitCode::from(2));
        }
    };
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
                    output::pct(v.budget_remaining, 1),
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
        if pass {
            println!("gate: pass ({} SLOs meet the policy)", verdicts.len());
        } else {
            println!(
                "gate: FAIL ({failing} of {} SLOs do not meet the policy)",
                verdicts.len()
            );
        }
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
