//! `sloguard evaluate`: one cycle, the same code path as the scheduled function.

use std::process::ExitCode;

use anyhow::Result;
use sloguard_core::app::cycle::{run_cycle, CycleReport, CycleRequest};
use sloguard_core::app::ports::{AccessProblem, Timeout};
use sloguard_core::slo::message::count;

use sloguard_core::settings::{self, Overrides};

use super::{connect_with, parse_time, timeout_advice, Access, Store};

/// `sloguard evaluate`'s flags.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// SNS topic ARN for notifications (overrides SLO_TOPIC_ARN).
    #[arg(long)]
    topic_arn: Option<String>,
    /// Evaluation trigger time (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    /// Only this SLO.
    #[arg(long)]
    slo: Option<String>,
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true,
          help = settings::LAG_SECONDS.flag_help())]
    lag: Option<String>,
    /// Print the cycle report as JSON.
    #[arg(long)]
    json: bool,
    /// Notify even for a past --at (by default a past evaluation only records history).
    #[arg(long)]
    notify: bool,
}

/// Run one cycle; exit 2 when an SLO failed.
pub async fn run(o: &Args) -> Result<ExitCode> {
    let c = connect_with(
        &Overrides::default()
            .set(&settings::TABLE, o.store.table.as_deref())
            .set(&settings::TOPIC_ARN, o.topic_arn.as_deref())
            .set(&settings::LAG_SECONDS, o.lag.as_deref()),
    )
    .await?;
    if c.settings.topic_arn.is_none() {
        eprintln!("note: SLO_TOPIC_ARN is not set; notifications are recorded and stay pending");
    }
    let now = chrono::Utc::now().timestamp();
    let trigger =
        o.at.as_deref()
            .map(|a| parse_time(a, "--at"))
            .transpose()?
            .unwrap_or(now);
    let request = CycleRequest {
        trigger,
        now,
        only: o.slo.clone().map(|s| vec![s]),
        notify_past: o.notify,
        ..CycleRequest::default()
    };
    if request.is_backfill(c.app.config.schedule_seconds) {
        eprintln!("note: --at is in the past: history is recorded and nothing is sent (add --notify to send)");
    }
    let report = run_cycle(&c.app, request).await?;
    if o.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "evaluated {} at {} ({}), {} failed, {} sent",
            count(report.evaluated, "SLO"),
            report.evaluated_at,
            count(report.metric_requests, "GetMetricData call"),
            report.failed,
            count(report.notifications_sent, "notification")
        );
        for s in &report.slos {
            let status = s.status.map_or("error", |x| x.as_str());
            let change = s
                .change
                .as_ref()
                .map(|c| format!("  ({c})"))
                .unwrap_or_default();
            let err = s
                .error
                .as_ref()
                .map(|e| format!("  error: {e}"))
                .unwrap_or_default();
            println!("  {:<32} {status}{change}{err}", s.slo);
        }
    }
    // Once, under the table (on stderr, so --json stays a document): which setting to raise.
    for limit in timed_out(&report) {
        eprintln!("note: {}", timeout_advice(limit));
    }
    Ok(if report.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The time limits that ran out for some SLO of the cycle, each once (connect first), so
/// the advice under the table names the variable to raise.
fn timed_out(report: &CycleReport) -> Vec<Timeout> {
    let hit = |limit| {
        report
            .slos
            .iter()
            .filter_map(|s| Access::access(s.error.as_ref()?))
            .any(|a| a == AccessProblem::TimedOut(limit))
    };
    [Timeout::Connect, Timeout::Attempt]
        .into_iter()
        .filter(|l| hit(*l))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sloguard_core::app::cycle::{SloError, SloOutcome};
    use sloguard_core::app::ports::{SourceError, StoreError};

    fn outcome(slo: &str, error: Option<SloError>) -> SloOutcome {
        SloOutcome {
            slo: slo.into(),
            status: None,
            change: None,
            notifications_sent: 0,
            error,
            notify_errors: Vec::new(),
            snapshot: None,
        }
    }

    fn report(slos: Vec<SloOutcome>) -> CycleReport {
        CycleReport {
            evaluated_at: "2026-11-25T12:00:00Z".into(),
            evaluated: slos.len(),
            failed: slos.iter().filter(|s| s.error.is_some()).count(),
            slos,
            notifications_sent: 0,
            metric_requests: 0,
        }
    }

    #[test]
    fn the_time_limits_some_slos_ran_into_are_named_once() {
        let attempt = || SourceError::TimedOut(Timeout::Attempt, "slow".into()).into();
        let r = report(vec![
            outcome("a", None),
            outcome("b", Some(attempt())),
            outcome("c", Some(attempt())),
            outcome(
                "d",
                Some(StoreError::TimedOut(Timeout::Connect, "no route".into()).into()),
            ),
        ]);
        assert_eq!(timed_out(&r), vec![Timeout::Connect, Timeout::Attempt]);
        let other = SourceError::Rejected("bad query".into()).into();
        let r = report(vec![outcome("a", None), outcome("b", Some(other))]);
        assert!(timed_out(&r).is_empty());
    }
}
