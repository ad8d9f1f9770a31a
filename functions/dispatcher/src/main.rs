//! `slo-dispatcher`: the EventBridge schedule -> one cycle cut into shards of at most
//! SLO_SHARD_SIZE SLOs, one order per shard on the shard queue, at most
//! SLO_SHARD_CONCURRENCY workers (asynchronous evaluator invocations) started to take them,
//! and the dead man's switch (the previous cycle's shards that never completed) as an EMF
//! metric. Thin on purpose: the logic is `sloguard_core::app::fanout::dispatch` (the event
//! read by `sloguard_aws::events::dispatch`).

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard_aws::events::dispatch::handle_dispatch_event;
use sloguard_aws::lambda::{init_tracing, Failure};
use sloguard_aws::{
    build_shard_queue, build_store, build_workers, load_function_config, DynamoStore, Environment,
    LambdaWorkers, SqsShardQueue, Timeouts,
};
use sloguard_core::app::emf;

/// What every invocation shares, built once per cold start.
struct State {
    store: DynamoStore,
    queue: SqsShardQueue,
    workers: LambdaWorkers,
}

async fn handle(
    state: &State,
    env: &Environment,
    event: LambdaEvent<Value>,
) -> Result<Value, Failure> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let report = handle_dispatch_event(
        &state.store,
        &state.queue,
        &state.workers,
        env,
        &event.payload,
        now_ms / 1000,
    )
    .await
    .map_err(|e| Failure::logged(e, "cycle not dispatched"))?;
    match &report.skipped {
        Some(skip) => {
            tracing::warn!(reason = %skip, missing = report.previous_missing, workers = report.workers, "cycle not dispatched")
        }
        None => tracing::info!(
            slos = report.slos,
            shards = report.shards,
            dispatched = report.dispatched,
            workers = report.workers,
            repeated = report.repeated,
            missing = report.previous_missing,
            "cycle dispatched"
        ),
    }
    // Embedded metric format on stdout: the dead man's switch, no API call.
    for line in emf::dispatch_lines(&env.stack_name, &report, now_ms) {
        println!("{line}");
    }
    Ok(serde_json::to_value(&report).unwrap_or_default())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = sloguard_aws::environment::for_functions(|k| std::env::var(k).ok())?;
    // Clients are built once per cold start and shared by every invocation.
    let sdk = load_function_config(Timeouts::of(&settings)).await;
    let state = State {
        store: build_store(&settings, &sdk),
        queue: build_shard_queue(&settings, &sdk)
            .ok_or("SLO_SHARD_QUEUE_URL: not set; the dispatcher needs the shard queue")?,
        workers: build_workers(&settings, &sdk).ok_or(
            "SLO_EVALUATOR_FUNCTION: not set; the dispatcher starts the evaluator as workers",
        )?,
    };
    let (state, env) = (&state, &settings);
    run(service_fn(move |event| handle(state, env, event))).await
}
