use super::*;

fn priced(fleet: &[SloDefinition], d: &Deployment) -> Estimate {
    let slos: Vec<FleetSlo> = fleet
        .iter()
        .map(|definition| FleetSlo {
            definition,
            sizes: None,
        })
        .collect();
    estimate(
        &slos,
        d,
        prices::for_region("us-east-1").unwrap(),
        README_HOUR,
    )
}

#[test]
fn a_ratio_slo_on_its_own_metrics_requests_what_the_plan_fetches() {
    let e = priced(&synthetic_fleet(1), &Deployment::default());
    // On stream caches, in steady state over a day: each stream's tail every cycle, the
    // 3d and 30d edges six hours at a time, and the daily full read: just over 2.
    let m = e.per_cycle.metrics_requested;
    assert!((2.0..=2.2).contains(&m), "{m} metrics per cycle");
    // Read whole every cycle: five queries per stream (hourly middle, 5-minute 30-day
    // edge, 1-minute tail, 6h and 3d edges), as the issue counted (9.5-9.8 per SLO).
    let whole = priced(
        &synthetic_fleet(1),
        &Deployment {
            reconcile_hours: 0,
            ..Deployment::default()
        },
    );
    let m = whole.per_cycle.metrics_requested;
    assert!((9.0..=10.0).contains(&m), "{m} metrics per cycle");
    // one snapshot put (under 1 KB) a cycle, the state (under 1 KB) updated once an hour
    assert_eq!(whole.per_cycle.dynamodb_write_requests, 1.0 + 1.0 / 12.0);
    // ... and on caches two stream items about once an hour more, a few KB each
    let w = e.per_cycle.dynamodb_write_units;
    assert!((1.1..=2.0).contains(&w), "{w} write units per cycle");
    assert!(e.per_cycle.dynamodb_write_requests > 1.0 + 2.0 / 12.0);
    // the dead man's switch of the one shard and the stack's failures; no per-SLO metrics
    assert_eq!(e.custom_metrics, 2);
    let all = priced(
        &synthetic_fleet(1),
        &Deployment {
            slo_metrics: crate::app::emf::SloMetrics::All,
            ..Deployment::default()
        },
    );
    // with SloMetrics=all: budget, attainment and 5 burn rates per SLO as well
    assert_eq!(all.custom_metrics, 2 + 7);
    let sum: f64 = e.terms.iter().map(|t| t.monthly_usd).sum();
    assert!((sum - e.total_usd).abs() < 1e-9);
}

#[tokio::test]
async fn the_simulated_reads_are_what_the_cycle_reads() {
    use crate::app::cycle::tests::{app_with, at, T};
    use std::sync::atomic::Ordering;
    let app = app_with(|t| if t % 7 == 0 { 2.0 } else { 0.0 }).await;
    let slo = crate::app::DefinitionStore::definitions(&app.store)
        .await
        .unwrap()
        .remove(0)
        .definition
        .unwrap();
    // A cold start, then a day and a half of 5-minute cycles (edges, the daily reconciliation).
    let times: Vec<i64> = (0..18 * 24).map(|k| T + 7 * 60 + k * 300).collect();
    let evals: Vec<EvalTime> = times.iter().map(|t| EvalTime { at: *t, now: *t }).collect();
    let simulated = reads::simulate(&[&slo], &evals, app.config.reconcile_seconds);
    let mut writes = 0;
    for (t, sim) in times.iter().zip(&simulated) {
        let report = at(&app, *t).await;
        let metrics = app.metrics.queries.swap(0, Ordering::Relaxed);
        assert_eq!(metrics, sim.metrics, "metrics at T+{}s", t - T);
        assert_eq!(report.metric_requests, sim.calls, "calls at T+{}s", t - T);
        writes += sim.cache_writes;
        assert_eq!(
            app.store.stream_writes(),
            writes,
            "cache writes at T+{}s",
            t - T
        );
    }
}

#[test]
fn per_slo_terms_grow_with_the_fleet_and_stack_terms_do_not() {
    let d = Deployment::default();
    let small = priced(&synthetic_fleet(10), &d);
    let big = priced(&synthetic_fleet(100), &d);
    let term = |e: &Estimate, name: &str| {
        e.terms
            .iter()
            .find(|t| t.item == name)
            .unwrap_or_else(|| panic!("{name}"))
            .monthly_usd
    };
    let gmd = term(&big, "CloudWatch GetMetricData") / term(&small, "CloudWatch GetMetricData");
    assert!((gmd - 10.0).abs() < 0.5, "GetMetricData x{gmd}");
    assert_eq!(term(&big, "KMS key"), term(&small, "KMS key"));
    assert_eq!(
        term(&big, "CloudWatch alarms"),
        TEMPLATE_ALARMS as f64 * 0.10
    );
    assert!(big.per_slo_usd() < small.per_slo_usd());
}

#[test]
fn a_longer_schedule_costs_less_per_month_and_the_same_per_cycle() {
    let fleet = synthetic_fleet(5);
    // Read whole, so only the snapshots and the state's update differ per cycle.
    let whole = Deployment {
        reconcile_hours: 0,
        ..Deployment::default()
    };
    let five = priced(&fleet, &whole);
    let fifteen = priced(
        &fleet,
        &Deployment {
            schedule_minutes: 15,
            ..whole.clone()
        },
    );
    assert_eq!(five.cycles_per_month, 3.0 * fifteen.cycles_per_month);
    assert!(fifteen.total_usd < five.total_usd);
    // the snapshots are the same per cycle; the state's hourly update is shared by 4 cycles, not 12
    let (w5, w15) = (
        five.per_cycle.dynamodb_write_units,
        fifteen.per_cycle.dynamodb_write_units,
    );
    assert!(
        (w15 - w5 - 5.0 * (1.0 / 4.0 - 1.0 / 12.0)).abs() < 1e-9,
        "{w5} {w15}"
    );
}

#[test]
fn measured_sizes_replace_the_estimate() {
    let fleet = synthetic_fleet(2);
    let sizes = ItemSizes {
        definition: 1000,
        state: 3000,
        snapshot: 1025,
    };
    let slos: Vec<FleetSlo> = fleet
        .iter()
        .map(|definition| FleetSlo {
            definition,
            sizes: Some(sizes),
        })
        .collect();
    let e = estimate(
        &slos,
        &Deployment {
            reconcile_hours: 0,
            ..Deployment::default()
        },
        prices::for_region("eu-west-1").unwrap(),
        README_HOUR,
    );
    // snapshot 1025 B = 2 units a cycle; state 3000 B = 3 units once an hour (12 cycles)
    assert_eq!(e.per_cycle.dynamodb_write_units, 2.0 * (2.0 + 3.0 / 12.0));
    // 2,000 B of definitions and 6,000 B of states, 1 unit per 4 KB each
    assert_eq!(e.per_cycle.dynamodb_read_units, 1.0 + 2.0);
    assert_eq!(e.region, "eu-west-1");
}

#[test]
fn a_synthetic_fleet_has_every_slo_asked_for() {
    let fleet = synthetic_fleet(250);
    assert_eq!(fleet.len(), 250);
    assert_eq!(fleet[249].name, "slo-00249");
}

#[test]
fn number_sizes_follow_dynamodb() {
    assert_eq!(number_size("1"), 2);
    assert_eq!(number_size("1795608000"), 5); // 1795608: 7 significant digits
    assert_eq!(number_size("0.999"), 3);
}

#[test]
fn estimated_sizes_are_those_of_real_json() {
    let fleet = synthetic_fleet(1);
    let t = cycle_times(README_HOUR, &Deployment::default())[0];
    let (snap, state) = representative(&[&fleet[0]], t).remove(0).unwrap();
    let s = estimated_sizes(&fleet[0], &snap, &state);
    let json = snap.to_stored();
    assert!(s.snapshot > json.len() && s.snapshot < json.len() + 80);
    assert!(s.snapshot <= 1024, "one write unit: {}", s.snapshot);
    assert!(
        s.state < 400,
        "the state item keeps what decisions need, no snapshot: {}",
        s.state
    );
    // plausible numbers, not tidy ones: the sizes are those of real evaluations
    assert!(snap.attainment.unwrap() < 1.0 && snap.attainment.unwrap() > 0.99);
}

#[test]
fn emf_metrics_are_counted_by_name_and_dimensions() {
    let line = |slo: &str| {
        format!(
            r#"{{"_aws":{{"CloudWatchMetrics":[{{"Namespace":"sloguard","Dimensions":[["SLO"]],"Metrics":[{{"Name":"A"}},{{"Name":"B"}}]}}]}},"SLO":"{slo}","A":1,"B":2}}"#
        )
    };
    let (a, b) = (line("x"), line("y"));
    let lines = [a.as_str(), b.as_str(), a.as_str()];
    assert_eq!(distinct_emf_metrics(lines).len(), 4);
}

#[test]
fn the_stack_terms_are_the_templates() {
    let template = include_str!("../../../../infra/template.yaml");
    let count = |ty: &str| {
        template
            .lines()
            .filter(|l| l.trim() == format!("Type: {ty}"))
            .count()
    };
    // the dead man's switches of shards 1-3 exist only with more shards
    assert_eq!(count("AWS::CloudWatch::Alarm"), TEMPLATE_ALARMS + 3);
    assert_eq!(count("AWS::CloudWatch::Dashboard"), TEMPLATE_DASHBOARDS);
    assert_eq!(count("AWS::KMS::Key"), TEMPLATE_KMS_KEYS);
    assert!(template.contains("MemorySize: 512"));
    assert!(template.contains("PointInTimeRecoveryEnabled: true"));
}

#[test]
fn readme_cost_table_is_the_models() {
    let readme = include_str!("../../../../README.md");
    let table = readme_table();
    assert!(
        readme.contains(&table),
        "README's cost table differs from the model: run `make cost-table` and paste this under \"What it costs\":\n{table}"
    );
}

#[test]
fn a_ratio_slo_costs_at_most_a_quarter_a_month_in_a_fleet_of_100() {
    for n in [100, 1000] {
        let e = priced(&synthetic_fleet(n), &Deployment::default());
        assert!(
            e.per_slo_usd() <= 0.25,
            "{n} SLOs: ${} per SLO",
            e.per_slo_usd()
        );
        assert!(e.per_slo(e.per_cycle.metrics_requested) <= 2.5);
        assert!(e.per_slo(e.per_cycle.dynamodb_write_units) <= 2.0);
        assert_eq!(e.custom_metrics, 2, "none per SLO");
    }
}
