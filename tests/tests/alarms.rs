//! Alarm-triggered evaluation end to end against moto, for every payload shape.

use anyhow::Result;
use serde_json::Value;
use sloguard_aws::events::handle_alarm_event_in;
use sloguard_core::app::alarm::HandlerContext;
use sloguard_core::app::StateStore;
use sloguard_core::slo::status::Status;
use sloguard_e2e::{alarm_fixture, checkout_slo, checkout_slo_with_alarms, Env};

const MIN: i64 = 60;

/// The alarm in `fixture` (matched by its metric) pages at once, naming the alarm.
async fn pages_for(fixture: &str, shape: &str) -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let report = env.alarm(&env.app, &alarm_fixture(fixture, t)?).await?;
    let a = &report.alarms[0];
    assert_eq!((a.shape, a.duplicate), (shape, false));
    assert_eq!(a.touched, vec!["checkout".to_string()], "matched by metric");
    let cycle = a.cycle.as_ref().unwrap();
    assert_eq!(cycle.slos[0].status, Some(Status::Breaching));
    let inbox = env.inbox().await?;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    assert_eq!(inbox[0].attributes["severity"], "page");
    assert!(
        inbox[0]
            .message
            .contains("ALARM\n  Alarm: \"checkout-5xx-high\" -> ALARM (was OK)"),
        "{}",
        inbox[0].message
    );
    assert!(
        inbox[0]
            .message
            .contains("Threshold Crossed: 1 out of the last 1 datapoints [14.0"),
        "{}",
        inbox[0].message
    );
    assert!(inbox[0]
        .message
        .contains("RUNBOOK\n  https://runbooks.example.com/checkout"));
    // the transition is in the history beside the budget
    let snap = env.history("checkout").await?.pop().unwrap();
    assert_eq!(
        snap.alarm.as_ref().map(|a| a.name.as_str()),
        Some("checkout-5xx-high")
    );
    assert_eq!(snap.evaluated_at, sloguard_core::slo::message::rfc3339(t));
    // the schedule at the same time repeats nothing
    env.scheduled(&env.app, t).await?;
    assert!(env.inbox().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn eventbridge_alarm_event_pages() -> Result<()> {
    pages_for("alarm-eventbridge-metric.json", "eventbridge").await
}

#[tokio::test]
async fn direct_alarm_action_pages() -> Result<()> {
    pages_for("alarm-action-metric.json", "alarm-action").await
}

#[tokio::test]
async fn sns_alarm_notification_pages() -> Result<()> {
    pages_for("alarm-sns-metric.json", "sns").await
}

#[tokio::test]
async fn metric_math_alarm_matches_by_annotation() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo_with_alarms("checkout", "checkout-error-rate"))
        .await?;
    let mut payload = alarm_fixture("alarm-sns-metric-math.json", env.end - 70 * MIN)?;
    // the fixture's state time is the one shared by the metric fixtures
    let msg = payload["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap()
        .to_string();
    let stamp = chrono::DateTime::from_timestamp(env.end - 70 * MIN, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S.000+0000")
        .to_string();
    payload["Records"][0]["Sns"]["Message"] =
        serde_json::Value::String(msg.replace("2026-11-25T10:04:40.989+0000", &stamp));
    let r = env.alarm(&env.app, &payload).await?;
    assert_eq!(r.alarms[0].touched, vec!["checkout".to_string()]);
    assert_eq!(env.inbox().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn composite_alarm_touches_what_its_children_touch() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    // the child is a real alarm on the SLO's error metric; the composite names only the child
    aws_sdk_cloudwatch::Client::new(&env.sdk)
        .put_metric_alarm()
        .alarm_name("checkout-5xx-high")
        .namespace("Test")
        .metric_name("Errors")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("Endpoint")
                .value("checkout")
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(10.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await?;
    for (i, fixture) in [
        "alarm-eventbridge-composite.json",
        "alarm-action-composite.json",
    ]
    .iter()
    .enumerate()
    {
        let t = env.end - (70 - 5 * i as i64) * MIN;
        let r = env.alarm(&env.app, &alarm_fixture(fixture, t)?).await?;
        assert_eq!(r.alarms[0].alarm, "checkout-degraded");
        assert_eq!(
            r.alarms[0].touched,
            vec!["checkout".to_string()],
            "{fixture}"
        );
    }
    let inbox = env.inbox().await?;
    assert_eq!(
        inbox.len(),
        1,
        "one page; the second composite transition changes nothing: {inbox:#?}"
    );
    assert!(inbox[0]
        .message
        .contains("ALARM\n  Alarm: \"checkout-degraded\" -> ALARM"));
    Ok(())
}

#[tokio::test]
async fn the_same_transition_in_two_shapes_is_handled_once() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let first = env
        .alarm(
            &env.app,
            &alarm_fixture("alarm-eventbridge-metric.json", t)?,
        )
        .await?;
    let again = env
        .alarm(
            &env.app,
            &alarm_fixture("alarm-eventbridge-metric.json", t)?,
        )
        .await?;
    let other_shape = env
        .alarm(&env.app, &alarm_fixture("alarm-sns-metric.json", t)?)
        .await?;
    assert!(!first.alarms[0].duplicate);
    assert!(again.alarms[0].duplicate);
    assert!(other_shape.alarms[0].duplicate);
    assert_eq!(env.inbox().await?.len(), 1);
    assert_eq!(env.history("checkout").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_alarm_that_touches_no_slo_is_acknowledged() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let r = env
        .alarm(
            &env.app,
            &alarm_fixture("alarm-eventbridge-anomaly.json", env.end - 70 * MIN)?,
        )
        .await?;
    assert!(r.alarms[0].touched.is_empty());
    assert!(r.alarms[0].cycle.is_none());
    assert!(env.inbox().await?.is_empty());
    assert!(env.history("checkout").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_alarm_without_a_burn_gives_info_never_a_page() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&checkout_slo("checkout")).await?;
    env.checkout_traffic(|_| 0.0).await?;
    let t = env.end - 70 * MIN;
    let payload = alarm_fixture("alarm-action-metric.json", t)?;
    // Delivered two hours late, it is history: recorded, nothing said.
    let late = env.alarm(&env.app, &payload).await?;
    assert!(late.alarms[0].cycle.is_some());
    assert!(env.inbox().await?.is_empty(), "a late alarm is not news");
    // Live (the clock a minute after it; a new transition of the same alarm): one info message.
    let payload = alarm_fixture("alarm-action-metric.json", t + 2 * MIN)?;
    let r = env.alarm_at(&env.app, &payload, t + 3 * MIN).await?;
    assert_eq!(
        r.alarms[0].cycle.as_ref().unwrap().slos[0].status,
        Some(Status::Ok)
    );
    let inbox = env.inbox().await?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].attributes["severity"], "info");
    assert!(
        inbox[0]
            .subject
            .contains("alarm \"checkout-5xx-high\" is ALARM, no burn-rate condition met"),
        "{}",
        inbox[0].subject
    );
    assert!(inbox[0].message.contains("no burn-rate condition is met"));
    // the alarm going back to OK changes nothing and says nothing
    let ok = alarm_fixture("alarm-action-metric.json", t + 10 * MIN)?
        .to_string()
        .replace("\"value\":\"ALARM\"", "\"value\":\"OK\"");
    let r = env.alarm(&env.app, &serde_json::from_str(&ok)?).await?;
    assert_eq!(r.alarms[0].state, "OK");
    assert!(env.inbox().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn alarm_handler_racing_the_schedule_sends_one_message() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let scheduler = env.second_app(&env.settings);
    let t = env.end - 70 * MIN;
    let payload = alarm_fixture("alarm-eventbridge-metric.json", t)?;
    let (a, s) = tokio::join!(env.alarm(&env.app, &payload), env.scheduled(&scheduler, t));
    a?;
    s?;
    let inbox = env.inbox().await?;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    assert_eq!(inbox[0].attributes["severity"], "page");
    assert!(env
        .app
        .store
        .state("checkout")
        .await?
        .unwrap()
        .pending
        .is_empty());
    Ok(())
}

#[tokio::test]
async fn a_malformed_payload_fails_with_a_reason() -> Result<()> {
    let env = Env::new().await?;
    let mut payload = alarm_fixture("alarm-action-metric.json", env.end)?;
    payload["alarmData"]
        .as_object_mut()
        .unwrap()
        .remove("state");
    let err = env.alarm(&env.app, &payload).await.unwrap_err();
    assert!(
        err.to_string().contains("alarmData.state is missing"),
        "{err}"
    );
    Ok(())
}

/// The stack's alarm handler as deployed: in eu-west-1 of the fixtures' account.
fn home() -> HandlerContext {
    HandlerContext::from_function_arn(
        "arn:aws:lambda:eu-west-1:123456789012:function:sloguard-alarm-handler",
        None,
    )
    .expect("a function ARN")
}

#[tokio::test]
async fn alarms_of_another_account_without_an_arn_are_refused_and_evaluate_nothing() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    // An EventBridge event of another account with no resources...
    let eventbridge = alarm_fixture("alarm-eventbridge-foreign-account-no-arn.json", t)?;
    // ...and an SNS notification with no AlarmArn and another account's AWSAccountId.
    let mut sns = alarm_fixture("alarm-sns-metric.json", t)?;
    let mut m: Value = serde_json::from_str(sns["Records"][0]["Sns"]["Message"].as_str().unwrap())?;
    m["AWSAccountId"] = "999999999999".into();
    m.as_object_mut().unwrap().remove("AlarmArn");
    sns["Records"][0]["Sns"]["Message"] = m.to_string().into();
    for payload in [eventbridge, sns] {
        let r = handle_alarm_event_in(&env.app, &payload, t, &home()).await?;
        let refused = r.alarms[0].refused.as_deref().unwrap_or_default();
        assert!(refused.contains("999999999999"), "{r:?}");
        assert!(r.alarms[0].cycle.is_none() && r.alarms[0].touched.is_empty());
    }
    assert!(
        env.inbox().await?.is_empty(),
        "no page for another account's alarm"
    );
    assert!(env.history("checkout").await?.is_empty(), "not evaluated");
    // The stack's own alarm, the same way, still pages.
    let mine = alarm_fixture("alarm-eventbridge-metric.json", t)?;
    let r = handle_alarm_event_in(&env.app, &mine, t, &home()).await?;
    assert!(
        r.alarms[0].refused.is_none() && r.alarms[0].cycle.is_some(),
        "{r:?}"
    );
    let inbox = env.inbox().await?;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    assert_eq!(inbox[0].attributes["severity"], "page");
    Ok(())
}
