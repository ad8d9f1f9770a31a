//! `sloguard report` and `sloguard review` as a user runs them, against moto: the HTML
//! file with one burn-down per SLO, a mistyped name, and the review's subject.

use std::process::{Command, Output};

use anyhow::Result;
use aws_sdk_dynamodb::types::AttributeValue::S;
use sloguard_testing::emulator::{self, Moto, Point};

const BIN: &str = env!("CARGO_BIN_EXE_sloguard");

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn sloguard(moto: &Moto, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("SLO_TOPIC_ARN")
        .envs(moto.endpoint_env())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("SLO_TABLE", "report-test")
        .output()
        .expect("sloguard runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn report_writes_one_burn_down_per_slo_and_review_prints_its_subject() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    for args in [&["init"][..], &["apply", "examples/slos"]] {
        let out = sloguard(&moto, args);
        assert!(out.status.success(), "{}", text(&out));
    }
    // an hour of checkout traffic with 1% errors, evaluated three times
    let sdk = moto.sdk_config("eu-west-1").await;
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60;
    let mut pts = Vec::new();
    for m in 0..60 {
        for (metric, value) in [("CheckoutRequests", 100.0), ("CheckoutErrors", 1.0)] {
            pts.push(Point {
                namespace: "Shop".into(),
                metric: metric.into(),
                dimensions: vec![],
                timestamp: end - 3600 + m * 60,
                value,
            });
        }
    }
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &pts).await?;
    for minutes_ago in [20, 10, 0] {
        let at = sloguard_core::slo::message::rfc3339(end - minutes_ago * 60);
        let out = sloguard(&moto, &["evaluate", "--at", &at, "--lag", "0"]);
        assert!(out.status.success(), "{}", text(&out));
    }

    let dir = std::env::temp_dir().join(format!("sloguard-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("report.html");
    let out = sloguard(
        &moto,
        &["report", "--since", "1d", "--out", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("(4 SLOs, 12 snapshots,"),
        "{}",
        text(&out)
    );
    let html = std::fs::read_to_string(&file)?;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches(r#"<svg class="chart burn-down""#).count(), 4);
    for slo in [
        "checkout-availability",
        "chat-wait-time",
        "premium-first-response",
        "help-center-monthly",
    ] {
        let chart = format!(r#"<svg class="chart burn-down" data-slo="{slo}" data-points=""#);
        assert_eq!(html.matches(&chart).count(), 1, "{slo}");
    }
    // checkout has traffic: its three evaluations are three points (the others saw no data)
    assert!(html.contains(
        r#"<svg class="chart burn-down" data-slo="checkout-availability" data-points="3""#
    ));

    // Only the SLO named; a mistyped one is a usage error naming the near name.
    let one = dir.join("one.html");
    let out = sloguard(
        &moto,
        &[
            "report",
            "checkout-availability",
            "--out",
            one.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(&one)?;
    assert_eq!(html.matches(r#"<svg class="chart burn-down""#).count(), 1);
    let typo = dir.join("typo.html");
    let out = sloguard(
        &moto,
        &[
            "report",
            "checkout-availabilty",
            "--out",
            typo.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(
            "no SLO named `checkout-availabilty` in the table; did you mean checkout-availability?"
        ),
        "{}",
        text(&out)
    );
    assert!(!typo.exists(), "no file for a failed report");

    // Hostile history items, as anyone who can write the table could store them: one in
    // sloguard's form with every string hostile, one with a hostile severity and time.
    let table = aws_sdk_dynamodb::Client::new(&sdk);
    let hostile = r#"</title>"><script>alert(1)</script><img src=x onerror=alert(2)>"#;
    let at = |m: i64| sloguard_core::slo::message::rfc3339(end - m * 60);
    let in_form = serde_json::json!({
        "slo": hostile, "service": hostile, "objective": 0.99, "window": hostile,
        "evaluated_at": at(5), "status": "ok", "attainment": 0.99, "budget_remaining": 0.5,
        "burn_rates": {hostile: 2.0, "1h": 1.0}, "exhausts_at": null, "good": 99.0, "total": 100.0,
        "conditions": [{"name": hostile, "severity": "page", "long_window": hostile,
            "short_window": hostile, "long_burn_rate": 2.0, "short_burn_rate": 1.0,
            "threshold": 14.4, "met": false}],
        "change": hostile,
        "alarm": {"name": hostile, "arn": hostile, "state": hostile, "previous_state": hostile,
            "reason": hostile, "timestamp": end - 300},
        "notifications": [format!("{hostile}: opened"), hostile],
    });
    let mut refused = in_form.clone();
    refused["evaluated_at"] = at(4).into();
    refused["conditions"][0]["severity"] = hostile.into();
    refused["exhausts_at"] = hostile.into();
    for (m, item) in [(5, &in_form), (4, &refused)] {
        table
            .put_item()
            .table_name("report-test")
            .item("pk", S("SNAP#checkout-availability".into()))
            .item("sk", S(at(m)))
            .item("snapshot", S(item.to_string()))
            .send()
            .await?;
    }
    let file = dir.join("hostile.html");
    let out = sloguard(
        &moto,
        &[
            "report",
            "checkout-availability",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("checkout-availability: 1 stored snapshot refused"),
        "{}",
        text(&out)
    );
    let html = std::fs::read_to_string(&file)?;
    let doc = scraper::Html::parse_document(&html);
    let mut names = std::collections::BTreeSet::new();
    for e in doc.tree.values().filter_map(scraper::Node::as_element) {
        names.insert(e.name().to_string());
        for (a, _) in e.attrs() {
            assert!(
                !a.starts_with("on"),
                "an event handler on <{}>: {a}",
                e.name()
            );
        }
    }
    let written: std::collections::BTreeSet<String> = [
        "html", "head", "meta", "title", "style", "body", "h1", "p", "h2", "table", "thead",
        "tbody", "tr", "th", "td", "a", "section", "span", "b", "svg", "line", "text", "polyline",
        "path", "circle", "rect", "ul", "li",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    // only what the writer writes, and the alarm's and messages' marks among it
    assert!(names.is_subset(&written), "{names:?}");
    assert!(
        names.contains("path") && names.contains("circle"),
        "{names:?}"
    );
    // the hostile strings are there, as text (the alarm's, in its mark's title)
    let titles: Vec<String> = doc
        .select(&scraper::Selector::parse("path.alarm-mark > title").unwrap())
        .map(|t| t.text().collect())
        .collect();
    // (one mark in each of the two charts)
    assert_eq!(
        titles,
        vec![format!("alarm {hostile} {hostile} at {}", at(5)); 2]
    );
    assert!(doc
        .select(&scraper::Selector::parse(r#"meta[http-equiv="Content-Security-Policy"]"#).unwrap())
        .any(|m| m
            .value()
            .attr("content")
            .is_some_and(|c| c.starts_with("default-src 'none';"))));

    let out = sloguard(&moto, &["review"]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    let subject = printed.lines().next().unwrap_or_default();
    assert!(
        subject.starts_with("[INFO] sloguard review, last 28 days: 4 SLOs,"),
        "{printed}"
    );
    assert!(
        printed.contains("\ncheckout-availability\n  attainment 99.000% over the window"),
        "{printed}"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
