//! `slo-evaluator`: EventBridge schedule -> one evaluation cycle. Thin on purpose:
//! the logic is `sloguard_core::app::cycle::handle_scheduled_event_until` (the event read by
//! `sloguard_aws::events`), the same cycle the CLI runs.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard_aws::events::schedule::review_request;
use sloguard_aws::events::{emf_source, handle_scheduled_event_until};
use sloguard_aws::lambda::{init_tracing, Failure};
use sloguard_aws::{build_app, load_function_config, AwsApp, Environment, Timeouts};
use sloguard_core::app::emf;
use sloguard_core::app::report::send_review;
use tokio::sync::OnceCell;

async fn handle(
    app: &AwsApp,
    env: &Environment,
    event: LambdaEvent<Value>,
) -> Result<Value, Failure> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let now = now_ms / 1000;
    // The weekly review schedule sends `{"review": {"days": 28}}`: one digest, once a week.
    if let Some(review) = review_request(&event.payload) {
        let sent = send_review(&app.store, &app.notifier, review.days, now)
            .await
            .map_err(|e| Failure::logged(e, "review not sent"))?;
        return Ok(serde_json::json!({ "review_sent": sent }));
    }
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
    let source = emf_source(&env.stack_name, &event.payload, env.slo_metrics);
    for line in emf::cycle_lines(&source, &report, now_ms) {
        println!("{line}");
    }
    Ok(serde_json::to_value(&report).unwrap_or_default())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = sloguard_aws::environment::for_functions(|k| std::env::var(k).ok())?;
    if settings.topic_arn.is_none() {
        return Err("SLO_TOPIC_ARN: not set; the evaluator needs a topic to notify".into());
    }
    let timeouts = Timeouts::of(&settings);
    // Clients are built once per cold start and shared by every invocation, at the first
    // invocation rather than before the first poll: the runtime asks for its first event
    // sooner, and the SDK's set-up (TLS roots, credentials) overlaps the event's arrival.
    let app: OnceCell<AwsApp> = OnceCell::new();
    let (app, env) = (&app, &settings);
    run(service_fn(move |event| async move {
        let app = app
            .get_or_init(|| async { build_app(env, &load_function_config(timeouts).await) })
            .await;
        handle(app, env, event).await
    }))
    .await
}
