//! `slo-dashboard`: the CloudWatch dashboard's custom widget -> budget charts as HTML,
//! read from DynamoDB (read-only). The logic is `sloguard_core::app::widget::handle_widget_event`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard_aws::lambda::init_tracing;
use sloguard_aws::{build_store, load_function_config, DynamoStore, Environment, Timeouts};
use sloguard_core::app::widget::handle_widget_event;

async fn handle(store: &DynamoStore, event: LambdaEvent<Value>) -> Result<Value, Error> {
    // A bad request or a store failure is an error panel in the widget, not a failed call.
    Ok(handle_widget_event(store, &event.payload).await)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let env = Environment::from_env()?;
    // The client is built once per cold start and shared by every invocation.
    let store = build_store(&env, &load_function_config(Timeouts::from_env()?).await);
    let store = &store;
    run(service_fn(move |event| handle(store, event))).await
}
