//! The dispatcher's invocation: an EventBridge scheduled event (or a Scheduler input) read
//! like the evaluator's, turned into one `app::fanout::dispatch` at its trigger time.

use serde_json::Value;

use sloguard_core::app::events::EventError;
use sloguard_core::app::fanout::{
    dispatch, CycleStore, DispatchError, DispatchReport, DispatchRequest, ShardQueue, Workers,
};
use sloguard_core::app::ports::BudgetStore;

use crate::environment::Environment;

/// Why a schedule event was not dispatched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DispatchEventError {
    #[error(transparent)]
    BadEvent(#[from] EventError),
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
}

impl DispatchEventError {
    /// A stable error type for Lambda diagnostics and alarms.
    pub fn error_type(&self) -> &'static str {
        match self {
            DispatchEventError::BadEvent(_) => "BadEvent",
            DispatchEventError::Dispatch(e) => e.error_type(),
        }
    }
}

/// Read the schedule event and dispatch its cycle: orders on `queue`, `workers` started.
pub async fn handle_dispatch_event<S, Q, W>(
    store: &S,
    queue: &Q,
    workers: &W,
    env: &Environment,
    payload: &Value,
    now: i64,
) -> Result<DispatchReport, DispatchEventError>
where
    S: BudgetStore + CycleStore,
    Q: ShardQueue,
    W: Workers,
{
    let input = super::schedule::parse_schedule(payload)?;
    if input.slo.is_some() {
        return Err(EventError(
            "`slo`: the dispatcher runs whole cycles; invoke the evaluator to evaluate one SLO"
                .into(),
        )
        .into());
    }
    let req = DispatchRequest {
        cycle: input.time.unwrap_or(now),
        now,
        shard_size: usize::try_from(env.shard_size).unwrap_or(1),
        schedule_seconds: env.schedule_minutes * 60,
        workers: u32::try_from(env.shard_concurrency).unwrap_or(1),
    };
    Ok(dispatch(store, queue, workers, &req).await?)
}
