//! `sloguard evaluate`: one cycle, the same code path as the scheduled function.

use std::process::ExitCode;

use anyhow::Result;
use sloguard::app::cycle::{run_cycle, CycleRequest};
use sloguard::slo::message::count;

use super::{parse_time, Connection};

/// What `evaluate` was asked.
pub struct EvaluateOptions<'a> {
    pub at: Option<&'a str>,
    pub slo: Option<&'a str>,
    pub lag: Option<i64>,
    pub json: bool,
    pub notify: bool,
}

/// Run one cycle; exit 2 when an SLO failed.
pub async fn run(c: &mut Connection, o: EvaluateOptions<'_>) -> Result<ExitCode> {
    if let Some(l) = o.lag {
        c.app.config.lag_seconds = l;
    }
    if c.settings.topic_arn.is_none() {
        eprintln!("note: SLO_TOPIC_ARN is not set; notifications are recorded and stay pending");
    }
    let now = chrono::Utc::now().timestamp();
    let trigger =
        o.at.map(|a| parse_time(a, "--at"))
            .transpose()?
            .unwrap_or(now);
    let request = CycleRequest {
        trigger,
        now,
        only: o.slo.map(|s| vec![s.to_string()]),
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
    Ok(if report.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
