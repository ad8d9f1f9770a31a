//! `slo-alarm-handler`: a CloudWatch alarm state change (EventBridge, direct alarm
//! action or SNS) -> re-evaluate the SLOs it touches now. The logic is
//! `sloguard::app::alarm::handle_alarm_event`.

use lambda_runtime::{run, service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::Value;
use sloguard::app::alarm::{handle_alarm_event, AlarmError, AlarmReport};
use sloguard::aws::{build_app, load_config, AwsApp, Settings};

/// A failed invocation, with a stable `error_type` (BadEvent, StoreUnavailable, CycleFailed).
#[derive(Debug)]
struct Failure(AlarmError);

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Self {
        Diagnostic {
            error_type: f.0.error_type().to_string(),
            error_message: f.0.to_string(),
        }
    }
}

async fn handle(app: &AwsApp, event: LambdaEvent<Value>) -> Result<AlarmReport, Failure> {
    let now = chrono::Utc::now().timestamp();
    let report = handle_alarm_event(app, &event.payload, now)
        .await
        .map_err(|e| {
            // The error names what was wrong; the payload itself is not logged.
            tracing::error!(error_type = e.error_type(), error = %e, "alarm not handled");
            Failure(e)
        })?;
    for a in &report.alarms {
        tracing::info!(alarm = %a.alarm, state = %a.state, shape = a.shape, duplicate = a.duplicate, touched = ?a.touched, "alarm handled");
    }
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .init();
    let settings = Settings::from_env()?;
    if settings.topic_arn.is_none() {
        return Err("SLO_TOPIC_ARN: not set; the alarm handler needs a topic to notify".into());
    }
    // Clients are built once per cold start and shared by every invocation.
    let app = build_app(&settings, &load_config().await);
    let app = &app;
    run(service_fn(move |event| handle(app, event))).await
}
