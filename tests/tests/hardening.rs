//! Hardening end to end against moto: alarm floods, foreign alarms, a handler that
//! died mid-way, and a page whose claim is held by a process that died.

use anyhow::Result;
use sloguard_aws::events::{handle_alarm_event_in, handle_scheduled_event};
use sloguard_core::app::alarm::{HandlerContext, TRANSITION_LEASE_SECONDS};
use sloguard_core::app::ports::{DedupStore, Once, Outbox, StateStore};
use sloguard_e2e::{alarm_fixture, checkout_slo, checkout_slo_with_alarms, Env};

const MIN: i64 = 60;

fn mine() -> HandlerContext {
    HandlerContext::from_function_arn(
        "arn:aws:lambda:eu-west-1:123456789012:function:sloguard-alarm-handler",
        None,
    )
    .expect("a function ARN")
}

#[tokio::test]
async fn fifty_alarm_transitions_in_a_minute_give_one_evaluation_and_one_message() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&checkout_slo_with_alarms("checkout", "checkout-5xx-high"))
        .await?;
    env.checkout_traffic(|_| 0.0).await?;
    let t = env.end - 30 * MIN;
    let mut evaluated = 0;
    for i in 0..50 {
        let mut payload = alarm_fixture("alarm-action-metric.json", t + i)?;
        if i % 2 == 1 {
            payload["alarmData"]["state"]["value"] = "OK".into();
        }
        let r = handle_alarm_event_in(&env.app, &payload, t + i, &mine()).await?;
        assert!(!r.alarms[0].duplicate, "a new transition each time");
        evaluated += r.alarms[0].cycle.as_ref().map_or(0, |c| c.evaluated);
    }
    assert_eq!(evaluated, 1);
    let got = env.inbox().await?;
    assert!(got.len() <= 1, "{got:#?}");
    assert_eq!(env.history("checkout").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_alarm_of_another_account_is_ignored() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&checkout_slo("checkout")).await?;
    env.checkout_traffic(|_| 0.0).await?;
    let t = env.end - 30 * MIN;
    let mut payload = alarm_fixture("alarm-eventbridge-metric.json", t)?;
    let foreign = "arn:aws:cloudwatch:eu-west-1:999999999999:alarm:checkout-5xx-high";
    payload["resources"] = serde_json::json!([foreign]);
    payload["account"] = "999999999999".into();
    let r = handle_alarm_event_in(&env.app, &payload, t, &mine()).await?;
    assert!(
        r.alarms[0]
            .refused
            .as_deref()
            .unwrap_or_default()
            .contains("alarm of account 999999999999"),
        "{r:?}"
    );
    assert!(env.inbox().await?.is_empty());
    assert!(env.history("checkout").await?.is_empty(), "not evaluated");
    Ok(())
}

#[tokio::test]
async fn a_handler_that_died_after_its_dedup_write_is_replaced_by_the_retry() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let payload = alarm_fixture("alarm-action-metric.json", t)?;
    let ts = sloguard_aws::events::alarm::parse_alarm_payload(&payload)?[0].timestamp_ms;
    // The first invocation claimed the transition, then its Lambda timed out.
    env.app
        .store
        .claim_once(
            Once::AlarmTransition {
                alarm: "checkout-5xx-high",
                timestamp_ms: ts,
                state: "ALARM",
            },
            t,
            TRANSITION_LEASE_SECONDS,
            t + 86_400,
        )
        .await?;
    let err = handle_alarm_event_in(&env.app, &payload, t + 30, &mine())
        .await
        .unwrap_err();
    assert_eq!(
        err.error_type(),
        "InProgress",
        "fails, so Lambda retries later"
    );
    let r = handle_alarm_event_in(
        &env.app,
        &payload,
        t + TRANSITION_LEASE_SECONDS + 5,
        &mine(),
    )
    .await?;
    assert!(
        r.alarms[0].cycle.is_some(),
        "the retry after the lease handles it"
    );
    let got = env.inbox().await?;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attributes["severity"], "page");
    let again = handle_alarm_event_in(&env.app, &payload, t + 600, &mine()).await?;
    assert!(again.alarms[0].duplicate);
    Ok(())
}

#[tokio::test]
async fn a_page_claimed_by_a_dead_process_goes_out_with_the_next_cycle_after_the_lease(
) -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    // The state and its page are committed, but the topic is missing: it stays pending.
    let mut settings = env.settings.clone();
    settings.topic_arn = Some("arn:aws:sns:eu-west-1:123456789012:nowhere".into());
    let broken = env.second_app(&settings);
    let event = serde_json::json!({"time": sloguard_core::slo::message::rfc3339(t)});
    handle_scheduled_event(&broken, &event, t).await?;
    let pending = env.app.store.state("checkout").await?.unwrap().pending;
    assert_eq!(pending.len(), 1);
    // A process claims it, with the lease build_app derives from the timeouts, and dies
    // before publishing.
    let lease = env.app.config.claim_lease_seconds;
    assert!(lease >= 90, "{lease}");
    let claim = env
        .app
        .store
        .claim("checkout", &pending[0], "dead-process", t + 10, lease)
        .await?;
    assert!(matches!(claim, sloguard_core::app::Claim::Claimed(_)));
    // The next cycle, inside the lease, cannot send it...
    let r = env.scheduled(&env.app, t + 60).await?;
    assert_eq!(r.notifications_sent, 0);
    // ...the first one after the lease does, once.
    let r = env.scheduled(&env.app, t + 10 + lease + 10).await?;
    assert_eq!(r.notifications_sent, 1, "{r:?}");
    assert_eq!(env.inbox().await?.len(), 1);
    Ok(())
}
