//! Cycles on stream caches against cycles that read every stream whole, over the
//! in-memory ports: the same numbers every cycle, far fewer metrics requested, the
//! cache written about once an hour, and every way a cache can be missing or wrong
//! falling back to the full read.

use std::sync::atomic::Ordering;

use crate::app::cycle::tests::{app_with, at, TestApp, T};
use crate::app::cycle::{run_cycle, CycleReport, CycleRequest};
use crate::slo::snapshot::Snapshot;

const MIN: i64 = 60;
const HOUR: i64 = 3600;

/// Errors now and then, a burst in the third hour, a quiet spell without any.
fn errors(t: i64) -> f64 {
    let m = t / MIN;
    if (T + 2 * HOUR..T + 2 * HOUR + 20 * MIN).contains(&t) {
        25.0
    } else if m % 17 == 0 {
        3.0
    } else {
        0.0
    }
}

async fn pair() -> (TestApp, TestApp) {
    let cached = app_with(errors).await;
    let mut whole = app_with(errors).await;
    whole.config.reconcile_seconds = 0;
    (cached, whole)
}

fn snapshot(r: &CycleReport) -> &Snapshot {
    r.slos[0].snapshot.as_ref().expect("evaluated")
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        (None, None) => true,
        _ => false,
    }
}

fn same(a: &Snapshot, b: &Snapshot) {
    assert!(
        close(Some(a.good), Some(b.good)) && close(Some(a.total), Some(b.total)),
        "{a:?}\n{b:?}"
    );
    assert!(
        close(a.budget_remaining, b.budget_remaining),
        "{a:?}\n{b:?}"
    );
    assert!(close(a.attainment, b.attainment), "{a:?}\n{b:?}");
    assert_eq!(a.burn_rates.len(), b.burn_rates.len());
    for ((la, ra), (lb, rb)) in a.burn_rates.iter().zip(&b.burn_rates) {
        assert_eq!(la, lb);
        assert!(close(*ra, *rb), "{la}: {ra:?} vs {rb:?}");
    }
    assert_eq!(a.status, b.status);
    assert_eq!(a.exhausts_at, b.exhausts_at);
}

fn queries(app: &TestApp) -> usize {
    app.metrics.queries.swap(0, Ordering::Relaxed)
}

#[tokio::test]
async fn six_hours_of_cycles_on_caches_give_the_full_reads_numbers_for_a_fraction_of_the_metrics() {
    let (cached, whole) = pair().await;
    let (mut read_cached, mut read_whole) = (0, 0);
    let cycles = 72;
    for k in 0..=cycles {
        let t = T + 7 * MIN + k * 5 * MIN;
        let (a, b) = (at(&cached, t).await, at(&whole, t).await);
        same(snapshot(&a), snapshot(&b));
        if k > 0 {
            read_cached += queries(&cached);
            read_whole += queries(&whole);
        } else {
            // The first cycle has no cache: it reads what the full read reads.
            assert_eq!(queries(&cached), queries(&whole));
        }
    }
    let per_cycle = |n: usize| n as f64 / cycles as f64;
    // Two streams: the tail of each every cycle, the far edges once in the six hours.
    assert!(
        per_cycle(read_cached) <= 2.0 + 4.0 / cycles as f64,
        "{} metrics a cycle on caches",
        per_cycle(read_cached)
    );
    assert!(per_cycle(read_whole) >= 8.0, "{}", per_cycle(read_whole));
    // Written at the first cycle, then about once an hour per stream (and once more when
    // the far edges are read), never every cycle.
    let writes = cached.store.stream_writes();
    assert!((12..=2 * 9).contains(&writes), "{writes} cache writes");
    assert_eq!(whole.store.stream_writes(), 0, "no caches when turned off");
}

#[tokio::test]
async fn a_lost_cache_or_a_past_evaluation_reads_the_whole_window() {
    let (cached, whole) = pair().await;
    for k in 0..4 {
        at(&cached, T + k * 5 * MIN).await;
        at(&whole, T + k * 5 * MIN).await;
    }
    queries(&cached);
    queries(&whole);

    // A cold table (the caches lost): the next cycle reads everything, with the same numbers.
    cached.store.drop_stream_caches();
    let t = T + 20 * MIN;
    let (a, b) = (at(&cached, t).await, at(&whole, t).await);
    same(snapshot(&a), snapshot(&b));
    assert_eq!(queries(&cached), queries(&whole));
    assert!(cached.store.stream_writes() > 0);

    // A past evaluation (evaluate --at a day ago): a full read, and the newer cache stays.
    let writes = cached.store.stream_writes();
    let past = CycleRequest {
        trigger: T - 24 * HOUR,
        now: t + 60,
        ..CycleRequest::default()
    };
    let a = run_cycle(&cached, past.clone()).await.unwrap();
    let b = run_cycle(&whole, past).await.unwrap();
    same(snapshot(&a), snapshot(&b));
    assert_eq!(queries(&cached), queries(&whole));
    assert_eq!(
        cached.store.stream_writes(),
        writes,
        "the newer cache is kept"
    );

    // ... and the next real cycle is incremental again: two tails.
    let t = T + 25 * MIN;
    let (a, b) = (at(&cached, t).await, at(&whole, t).await);
    same(snapshot(&a), snapshot(&b));
    assert_eq!(queries(&cached), 2);
}

#[tokio::test]
async fn late_datapoints_older_than_the_tail_are_absorbed_by_the_reconciliation() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    // Errors that CloudWatch only shows from some moment on, 12 hours back in time.
    let landed = Arc::new(AtomicBool::new(false));
    let seen = landed.clone();
    let late = move |t: i64| {
        if seen.load(Ordering::Relaxed) && (T - 12 * HOUR..T - 12 * HOUR + 30 * MIN).contains(&t) {
            50.0
        } else {
            0.0
        }
    };
    let mut cached = app_with(late).await;
    cached.config.reconcile_seconds = 2 * HOUR;
    at(&cached, T).await;
    landed.store(true, Ordering::Relaxed);
    // Within the reconciliation period the cache still holds the old hour: fewer bad events.
    let before = at(&cached, T + HOUR).await;
    let bad_before = snapshot(&before).total - snapshot(&before).good;
    assert_eq!(bad_before, 0.0);
    // Once it is due, the window is read whole and the late errors count.
    let after = at(&cached, T + 2 * HOUR).await;
    let bad_after = snapshot(&after).total - snapshot(&after).good;
    assert_eq!(bad_after, 50.0 * 30.0);
}

#[tokio::test]
async fn timeslice_slos_read_their_streams_whole_and_keep_no_cache() {
    let app = app_with(errors).await;
    let yaml = crate::app::cycle::tests::checkout_yaml()
        .replace("name: checkout\n", "name: checkout-slices\n")
        .replace(
            "budgetingMethod: Occurrences",
            "budgetingMethod: Timeslices",
        )
        .replace(
            "    - target: 0.999\n",
            "    - target: 0.999\n      timeSliceTarget: 0.95\n      timeSliceWindow: 5m\n",
        );
    crate::app::apply::apply(
        &app.store,
        &[crate::slo::load::SourceFile {
            name: "slices.yaml".into(),
            text: yaml,
        }],
        crate::app::apply::ApplyOptions::default(),
    )
    .await
    .expect("valid SLO");
    let only = |t: i64| CycleRequest {
        trigger: t,
        now: t,
        only: Some(vec!["checkout-slices".into()]),
        ..CycleRequest::default()
    };
    let first = run_cycle(&app, only(T)).await.unwrap();
    assert!(first.slos[0].error.is_none(), "{:?}", first.slos[0].error);
    let n = queries(&app);
    run_cycle(&app, only(T + 5 * MIN)).await.unwrap();
    assert_eq!(queries(&app), n, "the whole window again");
    assert_eq!(app.store.stream_writes(), 0);
}

/// The cost model's simulation of the reads (`cost::reads`) is what these cycles read.
#[tokio::test]
async fn the_simulated_reads_are_what_the_cycle_reads() {
    use crate::cost::reads;
    use crate::cost::tests::JsonItems;
    use crate::slo::plan::EvalTime;
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
    let simulated = reads::simulate(&[&slo], &evals, app.config.reconcile_seconds, &JsonItems);
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
