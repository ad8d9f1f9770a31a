//! A composite of SLOs of two services, applied from separate files, through the cycle: it
//! pages like any SLO and the message names the part that burns most.

use super::*;
use crate::app::apply::{apply, ApplyOptions};
use crate::app::memory::{FakeMetrics, FakeNotifier, MemoryStore, TestApp};
use crate::slo::load::SourceFile;
use crate::slo::model::Severity;
use crate::slo::status::Status;

/// An hour boundary (2027-01-15T08:00:00Z).
const T: i64 = 1_800_000_000;

fn part(name: &str, metric: &str) -> String {
    format!(
        "apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
spec:
  service: {name}
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec: {{region: eu-west-1, namespace: Shop, metricName: {metric}Errors, stat: Sum}}
        total:
          metricSource:
            type: CloudWatch
            spec: {{region: eu-west-1, namespace: Shop, metricName: {metric}Requests, stat: Sum}}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"
    )
}

const JOURNEY: &str = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: journey
  annotations:
    sloguard.dev/composite-of: checkout, payments:0.5
spec:
  service: journeys
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.998
";

async fn shop(payments_errors: impl Fn(i64) -> f64 + Send + Sync + 'static) -> TestApp {
    let app = App {
        metrics: FakeMetrics::new(move |name, t| match name {
            "CheckoutRequests" | "PaymentsRequests" => Some(100.0),
            "CheckoutErrors" => Some(0.0),
            "PaymentsErrors" => Some(payments_errors(t)),
            _ => None,
        }),
        store: MemoryStore::default(),
        notifier: FakeNotifier::default(),
        config: super::super::Config {
            lag_seconds: 0,
            ..super::super::Config::default()
        },
    };
    // Three files applied one by one, as three teams would.
    for (name, text) in [
        ("checkout.yaml", part("checkout", "Checkout")),
        ("payments.yaml", part("payments", "Payments")),
        ("journey.yaml", JOURNEY.to_string()),
    ] {
        let f = [SourceFile {
            name: name.into(),
            text,
        }];
        apply(&app.store, &f, ApplyOptions::default())
            .await
            .expect("valid");
    }
    app
}

#[tokio::test]
async fn a_composite_pages_and_names_the_part_that_burns_most() {
    // Payments fails 10% of its requests in the last hour.
    let app = shop(|t| if t >= T - 3600 { 10.0 } else { 0.0 }).await;
    let r = run_cycle(
        &app,
        CycleRequest {
            trigger: T,
            now: T,
            ..CycleRequest::default()
        },
    )
    .await
    .unwrap();
    let journey = r.slos.iter().find(|o| o.slo == "journey").unwrap();
    assert_eq!(journey.error, None);
    let snap = journey.snapshot.as_ref().unwrap();
    // Over the last hour: m = 1 x 0 + 0.5 x 0.10 = 0.05; burn 0.05 / 0.002 = 25.
    assert!(
        (snap.burn_rates["1h"].unwrap() - 25.0).abs() < 1e-9,
        "{snap:?}"
    );
    let sent = app.notifier.take();
    let page = sent
        .iter()
        .find(|n| n.slo == "journey" && n.severity == Severity::Page)
        .expect("the composite pages");
    assert!(
        page.body
            .contains("Burning most: part \"payments\" (weight 0.5)"),
        "{}",
        page.body
    );
    assert_eq!(page.document["burning_most"]["part"], "payments");
    // The part pages on its own too; checkout is fine.
    assert!(sent
        .iter()
        .any(|n| n.slo == "payments" && n.severity == Severity::Page));
    assert!(!sent.iter().any(|n| n.slo == "checkout"));
}

#[tokio::test]
async fn a_composite_whose_part_is_not_stored_fails_alone() {
    let app = shop(|_| 0.0).await;
    let orphan = JOURNEY
        .replace("name: journey", "name: orphan")
        .replace("checkout, payments:0.5", "checkout, billing");
    let f = [SourceFile {
        name: "orphan.yaml".into(),
        text: orphan,
    }];
    apply(&app.store, &f, ApplyOptions::default())
        .await
        .unwrap();
    let r = run_cycle(
        &app,
        CycleRequest {
            trigger: T,
            now: T,
            ..CycleRequest::default()
        },
    )
    .await
    .unwrap();
    let orphan = r.slos.iter().find(|o| o.slo == "orphan").unwrap();
    assert_eq!(
        orphan.error.as_ref().map(ToString::to_string).as_deref(),
        Some("composite: part `billing` is not a stored SLO (apply it first)")
    );
    let journey = r.slos.iter().find(|o| o.slo == "journey").unwrap();
    assert_eq!(journey.status, Some(Status::Ok));
    assert_eq!(r.failed, 1);
}

#[tokio::test]
async fn apply_refuses_a_cycle_through_a_stored_composite_at_its_line() {
    let app = shop(|_| 0.0).await;
    // `journey` (stored) composes checkout; making checkout compose journey closes a cycle.
    let text = JOURNEY
        .replace("name: journey", "name: checkout")
        .replace("checkout, payments:0.5", "journey");
    let f = [SourceFile {
        name: "loop.yaml".into(),
        text,
    }];
    let err = apply(&app.store, &f, ApplyOptions::default())
        .await
        .unwrap_err();
    let crate::app::apply::ApplyError::Invalid(problems) = err else {
        panic!("{err}")
    };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        ["loop.yaml:6: metadata.annotations.sloguard.dev/composite-of: cycle: checkout -> journey -> checkout; a composite cannot contain itself"]
    );
}
