//! `slo-alarm-handler`: a CloudWatch alarm state change (EventBridge, direct alarm
//! action or SNS) -> re-evaluate the SLOs it touches now; a deployment event
//! (CloudFormation, CodeDeploy, ECS, Lambda via CloudTrail) -> record it for the SLOs
//! that name its target. The logic is
//! `sloguard_core::app::alarm::handle_alarm_event` (the event read by `sloguard_aws::events`).

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use sloguard_aws::events::handle_alarm_event_in;
use sloguard_aws::lambda::{init_tracing, Failure};
use sloguard_aws::{build_app, load_function_config, AwsApp, Timeouts};
use sloguard_core::app::alarm::{AlarmReport, HandlerContext};

async fn handle(app: &AwsApp, event: LambdaEvent<Value>) -> Result<AlarmReport, Failure> {
    let now = chrono::Utc::now().timestamp();
    // Its own account and region (events of others are refused) and the deadline; a
    // function ARN that does not give them fails the invocation rather than take any event.
    let ctx = HandlerContext::from_function_arn(
        &event.context.invoked_function_arn,
        i64::try_from(event.context.deadline).ok(),
    )
    .map_err(|e| Failure::logged(e, "alarm handler does not know its stack"))?;
    let report = handle_alarm_event_in(app, &event.payload, now, &ctx)
        .await
        // The error names what was wrong; the payload itself is not logged.
        .map_err(|e| Failure::logged(e, "alarm not handled"))?;
    for c in &report.changes {
        tracing::info!(target = ?c.target, what = ?c.what, slos = ?c.slos, recorded = c.recorded, duplicate = c.duplicate, ignored = ?c.ignored, refused = ?c.refused, "deployment event handled");
    }
    for a in &report.alarms {
        tracing::info!(alarm = %a.alarm, state = %a.state, shape = a.shape, duplicate = a.duplicate, touched = ?a.touched, refused = ?a.refused, "alarm handled");
    }
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let settings = sloguard_aws::environment::for_functions(|k| std::env::var(k).ok())?;
    if settings.topic_arn.is_none() {
        return Err("SLO_TOPIC_ARN: not set; the alarm handler needs a topic to notify".into());
    }
    // Clients are built once per cold start and shared by every invocation.
    let app = build_app(
        &settings,
        &load_function_config(Timeouts::of(&settings)).await,
    );
    let app = &app;
    run(service_fn(move |event| handle(app, event))).await
}
