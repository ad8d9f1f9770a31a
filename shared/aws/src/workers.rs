//! Workers: the dispatcher starts each as an asynchronous invocation of the evaluator
//! (`{"work": {"cycle": ...}}`), so a cycle runs at most as many shards at once as it
//! starts workers. Lambda queues the invocations, retries none (the evaluator's
//! EventInvokeConfig) and sends a failed one to the failure queue; the orders themselves
//! wait in the shard queue, so a worker that dies loses no shard.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_lambda::Client;
use serde_json::{json, Value};

use sloguard_core::app::fanout::{QueueError, Workers};

use super::classify;

/// Starts workers by invoking one function asynchronously.
#[derive(Clone)]
pub struct LambdaWorkers {
    client: Client,
    function: String,
}

impl LambdaWorkers {
    /// Workers are invocations of `function` (SLO_EVALUATOR_FUNCTION: a name or ARN).
    pub fn new(client: Client, function: String) -> Self {
        LambdaWorkers { client, function }
    }
}

/// The payload a worker is started with.
pub fn work_payload(cycle: i64) -> Value {
    json!({"work": {"cycle": cycle}})
}

/// The cycle a payload starts a worker for; None when it is not a worker's payload.
pub fn work_request(payload: &Value) -> Option<Option<i64>> {
    let work = payload.get("work")?;
    Some(work.get("cycle").and_then(Value::as_i64))
}

impl Workers for LambdaWorkers {
    async fn start(&self, n: u32, cycle: i64) -> Result<(), QueueError> {
        let payload = work_payload(cycle).to_string();
        for started in 0..n {
            self.client
                .invoke()
                .function_name(&self.function)
                .invocation_type(InvocationType::Event)
                .payload(Blob::new(payload.as_bytes()))
                .send()
                .await
                .map_err(|e| QueueError {
                    queued: started as usize,
                    total: n as usize,
                    message: format!("cannot start a worker: {}", classify(&e).describe()),
                })?;
        }
        Ok(())
    }
}
