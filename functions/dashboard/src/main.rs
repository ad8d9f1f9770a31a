//! `slo-dashboard`: the CloudWatch dashboard's custom widget -> budget charts as HTML,
//! read from DynamoDB (read-only). The request is read by `sloguard_aws::events::widget`,
//! the answer is `sloguard_core::app::widget::answer_widget`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard_aws::events::widget::handle_widget_event;
use sloguard_aws::lambda::init_tracing;
use sloguard_aws::{build_store, load_function_config, DynamoStore, Environment, Timeouts};
use sloguard_core::app::widget::WidgetLimits;

/// The invocation's deadline (epoch milliseconds, from the Lambda context) as an instant.
fn deadline_of(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    tokio::time::Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

async fn handle(
    store: &DynamoStore,
    history_days: i64,
    event: LambdaEvent<Value>,
) -> Result<Value, Error> {
    let limits = WidgetLimits {
        now: chrono::Utc::now().timestamp(),
        history_days,
        deadline: Some(deadline_of(event.context.deadline)),
    };
    // A bad request or a store failure is an error panel in the widget, not a failed call.
    Ok(handle_widget_event(store, &event.payload, &limits).await)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let env = Environment::from_env()?;
    // The client is built once per cold start and shared by every invocation.
    let store = build_store(&env, &load_function_config(Timeouts::of(&env)).await);
    let store = &store;
    let days = env.history_days;
    run(service_fn(move |event| handle(store, days, event))).await
}
