//! The `sloguard` binary against moto: the verbs, exit codes and the JSON contract.

use std::process::{Command, Output};

use anyhow::Result;
use serde_json::Value;
use sloguard_testing::emulator::{self, Moto, Point};

const BIN: &str = env!("CARGO_BIN_EXE_sloguard");

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn sloguard(moto: Option<&Moto>, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("SLO_TOPIC_ARN");
    match moto {
        Some(m) => c
            .envs(m.endpoint_env())
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("SLO_TABLE", "cli-test"),
        None => c.env_remove("SLO_TABLE"),
    };
    c.output().expect("sloguard runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn validate_lists_every_problem_with_file_and_line() -> Result<()> {
    let ok = sloguard(None, &["validate", "examples/slos"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("5 files, 4 SLOs: valid"),
        "{}",
        text(&ok)
    );
    let dir = std::env::temp_dir().join(format!("sloguard-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bad = dir.join("bad.yaml");
    let good = std::fs::read_to_string(root().join("examples/slos/checkout-availability.yaml"))?;
    std::fs::write(
        &bad,
        good.replace("target: 0.999", "target: 99.9")
            .replace("stat: Sum", "stat: Total"),
    )?;
    let out = sloguard(None, &["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    let lines: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with(bad.to_str().unwrap()))
        .collect();
    assert_eq!(lines.len(), 3, "{t}");
    assert!(
        t.contains(":42: spec.objectives[0].target: 99.9 is out of range"),
        "{t}"
    );
    assert!(t.contains(":28: spec.indicator.spec.ratioMetric.bad.metricSource.spec.stat: `Total` is not a CloudWatch statistic"), "{t}");
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
    // README's table is the model's
    let out = sloguard(None, &["cost", "--readme-table"]);
    let readme = std::fs::read_to_string(root().join("README.md"))?;
    assert!(readme.contains(String::from_utf8_lossy(&out.stdout).as_ref()));
    Ok(())
}

#[test]
fn clear_errors_without_a_table_or_an_endpoint() {
    let out = sloguard(None, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("SLO_TABLE: not set"), "{}", text(&out));
    let out = Command::new(BIN)
        .current_dir(root())
        .args(["status", "--table", "t"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIASLOGUARDTESTKEY1")
        .env("AWS_SECRET_ACCESS_KEY", "sloguard-test-secret-9f3a")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("SLOGUARD_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // even with debug logs, errors never echo credentials
    assert!(!text(&out).contains("sloguard-test-secret-9f3a"));
    assert!(!text(&out).contains("AKIASLOGUARDTESTKEY1"));
    assert!(
        text(&out).contains("cannot reach the endpoint http://127.0.0.1:9"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn init_apply_evaluate_status_history() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    let out = sloguard(Some(&moto), &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("table `cli-test` does not exist: run `sloguard init`"),
        "{}",
        text(&out)
    );

    for _ in 0..2 {
        let out = sloguard(Some(&moto), &["init", "--create-topic", "cli-topic"]);
        assert!(out.status.success(), "{}", text(&out));
    }
    assert!(text(&sloguard(Some(&moto), &["init"])).contains("table cli-test: exists"));

    let dry = sloguard(Some(&moto), &["apply", "examples/slos", "--dry-run"]);
    assert!(
        text(&dry).contains("checkout-availability: would be created"),
        "{}",
        text(&dry)
    );
    let status = sloguard(Some(&moto), &["status"]);
    assert!(text(&status).contains("no SLOs in the table yet"));
    let applied = sloguard(Some(&moto), &["apply", "examples/slos"]);
    assert!(text(&applied).contains("checkout-availability: created"));
    assert!(text(&sloguard(Some(&moto), &["apply", "examples/slos"]))
        .contains("checkout-availability: unchanged"));

    // an hour of checkout traffic with 1% errors
    let sdk = moto.sdk_config("eu-west-1").await;
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60;
    let mut pts = Vec::new();
    for m in 0..60 {
        let t = end - 3600 + m * 60;
        pts.push(Point {
            namespace: "Shop".into(),
            metric: "CheckoutRequests".into(),
            dimensions: vec![],
            timestamp: t,
            value: 100.0,
        });
        pts.push(Point {
            namespace: "Shop".into(),
            metric: "CheckoutErrors".into(),
            dimensions: vec![],
            timestamp: t,
            value: 1.0,
        });
    }
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &pts).await?;

    let at = sloguard::slo::message::rfc3339(end);
    let out = sloguard(
        Some(&moto),
        &["evaluate", "--at", &at, "--lag", "0", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["evaluated"], 4);

    // the bill of the applied fleet, with the item sizes the table really holds
    let out = sloguard(Some(&moto), &["cost"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("item sizes: measured in the table for 4 of 4 SLOs"),
        "{}",
        text(&out)
    );
    let out = sloguard(
        Some(&moto),
        &[
            "cost",
            "--json",
            "--region",
            "eu-west-1",
            "--reconcile-hours",
            "0",
        ],
    );
    let bill: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(bill["slos"], 4);
    assert_eq!(bill["region"], "eu-west-1");
    // read whole: per SLO a snapshot each cycle and the state once an hour (12 cycles)
    let writes = |bill: &Value| {
        bill["per_cycle"]["dynamodb_write_requests"]
            .as_f64()
            .unwrap()
    };
    assert!(
        (writes(&bill) - 4.0 * (1.0 + 1.0 / 12.0)).abs() < 1e-9,
        "{}",
        writes(&bill)
    );
    // on stream caches (the deployed default): the caches of the Occurrences SLOs too
    let out = sloguard(Some(&moto), &["cost", "--json"]);
    let cached: Value = serde_json::from_slice(&out.stdout)?;
    assert!(writes(&cached) > writes(&bill), "{}", writes(&cached));
    assert!(
        cached["per_cycle"]["metrics_requested"].as_f64().unwrap()
            < bill["per_cycle"]["metrics_requested"].as_f64().unwrap()
    );

    let out = sloguard(Some(&moto), &["status", "--json"]);
    let status: Value = serde_json::from_slice(&out.stdout)?;
    let arr = status.as_array().unwrap();
    assert_eq!(arr.len(), 4);
    for o in arr {
        for key in [
            "slo",
            "service",
            "objective",
            "window",
            "evaluated_at",
            "status",
            "attainment",
            "budget_remaining",
            "burn_rates",
            "exhausts_at",
        ] {
            assert!(o.get(key).is_some(), "{key} missing in {o}");
        }
    }
    let checkout = arr
        .iter()
        .find(|o| o["slo"] == "checkout-availability")
        .unwrap();
    assert_eq!(checkout["status"], "exhausted");
    assert_eq!(checkout["window"], "30d");
    assert_eq!(checkout["objective"], 0.999);
    assert_eq!(checkout["evaluated_at"], at.as_str());
    assert!((checkout["attainment"].as_f64().unwrap() - 0.99).abs() < 1e-12);
    assert!((checkout["burn_rates"]["1h"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    let help = arr
        .iter()
        .find(|o| o["slo"] == "help-center-monthly")
        .unwrap();
    assert_eq!(help["status"], "no_data");
    assert_eq!(help["window"], "calendar month");
    assert!(help["attainment"].is_null());

    let human = text(&sloguard(Some(&moto), &["status"]));
    assert!(human.starts_with("SLO "), "{human}");
    assert!(human.contains("checkout-availability") && human.contains("exhausted"));
    // Counts with thousands separators, objectives as written, rates as multiples.
    assert!(human.contains("5,940 of 6,000 events"), "{human}");
    assert!(human.contains("99.9% over 30d"), "{human}");
    assert!(human.contains("1h 10.0x"), "{human}");
    // The conditions of the SLO that is not ok, under a header, in words.
    let conditions = human
        .split("BURN-RATE CONDITIONS of the SLOs that are not ok\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no conditions table: {human}"));
    let mut lines = conditions.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        [
            "SLO",
            "CONDITION",
            "SEVERITY",
            "BURN RATE (LONG, SHORT WINDOW)",
            "FIRES WHEN",
            "NOW"
        ]
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "{conditions}");
    assert!(
        rows.iter().all(|r| r.starts_with("checkout-availability ")),
        "{conditions}"
    );
    assert!(rows[0].contains("burn > 14.4x in both"), "{conditions}");
    assert!(rows[0].contains("10.0x over 1h"), "{conditions}");
    assert!(!human.contains(" gt "), "{human}");

    // --watch refreshes; off a terminal each refresh follows the last.
    let started = std::time::Instant::now();
    let out = sloguard(
        Some(&moto),
        &["status", "--watch", "1", "--iterations", "2"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let watched = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        watched.matches("== sloguard status at ").count(),
        2,
        "{watched}"
    );
    let tables = watched
        .lines()
        .filter(|l| l.starts_with("SLO ") && l.contains(" STATUS "));
    assert_eq!(tables.count(), 2, "{watched}");
    assert!(
        !watched.contains('\x1b'),
        "no screen control off a terminal: {watched}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let out = sloguard(
        Some(&moto),
        &["status", "--json", "--watch", "1", "--iterations", "2"],
    );
    let docs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].as_array().unwrap().len(), 4);
    let out = sloguard(Some(&moto), &["status", "--iterations", "2"]);
    assert_eq!(out.status.code(), Some(2), "--iterations needs --watch");

    let out = sloguard(Some(&moto), &["history", "checkout-availability", "--json"]);
    let hist: Value = serde_json::from_slice(&out.stdout)?;
    let h = hist.as_array().unwrap();
    assert_eq!(h.len(), 1);
    for key in [
        "evaluated_at",
        "status",
        "attainment",
        "budget_remaining",
        "burn_rates",
    ] {
        assert!(h[0].get(key).is_some(), "{key}");
    }
    assert_eq!(h[0]["change"], "new -> exhausted");
    Ok(())
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sloguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn folders_are_read_whole_and_an_empty_one_is_an_error() -> Result<()> {
    let dir = scratch("tree");
    let nested = dir.join("team-a").join("shop");
    std::fs::create_dir_all(&nested)?;
    std::fs::create_dir_all(dir.join(".git"))?;
    for (src, dst) in [
        ("checkout-availability.yaml", nested.join("checkout.yaml")),
        ("chat-wait-time.yaml", dir.join("chat.yml")),
        (
            "premium-support.yaml",
            dir.join(".git").join("ignored.yaml"),
        ),
    ] {
        std::fs::copy(root().join("examples/slos").join(src), dst)?;
    }
    std::fs::write(dir.join("notes.txt"), "not yaml")?;
    let out = sloguard(None, &["validate", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 files, 2 SLOs: valid"),
        "{}",
        text(&out)
    );

    let empty = scratch("empty");
    let out = sloguard(None, &["validate", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no .yaml or .yml files"),
        "{}",
        text(&out)
    );

    // YAML that holds no SLO document at all is not "valid" either.
    std::fs::write(
        empty.join("service.yaml"),
        "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: shop\nspec: {}\n",
    )?;
    let out = sloguard(None, &["validate", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("none defines an SLO"), "{}", text(&out));
    Ok(())
}

#[tokio::test]
async fn prune_never_wipes_a_fleet_by_mistake() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    // Six SLOs: the examples (four) plus two copies under other names.
    let fleet = scratch("fleet");
    for f in std::fs::read_dir(root().join("examples/slos"))? {
        let f = f?.path();
        std::fs::copy(&f, fleet.join(f.file_name().unwrap()))?;
    }
    let extra = std::fs::read_to_string(root().join("examples/slos/checkout-availability.yaml"))?;
    for n in ["a", "b"] {
        std::fs::write(
            fleet.join(format!("extra-{n}.yaml")),
            extra.replace(
                "name: checkout-availability",
                &format!("name: checkout-{n}"),
            ),
        )?;
    }
    let out = sloguard(Some(&moto), &["apply", fleet.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let stored = || -> Result<usize> {
        let out = sloguard(Some(&moto), &["status", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout)?;
        Ok(v.as_array().unwrap().len())
    };
    assert_eq!(stored()?, 6);

    // An empty folder and a folder with no SLO store and delete nothing.
    let empty = scratch("prune-empty");
    let out = sloguard(Some(&moto), &["apply", empty.to_str().unwrap(), "--prune"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    std::fs::write(
        empty.join("svc.yaml"),
        "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: shop\nspec: {}\n",
    )?;
    let out = sloguard(
        Some(&moto),
        &["apply", empty.to_str().unwrap(), "--prune", "--yes"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("define no SLO"), "{}", text(&out));
    assert_eq!(stored()?, 6);

    // One file left: pruning five needs --yes; the dry run lists them and says so.
    let one = root().join("examples/slos/checkout-availability.yaml");
    let out = sloguard(
        Some(&moto),
        &["apply", one.to_str().unwrap(), "--prune", "--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        text(&out).matches("would be deleted").count(),
        5,
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("will need --yes"), "{}", text(&out));
    let out = sloguard(Some(&moto), &["apply", one.to_str().unwrap(), "--prune"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--prune would delete 5 of the 6 stored SLOs"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("checkout-a, checkout-b"),
        "{}",
        text(&out)
    );
    assert_eq!(stored()?, 6);

    // A small prune (two) goes through on its own.
    std::fs::remove_file(fleet.join("extra-a.yaml"))?;
    std::fs::remove_file(fleet.join("extra-b.yaml"))?;
    let out = sloguard(Some(&moto), &["apply", fleet.to_str().unwrap(), "--prune"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(text(&out).matches(": deleted").count(), 2, "{}", text(&out));
    assert_eq!(stored()?, 4);

    // Deleting every stored SLO needs --yes, even when it is few.
    let other = scratch("other");
    std::fs::write(
        other.join("x.yaml"),
        extra.replace("name: checkout-availability", "name: brand-new"),
    )?;
    let out = sloguard(Some(&moto), &["apply", other.to_str().unwrap(), "--prune"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(stored()?, 4);
    let out = sloguard(
        Some(&moto),
        &["apply", other.to_str().unwrap(), "--prune", "--yes"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stored()?, 1);
    Ok(())
}

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
        sloguard::slo::message::rfc3339(hour - 6 * 3600),
        sloguard::slo::message::rfc3339(hour - 3600),
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

    let past = sloguard::slo::message::rfc3339(hour - 2 * 3600);
    let out = sloguard(Some(&moto), &["evaluate", "--at", &past]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("history is recorded and nothing is sent"),
        "{}",
        text(&out)
    );
    let future = sloguard::slo::message::rfc3339(now + 86_400);
    let out = sloguard(Some(&moto), &["evaluate", "--at", &future]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("ahead of the clock"), "{}", text(&out));
    Ok(())
}

/// `sloguard ARGS` with a region and no credentials anywhere the SDK looks.
fn without_credentials(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(root())
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE");
    c
}

#[test]
fn missing_credentials_are_named_as_such_without_a_dump() {
    let run = |verbose: bool| {
        let mut c = without_credentials(&["status", "--table", "t"]);
        if verbose {
            c.arg("-v");
        }
        c.output().unwrap()
    };
    let out = run(false);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("no usable AWS credentials (missing or expired)"),
        "{t}"
    );
    assert!(t.contains("run with -v"), "{t}");
    assert!(t.len() < 600, "no SDK dump without -v: {t}");
    let t = text(&run(true));
    assert!(t.contains("no usable AWS credentials"), "{t}");
    assert!(t.len() > 600, "the SDK's details with -v: {t}");
}

#[test]
fn gate_names_missing_credentials_exits_2_and_honours_verbose() {
    let run = |extra: &[&str]| {
        let mut args = vec!["gate", "--table", "t", "--min-budget", "25%"];
        args.extend_from_slice(extra);
        without_credentials(&args).output().unwrap()
    };
    let out = run(&[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "an error, not a verdict: {t}");
    assert!(
        t.contains("no usable AWS credentials (missing or expired)"),
        "{t}"
    );
    assert!(t.contains("set AWS_PROFILE"), "{t}");
    assert!(t.contains("run with -v"), "{t}");
    assert!(!t.contains("GATE"), "no table on errors: {t}");
    assert!(t.len() < 600, "no SDK dump without -v: {t}");
    let out = run(&["-v"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("no usable AWS credentials"), "{t}");
    assert!(!t.contains("run with -v"), "{t}");
    assert!(t.len() > 600, "the SDK's details with -v: {t}");
}

#[test]
fn without_a_region_one_clear_line_and_no_sdk_noise_or_colour() {
    // No region anywhere, stderr piped, NO_COLOR unset and then empty (which counts as unset).
    for no_color in [None, Some("")] {
        let mut c = Command::new(BIN);
        c.current_dir(root())
            .args(["status", "--table", "t"])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_PROFILE")
            .env_remove("SLOGUARD_LOG")
            .env_remove("RUST_LOG");
        match no_color {
            Some(v) => c.env("NO_COLOR", v),
            None => c.env_remove("NO_COLOR"),
        };
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("no AWS region: set AWS_REGION (e.g. export AWS_REGION=eu-west-1)"),
            "{err}"
        );
        assert!(!err.contains("WARN"), "the SDK's warnings are quiet: {err}");
        assert!(!err.contains('\x1b'), "no colour when piped: {err:?}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn advice_names_the_region_the_sdk_resolved_from_a_profile() {
    let dir = scratch("profile-region");
    let config = dir.join("config");
    std::fs::write(&config, "[default]\nregion = ap-southeast-2\n").unwrap();
    let out = Command::new(BIN)
        .current_dir(root())
        .args(["status", "--table", "t"])
        // DynamoDB alone points at a closed port, so the advice names AWS in the region.
        .env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot reach AWS in region ap-southeast-2"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn applying_every_example_again_changes_nothing() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    // Every example, the OpenSLO corpus, and one file of two SLOs (Occurrences and
    // Timeslices, targetPercent).
    let args = [
        "apply",
        "examples/slos",
        "examples/application-signals",
        "shared/testdata/openslo",
        "testing/fixtures/two-slos.yaml",
    ];
    let first = sloguard(Some(&moto), &args);
    assert!(first.status.success(), "{}", text(&first));
    let created = text(&first).matches(": created").count();
    assert_eq!(created, 21, "{}", text(&first));
    let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
    for again in [&dry[..], &args[..], &args[..]] {
        let out = sloguard(Some(&moto), again);
        assert!(out.status.success(), "{}", text(&out));
        let t = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(t.lines().count(), created, "{t}");
        assert!(t.lines().all(|l| l.ends_with(": unchanged")), "{t}");
    }
    Ok(())
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
        ("apply", true, false),
        ("evaluate", true, true),
        ("backfill", true, false),
        ("silence", true, false),
        ("report", true, false),
        ("review", true, true),
        ("gate", true, false),
        ("unsilence", true, false),
        ("status", true, false),
        ("cost", true, false),
        ("changes", true, false),
        ("history", true, false),
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
        sloguard::slo::message::rfc3339(hour - 6 * 3600),
        sloguard::slo::message::rfc3339(hour - 3600),
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
    let latest = |h: i64| sloguard::slo::message::rfc3339(hour - h * 3600);
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
        sloguard::slo::message::rfc3339(hour - 10 * day),
        sloguard::slo::message::rfc3339(hour - 6 * 3600),
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
        .map(|d| sloguard::slo::message::rfc3339(latest_day - d * day))
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

#[test]
fn a_timeout_names_the_setting_to_raise() {
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            held.push(conn);
        }
    });
    let run = |vars: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.current_dir(root())
            .args(["status", "--table", "t"])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("SLO_AWS_CONNECT_TIMEOUT_SECONDS")
            .env_remove("SLO_AWS_ATTEMPT_TIMEOUT_SECONDS");
        for (k, v) in vars {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let started = std::time::Instant::now();
    let out = run(&[("SLO_AWS_ATTEMPT_TIMEOUT_SECONDS", "1")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "no answer from the endpoint {endpoint} within 1 s (SLO_AWS_ATTEMPT_TIMEOUT_SECONDS)"
        )),
        "{t}"
    );
    assert!(
        t.contains("export SLO_AWS_ATTEMPT_TIMEOUT_SECONDS=3"),
        "{t}"
    );
    assert!(t.len() < 600, "no SDK dump without -v: {t}");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());

    let out = run(&[("SLO_AWS_CONNECT_TIMEOUT_SECONDS", "soon")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out)
            .contains("SLO_AWS_CONNECT_TIMEOUT_SECONDS: `soon` is not a whole number from 1 to 60"),
        "{}",
        text(&out)
    );
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
    let at = sloguard::slo::message::rfc3339(end);
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
    let later = sloguard::slo::message::rfc3339(end + 60);
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
    let since = sloguard::slo::message::rfc3339(end - 7200);
    // the second evaluation was a minute ahead of the data: look that far
    let until = sloguard::slo::message::rfc3339(end + 120);
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
    let store = sloguard::aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), "cli-test");
    let now = chrono::Utc::now().timestamp();
    let fixture = |name: &str, t: i64| -> Result<Value> {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(
            root().join("examples/events").join(name),
        )?)?;
        v["time"] = sloguard::slo::message::rfc3339(t).into();
        if v["detail"].get("eventTime").is_some() {
            v["detail"]["eventTime"] = sloguard::slo::message::rfc3339(t).into();
        }
        Ok(v)
    };
    for (name, t) in [
        ("change-cloudformation-update-complete.json", now - 1800),
        ("change-lambda-update-function-code.json", now - 600),
    ] {
        let out = sloguard::app::changes::record_change_event(&store, &fixture(name, t)?, 90, None)
            .await?;
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

#[test]
fn validate_accepts_the_openslo_corpus_and_prints_warnings_without_failing() -> Result<()> {
    let out = sloguard(None, &["validate", "shared/testdata/openslo"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("12 files, 13 SLOs: valid"),
        "{}",
        text(&out)
    );
    let warned = sloguard(
        None,
        &["validate", "shared/testdata/load/ratio-warnings.yaml"],
    );
    assert!(warned.status.success(), "{}", text(&warned));
    let t = text(&warned);
    assert!(
        t.contains(
            "ratio-warnings.yaml:29: spec.objectives[0].op: warning: has no effect on a ratio"
        ),
        "{t}"
    );
    assert!(t.contains("1 file, 1 SLO: valid"), "{t}");
    Ok(())
}

#[tokio::test]
async fn an_slo_with_two_objectives_shows_each_and_its_worst() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let applied = sloguard(
        Some(&moto),
        &["apply", "shared/testdata/openslo/two-objectives.yaml"],
    );
    let t = text(&applied);
    assert!(t.contains("checkout-latency-under-300-ms: created"), "{t}");
    assert!(t.contains("checkout-latency-under-1-s: created"), "{t}");

    // Two hours of latency: 200 ms, then an hour at 500 ms (slow for the first objective only).
    let sdk = moto.sdk_config("eu-west-1").await;
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60;
    let pts: Vec<Point> = (0..120)
        .map(|m| Point {
            namespace: "Shop".into(),
            metric: "Latency".into(),
            dimensions: vec![("Endpoint".into(), "checkout".into())],
            timestamp: end - 7200 + m * 60,
            value: if m < 60 { 200.0 } else { 500.0 },
        })
        .collect();
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &pts).await?;
    let at = sloguard::slo::message::rfc3339(end);
    let out = sloguard(Some(&moto), &["evaluate", "--at", &at, "--lag", "0"]);
    assert!(out.status.success(), "{}", text(&out));

    let out = sloguard(Some(&moto), &["status", "--json"]);
    let rows: Value = serde_json::from_slice(&out.stdout)?;
    let status_of = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["slo"] == name)
            .unwrap_or_else(|| panic!("{name} in {rows}"))
            .clone()
    };
    let fast = status_of("checkout-latency-under-300-ms");
    let slow = status_of("checkout-latency-under-1-s");
    assert_eq!(fast["status"], "breaching", "{fast}");
    assert_eq!(slow["status"], "ok", "{slow}");
    assert_eq!(fast["objective_of"], "checkout-latency");
    assert_eq!(
        (fast["objective"].as_f64(), slow["objective"].as_f64()),
        (Some(0.9), Some(0.99))
    );

    let human = text(&sloguard(Some(&moto), &["status"]));
    let group = human
        .lines()
        .find(|l| l.starts_with("checkout-latency "))
        .unwrap_or_else(|| panic!("no group row in\n{human}"));
    assert!(group.contains("breaching"), "{group}");
    assert!(group.contains("worst of 2 objectives"), "{group}");
    Ok(())
}
