//! Routing over in-memory ports: a team's SLO pages its own topic only, the stack topic gets
//! a copy when asked, a failing team topic is retried alone, and a denied one becomes a
//! ticket on the stack topic.

use std::sync::atomic::Ordering;

use crate::app::cycle::tests::{app_with, at, incident, TestApp, T};
use crate::app::ports::{Channel, DefinitionStore};
use crate::slo::load::{load, SourceFile};
use crate::slo::model::Severity;

const A: &str = "arn:aws:sns:eu-west-1:123456789012:team-a-pages";
const B: &str = "arn:aws:sns:eu-west-1:123456789012:team-a-audit";

/// The checkout SLO of team-a, whose one policy names `topics` as notification targets.
async fn routed(topics: &[&str], copy_all: bool) -> TestApp {
    let mut app = app_with(incident).await;
    app.config.copy_all_to_stack_topic = copy_all;
    let targets: String = topics
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!("          - kind: AlertNotificationTarget\n            metadata: {{name: t{i}}}\n            spec: {{target: \"{t}\"}}\n")
        })
        .collect();
    let yaml = crate::slo::fixtures::checkout_yaml()
        .replace("  annotations:\n", "  labels:\n    team: team-a\n  annotations:\n")
        + &format!(
            "  alertPolicies:\n    - kind: AlertPolicy\n      metadata: {{name: pages}}\n      spec:\n        conditions:\n          - kind: AlertCondition\n            metadata: {{name: fast-burn}}\n            spec:\n              severity: page\n              condition: {{kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h}}\n        notificationTargets:\n{targets}"
        );
    let loaded = load(&[SourceFile {
        name: "checkout.yaml".into(),
        text: yaml,
    }]);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.slos[0].owner.as_deref(), Some("team-a"));
    app.store.put_definition(&loaded.slos[0]).await.unwrap();
    app
}

/// What the stack topic got (people channel), as subjects.
fn stack(app: &TestApp) -> Vec<String> {
    std::mem::take(&mut *app.notifier.sent.lock().unwrap())
        .into_iter()
        .filter(|(c, _)| *c == Channel::People)
        .map(|(_, n)| n.subject)
        .collect()
}

#[tokio::test]
async fn a_teams_page_goes_to_its_topic_only_with_its_team() {
    let app = routed(&[A], false).await;
    let r = at(&app, T + 10 * 60).await;
    assert_eq!(r.notifications_sent, 1);
    let routed = std::mem::take(&mut *app.notifier.routed.lock().unwrap());
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].0, A);
    assert_eq!(routed[0].1.severity, Severity::Page);
    assert_eq!(routed[0].1.team.as_deref(), Some("team-a"));
    assert!(stack(&app).is_empty(), "the stack topic gets nothing");
    at(&app, T + 15 * 60).await;
    assert!(app.notifier.take_routed().is_empty(), "once");
}

#[tokio::test]
async fn copy_all_sends_the_stack_topic_a_copy() {
    let app = routed(&[A], true).await;
    let r = at(&app, T + 10 * 60).await;
    assert_eq!(r.notifications_sent, 2);
    assert_eq!(app.notifier.take_routed().len(), 1);
    assert_eq!(stack(&app).len(), 1);
}

#[tokio::test]
async fn a_failing_team_topic_is_retried_alone() {
    let app = routed(&[A, B], false).await;
    app.notifier.missing_topics.lock().unwrap().push(B.into());
    let r = at(&app, T + 10 * 60).await;
    assert_eq!(r.notifications_sent, 1);
    assert_eq!(
        r.slos[0].notify_errors.len(),
        1,
        "{:?}",
        r.slos[0].notify_errors
    );
    let first = app.notifier.take_routed();
    assert_eq!(
        first.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        [A]
    );
    // Still missing: retried, nothing resent to A.
    at(&app, T + 15 * 60).await;
    assert!(app.notifier.take_routed().is_empty());
    app.notifier.missing_topics.lock().unwrap().clear();
    let r = at(&app, T + 20 * 60).await;
    assert_eq!(r.notifications_sent, 1);
    let later = app.notifier.take_routed();
    assert_eq!(
        later,
        vec![(B.to_string(), first[0].1.clone())],
        "the same page, to B only"
    );
    assert_eq!(app.store.unsent(), 0);
    assert!(stack(&app).is_empty());
}

#[tokio::test]
async fn a_denied_team_topic_becomes_a_ticket_on_the_stack_topic_once() {
    let app = routed(&[A], false).await;
    app.notifier.denied_topics.lock().unwrap().push(A.into());
    let r = at(&app, T + 10 * 60).await;
    assert_eq!(r.notifications_sent, 1);
    assert!(r.slos[0].notify_errors.is_empty());
    let sent = app.notifier.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].severity, Severity::Ticket);
    assert!(
        sent[0].subject.contains("team-a-pages"),
        "{}",
        sent[0].subject
    );
    assert!(sent[0].body.contains(A) && sent[0].body.contains("checkout"));
    at(&app, T + 15 * 60).await;
    assert!(
        app.notifier.take().is_empty(),
        "delivered once, as the ticket"
    );
    assert_eq!(app.store.unsent(), 0);
    // A failing stack topic keeps it pending: never lost.
    let app = routed(&[A], false).await;
    app.notifier.denied_topics.lock().unwrap().push(A.into());
    app.notifier.failures.store(1, Ordering::SeqCst);
    let r = at(&app, T + 10 * 60).await;
    assert_eq!(r.notifications_sent, 0);
    assert_eq!(app.store.unsent(), 1);
    let r = at(&app, T + 15 * 60).await;
    assert_eq!(r.notifications_sent, 1);
    assert_eq!(app.notifier.take().len(), 1);
}
