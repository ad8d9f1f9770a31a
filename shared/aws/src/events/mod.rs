//! The Lambda event envelopes: what reaches each function, read into the typed events of
//! `sloguard_core::app::events` and handed to the use case. A payload that cannot be read
//! is the use case's `BadEvent` error (Lambda's `errorType`), naming what was wrong.

pub mod alarm;
pub mod change;
pub mod dispatch;
pub mod schedule;
pub mod shard;
pub mod widget;

use serde_json::Value;
use sloguard_core::app::alarm::{AlarmError, AlarmReport, HandlerContext};
use sloguard_core::app::changes::{ChangeError, ChangeOutcome};
use sloguard_core::app::cycle::{CycleError, CycleReport};
use sloguard_core::app::emf;
use sloguard_core::app::events::{ChangeEventError, HandlerEvent, Parsed};
use sloguard_core::app::ports::{
    BudgetStore, ChangeStore, DefinitionStore, MetricSource, Notifier,
};
use sloguard_core::app::{self as app, App};
use sloguard_core::slo::origin::AccountId;

/// Read what reached the alarm handler: a deployment event (by its source and detail-type)
/// or an alarm state change in any of its three shapes.
pub fn read_handler_event(payload: &Value) -> Result<HandlerEvent, AlarmError> {
    if change::is_change_event(payload) {
        let parsed = read_change_event(payload).map_err(ChangeError::BadEvent)?;
        return Ok(HandlerEvent::Change(parsed));
    }
    Ok(HandlerEvent::Alarms(alarm::parse_alarm_payload(payload)?))
}

/// A deployment event read: one whose accounts or regions do not check out is a refusal
/// for the use case to report, not a malformed event.
fn read_change_event(payload: &Value) -> Result<Parsed, ChangeEventError> {
    match change::parse_change_event(payload) {
        Err(ChangeEventError::Provenance(r)) => Ok(Parsed::Refused(r)),
        other => other,
    }
}

/// The scheduled evaluator's invocation: read the schedule, run one cycle.
pub async fn handle_scheduled_event<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    payload: &Value,
    now: i64,
) -> Result<CycleReport, CycleError> {
    handle_scheduled_event_until(app, payload, now, None).await
}

/// The scheduled invocation with its deadline (epoch milliseconds).
pub async fn handle_scheduled_event_until<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    payload: &Value,
    now: i64,
    deadline_ms: Option<i64>,
) -> Result<CycleReport, CycleError> {
    let input = schedule::parse_schedule(payload)?;
    app::cycle::handle_scheduled_event_until(app, &input, now, deadline_ms).await
}

/// The EMF source of the evaluator's invocations: the stack is the health metrics' dimension.
pub fn emf_source(stack: &str, slo_metrics: emf::SloMetrics) -> emf::Source {
    emf::Source {
        stack: stack.to_string(),
        slo_metrics,
    }
}

/// The alarm handler's invocation: read the alarm or deployment event, handle it.
pub async fn handle_alarm_event<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    payload: &Value,
    now: i64,
) -> Result<AlarmReport, AlarmError> {
    handle_alarm_event_in(app, payload, now, &HandlerContext::default()).await
}

/// The alarm handler's invocation with its account, region and deadline.
pub async fn handle_alarm_event_in<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    payload: &Value,
    now: i64,
    ctx: &HandlerContext,
) -> Result<AlarmReport, AlarmError> {
    let event = read_handler_event(payload)?;
    app::alarm::handle_alarm_event_in(app, &event, now, ctx).await
}

/// Read one deployment event and record it for the SLOs that name its target.
pub async fn record_change_event<S: DefinitionStore + ChangeStore>(
    store: &S,
    payload: &Value,
    days: i64,
    account: Option<&AccountId>,
) -> Result<ChangeOutcome, ChangeError> {
    let parsed = read_change_event(payload)?;
    app::changes::record_change_event(store, &parsed, days, account).await
}

#[cfg(test)]
mod provenance_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../examples/events/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture exists"))
            .expect("fixture is JSON")
    }

    #[test]
    fn a_malformed_deployment_event_is_a_typed_error_of_the_handler() {
        let err = read_handler_event(&fixture("change-malformed-stack-id.json")).unwrap_err();
        assert!(
            matches!(
                &err,
                AlarmError::Change(ChangeError::BadEvent(ChangeEventError::Invalid {
                    field: "stack-id",
                    ..
                }))
            ),
            "{err:?}"
        );
        assert_eq!(err.error_type(), "BadChangeEvent");
        assert!(err.to_string().contains("stack-id"), "{err}");
    }

    #[test]
    fn the_handler_sends_deployments_and_alarms_each_to_its_use_case() {
        let change = read_handler_event(&fixture("change-cloudformation-update-complete.json"));
        assert!(matches!(&change, Ok(HandlerEvent::Change(_))), "{change:?}");
        let alarm = read_handler_event(&fixture("alarm-eventbridge-metric.json"));
        assert!(
            matches!(&alarm, Ok(HandlerEvent::Alarms(a)) if a[0].name == "checkout-5xx-high"),
            "{alarm:?}"
        );
        let err = read_handler_event(&serde_json::json!({"hello": 1})).unwrap_err();
        assert_eq!(err.error_type(), "BadEvent");
    }
}
