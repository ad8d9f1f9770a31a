//! A hello-world `lambda_runtime` function: the cold-start floor `make bench-cold-start`
//! compares the evaluator with. An example, so it is never built into a release.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
