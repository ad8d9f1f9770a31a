//! Incremental = full: over random per-minute series (gaps, late datapoints) and random
//! cycle sequences (5-minute steps, odd steps, long pauses, restarts that lose the cache,
//! reconciliations), evaluating on the assembled data gives the numbers the full plan gives.

use proptest::prelude::*;

use super::*;
use crate::slo::evaluate::{evaluate, Evaluation};
use crate::slo::load::{load, SourceFile};
use crate::slo::plan::{EvalTime, QueryPlan};

/// 2027-01-15T08:00:00Z, an hour boundary.
const T0: i64 = 1_800_000_000;

/// The checkout SLO the cycle's tests use (its alarm annotation plays no part here).
fn slo() -> SloDefinition {
    let yaml = crate::slo::fixtures::checkout_yaml();
    let loaded = load(&[SourceFile {
        name: "checkout.yaml".into(),
        text: yaml,
    }]);
    loaded.slos.into_iter().next().expect("valid SLO")
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A metric world: per stream and minute a value (or none), and when it lands in CloudWatch.
struct World {
    seed: u64,
}

impl World {
    fn roll(&self, stream: usize, minute: i64, salt: u64) -> u64 {
        mix(self.seed ^ mix(minute as u64 ^ (stream as u64) << 56 ^ salt))
    }

    /// The datapoint of `minute`, if any, and the time it becomes visible.
    fn point(&self, stream: usize, minute: i64) -> Option<(f64, i64)> {
        let r = self.roll(0, minute, 1);
        if r.is_multiple_of(23) {
            return None; // the service sent nothing that minute
        }
        let total = 900.0 + (r % 200) as f64 + 0.25 * (r % 4) as f64;
        let errors = self.roll(0, minute, 2);
        let bad = match errors % 50 {
            0 => total * 0.3, // a burst
            1..=10 => (errors % 7) as f64,
            _ => 0.0,
        };
        // Most land within the minute; some late by up to 3 hours.
        let delay = match self.roll(stream, minute, 3) % 40 {
            0 => 60 + (self.roll(stream, minute, 4) % (3 * 3600) as u64) as i64,
            _ => 60,
        };
        let v = if stream == 0 { bad } else { total };
        Some((v, minute + delay))
    }

    /// What GetMetricData returns at `now` for `seg`: each bucket's Sum of what has landed.
    fn read(&self, stream: usize, seg: &Segment, now: i64) -> Series {
        let mut s = Series::empty(seg.start, seg.end, seg.period);
        for (i, v) in s.values.iter_mut().enumerate() {
            let b = seg.start + i as i64 * seg.period;
            for m in (b..b + seg.period).step_by(60) {
                if let Some((x, landed)) = self.point(stream, m) {
                    if landed <= now {
                        *v = if v.is_nan() { x } else { *v + x };
                    }
                }
            }
        }
        s
    }
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn same(inc: &Evaluation, full: &Evaluation) -> Result<(), String> {
    let mut pairs = vec![
        ("good", Some(inc.good), Some(full.good)),
        ("total", Some(inc.total), Some(full.total)),
        ("attainment", inc.attainment, full.attainment),
        (
            "budget_remaining",
            inc.budget_remaining,
            full.budget_remaining,
        ),
    ];
    for (a, b) in inc.windows.iter().zip(&full.windows) {
        pairs.push(("burn rate", a.burn_rate, b.burn_rate));
    }
    for (what, a, b) in pairs {
        if !close(a, b) {
            return Err(format!("{what}: incremental {a:?}, full {b:?}"));
        }
    }
    if inc.windows.len() != full.windows.len() || inc.exhausts_at != full.exhausts_at {
        return Err("windows or forecast differ".into());
    }
    let met = |e: &Evaluation| e.conditions.iter().map(|c| c.met).collect::<Vec<_>>();
    if met(inc) != met(full) {
        return Err("conditions differ".into());
    }
    Ok(())
}

/// Runs cycles at `times` (None: a restart, the cache is lost); returns the segments read
/// per stream and cycle after the first.
fn run(world: &World, steps: &[Option<i64>], reconcile: i64) -> Result<f64, String> {
    let slo = slo();
    let mut caches: Vec<Option<StreamCache>> = vec![None, None];
    let mut t = T0 + 7 * 60;
    let (mut read, mut cycles) = (0usize, 0usize);
    for step in steps {
        match step {
            Some(s) => t += s,
            None => caches = vec![None, None],
        }
        let at = EvalTime { at: t, now: t };
        let plan = QueryPlan::build(&[&slo], at);
        let mut inc = Vec::new();
        let mut full = Vec::new();
        for (i, cache) in caches.iter_mut().enumerate() {
            let stream = plan.slo_streams[0][i];
            let segs = &plan.segments[stream];
            let fetch = plan_fetch(segs, cache.as_ref(), reconcile);
            let fetched: Vec<Series> = fetch
                .segments()
                .iter()
                .map(|s| world.read(i, s, t))
                .collect();
            if cycles > 0 {
                read += fetched.len();
            }
            let (data, next) = assemble(segs, &fetch, cache.as_ref(), &fetched)
                .ok_or_else(|| format!("a hole in the incremental data at {t}"))?;
            // What the cycle writes back (about once an hour), not every cycle's cache.
            if should_store(cache.as_ref(), &fetch, t) {
                *cache = Some(next);
            }
            inc.push(data);
            full.push(StreamData::new(
                segs.iter().map(|s| world.read(i, s, t)).collect(),
            ));
        }
        let a = evaluate(&slo, at, &inc.iter().collect::<Vec<_>>()).map_err(|e| e.to_string())?;
        let b = evaluate(&slo, at, &full.iter().collect::<Vec<_>>()).map_err(|e| e.to_string())?;
        same(&a, &b).map_err(|e| format!("at T0+{}s: {e}", t - T0))?;
        cycles += 1;
    }
    Ok(read as f64 / (2 * cycles.saturating_sub(1).max(1)) as f64)
}

#[test]
fn a_day_of_five_minute_cycles_reads_little_more_than_the_tail() {
    let world = World { seed: 7 };
    // A cold start, then a day of cycles, the last of them the daily reconciliation.
    let steps: Vec<Option<i64>> = std::iter::once(Some(0))
        .chain((0..288).map(|_| Some(300)))
        .collect();
    let per_stream = run(&world, &steps, 86_400).unwrap();
    println!("segments read per stream per cycle over a day: {per_stream:.4}");
    // The tail each cycle (288); the 3d and 30d edges twelve hours at a time (4 reads); the
    // reconciliation's full read, 5 segments instead of the tail: 296 reads in 288 cycles.
    assert!(
        (per_stream - 296.0 / 288.0).abs() < 1e-9,
        "{per_stream} segments per stream per cycle"
    );
}

/// An empty cache last read at `read_at` and reconciled at `reconciled_at`.
fn cache_read(read_at: i64, reconciled_at: i64) -> StreamCache {
    StreamCache {
        read_at,
        reconciled_at,
        ..StreamCache::default()
    }
}

#[test]
fn a_stale_or_missing_cache_reads_the_whole_plan() {
    let slo = slo();
    let at = EvalTime { at: T0, now: T0 };
    let plan = QueryPlan::build(&[&slo], at);
    let segs = &plan.segments[0];
    assert!(matches!(plan_fetch(segs, None, 86_400), Fetch::Full(_)));
    let cache = cache_read(T0 - STALE_AFTER - 60, T0 - 3600);
    assert!(matches!(
        plan_fetch(segs, Some(&cache), 86_400),
        Fetch::Full(_)
    ));
    let due = cache_read(T0 - 300, T0 - 86_400);
    assert!(matches!(
        plan_fetch(segs, Some(&due), 86_400),
        Fetch::Full(_)
    ));
    // A fresh cache that lacks hours asks for them rather than guessing.
    let empty = cache_read(T0 - 300, T0 - 3600);
    let Fetch::Incremental(asked) = plan_fetch(segs, Some(&empty), 86_400) else {
        panic!("fresh cache");
    };
    let hours: i64 = asked
        .iter()
        .filter(|s| s.period == 3600)
        .map(|s| (s.end - s.start) / 3600)
        .sum();
    assert!(hours > 600, "{hours} hours asked for");
    // ... in one query, not one per hour.
    assert_eq!(asked.iter().filter(|s| s.period == 3600).count(), 1);
}

#[test]
fn only_occurrences_over_sums_are_eligible() {
    let mut s = slo();
    assert!(eligible(&s));
    s.method = BudgetingMethod::Timeslices;
    assert!(!eligible(&s));
}

fn step() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        12 => Just(Some(300)),
        2 => Just(Some(60)),
        2 => (1i64..90).prop_map(|m| Some(m * 60)),
        1 => (2i64..30).prop_map(|h| Some(h * 1800)),
        1 => Just(None),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random series, late data, odd steps, pauses and restarts: incremental = full.
    #[test]
    fn incremental_equals_full_recompute(
        seed in any::<u64>(),
        steps in proptest::collection::vec(step(), 4..28),
        reconcile in prop_oneof![Just(3600i64), Just(6 * 3600), Just(86_400)],
    ) {
        let world = World { seed };
        if let Err(e) = run(&world, &steps, reconcile) {
            prop_assert!(false, "{}", e);
        }
    }
}
