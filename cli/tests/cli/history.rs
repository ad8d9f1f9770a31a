//! Reading and steering the record: silences, backfill, past evaluations, history by
//! period and as CSV, the gate's exit codes, the review digest.

use anyhow::Result;
use serde_json::Value;
use sloguard_testing::emulator::{self, Moto, Point};

use super::{root, sloguard, text};

#[tokio::test]
async fn silence_unsilence_backfill_and_a_past_evaluate() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    assert!(sloguard(Some(&moto), &["apply", "examples/slos"])
        .status
        .success());

    let out = sloguard(
        Some(&moto),
        &[
            "silence",
            "checkout-availability",
            "--for",
            "2h",
            "--reason",
            "deploying the fix",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("checkout-availability: silenced until"),
        "{}",
        text(&out)
    );
    let human = text(&sloguard(Some(&moto), &["status"]));
    assert!(human.contains("INCIDENT / SILENCE"), "{human}");
    assert!(human.contains("(deploying the fix)"), "{human}");
    let out = sloguard(Some(&moto), &["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let c = v
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["slo"] == "checkout-availability")
        .unwrap();
    assert_eq!(c["silence_reason"], "deploying the fix");
    assert!(c["silenced_until"].is_string());

    let out = sloguard(Some(&moto), &["unsilence", "checkout-availability"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sloguard(Some(&moto), &["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["silenced_until"].is_null()));

    let out = sloguard(
        Some(&moto),
        &["silence", "nope", "--for", "1h", "--reason", "x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no SLO named `nope`"), "{}", text(&out));
    let out = sloguard(Some(&moto), &["unsilence", "checkout-availabilty"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("did you mean checkout-availability?"),
        "{}",
        text(&out)
    );
    let out = sloguard(
        Some(&moto),
        &[
            "silence",
            "checkout-availability",
            "--for",
            "1M",
            "--reason",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--for"), "{}", text(&out));

    let now = chrono::Utc::now().timestamp();
    let hour = now - now % 3600;
    let (from, to) = (
        sloguard_core::slo::message::rfc3339(hour - 6 * 3600),
        sloguard_core::slo::message::rfc3339(hour - 3600),
    );
    for expected in [
        "5 evaluation times, 20 snapshots written, 0 already there",
        "5 evaluation times, 0 snapshots written, 20 already there",
    ] {
        let out = sloguard(
            Some(&moto),
            &["backfill", "--from", &from, "--to", &to, "--step", "1h"],
        );
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(expected), "{}", text(&out));
        assert!(text(&out).contains("nothing was sent"), "{}", text(&out));
    }
    let out = sloguard(
        Some(&moto),
        &[
            "backfill",
            "checkout-availabilty",
            "--from",
            &from,
            "--to",
            &to,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown name: {}",
        text(&out)
    );
    assert!(
        text(&out).contains(
            "no SLO named `checkout-availabilty` in the table; did you mean checkout-availability"
        ),
        "{}",
        text(&out)
    );

    let past = sloguard_core::slo::message::rfc3339(hour - 2 * 3600);
    let out = sloguard(Some(&moto), &["evaluate", "--at", &past]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("history is recorded and nothing is sent"),
        "{}",
        text(&out)
    );
    let future = sloguard_core::slo::message::rfc3339(now + 86_400);
    let out = sloguard(Some(&moto), &["evaluate", "--at", &future]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("ahead of the clock"), "{}", text(&out));
    Ok(())
}

#[tokio::test]
async fn history_names_unknown_slos_defaults_to_a_day_and_limits_rows() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let out = sloguard(Some(&moto), &["history", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("it holds no SLO yet"), "{}", text(&out));
    assert!(sloguard(Some(&moto), &["apply", "examples/slos"])
        .status
        .success());

    let out = sloguard(Some(&moto), &["history", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(
            "no SLO named `nope` in the table (4 SLOs stored; `sloguard status` lists them)"
        ),
        "{}",
        text(&out)
    );
    for (typed, meant) in [
        ("checkout", "checkout-availability"),
        ("chat-wait-tme", "chat-wait-time"),
    ] {
        let out = sloguard(Some(&moto), &["history", typed, "--json"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains(&format!("did you mean {meant}?")),
            "{}",
            text(&out)
        );
        assert!(out.stdout.is_empty(), "{}", text(&out));
    }

    // Five hourly snapshots, 6 to 2 hours ago.
    let now = chrono::Utc::now().timestamp();
    let hour = now - now % 3600;
    let (from, to) = (
        sloguard_core::slo::message::rfc3339(hour - 6 * 3600),
        sloguard_core::slo::message::rfc3339(hour - 3600),
    );
    let out = sloguard(
        Some(&moto),
        &[
            "backfill",
            "checkout-availability",
            "--from",
            &from,
            "--to",
            &to,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    let out = sloguard(Some(&moto), &["history", "checkout-availability", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let rows: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(rows.as_array().unwrap().len(), 5);
    let hint = String::from_utf8_lossy(&out.stderr);
    assert!(hint.contains("showing the last 24 hours (since "), "{hint}");
    assert!(hint.contains("--since TIME looks further back"), "{hint}");

    let out = sloguard(
        Some(&moto),
        &["history", "checkout-availability", "--limit", "2", "--json"],
    );
    let rows: Value = serde_json::from_slice(&out.stdout)?;
    let times: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["evaluated_at"].as_str().unwrap())
        .collect();
    let latest = |h: i64| sloguard_core::slo::message::rfc3339(hour - h * 3600);
    assert_eq!(times, [latest(3), latest(2)]);

    // An explicit range says nothing about defaults; an empty one says what it looked at.
    let out = sloguard(
        Some(&moto),
        &[
            "history",
            "checkout-availability",
            "--since",
            &to,
            "--limit",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out));
    assert!(
        text(&out).contains("no history for checkout-availability from"),
        "{}",
        text(&out)
    );
    let out = sloguard(
        Some(&moto),
        &["history", "checkout-availability", "--limit", "0"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // Ten days of snapshots, two a day: `--every 1d --limit 7` is the latest 7 days, the
    // limit counting periods (not the raw snapshots before they are aggregated).
    let day = 86_400;
    let (from, to) = (
        sloguard_core::slo::message::rfc3339(hour - 10 * day),
        sloguard_core::slo::message::rfc3339(hour - 6 * 3600),
    );
    let out = sloguard(
        Some(&moto),
        &[
            "backfill",
            "checkout-availability",
            "--from",
            &from,
            "--to",
            &to,
            "--step",
            "12h",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let latest_day = (hour - 2 * 3600) / day * day;
    let week: Vec<String> = (0..7)
        .rev()
        .map(|d| sloguard_core::slo::message::rfc3339(latest_day - d * day))
        .collect();
    for range in [&[][..], &["--since", &from][..]] {
        let mut args = vec![
            "history",
            "checkout-availability",
            "--every",
            "1d",
            "--limit",
            "7",
            "--json",
        ];
        args.extend_from_slice(range);
        let out = sloguard(Some(&moto), &args);
        assert!(out.status.success(), "{}", text(&out));
        let rows: Value = serde_json::from_slice(&out.stdout)?;
        let days: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["evaluated_at"].as_str().unwrap())
            .collect();
        assert_eq!(days, week, "{range:?}");
    }
    Ok(())
}

#[tokio::test]
async fn gate_exit_codes_and_history_by_period_and_as_csv() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let one = root().join("examples/slos/checkout-availability.yaml");
    assert!(sloguard(Some(&moto), &["apply", one.to_str().unwrap()])
        .status
        .success());
    let sdk = moto.sdk_config("eu-west-1").await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60;
    let point = |metric: &str, t: i64, v: f64| Point {
        namespace: "Shop".into(),
        metric: metric.into(),
        dimensions: vec![],
        timestamp: t,
        value: v,
    };
    let requests: Vec<Point> = (0..60)
        .map(|m| point("CheckoutRequests", end - 3600 + m * 60, 100.0))
        .collect();
    emulator::put_metrics(&cw, &requests).await?;
    let at = sloguard_core::slo::message::rfc3339(end);
    assert!(
        sloguard(Some(&moto), &["evaluate", "--at", &at, "--lag", "0"])
            .status
            .success()
    );

    // healthy: every policy passes
    let out = sloguard(
        Some(&moto),
        &["gate", "--min-budget", "25%", "--no-open-incident"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("gate: pass"), "{}", text(&out));

    // a burn: 10% errors in the last half hour; the budget of this one hour is gone
    let errors: Vec<Point> = (30..60)
        .map(|m| point("CheckoutErrors", end - 3600 + m * 60, 10.0))
        .collect();
    emulator::put_metrics(&cw, &errors).await?;
    let later = sloguard_core::slo::message::rfc3339(end + 60);
    assert!(
        sloguard(Some(&moto), &["evaluate", "--at", &later, "--lag", "0"])
            .status
            .success()
    );
    let low = sloguard(
        Some(&moto),
        &["gate", "checkout-availability", "--min-budget", "25%"],
    );
    assert_eq!(low.status.code(), Some(3), "{}", text(&low));
    assert!(
        text(&low).contains("is below the 25.0% required"),
        "{}",
        text(&low)
    );
    let open = sloguard(
        Some(&moto),
        &[
            "gate",
            "--service",
            "webshop",
            "--no-open-incident",
            "--json",
        ],
    );
    assert_eq!(open.status.code(), Some(3), "{}", text(&open));
    let v: Value = serde_json::from_slice(&open.stdout)?;
    assert_eq!(v[0]["pass"], false);
    assert_eq!(v[0]["incident"], "page");
    let unknown = sloguard(Some(&moto), &["gate", "checkout-availabilty"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("did you mean checkout-availability?"),
        "{}",
        text(&unknown)
    );
    assert!(!text(&unknown).contains("GATE"), "no table on errors");
    let bad = sloguard(Some(&moto), &["gate", "--min-budget", "lots"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("not a percentage"), "{}", text(&bad));

    // history: two snapshots, one row a day with --every 1d, CSV for spreadsheets
    let since = sloguard_core::slo::message::rfc3339(end - 7200);
    // the second evaluation was a minute ahead of the data: look that far
    let until = sloguard_core::slo::message::rfc3339(end + 120);
    let csv = sloguard(
        Some(&moto),
        &[
            "history",
            "checkout-availability",
            "--since",
            &since,
            "--until",
            &until,
            "--csv",
        ],
    );
    assert!(csv.status.success(), "{}", text(&csv));
    let body = String::from_utf8_lossy(&csv.stdout).to_string();
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines[0]
            .starts_with("evaluated_at,status,attainment,budget_remaining,good,total,burn_rate_5m"),
        "{body}"
    );
    assert_eq!(lines.len(), 3, "{body}");
    assert!(
        lines[2].contains(",exhausted,") || lines[2].contains(",breaching,"),
        "{body}"
    );
    let daily = sloguard(
        Some(&moto),
        &[
            "history",
            "checkout-availability",
            "--since",
            &since,
            "--until",
            &until,
            "--every",
            "1d",
            "--json",
        ],
    );
    let v: Value = serde_json::from_slice(&daily.stdout)?;
    let rows = v.as_array().unwrap();
    assert!(rows.len() == 1 || rows.len() == 2, "one row per day: {v}");
    assert_eq!(
        rows.last().unwrap()["status"],
        "exhausted",
        "the worst status of the day"
    );
    Ok(())
}

#[tokio::test]
async fn review_send_takes_the_topic_from_the_flag_or_says_it_needs_one() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    let out = sloguard(Some(&moto), &["init", "--create-topic", "review"]);
    assert!(out.status.success(), "{}", text(&out));
    let arn = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("export SLO_TOPIC_ARN="))
        .expect("the topic's ARN")
        .to_string();
    assert!(sloguard(Some(&moto), &["apply", "examples/slos"])
        .status
        .success());
    // The support team's topic, which examples/slos routes premium-first-response to: it
    // gets a digest of its own.
    assert!(
        sloguard(Some(&moto), &["init", "--create-topic", "support-pages"])
            .status
            .success()
    );
    let out = sloguard(Some(&moto), &["review", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--send needs a topic: set SLO_TOPIC_ARN or give --topic-arn"),
        "{}",
        text(&out)
    );
    let send = ["review", "--send", "--topic-arn", &arn];
    let out = sloguard(Some(&moto), &send);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "review digest sent"
    );
    let out = sloguard(Some(&moto), &send);
    assert!(
        text(&out).contains("this week's review digest was already sent"),
        "{}",
        text(&out)
    );
    Ok(())
}
