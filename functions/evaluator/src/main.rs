//! `slo-evaluator`: a worker invocation (`{"work": ...}`, started by `slo-dispatcher`) ->
//! take shard orders from the shard queue until none is left, each one cycle over that
//! shard's SLOs; a direct invocation (`{"time": ...}`, `{"slo": ...}`, the weekly
//! `{"review": ...}`) -> that cycle or digest. Thin on purpose: the logic is
//! `sloguard_core::app::fanout::work` and `app::cycle` (the events read by
//! `sloguard_aws::events`), the same cycle the CLI runs.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard_aws::events::schedule::review_request;
use sloguard_aws::events::{emf_source, handle_scheduled_event_until};
use sloguard_aws::lambda::{init_tracing, Failure};
use sloguard_aws::workers::work_request;
use sloguard_aws::{
    build_app, build_shard_queue, load_function_config, AwsApp, Environment, SqsShardQueue,
    Timeouts,
};
use sloguard_core::app::emf;
use sloguard_core::app::fanout::work;
use sloguard_core::app::report::send_review;
use tokio::sync::OnceCell;

/// What every invocation shares, built once per cold start.
struct State {
    app: AwsApp,
    /// The shard queue workers take orders from.
    queue: Option<SqsShardQueue>,
}

/// A worker: drain the shard queue, one shard at a time, until nothing is left or the
/// deadline is near; each shard's health line goes out as EMF.
async fn handle_work(
    state: &State,
    env: &Environment,
    event: &LambdaEvent<Value>,
    cycle: Option<i64>,
) -> Result<Value, Failure> {
    let queue = state.queue.as_ref().ok_or_else(|| Failure {
        error_type: "BadSettings",
        message: "SLO_SHARD_QUEUE_URL: not set; a worker needs the shard queue".into(),
    })?;
    let deadline_ms = i64::try_from(event.context.deadline).ok();
    let report = work(
        &state.app,
        queue,
        || chrono::Utc::now().timestamp_millis(),
        deadline_ms,
    )
    .await
    .map_err(|e| Failure::logged(e, "worker stopped: the shard queue failed"))?;
    let source = emf_source(&env.stack_name, env.slo_metrics);
    for r in &report.shards {
        match &r.error {
            None => {
                tracing::info!(started_for = ?cycle, cycle = ?r.cycle, shard = ?r.shard, outcome = r.outcome, evaluated = r.evaluated, failed = r.failed_slos, "shard handled")
            }
            Some(e) => {
                tracing::error!(cycle = ?r.cycle, shard = ?r.shard, error_type = ?r.error_type, error = %e, "shard failed; retried once, then dead-lettered")
            }
        }
        if let Some(cycle_report) = &r.report {
            for line in
                emf::cycle_lines(&source, cycle_report, chrono::Utc::now().timestamp_millis())
            {
                println!("{line}");
            }
        }
    }
    if report.stopped_at_deadline {
        tracing::warn!("worker stopped at its deadline with shards left; another worker or the next cycle takes them");
    }
    Ok(serde_json::to_value(&report).unwrap_or_default())
}

async fn handle(
    state: &State,
    env: &Environment,
    event: LambdaEvent<Value>,
) -> Result<Value, Failure> {
    let app = &state.app;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let now = now_ms / 1000;
    if let Some(cycle) = work_request(&event.payload) {
        return handle_work(state, env, &event, cycle).await;
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
