//! The fleet's life on a table: init, apply (and prune), evaluate, status and history as
//! the JSON contract says; applying again changes nothing.

use anyhow::Result;
use serde_json::Value;
use sloguard_testing::emulator::{self, Moto, Point};

use super::{root, scratch, sloguard, sloguard_with, text};

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

    let at = sloguard_core::slo::message::rfc3339(end);
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
    // read whole: per SLO a snapshot each cycle and the state once an hour (12 cycles),
    // and the cycle's record (written, marked dispatched, marked done by its one shard)
    let writes = |bill: &Value| {
        bill["per_cycle"]["dynamodb_write_requests"]
            .as_f64()
            .unwrap()
    };
    assert!(
        (writes(&bill) - 4.0 * (1.0 + 1.0 / 12.0) - 3.0).abs() < 1e-9,
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

    // One file left: pruning the four other unowned SLOs needs --yes (premium-support is
    // the support team's: an unowned apply never prunes it); the dry run lists them.
    let one = root().join("examples/slos/checkout-availability.yaml");
    let out = sloguard(
        Some(&moto),
        &["apply", one.to_str().unwrap(), "--prune", "--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        text(&out).matches("would be deleted").count(),
        4,
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("will need --yes"), "{}", text(&out));
    let out = sloguard(Some(&moto), &["apply", one.to_str().unwrap(), "--prune"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--prune would delete 4 of the 5 stored SLOs without an owner"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("checkout-a: would be deleted\ncheckout-b: would be deleted"),
        "{}",
        text(&out)
    );
    assert_eq!(stored()?, 6);

    // Any prune that deletes, even one, needs --yes: it lists what it would delete.
    std::fs::remove_file(fleet.join("extra-a.yaml"))?;
    std::fs::remove_file(fleet.join("extra-b.yaml"))?;
    let out = sloguard(Some(&moto), &["apply", fleet.to_str().unwrap(), "--prune"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        text(&out).matches(": would be deleted").count(),
        2,
        "{}",
        text(&out)
    );
    assert_eq!(stored()?, 6);
    let out = sloguard(
        Some(&moto),
        &["apply", fleet.to_str().unwrap(), "--prune", "--yes"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(text(&out).matches(": deleted").count(), 2, "{}", text(&out));
    assert_eq!(stored()?, 4);

    // Deleting every stored SLO of the files' owner needs --yes, even when it is few; the
    // support team's SLO stays.
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
    assert_eq!(stored()?, 2);
    Ok(())
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
        "shared/core/testdata/openslo",
        "testing/fixtures/two-slos.yaml",
    ];
    let first = sloguard(Some(&moto), &args);
    assert!(first.status.success(), "{}", text(&first));
    let created = text(&first).matches(": created").count();
    assert_eq!(created, 23, "{}", text(&first));
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
async fn an_slo_with_two_objectives_shows_each_and_its_worst() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let applied = sloguard(
        Some(&moto),
        &["apply", "shared/core/testdata/openslo/two-objectives.yaml"],
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
    let at = sloguard_core::slo::message::rfc3339(end);
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

/// Issue 22.2: where the stack's SLO_ALLOWED_TOPICS is known, validate warns of a
/// notification topic outside it and apply refuses it, storing nothing.
#[tokio::test]
async fn apply_refuses_a_notification_topic_outside_the_allowed_topics() -> Result<()> {
    let other = [(
        "SLO_ALLOWED_TOPICS",
        "arn:aws:sns:eu-west-1:123456789012:team-*",
    )];
    let out = sloguard_with(None, &["validate", "examples/slos"], &other);
    assert!(out.status.success(), "a warning only: {}", text(&out));
    assert!(
        text(&out).contains("examples/slos/premium-support.yaml:")
            && text(&out).contains("spec.alertPolicies: warning: SLO `premium-first-response` routes to arn:aws:sns:eu-west-1:123456789012:support-pages, outside"),
        "{}",
        text(&out)
    );
    let out = sloguard_with(None, &["validate", "examples/slos"], &[]);
    assert!(
        !text(&out).contains("warning"),
        "unknown scope: no check: {}",
        text(&out)
    );

    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let out = sloguard_with(Some(&moto), &["apply", "examples/slos"], &other);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("nothing was applied"), "{}", text(&out));
    assert!(text(&sloguard(Some(&moto), &["status"])).contains("no SLOs in the table yet"));
    let support = [(
        "SLO_ALLOWED_TOPICS",
        "arn:aws:sns:eu-west-1:123456789012:support-*",
    )];
    let out = sloguard_with(Some(&moto), &["apply", "examples/slos"], &support);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("premium-first-response: created"),
        "{}",
        text(&out)
    );
    Ok(())
}
