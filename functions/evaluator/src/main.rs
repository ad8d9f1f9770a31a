//! `slo-evaluator`: a shard order from the shard queue (SQS, queued by `slo-dispatcher`)
//! -> one cycle over that shard's SLOs; a direct invocation (`{"time": ...}`, `{"slo": ...}`,
//! the weekly `{"review": ...}`) -> that cycle or digest. Thin on purpose: the logic is
//! `sloguard_core::app::fanout::run_shard` and `app::cycle` (the events read by
//! `sloguard_aws::events`), the same cycle the CLI runs.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard_aws::events::schedule::review_request;
use sloguard_aws::events::shard::{handle_shard_event, is_shard_event};
use sloguard_aws::events::{emf_source, handle_scheduled_event_until};
use sloguard_aws::lambda::{init_tracing, Failure};
use sloguard_aws::{
    build_app, build_shard_queue, load_function_config, AwsApp, Environment, SqsShardQueue,
    Timeouts,
};
use sloguard_core::app::alarm::HandlerContext;
use sloguard_core::app::emf;
use sloguard_core::app::report::send_review;
use tokio::sync::OnceCell;

/// What every invocation shares, built once per cold start.
struct State {
    app: AwsApp,
    /// The shard queue, to make a failed shard's message visible again soon.
    queue: Option<SqsShardQueue>,
}

/// A batch of shard orders: each runs as one cycle over its range; the failed ones are
/// reported to SQS by message id (retried once, then the dead-letter queue).
async fn handle_shards(
    state: &State,
    env: &Environment,
    event: &LambdaEvent<Value>,
    now_ms: i64,
) -> Result<Value, Failure> {
    // Its own account and region: an order from another account's queue is refused.
    let ctx = HandlerContext::from_function_arn(
        &event.context.invoked_function_arn,
        i64::try_from(event.context.deadline).ok(),
    )
    .map_err(|e| Failure::logged(e, "evaluator does not know its stack"))?;
    let batch = handle_shard_event(
        &state.app,
        state.queue.as_ref(),
        &event.payload,
        now_ms / 1000,
        &ctx,
    )
    .await
    .map_err(|e| {
        Failure::logged(
            sloguard_core::app::cycle::CycleError::BadEvent(e),
            "not a batch of shard orders",
        )
    })?;
    for r in &batch.results {
        match &r.error {
            None => {
                tracing::info!(cycle = ?r.cycle, shard = ?r.shard, outcome = r.outcome, evaluated = r.evaluated, failed = r.failed_slos, "shard handled")
            }
            Some(e) => {
                tracing::error!(cycle = ?r.cycle, shard = ?r.shard, error_type = ?r.error_type, error = %e, "shard failed")
            }
        }
    }
    let source = emf_source(&env.stack_name, env.slo_metrics);
    for report in &batch.reports {
        for line in emf::cycle_lines(&source, report, now_ms) {
            println!("{line}");
        }
    }
    Ok(serde_json::to_value(&batch.response).unwrap_or_default())
}

async fn handle(
    state: &State,
    env: &Environment,
    event: LambdaEvent<Value>,
) -> Result<Value, Failure> {
    let app = &state.app;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let now = now_ms / 1000;
    if is_shard_event(&event.payload) {
        return handle_shards(state, env, &event, now_ms).await;
    }
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
    let source = emf_source(&env.stack_name, env.slo_metrics);
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
    let state: OnceCell<State> = OnceCell::new();
    let (state, env) = (&state, &settings);
    run(service_fn(move |event| async move {
        let state = state
            .get_or_init(|| async {
                let sdk = load_function_config(timeouts).await;
                State {
                    app: build_app(env, &sdk),
                    queue: build_shard_queue(env, &sdk),
                }
            })
            .await;
        handle(state, env, event).await
    }))
    .await
}
