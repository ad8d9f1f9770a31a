//! The OpenSLO regression corpus (`shared/core/testdata/openslo`) end to end on moto: the forms
//! people write (a YAML list of documents, a DataSource reference, two objectives, Occurrences
//! over a threshold, Timeslices over a ratio, RatioTimeslices, a raw ratio) are applied to a
//! table, evaluated by a scheduled cycle over synthetic metrics, and give the numbers the spec
//! defines for them.

use anyhow::Result;
use sloguard_core::app::apply::{apply, ApplyOptions};
use sloguard_core::slo::load::SourceFile;
use sloguard_e2e::{Env, DAY, HOUR};
use sloguard_testing::emulator::{self, Point};

const MIN: i64 = 60;

/// The corpus files this test applies and evaluates.
const FILES: [&str; 7] = [
    "list-layout.yaml",
    "datasource-ref.yaml",
    "two-objectives.yaml",
    "occurrences-threshold.yaml",
    "timeslices-ratio.yaml",
    "ratio-timeslices.yaml",
    "raw-ratio.yaml",
];

fn corpus(name: &str) -> SourceFile {
    let path = format!(
        "{}/../shared/core/testdata/openslo/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    SourceFile {
        name: name.to_string(),
        text: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
    }
}

fn point(metric: &str, t: i64, value: f64) -> Point {
    Point {
        namespace: "Shop".into(),
        metric: metric.into(),
        dimensions: vec![("Endpoint".into(), "checkout".into())],
        timestamp: t,
        value,
    }
}

/// One day and an hour of checkout metrics, per minute, ending at `end`: 100 requests a
/// minute; in the hour [end-3h, end-2h) 10 errors a minute, latency 500 ms and a success rate
/// of 0.5; then 10 minutes at 1,500 ms; otherwise 200 ms and 0.99.
async fn checkout_metrics(env: &Env) -> Result<()> {
    let end = env.end;
    let incident = |t: i64| t >= end - 3 * HOUR && t < end - 2 * HOUR;
    let slow = |t: i64| t >= end - 2 * HOUR && t < end - 2 * HOUR + 10 * MIN;
    let mut pts = Vec::new();
    let mut t = end - DAY - HOUR;
    while t < end {
        pts.push(point("Requests", t, 100.0));
        if incident(t) {
            pts.push(point("Errors", t, 10.0));
        }
        let latency = if incident(t) {
            500.0
        } else if slow(t) {
            1500.0
        } else {
            200.0
        };
        pts.push(point("Latency", t, latency));
        pts.push(point(
            "SuccessRate",
            t,
            if incident(t) { 0.5 } else { 0.99 },
        ));
        t += MIN;
    }
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&env.sdk), &pts).await?;
    Ok(())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[tokio::test]
async fn every_spec_form_of_the_corpus_evaluates_on_moto() -> Result<()> {
    let env = Env::new().await?;
    let files: Vec<SourceFile> = FILES.iter().map(|f| corpus(f)).collect();
    let applied = apply(&env.app.store, &files, ApplyOptions::default()).await?;
    assert_eq!(applied.len(), 8, "{applied:?}");
    checkout_metrics(&env).await?;

    let report = env.scheduled(&env.app, env.end).await?;
    assert_eq!(report.evaluated, 8, "{report:#?}");
    assert_eq!(report.failed, 0, "{report:#?}");

    // (SLO, good, total): worked out from the metrics above, by the spec's definitions.
    let expected = [
        // Occurrences over a ratio: requests of the day, 600 of them bad.
        ("checkout-list", 144_000.0 - 600.0, 144_000.0),
        ("checkout-datasource", 144_000.0 - 600.0, 144_000.0),
        // Timeslices over a ratio: 288 five-minute slices, the incident's 12 under 95%.
        ("checkout-slices", 276.0, 288.0),
        // RatioTimeslices: the average of the slices' ratios (12 slices at 0.9).
        ("checkout-average", 276.0 + 12.0 * 0.9, 288.0),
        // Two objectives of one latency SLO, each over 1-minute slices with its own threshold.
        ("checkout-latency-under-300-ms", 1440.0 - 70.0, 1440.0),
        ("checkout-latency-under-1-s", 1440.0 - 10.0, 1440.0),
        // Occurrences over a threshold: each 1-minute datapoint is an event.
        ("checkout-latency-points", 1440.0 - 70.0, 1440.0),
        // A raw success rate: each datapoint counts its own ratio.
        ("checkout-success-rate", 1380.0 * 0.99 + 60.0 * 0.5, 1440.0),
    ];
    for (slo, good, total) in expected {
        let h = env.history(slo).await?;
        assert_eq!(h.len(), 1, "{slo}: {h:#?}");
        assert!(
            close(h[0].total, total),
            "{slo}: total {} != {total}",
            h[0].total
        );
        assert!(
            close(h[0].good, good),
            "{slo}: good {} != {good}",
            h[0].good
        );
    }

    // Each objective has its own budget: 70 bad slices of the 144 a 90% target allows over the
    // day, 10 of the 14.4 a 99% target allows.
    let fast = env
        .history("checkout-latency-under-300-ms")
        .await?
        .remove(0);
    let slow = env.history("checkout-latency-under-1-s").await?.remove(0);
    assert!(close(fast.budget_remaining.unwrap(), 1.0 - 70.0 / 144.0));
    assert!(close(slow.budget_remaining.unwrap(), 1.0 - 10.0 / 14.4));
    assert_eq!((fast.objective, slow.objective), (0.9, 0.99));
    // Occurrences over a threshold: the budget is a share of the datapoints seen.
    let points = env.history("checkout-latency-points").await?.remove(0);
    assert!(close(points.budget_remaining.unwrap(), 1.0 - 70.0 / 144.0));
    Ok(())
}
