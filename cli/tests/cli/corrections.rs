//! Budget corrections from the command line (issue 23.2): a correction added after an
//! incident restores the budget it covered in history and status and sends nothing; its
//! versions and withdrawal are on record; the report shades it; a too-old one is refused.

use anyhow::Result;
use serde_json::Value;
use sloguard_core::slo::message::rfc3339;
use sloguard_testing::emulator::{self, Moto, Point};

use super::{root, scratch, sloguard, text};

fn checkout(v: &Value) -> &Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|o| o["slo"] == "checkout-availability")
        .unwrap()
}

fn status(moto: &Moto) -> Result<Value> {
    let out = sloguard(Some(moto), &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    Ok(checkout(&serde_json::from_slice(&out.stdout)?).clone())
}

#[tokio::test]
async fn a_correction_after_an_incident_restores_the_budget_never_pages_and_is_audited(
) -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let one = root().join("examples/slos/checkout-availability.yaml");
    assert!(sloguard(Some(&moto), &["apply", one.to_str().unwrap()])
        .status
        .success());
    let sdk = moto.sdk_config("eu-west-1").await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let topic = emulator::create_topic(&sns, "oncall").await?;
    let queue = emulator::subscribe_queue(&sqs, &sns, &topic, "oncall").await?;

    // Two hours of traffic; 10% errors for the half hour from an hour ago: a page.
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60;
    let start = end - 3600;
    let point = |metric: &str, t: i64, v: f64| Point {
        namespace: "Shop".into(),
        metric: metric.into(),
        dimensions: vec![],
        timestamp: t,
        value: v,
    };
    let mut pts: Vec<Point> = (0..120)
        .map(|m| point("CheckoutRequests", end - 7200 + m * 60, 100.0))
        .collect();
    pts.extend((0..30).map(|m| point("CheckoutErrors", start + m * 60, 10.0)));
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &pts).await?;
    for at in [start + 1800, end] {
        let out = sloguard(
            Some(&moto),
            &[
                "evaluate",
                "--at",
                &rfc3339(at),
                "--lag",
                "0",
                "--notify",
                "--topic-arn",
                &topic,
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
    }
    let told = emulator::drain(&sqs, &queue).await?;
    assert!(
        told.iter().any(|m| m.attributes["severity"] == "page"),
        "{told:?}"
    );
    let spent = status(&moto)?["budget_remaining"].as_f64().unwrap();
    assert!(spent < 0.5, "the incident spent budget: {spent}");

    // The correction, after the fact: the half hour was a bad deployment, rolled back.
    let out = sloguard(
        Some(&moto),
        &[
            "correct",
            "--service",
            "webshop",
            "--from",
            &rfc3339(start),
            "--to",
            &rfc3339(start + 1800),
            "--category",
            "deployment",
            "--reason",
            "bad deploy <rolled back>",
            "--by",
            "alice",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("corr-1 v1 recorded by alice: deployment"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("nothing was sent"), "{}", text(&out));
    assert!(
        emulator::drain(&sqs, &queue).await?.is_empty(),
        "never pages"
    );
    assert_eq!(status(&moto)?["budget_remaining"].as_f64(), Some(1.0));
    let out = sloguard(
        Some(&moto),
        &[
            "history",
            "checkout-availability",
            "--since",
            &rfc3339(start),
            "--json",
        ],
    );
    let history: Value = serde_json::from_slice(&out.stdout)?;
    assert!(!history.as_array().unwrap().is_empty());
    for s in history.as_array().unwrap() {
        assert_eq!(s["budget_remaining"].as_f64(), Some(1.0), "{s}");
    }

    // The report shades it, the reason as text.
    let dir = scratch("corrections");
    let file = dir.join("report.html");
    let out = sloguard(
        Some(&moto),
        &["report", "--since", "3h", "--out", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(&file)?;
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse(
        "svg.burn-down rect.correction.deployment[data-correction=\"corr-1\"]",
    )
    .unwrap();
    let band = doc.select(&sel).next().expect("a shaded band");
    assert!(band
        .text()
        .collect::<String>()
        .contains("bad deploy <rolled back>"));
    assert!(!html.contains("<rolled back>"), "escaped");

    // A new version, then a withdrawal: each a version of its own, none edited.
    let out = sloguard(
        Some(&moto),
        &[
            "correct",
            "--update",
            "corr-1",
            "--reason",
            "bad deploy, confirmed",
            "--by",
            "bob",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("corr-1 v2 recorded by bob"),
        "{}",
        text(&out)
    );
    let out = sloguard(
        Some(&moto),
        &["correct", "--withdraw", "corr-1", "--by", "carol"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        status(&moto)?["budget_remaining"].as_f64().unwrap() < 0.5,
        "the incident counts again"
    );
    assert!(
        emulator::drain(&sqs, &queue).await?.is_empty(),
        "never pages"
    );
    let out = sloguard(
        Some(&moto),
        &["corrections", "checkout-availability", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let listed: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(listed[0]["id"], "corr-1");
    assert_eq!(listed[0]["state"], "withdrawn");
    let versions: Vec<(u64, &str, bool, &str)> = listed[0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["by"].as_str().unwrap(),
                v["withdrawn"].as_bool().unwrap(),
                v["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (1, "alice", false, "bad deploy <rolled back>"),
            (2, "bob", false, "bad deploy, confirmed"),
            (3, "carol", true, "bad deploy, confirmed")
        ]
    );
    let human = text(&sloguard(Some(&moto), &["corrections"]));
    assert!(human.contains("superseded"), "{human}");
    assert!(human.contains("withdrawn"), "{human}");

    // Older than the history retention: refused, nothing stored.
    let old = now - 401 * 86_400;
    let out = sloguard(
        Some(&moto),
        &[
            "correct",
            "--slo",
            "checkout-availability",
            "--from",
            &rfc3339(old),
            "--to",
            &rfc3339(old + 3600),
            "--reason",
            "too late",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("older than history is kept (SLO_HISTORY_DAYS=400)"),
        "{}",
        text(&out)
    );
    // A recurrence ahead of now: recorded, nothing to recompute yet.
    let ahead = rfc3339(end + 86_400);
    let out = sloguard(
        Some(&moto),
        &[
            "correct",
            "--team",
            "payments",
            "--from",
            &ahead,
            "--rrule",
            "FREQ=WEEKLY;BYDAY=SU",
            "--duration",
            "2h",
            "--tz",
            "Europe/Berlin",
            "--category",
            "maintenance",
            "--reason",
            "weekly maintenance",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no stored SLO belongs to team payments"),
        "{}",
        text(&out)
    );
    let out = sloguard(
        Some(&moto),
        &[
            "correct",
            "--slo",
            "checkout-availability",
            "--from",
            &ahead,
            "--rrule",
            "FREQ=WEEKLY;BYDAY=SU",
            "--duration",
            "2h",
            "--tz",
            "Europe/Berlin",
            "--category",
            "maintenance",
            "--reason",
            "weekly maintenance",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("corr-2 v1 recorded") && text(&out).contains("no history to recompute"),
        "{}",
        text(&out)
    );
    let listed: Value =
        serde_json::from_slice(&sloguard(Some(&moto), &["corrections", "--json"]).stdout)?;
    assert_eq!(listed[1]["versions"][0]["when"]["rule"]["freq"], "WEEKLY");
    assert_eq!(listed[1]["versions"][0]["when"]["tz"], "Europe/Berlin");
    Ok(())
}
