use super::*;
use crate::slo::incremental::StreamCache;
use crate::slo::model::SloDefinition;
use crate::slo::snapshot::Snapshot;
use crate::slo::status::SloState;

/// Items sized as their JSON plus the bytes of their keys and attribute names: a stand-in
/// for the store's layout (`sloguard_aws::cost` has the real one and tests it).
pub(crate) struct JsonItems;

impl ItemLayout for JsonItems {
    fn sizes(&self, slo: &SloDefinition, snapshot: &Snapshot, state: &SloState) -> ItemSizes {
        let json = |v: String| v.len();
        ItemSizes {
            definition: 80 + json(slo.to_stored()),
            state: 40 + json(serde_json::to_string(state).unwrap()),
            snapshot: 60 + json(snapshot.to_stored()),
        }
    }

    fn cache_size(&self, cache: &StreamCache) -> usize {
        80 + cache.encode().len()
    }
}

/// One health metric a cycle (and the dispatcher's one), one per SLO with per-SLO metrics
/// on, 300 bytes a line: a stand-in for the EMF (`app::emf::EmfLog` is the real one and
/// tests it).
struct HealthLog;

impl CycleLog for HealthLog {
    fn measure(&self, snapshots: &[Snapshot], m: SloMetrics, _: i64) -> LogFigures {
        let per_slo = if m == SloMetrics::None {
            0
        } else {
            snapshots.len()
        };
        LogFigures {
            custom_metrics: 1 + per_slo,
            bytes: 300 * (1 + per_slo),
        }
    }

    fn dispatch(&self, _: i64) -> LogFigures {
        LogFigures {
            custom_metrics: 1,
            bytes: 300,
        }
    }
}

const LAYOUT: Layout = Layout {
    items: &JsonItems,
    log: &HealthLog,
};

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
        LAYOUT,
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
    // one snapshot put (under 1 KB) a cycle, the state (under 1 KB) updated once an hour,
    // and the cycle's record: written and marked dispatched by the dispatcher, marked done
    // by the one shard
    assert_eq!(
        whole.per_cycle.dynamodb_write_requests,
        1.0 + 1.0 / 12.0 + 3.0
    );
    // ... and on caches two stream items about once an hour more, a few KB each
    let w = e.per_cycle.dynamodb_write_units;
    // (besides the cycle record: written, marked dispatched, marked done by its shard)
    let w = w - 3.0;
    assert!((1.1..=2.0).contains(&w), "{w} write units per cycle");
    assert!(e.per_cycle.dynamodb_write_requests > 1.0 + 2.0 / 12.0);
    // the log's custom metrics are billed as the log counts them, per-SLO ones when asked
    assert_eq!(e.custom_metrics, 2);
    let all = priced(
        &synthetic_fleet(1),
        &Deployment {
            slo_metrics: SloMetrics::All,
            ..Deployment::default()
        },
    );
    assert_eq!(all.custom_metrics, 3);
    assert!(all.total_usd > e.total_usd);
    let sum: f64 = e.terms.iter().map(|t| t.monthly_usd).sum();
    assert!((sum - e.total_usd).abs() < 1e-9);
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
        LAYOUT,
    );
    // snapshot 1025 B = 2 units a cycle; state 3000 B = 3 units once an hour (12 cycles);
    // the cycle record (under 1 KB) written three times
    assert_eq!(
        e.per_cycle.dynamodb_write_units,
        2.0 * (2.0 + 3.0 / 12.0) + 3.0
    );
    // 2,000 B of definitions and 6,000 B of states, 1 unit per 4 KB each, in one shard;
    // the shard's cycle record and the newest one (a unit each); the dispatcher's fleet
    // version and newest records (a unit each)
    assert_eq!(e.per_cycle.dynamodb_read_units, 1.0 + 2.0 + 2.0 + 2.0);
    assert_eq!(e.per_cycle.fanout_read_units, 4.0);
    assert_eq!(e.region, "eu-west-1");
}

#[test]
fn a_synthetic_fleet_has_every_slo_asked_for() {
    let fleet = synthetic_fleet(250);
    assert_eq!(fleet.len(), 250);
    assert_eq!(fleet[249].name, "slo-00249");
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
    assert_eq!(count("AWS::CloudWatch::Alarm"), TEMPLATE_ALARMS);
    assert_eq!(count("AWS::CloudWatch::Dashboard"), TEMPLATE_DASHBOARDS);
    assert_eq!(count("AWS::KMS::Key"), TEMPLATE_KMS_KEYS);
    assert!(template.contains("MemorySize: 512"));
    assert!(template.contains("PointInTimeRecoveryEnabled: true"));
}
