//! `slo-evaluator`: EventBridge schedule -> one evaluation cycle. Thin on purpose:
//! the logic is `sloguard::app::cycle::handle_scheduled_event_until`, the same cycle the CLI runs.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard::app::cycle::{handle_scheduled_event_until, CycleReport};
use sloguard::app::emf;
use sloguard::aws::{build_app, load_config, AwsApp, Environment, Timeouts};
use sloguard::lambda::{init_tracing, Failure};

async fn handle(app: &AwsApp, event: LambdaEvent<Value>) -> Result<CycleReport, Failure> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let now = now_ms / 1000;
    // SLOs not started before the invocation's deadline are left for the next cycle.
    let deadline_ms = i64::try_from(event.context.deadline).ok();
    let report = handle_scheduled_event_until(app, &event.payload, now, deadline_ms)
        .await
        .map_err(|e| Failure::logged(e, "cycle failed"))?;
    tracing::info!(
        evaluated = report.evaluated,
        failed = report.failed,
        notifications = report.notifications_sent,
        metric_requests = report.metric_requests,
        evaluated_at = %report.evaluated_at,
        "cycle complete"
    );
    // Embedded metric format on stdout: the dead man's switch and the fleet dashboard, no API call.
    for line in emf::cycle_lines("slo-evaluator", &report, now_ms) {
        println!("{line}");
    }
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = Environment::from_env()?;
    if settings.topic_arn.is_none() {
        return Err("SLO_TOPIC_ARN: not set; the evaluator needs a topic to notify".into());
    }
    // Clients are built once per cold start and shared by every invocation.
    let app = build_app(&settings, &load_config(Timeouts::from_env()?).await);
    let app = &app;
    run(service_fn(move |event| handle(app, event))).await
}
