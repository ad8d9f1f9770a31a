//! The alarm handler over in-memory ports: matching, the no-burn info message, dedup.

use super::*;
use crate::app::cycle::tests::{app_with, checkout_yaml, TestApp, T};
use crate::app::cycle::SloError;
use crate::slo::load::SourceFile;
use crate::slo::model::Severity;

/// A second SLO the alarm touches (by the same annotation); `cart` sorts before `checkout`.
async fn add_cart(app: &TestApp) {
    let files = [SourceFile {
        name: "cart.yaml".into(),
        text: checkout_yaml().replace("  name: checkout\n", "  name: cart\n"),
    }];
    crate::app::apply::apply(&app.store, &files, Default::default())
        .await
        .expect("valid SLO");
}

/// The checkout alarm's transition to `state` at `t`, as read from its EventBridge event.
fn alarm_event(state: &str, t: i64) -> HandlerEvent {
    HandlerEvent::Alarms(vec![AlarmEvent {
        name: "checkout-5xx-high".into(),
        arn: Some("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx-high".into()),
        state: state.into(),
        previous_state: Some("OK".into()),
        reason: "Threshold Crossed".into(),
        timestamp_ms: t * 1000,
        metrics: Vec::new(),
        composite: false,
        children: Vec::new(),
        shape: "eventbridge",
        claims: eventbridge_claims(),
    }])
}

/// What the checkout alarm's EventBridge envelope claims: its account and region.
fn eventbridge_claims() -> crate::app::provenance::Claims {
    let mut claims = crate::app::provenance::Claims::default();
    claims
        .account("account", Some("123456789012"))
        .region("region", Some("eu-west-1"));
    claims
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
        .contains("alarm \"checkout-5xx-high\" is ALARM, no burn-rate condition met"));
    // the same transition again: a duplicate, nothing sent
    let r = handle_alarm_event(&app, &event, T + 5).await.unwrap();
    assert!(r.alarms[0].duplicate);
    assert!(app.notifier.take().is_empty());
}

/// Asserts that the handler refused `outcome`'s alarm, saying `why`.
fn assert_refused(outcome: &AlarmOutcome, why: &str) {
    let refused = outcome.refused.as_deref().expect("refused");
    assert!(refused.contains(why), "{refused:?} should say {why:?}");
}

#[tokio::test]
async fn an_alarm_from_the_future_is_refused_without_a_retry() {
    let app = app_with(|_| 0.0).await;
    let r = handle_alarm_event(&app, &alarm_event("ALARM", T + 86_400), T)
        .await
        .unwrap();
    assert_refused(&r.alarms[0], "ahead of the clock");
    assert!(app.notifier.take().is_empty());
}

#[tokio::test]
async fn fifty_transitions_in_a_minute_give_one_evaluation_and_one_message() {
    let app = app_with(|_| 0.0).await;
    let mut evaluated = 0;
    for i in 0..50 {
        // ALARM and OK in turn, each a new transition (its own timestamp)
        let state = if i % 2 == 0 { "ALARM" } else { "OK" };
        let r = handle_alarm_event(&app, &alarm_event(state, T + i), T + i)
            .await
            .unwrap();
        assert!(!r.alarms[0].duplicate);
        evaluated += r.alarms[0].cycle.as_ref().map_or(0, |c| c.evaluated);
    }
    assert_eq!(
        evaluated, 1,
        "one alarm-triggered evaluation per SLO per minute"
    );
    assert!(app.notifier.take().len() <= 1);
    // the next minute may evaluate again
    let r = handle_alarm_event(&app, &alarm_event("ALARM", T + 70), T + 70)
        .await
        .unwrap();
    assert_eq!(r.alarms[0].cycle.as_ref().unwrap().evaluated, 1);
}

/// The checkout alarm at `T` as the handler whose function is `arn` sees it.
async fn outcome_in(app: &TestApp, arn: &str) -> AlarmOutcome {
    let ctx = HandlerContext::from_function_arn(arn, None).expect("a function ARN");
    let r = handle_alarm_event_in(app, &alarm_event("ALARM", T), T, &ctx)
        .await
        .unwrap();
    r.alarms.into_iter().next().expect("one alarm")
}

#[tokio::test]
async fn alarms_of_another_account_or_region_are_ignored() {
    let app = app_with(|_| 0.0).await;
    let other_account = outcome_in(
        &app,
        "arn:aws:lambda:eu-west-1:999999999999:function:sloguard-alarm-handler",
    )
    .await;
    assert_refused(&other_account, "alarm of account 123456789012");
    assert!(other_account.cycle.is_none());
    let other_region = outcome_in(
        &app,
        "arn:aws:lambda:us-east-1:123456789012:function:sloguard-alarm-handler",
    )
    .await;
    assert_refused(&other_region, "alarm in region eu-west-1");
    let mine = outcome_in(
        &app,
        "arn:aws:lambda:eu-west-1:123456789012:function:sloguard-alarm-handler",
    )
    .await;
    assert!(mine.refused.is_none() && mine.cycle.is_some());
}

#[tokio::test]
async fn a_handler_that_died_after_claiming_is_replaced_by_the_retry() {
    use crate::app::ports::{DedupStore, Once};
    let app = app_with(|_| 0.0).await;
    let event = alarm_event("ALARM", T);
    let HandlerEvent::Alarms(alarms) = &event else {
        unreachable!("an alarm event")
    };
    let ts = alarms[0].timestamp_ms;
    // The first handler claimed the transition and died before finishing.
    app.store
        .claim_once(
            Once::AlarmTransition {
                alarm: "checkout-5xx-high",
                timestamp_ms: ts,
                state: "ALARM",
            },
            T,
            TRANSITION_LEASE_SECONDS,
            T + 86_400,
        )
        .await
        .unwrap();
    // A retry inside the lease fails (Lambda retries it later) instead of dropping it...
    let err = handle_alarm_event(&app, &event, T + 30).await.unwrap_err();
    assert_eq!(err.error_type(), "InProgress");
    // ...and the retry after the lease handles it: the info message goes out.
    let r = handle_alarm_event(&app, &event, T + TRANSITION_LEASE_SECONDS + 1)
        .await
        .unwrap();
    assert!(!r.alarms[0].duplicate && r.alarms[0].cycle.is_some());
    assert_eq!(app.notifier.take().len(), 1);
    // and once done, it is a duplicate
    let r = handle_alarm_event(&app, &event, T + 300).await.unwrap();
    assert!(r.alarms[0].duplicate);
}

#[tokio::test]
async fn one_info_message_names_every_slo_the_alarm_touches() {
    let app = app_with(|_| 0.0).await;
    add_cart(&app).await;
    let r = handle_alarm_event(&app, &alarm_event("ALARM", T), T)
        .await
        .unwrap();
    assert_eq!(r.alarms[0].touched, vec!["cart", "checkout"]);
    assert_eq!(r.alarms[0].cycle.as_ref().unwrap().evaluated, 2);
    let sent = app.notifier.take();
    assert_eq!(sent.len(), 1, "one message per transition: {sent:#?}");
    assert_eq!(sent[0].severity, Severity::Info);
    assert!(
        sent[0]
            .body
            .contains("It touches these SLOs: cart, checkout (one message for all of them)"),
        "{}",
        sent[0].body
    );
}

#[tokio::test]
async fn the_info_message_is_not_lost_when_the_first_touched_slo_was_debounced() {
    use crate::app::ports::{DedupStore, Once};
    let app = app_with(|_| 0.0).await;
    add_cart(&app).await;
    // Another alarm evaluated `cart` this minute: this transition only records it.
    let minute = T.div_euclid(60);
    assert!(app
        .store
        .record_once(
            Once::AlarmEvaluation {
                slo: "cart",
                minute
            },
            T + 3600
        )
        .await
        .unwrap());
    let r = handle_alarm_event(&app, &alarm_event("ALARM", T), T)
        .await
        .unwrap();
    assert_eq!(r.alarms[0].debounced, vec!["cart"]);
    assert_eq!(r.alarms[0].cycle.as_ref().unwrap().evaluated, 1);
    let sent = app.notifier.take();
    assert_eq!(sent.len(), 1, "exactly one info message: {sent:#?}");
    assert_eq!(sent[0].severity, Severity::Info);
    assert_eq!(sent[0].slo, "checkout", "on the SLO that was evaluated");
    assert!(
        sent[0]
            .body
            .contains("It touches these SLOs: checkout, cart"),
        "names both: {}",
        sent[0].body
    );
}

#[tokio::test]
async fn a_handler_at_its_deadline_defers_and_its_retry_handles_the_transition() {
    let app = app_with(|_| 0.0).await;
    let event = alarm_event("ALARM", T);
    // The invocation's deadline has passed: no SLO is started.
    let late = HandlerContext {
        deadline_ms: Some(0),
        ..HandlerContext::default()
    };
    let err = handle_alarm_event_in(&app, &event, T, &late)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            AlarmError::Cycle {
                error: CycleError::NothingEvaluated {
                    first: SloError::Deferred,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.error_type(),
        "CycleFailed",
        "a Lambda error: it retries"
    );
    assert!(app.notifier.take().is_empty());
    // The dedup and debounce records were forgotten: Lambda's retry evaluates it.
    let r = handle_alarm_event(&app, &event, T + 5).await.unwrap();
    assert!(!r.alarms[0].duplicate && r.alarms[0].debounced.is_empty());
    assert_eq!(r.alarms[0].cycle.as_ref().unwrap().evaluated, 1);
    assert_eq!(app.notifier.take().len(), 1);
}

#[tokio::test]
async fn an_alarm_more_than_a_day_old_is_evaluated_now_and_says_nothing_of_itself() {
    use crate::app::ports::HistoryStore;
    let app = app_with(|_| 0.0).await;
    let old = T - STALE_ALARM_SECONDS - 3600;
    let r = handle_alarm_event(&app, &alarm_event("ALARM", old), T)
        .await
        .unwrap();
    let cycle = r.alarms[0].cycle.as_ref().expect("evaluated");
    // Evaluated at the clock (lag 0 in these tests), not at the alarm's time.
    assert_eq!(cycle.evaluated_at, rfc3339(T));
    let at_now = app.store.history("checkout", T, T).await.unwrap();
    assert_eq!(at_now.len(), 1);
    assert_eq!(
        at_now[0].alarm.as_ref().map(|a| a.timestamp),
        Some(old),
        "the snapshot names the alarm behind it"
    );
    assert!(app
        .store
        .history("checkout", old - 86_400, T - 1)
        .await
        .unwrap()
        .is_empty());
    // A day-old alarm is not news: no info message about it.
    assert!(app.notifier.take().is_empty());
}

/// The handler of the stack in eu-west-1 of account 123456789012 (the fixtures' own).
#[test]
fn a_handler_that_cannot_tell_its_stack_fails_rather_than_take_any_event() {
    for arn in [
        "",
        "not-an-arn",
        "arn:aws:lambda:eu-west-1::function:sloguard-alarm-handler",
        "arn:aws:lambda:evil.example:123456789012:function:sloguard-alarm-handler",
        "arn:aws:lambda:eu-west-1:12345:function:sloguard-alarm-handler",
    ] {
        let e = HandlerContext::from_function_arn(arn, None).unwrap_err();
        assert_eq!(e.error_type(), "UnknownHome", "{arn:?}");
        assert!(e.to_string().contains("handles no event"), "{e}");
    }
}
