//! SLO events on EventBridge, end to end on moto: a rule on the bus forwards to an SQS
//! queue, which receives exactly one event per incident transition, like the SNS inbox,
//! also when cycles are retried, raced, or the bus failed first.

use anyhow::Result;
use serde_json::{json, Value};
use sloguard_aws::build_app;
use sloguard_core::slo::status::Status;
use sloguard_e2e::{checkout_slo, Env};
use sloguard_testing::aws_sdk_eventbridge;
use sloguard_testing::emulator::{drain_events, rule_to_queue};

const MIN: i64 = 60;

/// (detail-type, detail.event) of each event, in arrival order.
fn kinds(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["detail-type"].as_str().unwrap_or_default().to_string(),
                e["detail"]["event"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_rule_gets_one_event_per_transition_also_when_retried_or_raced() -> Result<()> {
    let env = Env::new().await?;
    let events = aws_sdk_eventbridge::Client::new(&env.sdk);
    let queue = rule_to_queue(
        &events,
        &env.sqs,
        "default",
        "slo-events",
        &json!({"source": ["sloguard"]}),
    )
    .await?;
    let mut settings = env.settings.clone();
    settings.event_bus = Some("default".into());
    let a = build_app(&settings, &env.sdk);
    let b = build_app(&settings, &env.sdk);
    env.incident(&checkout_slo("checkout")).await?;
    let e = env.end;
    env.scheduled(&a, e - 100 * MIN).await?;
    // The page, raced by two evaluators, then the same trigger again (a retry).
    let (ra, rb) = tokio::join!(
        env.scheduled(&a, e - 70 * MIN),
        env.scheduled(&b, e - 70 * MIN)
    );
    assert_eq!(ra?.slos[0].status, Some(Status::Breaching));
    rb?;
    env.scheduled(&a, e - 70 * MIN).await?;
    env.scheduled(&b, e - 65 * MIN).await?;
    let mut t = e - 60 * MIN;
    while t <= e - 20 * MIN {
        let (x, y) = tokio::join!(env.scheduled(&a, t), env.scheduled(&b, t));
        x?;
        y?;
        t += 5 * MIN;
    }
    let inbox = env.inbox().await?;
    let got = drain_events(&env.sqs, &queue).await?;
    let k = kinds(&got);
    assert_eq!(
        k,
        [
            ("SLO Incident Opened".to_string(), "opened".to_string()),
            ("SLO Incident Resolved".to_string(), "resolved".to_string()),
        ],
        "{got:#?}"
    );
    // One event per SNS message, the same notification.
    assert_eq!(inbox.len(), got.len(), "{inbox:#?}");
    for (m, ev) in inbox.iter().zip(&got) {
        assert_eq!(ev["source"], "sloguard");
        assert_eq!(ev["detail"]["slo"], "checkout");
        assert_eq!(ev["detail"]["subject"].as_str(), Some(m.subject.as_str()));
    }
    assert_eq!(got[0]["detail"]["severity"], "page");
    Ok(())
}

#[tokio::test]
async fn a_bus_that_failed_gets_its_event_later_without_a_second_page() -> Result<()> {
    let env = Env::new().await?;
    let events = aws_sdk_eventbridge::Client::new(&env.sdk);
    let mut settings = env.settings.clone();
    settings.event_bus = Some("slo-events".into()); // not created yet: PutEvents fails
    let app = build_app(&settings, &env.sdk);
    env.incident(&checkout_slo("checkout")).await?;
    let e = env.end;
    let r = env.scheduled(&app, e - 70 * MIN).await?;
    assert_eq!(r.slos[0].notifications_sent, 1, "SNS went out: {r:?}");
    assert_eq!(r.slos[0].notify_errors.len(), 1, "the bus did not: {r:?}");
    assert!(
        r.slos[0].notify_errors[0]
            .to_string()
            .contains("slo-events"),
        "{}",
        r.slos[0].notify_errors[0]
    );
    assert_eq!(env.inbox().await?.len(), 1);
    events.create_event_bus().name("slo-events").send().await?;
    let queue = rule_to_queue(
        &events,
        &env.sqs,
        "slo-events",
        "pages",
        &json!({"source": ["sloguard"], "detail-type": ["SLO Incident Opened"], "detail": {"severity": ["page"]}}),
    )
    .await?;
    // The retry: the same trigger, then the next cycle.
    let r = env.scheduled(&app, e - 70 * MIN).await?;
    assert!(r.slos[0].notify_errors.is_empty(), "{r:?}");
    env.scheduled(&app, e - 65 * MIN).await?;
    assert!(env.inbox().await?.is_empty(), "no second page");
    let got = drain_events(&env.sqs, &queue).await?;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["detail"]["event"], "opened");
    let state = sloguard_core::app::StateStore::state(&env.app.store, "checkout")
        .await?
        .unwrap();
    assert!(state.pending.is_empty(), "{:?}", state.pending);
    Ok(())
}
