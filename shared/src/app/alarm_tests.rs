//! The alarm handler over in-memory ports: matching, the no-burn info message, dedup.

use super::*;
use crate::app::cycle::tests::{app_with, T};
use crate::slo::model::Severity;

fn alarm_event(state: &str, t: i64) -> Value {
    serde_json::json!({
        "version": "0", "id": "x", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": "123456789012", "time": rfc3339(t), "region": "eu-west-1",
        "resources": ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx-high"],
        "detail": {
            "alarmName": "checkout-5xx-high",
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": rfc3339(t)},
            "previousState": {"value": "OK", "reason": "", "timestamp": rfc3339(t - 600)},
            "configuration": {"metrics": []}
        }
    })
}

#[tokio::test]
async fn an_alarm_without_a_burn_tells_on_call_once_and_never_pages() {
    let app = app_with(|_| 0.0).await;
    let event = alarm_event("ALARM", T);
    let r = handle_alarm_event(&app, &event, T).await.unwrap();
    assert_eq!(
        r.alarms[0].touched,
        vec!["checkout".to_string()],
        "by annotation"
    );
    let sent = app.notifier.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].severity, Severity::Info);
    assert!(sent[0]
        .subject
        .contains("alarm checkout-5xx-high is ALARM, no burn-rate condition met"));
    // the same transition again: a duplicate, nothing sent
    let r = handle_alarm_event(&app, &event, T + 5).await.unwrap();
    assert!(r.alarms[0].duplicate);
    assert!(app.notifier.take().is_empty());
}

#[tokio::test]
async fn an_alarm_from_the_future_is_refused_without_a_retry() {
    let app = app_with(|_| 0.0).await;
    let r = handle_alarm_event(&app, &alarm_event("ALARM", T + 86_400), T)
        .await
        .unwrap();
    assert!(r.alarms[0]
        .refused
        .as_deref()
        .unwrap()
        .contains("ahead of the clock"));
    assert!(app.notifier.take().is_empty());
}
