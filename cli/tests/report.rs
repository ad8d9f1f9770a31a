//! `sloguard report` and `sloguard review` as a user runs them, against moto: the HTML
//! file with one burn-down per SLO, a mistyped name, and the review's subject.

use std::process::{Command, Output};

use anyhow::Result;
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
        let at = sloguard::slo::message::rfc3339(end - minutes_ago * 60);
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
