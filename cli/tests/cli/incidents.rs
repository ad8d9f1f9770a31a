//! `sloguard incidents`, `sloguard incident` and the review on an incident the scheduled
//! handler records: the JSON fields, the text, the Markdown skeleton, the exit codes.

use anyhow::Result;
use serde_json::{json, Value};
use sloguard_aws::events::handle_scheduled_event;
use sloguard_aws::{build_app, Environment};
use sloguard_core::slo::message::rfc3339;
use sloguard_testing::emulator::{self, Moto, Point};

use super::{scratch, sloguard, text};

const MIN: i64 = 60;
const HOUR: i64 = 3600;

fn point(metric: &str, t: i64, v: f64) -> Point {
    Point {
        namespace: "CliIncident".into(),
        metric: metric.into(),
        dimensions: vec![("Endpoint".into(), "pay".into())],
        timestamp: t,
        value: v,
    }
}

const SLO: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: pay-availability
spec:
  service: pay
  indicator:
    metadata:
      name: pay-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec: {region: eu-west-1, namespace: CliIncident, metricName: PayErrors, stat: Sum, dimensions: [{name: Endpoint, value: pay}]}
        total:
          metricSource:
            type: CloudWatch
            spec: {region: eu-west-1, namespace: CliIncident, metricName: PayRequests, stat: Sum, dimensions: [{name: Endpoint, value: pay}]}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"#;

#[tokio::test]
async fn incidents_incident_markdown_and_the_review_on_a_recorded_incident() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let dir = scratch("incidents");
    let file = dir.join("pay.yaml");
    std::fs::write(&file, SLO)?;
    let out = sloguard(Some(&moto), &["apply", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));

    // 100 requests a minute (hourly totals before the last 4 hours), 10% failing for 30
    // minutes from `burn`.
    let now = chrono::Utc::now().timestamp();
    let end = now - now % HOUR - HOUR;
    let burn = end - 90 * MIN;
    let mut pts = Vec::new();
    let mut t = end - 30 * 86_400;
    while t < end - 4 * HOUR {
        pts.push(point("PayRequests", t, 6000.0));
        t += HOUR;
    }
    while t < end {
        pts.push(point("PayRequests", t, 100.0));
        if (burn..burn + 30 * MIN).contains(&t) {
            pts.push(point("PayErrors", t, 10.0));
        }
        t += MIN;
    }
    let sdk = moto.sdk_config("eu-west-1").await;
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &pts).await?;

    // The scheduled handler every 5 minutes, as deployed (no topic: nothing to deliver).
    let settings = Environment {
        table: "cli-test".into(),
        topic_arn: None,
        events_topic_arn: None,
        lag_seconds: 0,
        history_days: 400,
        schedule_minutes: 5,
        dashboard_url: None,
        stack_name: "cli-test".into(),
        slo_metrics: Default::default(),
        event_bus: None,
        changes_days: 90,
        reconcile_hours: 24,
        ..Environment::default()
    };
    let app = build_app(&settings, &sdk);
    let mut t = end - 100 * MIN;
    while t <= end {
        let event = json!({"version": "0", "id": format!("ev-{t}"), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": rfc3339(t), "region": "eu-west-1",
            "resources": [], "detail": {}});
        handle_scheduled_event(&app, &event, t).await?;
        t += 5 * MIN;
    }

    let out = sloguard(Some(&moto), &["incidents", "--since", "1d", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 1, "{v:#}");
    let i = &list[0];
    let id = i["id"].as_str().unwrap().to_string();
    assert_eq!(
        id,
        format!("pay-availability@{}", {
            let t = chrono::DateTime::from_timestamp(burn + 10 * MIN, 0).unwrap();
            t.format("%Y%m%dT%H%MZ").to_string()
        })
    );
    assert_eq!(i["slo"], "pay-availability");
    assert_eq!(i["service"], "pay");
    assert_eq!(i["severity"], "page");
    assert_eq!(i["open"], false);
    assert_eq!(i["burn_started_at"], rfc3339(burn));
    assert_eq!(i["burn_window"], "5m");
    assert_eq!(i["paged_at"], rfc3339(burn + 10 * MIN));
    assert_eq!(i["resolved_at"], rfc3339(end - 25 * MIN));
    assert_eq!(i["time_to_detect_seconds"], 600);
    assert_eq!(i["duration_seconds"], 65 * MIN);
    let spent = i["budget_spent"].as_f64().unwrap();
    assert!((spent - 300.0 / 4320.0).abs() < 0.002, "{i:#}");
    assert_eq!(i["changes"], json!([]));
    assert_eq!(i["silences"], json!([]));

    let human = text(&sloguard(Some(&moto), &["incidents", "pay-availability"]));
    assert!(human.contains("1 incident since"), "{human}");
    assert!(
        human.contains(&format!("{id}  page, resolved {}", rfc3339(end - 25 * MIN))),
        "{human}"
    );
    assert!(
        human.contains("(5m window); paged after 10 min; lasted 65 min"),
        "{human}"
    );

    let out = sloguard(Some(&moto), &["incident", &id, "--markdown"]);
    assert!(out.status.success(), "{}", text(&out));
    let md = String::from_utf8(out.stdout)?;
    assert!(
        md.starts_with("# Post-incident review: pay\\-availability, "),
        "{md}"
    );
    assert!(md.contains("| Time to detect | 10 min |"), "{md}");
    assert!(md.contains("(data:image/svg+xml;base64,"), "{md}");
    assert!(md.contains("## Cause\n\n\n## Actions\n"), "{md}");

    let out = sloguard(Some(&moto), &["incident", &id, "--json"]);
    let one: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(one["id"], id.as_str());

    let review = text(&sloguard(Some(&moto), &["review", "--since", "7d"]));
    assert!(
        review.contains("Incidents of the last 7 days: 1 incident"),
        "{review}"
    );
    assert!(
        review.contains(&format!("review it: sloguard incident {id} --markdown")),
        "{review}"
    );

    // Unknown ids and SLOs: clear errors.
    let out = sloguard(
        Some(&moto),
        &["incident", "pay-availability@20200101T0000Z"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("no incident `pay-availability@20200101T0000Z`"),
        "{}",
        text(&out)
    );
    let out = sloguard(Some(&moto), &["incident", "not-an-id"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("is not an incident id like"),
        "{}",
        text(&out)
    );
    let out = sloguard(Some(&moto), &["incidents", "pay-availabilty"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("did you mean pay-availability?"),
        "{}",
        text(&out)
    );
    Ok(())
}
