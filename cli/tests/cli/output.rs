//! What every verb prints: help that shows only the flags a verb uses, counts in words,
//! the cost of a fleet, the deployments an SLO names.

use anyhow::Result;
use serde_json::Value;
use sloguard_testing::emulator::{self, Moto};

use super::{root, scratch, sloguard, text};

#[test]
fn every_verb_has_help_and_shows_only_the_flags_it_uses() {
    let top = sloguard(None, &["--help"]);
    assert!(top.status.success(), "{}", text(&top));
    let top = text(&top);
    assert!(
        !top.contains("--table") && !top.contains("--topic-arn"),
        "{top}"
    );
    // (verb, uses the table, notifies)
    let verbs = [
        ("init", true, false),
        ("validate", false, false),
        ("convert", false, false),
        ("apply", true, false),
        ("evaluate", true, true),
        ("backfill", true, false),
        ("silence", true, false),
        ("report", true, false),
        ("review", true, true),
        ("gate", true, false),
        ("correct", true, false),
        ("corrections", true, false),
        ("unsilence", true, false),
        ("status", true, false),
        ("cost", true, false),
        ("changes", true, false),
        ("history", true, false),
        ("incidents", true, false),
        ("incident", true, false),
    ];
    // Every verb sloguard lists is one of these (a new verb needs a line here; `demo` is
    // only in a build with the demo feature).
    let listed: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|v| *v != "help" && *v != "demo")
        .collect();
    assert_eq!(
        listed,
        verbs.iter().map(|v| v.0).collect::<Vec<_>>(),
        "{top}"
    );
    for (verb, table, topic) in verbs {
        let out = sloguard(None, &[verb, "--help"]);
        assert!(out.status.success(), "{verb} --help: {}", text(&out));
        let help = text(&out);
        assert_eq!(help.contains("--table"), table, "{verb}: {help}");
        assert_eq!(help.contains("--topic-arn"), topic, "{verb}: {help}");
        // Every argument and flag says what it is: no bare `<FILES>` or `--json` line.
        let lines: Vec<&str> = help.lines().collect();
        for (i, raw) in lines.iter().enumerate() {
            let line = raw.trim_start();
            if !(raw.starts_with("  ")
                && (line.starts_with('<') || line.starts_with('[') || line.starts_with('-')))
            {
                continue;
            }
            let described = line
                .split_once("  ")
                .is_some_and(|(_, d)| !d.trim().is_empty())
                || lines
                    .get(i + 1)
                    .is_some_and(|n| n.starts_with("          ") && !n.trim().is_empty());
            assert!(described, "{verb}: `{line}` has no help text:\n{help}");
        }
    }
    let out = sloguard(None, &["validate", "--table", "t", "examples/slos"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unexpected argument '--table'"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn counts_are_singular_or_plural_as_their_number_says() -> Result<()> {
    let one = "examples/slos/checkout-availability.yaml";
    let out = sloguard(None, &["validate", one]);
    assert!(
        text(&out).contains("1 file, 1 SLO: valid"),
        "{}",
        text(&out)
    );
    let dir = scratch("plurals");
    let good = std::fs::read_to_string(root().join(one))?;
    let (p1, p2) = (dir.join("one.yaml"), dir.join("two.yaml"));
    std::fs::write(&p1, good.replace("target: 0.999", "target: 99.9"))?;
    std::fs::write(
        &p2,
        good.replace("target: 0.999", "target: 99.9")
            .replace("stat: Sum", "stat: Total"),
    )?;
    let out = sloguard(None, &["validate", p1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).trim() == "1 problem",
        "{}",
        text(&out)
    );
    let out = sloguard(None, &["validate", p2.to_str().unwrap()]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "3 problems");

    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let out = sloguard(Some(&moto), &["apply", p1.to_str().unwrap()]);
    assert!(
        text(&out).contains("1 problem; nothing was applied"),
        "{}",
        text(&out)
    );
    assert!(sloguard(Some(&moto), &["apply", one]).status.success());
    let out = sloguard(Some(&moto), &["evaluate", "--lag", "0"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("evaluated 1 SLO at "), "{t}");
    assert!(
        t.contains("1 GetMetricData call)") || t.contains("GetMetricData calls)"),
        "{t}"
    );
    assert!(t.contains("0 notifications sent"), "{t}");
    assert!(!t.contains("(s)"), "{t}");

    let out = sloguard(None, &["cost", "--fleet", p1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("1 problem in the files; run `sloguard validate` first"),
        "{}",
        text(&out)
    );
    let out = sloguard(Some(&moto), &["cost"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("measured in the table for 1 of 1 SLO, estimated"),
        "{}",
        text(&out)
    );
    let out = sloguard(Some(&moto), &["gate"]);
    assert!(
        text(&out).contains("gate: pass (1 SLO meets the policy)"),
        "{}",
        text(&out)
    );
    for out in [&out, &sloguard(Some(&moto), &["status"])] {
        assert!(!text(out).contains("(s)"), "{}", text(out));
    }
    Ok(())
}

#[test]
fn cost_prices_a_hypothetical_fleet_without_a_table() -> Result<()> {
    let out = sloguard(None, &["cost", "--slos", "10", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let bill: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(bill["slos"], 10);
    // on stream caches (the tails, far edges twice a day, a daily full read): just over 2
    let metrics = bill["per_cycle"]["metrics_requested"].as_f64().unwrap() / 10.0;
    assert!((2.0..=2.5).contains(&metrics), "{metrics} metrics per SLO");
    assert!(bill["total_usd"].as_f64().unwrap() / 10.0 < 1.0);
    // every stream read whole every cycle: about 5 metrics per stream
    let out = sloguard(
        None,
        &["cost", "--slos", "10", "--json", "--reconcile-hours", "0"],
    );
    let whole: Value = serde_json::from_slice(&out.stdout)?;
    let metrics = whole["per_cycle"]["metrics_requested"].as_f64().unwrap() / 10.0;
    assert!((9.0..=10.0).contains(&metrics), "{metrics} metrics per SLO");
    let terms: f64 = bill["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["monthly_usd"].as_f64().unwrap())
        .sum();
    assert!((terms - bill["total_usd"].as_f64().unwrap()).abs() < 1e-9);
    let out = sloguard(
        None,
        &[
            "cost",
            "--fleet",
            "examples/slos",
            "--schedule-minutes",
            "15",
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("4 SLOs, a cycle every 15 minutes (2,920 cycles a month)"),
        "{t}"
    );
    assert!(t.contains("| CloudWatch GetMetricData |"), "{t}");
    let out = sloguard(None, &["cost", "--slos", "3", "--region", "mars-north-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("known: us-east-1"), "{}", text(&out));
    // The docs' cost table (docs/deploying.md, "What it costs") is the model's
    let out = sloguard(None, &["cost", "--readme-table"]);
    let page = std::fs::read_to_string(root().join("docs/deploying.md"))?;
    assert!(page.contains(String::from_utf8_lossy(&out.stdout).as_ref()));
    Ok(())
}

#[tokio::test]
async fn changes_lists_the_deployments_an_slo_names_newest_first() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let one = root().join("examples/slos/checkout-availability.yaml");
    assert!(sloguard(Some(&moto), &["apply", one.to_str().unwrap()])
        .status
        .success());
    let none = sloguard(Some(&moto), &["changes", "checkout-availability"]);
    assert!(none.status.success(), "{}", text(&none));
    assert!(
        text(&none)
            .contains("0 changes for checkout-availability (stack/shop-api, lambda/checkout-fn)"),
        "{}",
        text(&none)
    );
    // Record two deployments the way the alarm handler does.
    let sdk = moto.sdk_config("eu-west-1").await;
    let store = sloguard_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), "cli-test");
    let now = chrono::Utc::now().timestamp();
    let fixture = |name: &str, t: i64| -> Result<Value> {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(
            root().join("examples/events").join(name),
        )?)?;
        v["time"] = sloguard_core::slo::message::rfc3339(t).into();
        if v["detail"].get("eventTime").is_some() {
            v["detail"]["eventTime"] = sloguard_core::slo::message::rfc3339(t).into();
        }
        Ok(v)
    };
    for (name, t) in [
        ("change-cloudformation-update-complete.json", now - 1800),
        ("change-lambda-update-function-code.json", now - 600),
    ] {
        let out =
            sloguard_aws::events::record_change_event(&store, &fixture(name, t)?, 90, None).await?;
        assert!(out.recorded, "{out:?}");
    }
    let out = sloguard(Some(&moto), &["changes", "checkout-availability"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("2 changes for checkout-availability"), "{t}");
    let lambda = t.find("UpdateFunctionCode").expect("lambda row");
    let stack = t.find("UPDATE_COMPLETE").expect("stack row");
    assert!(lambda < stack, "newest first: {t}");
    assert!(t.contains("30 min ago  stack/shop-api"), "{t}");
    assert!(
        t.contains("https://eu-west-1.console.aws.amazon.com/lambda/home"),
        "{t}"
    );
    let json = sloguard(
        Some(&moto),
        &[
            "changes",
            "checkout-availability",
            "--since",
            "20m",
            "--json",
        ],
    );
    let v: Value = serde_json::from_slice(&json.stdout)?;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v[0]["target"], "lambda/checkout-fn");
    assert_eq!(v[0]["what"], "UpdateFunctionCode");
    let unknown = sloguard(Some(&moto), &["changes", "checkout-availabilty"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(text(&unknown).contains("did you mean checkout-availability?"));
    Ok(())
}
