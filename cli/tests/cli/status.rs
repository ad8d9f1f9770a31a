//! `sloguard status` after an evaluation at a past time: `evaluate --at` records history
//! and no live state, and `status` must still show what it found (issue 21.6), marked.

use anyhow::Result;
use serde_json::Value;
use sloguard_testing::emulator::{self, Moto, Point};

use crate::{sloguard, text};

fn checkout(status: &Value) -> &Value {
    status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slo"] == "checkout-availability")
        .expect("checkout in status")
}

#[tokio::test]
async fn status_shows_an_slo_evaluated_only_at_a_past_time_marked_as_not_live() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    for args in [&["init"][..], &["apply", "examples/slos"]] {
        let out = sloguard(Some(&moto), args);
        assert!(out.status.success(), "{}", text(&out));
    }
    // An hour of checkout traffic with half of it failing, ending an hour ago.
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60 - 3600;
    let mut pts = Vec::new();
    for m in 0..60 {
        let t = end - 3600 + m * 60;
        for (metric, value) in [("CheckoutRequests", 100.0), ("CheckoutErrors", 50.0)] {
            pts.push(Point {
                namespace: "Shop".into(),
                metric: metric.into(),
                dimensions: vec![],
                timestamp: t,
                value,
            });
        }
    }
    let sdk = moto.sdk_config("eu-west-1").await;
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &pts).await?;

    let at = sloguard_core::slo::message::rfc3339(end);
    let out = sloguard(
        Some(&moto),
        &["evaluate", "--at", &at, "--lag", "0", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = sloguard(Some(&moto), &["history", "checkout-availability", "--json"]);
    let history: Value = serde_json::from_slice(&out.stdout)?;
    let found = history.as_array().unwrap().last().expect("a snapshot")["status"].clone();
    assert_ne!(found, "no_data", "the past evaluation saw the errors");

    let out = sloguard(Some(&moto), &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let status: Value = serde_json::from_slice(&out.stdout)?;
    let row = checkout(&status);
    assert_eq!(row["status"], found, "{row}");
    assert_eq!(row["evaluated_at"], at.as_str(), "{row}");
    assert_eq!(row["live"], false, "{row}");
    let table = text(&sloguard(Some(&moto), &["status"]));
    let line = table
        .lines()
        .find(|l| l.starts_with("checkout-availability"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("not evaluated live"), "{table}");
    assert!(!line.contains("no_data"), "{table}");

    // A live cycle replaces the mark.
    let out = sloguard(Some(&moto), &["evaluate", "--lag", "0"]);
    assert!(out.status.success(), "{}", text(&out));
    let status: Value =
        serde_json::from_slice(&sloguard(Some(&moto), &["status", "--json"]).stdout)?;
    assert_eq!(checkout(&status)["live"], true);
    Ok(())
}
