//! A composite of two SLOs of two services (issue 23.1), applied from three files: `evaluate`
//! pages for it naming the part that burns most, and `status --json` shows it.

use anyhow::Result;
use serde_json::Value;
use sloguard_testing::emulator::{self, Moto, Point};

use crate::{scratch, sloguard, text};

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
            spec: {{region: eu-west-1, namespace: Journey, metricName: {metric}Errors, stat: Sum}}
        total:
          metricSource:
            type: CloudWatch
            spec: {{region: eu-west-1, namespace: Journey, metricName: {metric}Requests, stat: Sum}}
  timeWindow:
    - duration: 7d
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
  name: buy-journey
  annotations:
    sloguard.dev/composite-of: basket, payment:0.5
spec:
  service: journeys
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.998
";

#[tokio::test]
async fn a_composite_of_two_services_pages_naming_the_burning_part_and_shows_in_status(
) -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    let out = sloguard(Some(&moto), &["init", "--create-topic", "composite"]);
    assert!(out.status.success(), "{}", text(&out));
    let arn = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("export SLO_TOPIC_ARN="))
        .expect("the topic's ARN")
        .to_string();
    let sdk = moto.sdk_config("eu-west-1").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue =
        emulator::subscribe_queue(&sqs, &aws_sdk_sns::Client::new(&sdk), &arn, "on-call").await?;

    // Three teams, three files, applied one by one.
    let dir = scratch("composite");
    for (file, yaml) in [
        ("basket.yaml", part("basket", "Basket")),
        ("payment.yaml", part("payment", "Payment")),
        ("journey.yaml", JOURNEY.to_string()),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, yaml)?;
        let out = sloguard(Some(&moto), &["apply", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
    }

    // The last hour: 100 requests a minute to each; payment fails 10 of them, basket none.
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60;
    let mut pts = Vec::new();
    for m in 0..60 {
        let t = end - 3600 + m * 60;
        for (metric, value) in [
            ("BasketRequests", 100.0),
            ("PaymentRequests", 100.0),
            ("PaymentErrors", 10.0),
        ] {
            pts.push(Point {
                namespace: "Journey".into(),
                metric: metric.into(),
                dimensions: vec![],
                timestamp: t,
                value,
            });
        }
    }
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &pts).await?;

    let out = sloguard(
        Some(&moto),
        &["evaluate", "--lag", "0", "--topic-arn", &arn, "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));

    let out = sloguard(Some(&moto), &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let status: Value = serde_json::from_slice(&out.stdout)?;
    let row = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slo"] == "buy-journey")
        .unwrap_or_else(|| panic!("the composite in status: {status}"));
    assert_eq!(row["service"], "journeys", "{row}");
    assert_eq!(row["objective"], 0.998, "{row}");
    // Each part's bad fraction over the hour, weighted: 1 x 0 + 0.5 x 0.10 = 0.05, against
    // the 0.002 the composite allows: burn rate 25 over 1h, attainment 95%.
    let burn = row["burn_rates"]["1h"].as_f64().unwrap();
    assert!((burn - 25.0).abs() < 1e-6, "{row}");
    assert!(
        (row["attainment"].as_f64().unwrap() - 0.95).abs() < 1e-9,
        "{row}"
    );
    assert_eq!(row["status"], "exhausted", "{row}");

    let got = emulator::drain(&sqs, &queue).await?;
    let page = got
        .iter()
        .find(|m| {
            m.attributes.get("slo").map(String::as_str) == Some("buy-journey")
                && m.attributes.get("severity").map(String::as_str) == Some("page")
        })
        .unwrap_or_else(|| panic!("a page for the composite: {got:#?}"));
    assert!(page.subject.contains("buy-journey"), "{}", page.subject);
    assert!(
        page.message
            .contains("Burning most: part \"payment\" (weight 0.5)"),
        "{}",
        page.message
    );
    Ok(())
}
