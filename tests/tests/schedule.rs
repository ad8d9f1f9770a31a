//! Scheduled evaluation end to end against moto: CloudWatch in, DynamoDB
//! history and state, SNS out (read back through an SQS subscription).

use anyhow::Result;
use sloguard_core::app::StateStore;
use sloguard_core::slo::status::Status;
use sloguard_e2e::{checkout_slo, Env, HOUR};

const MIN: i64 = 60;

#[tokio::test]
async fn steady_traffic_is_ok_and_sends_nothing() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&checkout_slo("checkout")).await?;
    env.checkout_traffic(|_| 0.0).await?;
    let report = env.scheduled(&env.app, env.end).await?;
    assert_eq!(report.evaluated, 1, "{report:?}");
    assert_eq!(report.slos[0].status, Some(Status::Ok));
    assert!(env.inbox().await?.is_empty());
    let h = env.history("checkout").await?;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].total, 30.0 * 24.0 * 6000.0);
    assert_eq!(h[0].budget_remaining, Some(1.0));
    Ok(())
}

#[tokio::test]
async fn fast_burn_pages_once_with_the_right_numbers_then_recovers_once() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    env.scheduled(&env.app, t - 30 * MIN).await?; // before the incident: ok, quiet
    let report = env.scheduled(&env.app, t).await?;
    assert_eq!(report.slos[0].status, Some(Status::Breaching), "{report:?}");
    let inbox = env.inbox().await?;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    let page = &inbox[0];
    assert_eq!(page.attributes["severity"], "page");
    assert_eq!(page.attributes["status"], "breaching");
    assert_eq!(page.attributes["slo"], "checkout");
    assert_eq!(page.attributes["service"], "webshop");
    // 200 bad of 6000 in the last hour at a 0.1% budget: burn 33.3; 200 of 4,313,000 in 30 days
    assert_eq!(
        page.subject,
        "[PAGE] webshop checkout: 10.0% of events failing, budget gone in ~21 h"
    );
    assert!(page.subject.len() <= 99);
    for expected in [
        "10.00% of events failing over the last 5m, 3.33% over the last 1h; the objective allows 0.10%.",
        "95.4% left: 200 of the 4,313 bad events the window allows are used.",
        "Runs out in ~21 h",
        "condition  severity  burn rate",
        "page-1h    page      33.3x over 1h, 100.0x over 5m  burn > 14.4x in both  FIRING",
        "sloguard history checkout --since",
    ] {
        assert!(page.message.contains(expected), "{expected:?} not in\n{}", page.message);
    }
    assert!(page
        .message
        .contains("RUNBOOK\n  https://runbooks.example.com/checkout"));
    let snap = env.history("checkout").await?.pop().unwrap();
    assert_eq!(snap.total, 4_313_000.0);
    assert_eq!(snap.good, 4_313_000.0 - 200.0);
    assert!((snap.burn_rates["1h"].unwrap() - 200.0 / 6000.0 / 0.001).abs() < 1e-9);

    // still burning: no second page
    env.scheduled(&env.app, t + 5 * MIN).await?;
    assert!(env.inbox().await?.is_empty());
    // errors stopped at end-60m: clear at end-30m, held for 5m at end-25m -> one info
    let r = env.scheduled(&env.app, env.end - 30 * MIN).await?;
    assert_eq!(r.slos[0].status, Some(Status::Ok));
    assert!(
        env.inbox().await?.is_empty(),
        "recovery waits for the short window"
    );
    env.scheduled(&env.app, env.end - 25 * MIN).await?;
    env.scheduled(&env.app, env.end - 20 * MIN).await?;
    let inbox = env.inbox().await?;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    assert_eq!(inbox[0].attributes["severity"], "info");
    assert_eq!(inbox[0].attributes["status"], "ok");
    assert!(
        inbox[0]
            .subject
            .starts_with("[INFO] webshop checkout: RESOLVED, used 2.3% of the budget, 93.1% left"),
        "{}",
        inbox[0].subject
    );
    assert!(
        !inbox[0].message.contains("Runs out"),
        "no projection once resolved"
    );
    let state = env.app.store.state("checkout").await?.unwrap();
    assert_eq!(state.state.status, Some(Status::Ok));
    assert!(state.pending.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_overspent_budget_is_exhausted() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&checkout_slo("checkout")).await?;
    let end = env.end;
    // 5,000 bad of 4,320,000: more than the 4,320 the budget allows
    env.checkout_traffic(|t| {
        if t >= end - HOUR && t < end - 10 * MIN {
            100.0
        } else {
            0.0
        }
    })
    .await?;
    let r = env.scheduled(&env.app, end).await?;
    assert_eq!(r.slos[0].status, Some(Status::Exhausted));
    let mut inbox = env.inbox().await?;
    inbox.sort_by(|a, b| a.subject.cmp(&b.subject));
    // The 6h condition still fires (20 bad minutes in the last 30): a page incident; and,
    // apart from it, the exhausted budget as a ticket.
    assert_eq!(inbox.len(), 2, "{inbox:#?}");
    assert_eq!(inbox[0].attributes["severity"], "page");
    assert_eq!(inbox[1].attributes["severity"], "ticket");
    assert_eq!(inbox[1].attributes["status"], "exhausted");
    assert!(
        inbox[1]
            .subject
            .contains("error budget exhausted, overspent by 15.7%"),
        "{}",
        inbox[1].subject
    );
    let snap = env.history("checkout").await?.pop().unwrap();
    assert!((snap.budget_remaining.unwrap() - (1.0 - 5000.0 / 4320.0)).abs() < 1e-9);
    assert_eq!(snap.exhausts_at, None);
    Ok(())
}

#[tokio::test]
async fn the_same_event_twice_gives_one_snapshot_and_one_message() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let first = env.scheduled(&env.app, t).await?;
    let second = env.scheduled(&env.app, t).await?;
    assert_eq!(first.notifications_sent, 1);
    assert_eq!(second.notifications_sent, 0);
    assert_eq!(second.slos[0].status, Some(Status::Breaching));
    assert_eq!(env.history("checkout").await?.len(), 1);
    assert_eq!(env.inbox().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn two_evaluators_racing_on_one_slo_send_one_message() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let other = env.second_app(&env.settings);
    let t = env.end - 70 * MIN;
    let (a, b) = tokio::join!(env.scheduled(&env.app, t), env.scheduled(&other, t));
    let (a, b) = (a?, b?);
    assert_eq!(a.slos[0].status, Some(Status::Breaching));
    assert_eq!(b.slos[0].status, Some(Status::Breaching));
    assert_eq!(
        a.notifications_sent + b.notifications_sent,
        1,
        "{a:?} {b:?}"
    );
    assert_eq!(env.inbox().await?.len(), 1);
    assert_eq!(env.history("checkout").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_failed_publish_is_sent_by_the_next_cycle_once() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let mut settings = env.settings.clone();
    settings.topic_arn = Some("arn:aws:sns:eu-west-1:123456789012:late-topic".into());
    let app = env.second_app(&settings);
    let t = env.end - 70 * MIN;
    let r = env.scheduled(&app, t).await?;
    assert_eq!(r.failed, 0, "the SLO was evaluated: {r:?}");
    assert_eq!(r.notifications_sent, 0);
    assert!(
        matches!(
            &r.slos[0].notify_errors[..],
            [sloguard_core::app::cycle::DeliveryError::Notify(sloguard_core::app::ports::NotifyError::TopicMissing(t))] if t.contains("late-topic")
        ),
        "{r:?}"
    );
    assert_eq!(
        env.app
            .store
            .state("checkout")
            .await?
            .unwrap()
            .pending
            .len(),
        1
    );

    // the topic appears; the next cycle (no new change) delivers the pending page, once
    let topic = sloguard_testing::emulator::create_topic(&env.sns, "late-topic").await?;
    let queue =
        sloguard_testing::emulator::subscribe_queue(&env.sqs, &env.sns, &topic, "late-inbox")
            .await?;
    let r = env.scheduled(&app, t + 5 * MIN).await?;
    assert_eq!(r.notifications_sent, 1, "{r:?}");
    env.scheduled(&app, t + 10 * MIN).await?;
    let got = sloguard_testing::emulator::drain(&env.sqs, &queue).await?;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].attributes["status"], "breaching");
    assert!(
        got[0].message.contains("page incident opened"),
        "{}",
        got[0].message
    );
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
async fn a_bad_slo_among_good_ones_does_not_stop_them() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    // a stored definition that no longer parses
    aws_sdk_dynamodb::Client::new(&env.sdk)
        .put_item()
        .table_name(&env.settings.table)
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("DEF".into()),
        )
        .item(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("broken".into()),
        )
        .item(
            "definition",
            aws_sdk_dynamodb::types::AttributeValue::S("{not json".into()),
        )
        .item(
            "version",
            aws_sdk_dynamodb::types::AttributeValue::N("3".into()),
        )
        .send()
        .await?;
    let r = env.scheduled(&env.app, env.end - 70 * MIN).await?;
    assert_eq!((r.evaluated, r.failed), (1, 1), "{r:?}");
    let broken = r.slos.iter().find(|o| o.slo == "broken").unwrap();
    assert!(
        matches!(
            broken.error,
            Some(sloguard_core::app::cycle::SloError::Unreadable { version: 3, .. })
        ),
        "{broken:?}"
    );
    assert!(broken
        .error
        .as_ref()
        .unwrap()
        .to_string()
        .starts_with("stored definition v3 is unreadable"));
    let good = r.slos.iter().find(|o| o.slo == "checkout").unwrap();
    assert_eq!(good.status, Some(Status::Breaching));
    assert_eq!(env.inbox().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn machines_get_the_json_document_on_the_events_topic() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let events = sloguard_testing::emulator::create_topic(&env.sns, "sloguard-events").await?;
    let queue =
        sloguard_testing::emulator::subscribe_queue(&env.sqs, &env.sns, &events, "machines")
            .await?;
    let mut settings = env.settings.clone();
    settings.events_topic_arn = Some(events);
    let app = env.second_app(&settings);
    let r = env.scheduled(&app, env.end - 70 * MIN).await?;
    assert_eq!(r.notifications_sent, 2, "people and machines: {r:?}");
    assert_eq!(env.inbox().await?.len(), 1);
    let got = sloguard_testing::emulator::drain(&env.sqs, &queue).await?;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attributes["severity"], "page");
    let doc: serde_json::Value = serde_json::from_str(&got[0].message)?;
    assert_eq!(doc["slo"], "checkout");
    assert_eq!(doc["status"], "breaching");
    assert_eq!(doc["event"], "opened");
    assert_eq!(doc["incident"]["severity"], "page");
    assert!((doc["burn_rates"]["1h"].as_f64().unwrap() - 33.333333).abs() < 1e-3);
    assert_eq!(doc["conditions"][0]["met"], true);
    Ok(())
}

#[tokio::test]
async fn shards_split_the_fleet_without_overlap() -> Result<()> {
    let env = Env::new().await?;
    let names: Vec<String> = (0..7).map(|i| format!("checkout-{i}")).collect();
    env.apply(
        &names
            .iter()
            .map(|n| checkout_slo(n))
            .collect::<Vec<_>>()
            .join("---\n"),
    )
    .await?;
    env.checkout_traffic(|_| 0.0).await?;
    // The dispatcher's cut: ranges open below, between two names, and open above, read
    // from DynamoDB as key ranges (the upper bound excluded).
    let ranges = sloguard_core::slo::shard::cut(&names, 3);
    assert_eq!(ranges.len(), 3);
    let mut seen = Vec::new();
    for range in ranges {
        let r = sloguard_core::app::cycle::run_cycle(
            &env.app,
            sloguard_core::app::cycle::CycleRequest {
                trigger: env.end,
                now: chrono::Utc::now().timestamp(),
                range,
                ..Default::default()
            },
        )
        .await?;
        seen.extend(r.slos.into_iter().map(|o| o.slo));
    }
    seen.sort();
    assert_eq!(seen, names, "every SLO exactly once across the shards");
    // A schedule of an older stack that still names shards is refused, not run whole.
    let old = serde_json::json!({"time": sloguard_core::slo::message::rfc3339(env.end), "shard": 0, "shards": 3});
    let err = sloguard_aws::events::handle_scheduled_event(&env.app, &old, env.end)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("slo-dispatcher"), "{err}");
    Ok(())
}

#[tokio::test]
async fn the_same_event_five_times_at_once_gives_one_snapshot_and_one_message() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let apps: Vec<_> = (0..5).map(|_| env.second_app(&env.settings)).collect();
    let t = env.end - 70 * MIN;
    let results = futures::future::join_all(apps.iter().map(|a| env.scheduled(a, t))).await;
    let sent: usize = results
        .into_iter()
        .map(|r| r.map(|r| r.notifications_sent))
        .sum::<Result<usize>>()?;
    assert_eq!(sent, 1);
    assert_eq!(env.inbox().await?.len(), 1);
    assert_eq!(env.history("checkout").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn overlapping_shards_announce_each_change_once() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let other = env.second_app(&env.settings);
    // one evaluator runs everything, another a shard whose range holds checkout
    let all = serde_json::json!({"time": sloguard_core::slo::message::rfc3339(t)});
    let shard = sloguard_core::app::cycle::CycleRequest {
        trigger: t,
        now: t,
        range: sloguard_core::slo::shard::NameRange {
            from: Some("a".into()),
            until: Some("d".into()),
        },
        ..Default::default()
    };
    let now = t;
    let (a, b) = tokio::join!(
        sloguard_aws::events::handle_scheduled_event(&env.app, &all, now),
        sloguard_core::app::cycle::run_cycle(&other, shard)
    );
    assert_eq!(a?.notifications_sent + b?.notifications_sent, 1);
    assert_eq!(env.inbox().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_cycle_at_its_deadline_stops_cleanly_and_the_next_one_catches_up() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let event = serde_json::json!({"time": sloguard_core::slo::message::rfc3339(t)});
    let now = chrono::Utc::now();
    let near = Some(now.timestamp_millis() + 1_000);
    let err = sloguard_aws::events::handle_scheduled_event_until(&env.app, &event, t, near)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("deferred"), "{err}");
    // nothing half-written
    assert!(env.history("checkout").await?.is_empty());
    assert!(env.app.store.state("checkout").await?.is_none());
    assert!(env.inbox().await?.is_empty());
    // the next cycle does the work, once
    let r = env.scheduled(&env.app, t).await?;
    assert_eq!(r.notifications_sent, 1);
    assert_eq!(env.inbox().await?.len(), 1);
    Ok(())
}
