//! The fan-out over in-memory ports: every SLO evaluated once per cycle across shards and
//! workers, a repeated schedule event queues nothing twice, a dispatch that failed half-way
//! is resent without running a shard twice, a failed shard is retried once and then dead-
//! lettered, a cycle still running holds the next one back, the switch counts shards that
//! never completed, and orders that match no recorded cut are refused.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::app::events::AlarmMetric;
use crate::app::memory::{FakeMetrics, FakeNotifier, MemoryQueue, MemoryStore, MemoryWorkers};
use crate::app::ports::{DefinitionStore, HistoryStore, MetricSource, QueryResult, SourceError};
use crate::app::{App, Config};
use crate::slo::fixtures::checkout_yaml;
use crate::slo::load::{load, SourceFile};
use crate::slo::model::MetricSpec;
use crate::slo::plan::MetricRequest;

/// A schedule boundary (2027-01-15T08:00:00Z).
const T: i64 = 1_800_000_000;
const PERIOD: i64 = 300;

/// CloudWatch that fails its first `failures` calls, then answers as the fake does.
struct Flaky {
    inner: FakeMetrics,
    failures: AtomicUsize,
    /// Every call fails while set.
    down: std::sync::atomic::AtomicBool,
}

impl MetricSource for Flaky {
    async fn alarm_metrics(
        &self,
        region: &str,
        names: &[String],
    ) -> Result<Vec<(String, Vec<AlarmMetric>)>, SourceError> {
        self.inner.alarm_metrics(region, names).await
    }

    async fn get_metric_data(
        &self,
        request: &MetricRequest,
        streams: &[MetricSpec],
    ) -> Result<Vec<QueryResult>, SourceError> {
        let left = self.failures.load(Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(SourceError::Unavailable("connection refused".into()));
        }
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(SourceError::Unavailable("connection reset".into()));
        }
        self.inner.get_metric_data(request, streams).await
    }
}

type FleetApp = App<Flaky, MemoryStore, FakeNotifier>;

/// `n` SLOs named slo-00.. over steady traffic; CloudWatch fails its first `failures` calls.
async fn flaky_fleet(n: usize, failures: usize) -> FleetApp {
    let app = App {
        metrics: Flaky {
            inner: FakeMetrics::new(|name, _| match name {
                "Requests" => Some(100.0),
                "Errors" => Some(0.0),
                _ => None,
            }),
            failures: AtomicUsize::new(failures),
            down: Default::default(),
        },
        store: MemoryStore::default(),
        notifier: FakeNotifier::default(),
        config: Config {
            lag_seconds: 0,
            ..Config::default()
        },
    };
    for i in 0..n {
        let text = checkout_yaml().replace("name: checkout\n", &format!("name: slo-{i:02}\n"));
        let mut loaded = load(&[SourceFile {
            name: format!("slo-{i}.yaml"),
            text,
        }]);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        app.store
            .put_definition(&loaded.slos.remove(0))
            .await
            .unwrap();
    }
    app
}

async fn fleet(n: usize) -> FleetApp {
    flaky_fleet(n, 0).await
}

fn request(cycle: i64, now: i64) -> DispatchRequest {
    DispatchRequest {
        cycle,
        now,
        shard_size: 3,
        schedule_seconds: PERIOD,
        workers: 2,
    }
}

/// One worker draining the queue with the clock at `now`; the SLOs it evaluated, sorted.
async fn drain(app: &FleetApp, queue: &MemoryQueue, now: i64) -> (WorkReport, Vec<String>) {
    let report = work(app, queue, || now * 1000, None).await.unwrap();
    let mut evaluated: Vec<String> = report
        .shards
        .iter()
        .filter_map(|s| s.report.as_ref())
        .flat_map(|r| r.slos.iter().map(|o| o.slo.clone()))
        .collect();
    evaluated.sort();
    (report, evaluated)
}

async fn snapshots_at(app: &FleetApp, at: i64) -> usize {
    let mut n = 0;
    for i in 0..10 {
        let h = app
            .store
            .history(&format!("slo-{i:02}"), at - 1, at + 1)
            .await
            .unwrap();
        n += h.len();
    }
    n
}

fn all_names() -> Vec<String> {
    (0..10).map(|i| format!("slo-{i:02}")).collect()
}

#[tokio::test]
async fn ten_slos_in_shards_of_three_are_each_evaluated_once_per_cycle() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    let r = dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    assert_eq!((r.slos, r.shards, r.dispatched), (10, 4, 4), "{r:?}");
    assert_eq!(r.previous, None);
    assert_eq!(r.workers, 2, "at most the concurrency asked for");
    assert_eq!(*workers.started.lock().unwrap(), vec![(2, T)]);
    let (report, evaluated) = drain(&app, &queue, T + 5).await;
    assert_eq!(evaluated, all_names(), "every SLO once");
    assert!(report.shards.iter().all(|s| s.outcome == "ran"));
    assert!(queue.orders().is_empty(), "every order settled");
    assert_eq!(snapshots_at(&app, T).await, 10);
    let rec = app.store.cycle(T).await.unwrap().unwrap();
    assert_eq!((rec.missing(), rec.dispatched), (0, true));
    // The next cycle judges this one complete.
    let next = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + PERIOD, T + PERIOD),
    )
    .await
    .unwrap();
    assert_eq!((next.previous, next.previous_missing), (Some(T), 0));
    assert_eq!(next.dispatched, 4);
}

#[tokio::test]
async fn a_repeated_schedule_event_queues_nothing_and_a_repeated_order_runs_nothing() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    let again = dispatch(&app.store, &queue, &workers, &request(T, T + 2))
        .await
        .unwrap();
    assert!(again.repeated);
    // Nothing queued again; workers for the orders still waiting (the first delivery's
    // may have failed to start), which stop as soon as the queue is drained.
    assert_eq!((again.dispatched, again.workers), (0, 2));
    let orders = queue.orders();
    assert_eq!(orders.len(), 4, "queued once");
    let first = run_shard(&app, &orders[0], T + 5, None).await.unwrap();
    assert!(matches!(first, ShardOutcome::Ran { .. }));
    // SQS delivers at least once: the same order again is not run again.
    let twice = run_shard(&app, &orders[0], T + 6, None).await.unwrap();
    assert_eq!(twice, ShardOutcome::AlreadyDone);
    assert_eq!(app.store.commits(), 3, "three SLOs, one state write each");
}

#[tokio::test]
async fn a_dispatch_that_fails_half_way_is_resent_without_running_a_shard_twice() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    queue.fail_after.lock().unwrap().push(2);
    let err = dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("2 of 4 shard orders queued"),
        "{err}"
    );
    assert_eq!(err.error_type(), "QueueUnavailable");
    assert!(workers.started.lock().unwrap().is_empty());
    // One of the two queued shards runs before Lambda retries the schedule event.
    let early = queue.orders();
    run_shard(&app, &early[0], T + 3, None).await.unwrap();
    let retry = dispatch(&app.store, &queue, &workers, &request(T, T + 10))
        .await
        .unwrap();
    assert!(retry.repeated);
    assert_eq!(
        retry.dispatched, 3,
        "every shard not completed, cut as before"
    );
    assert_eq!(retry.workers, 2);
    // The queue holds both copies of shard 0 and 1 the first delivery sent: each runs once.
    let (report, evaluated) = drain(&app, &queue, T + 12).await;
    assert_eq!(
        evaluated.len(),
        7,
        "the 7 SLOs after shard 0, once each: {evaluated:?}"
    );
    let outcomes: Vec<&str> = report.shards.iter().map(|s| s.outcome).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "already_done").count(), 2);
    assert_eq!(snapshots_at(&app, T).await, 10);
    assert_eq!(app.store.cycle(T).await.unwrap().unwrap().missing(), 0);
}

#[tokio::test]
async fn a_failed_shard_is_retried_within_the_cycle_and_then_dead_lettered() {
    // Each shard of 3 SLOs makes one GetMetricData call; the first one fails.
    let app = flaky_fleet(10, 1).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    let (report, evaluated) = drain(&app, &queue, T + 5).await;
    assert_eq!(evaluated, all_names(), "retried, then every SLO once");
    let failed: Vec<&ShardResult> = report.shards.iter().filter(|s| s.error.is_some()).collect();
    assert_eq!(failed.len(), 1, "{:?}", report.shards);
    assert_eq!(failed[0].error_type, Some("NothingEvaluated"));
    assert!(queue.dead_letters().is_empty());
    assert_eq!(snapshots_at(&app, T).await, 10);
    // A CloudWatch that stays down: every shard fails twice and is dead-lettered, and the
    // worker stops when nothing is left rather than waiting for the schedule.
    let down = flaky_fleet(10, usize::MAX).await;
    let queue = MemoryQueue::default();
    dispatch(&down.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    let (report, evaluated) = drain(&down, &queue, T + 5).await;
    assert!(evaluated.is_empty());
    assert_eq!(
        report.shards.len(),
        8,
        "two deliveries of each of the 4 shards"
    );
    assert_eq!(queue.dead_letters().len(), 4);
    assert!(queue.orders().is_empty());
    assert_eq!(down.store.cycle(T).await.unwrap().unwrap().missing(), 4);
}

#[tokio::test]
async fn a_dead_lettered_shard_holds_nothing_back_and_is_counted_at_two_schedules() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    // CloudWatch is down while shard 0 is delivered and retried, as a worker settles it.
    app.metrics.down.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        let got = queue.receive(0).await.unwrap().unwrap();
        let order = got.order.unwrap();
        assert_eq!(order.index, 0);
        assert!(run_shard(&app, &order, T + 5, None).await.is_err());
        queue.retry_soon(&got.receipt).await.unwrap();
    }
    app.metrics.down.store(false, Ordering::SeqCst);
    let (_, evaluated) = drain(&app, &queue, T + 6).await;
    assert_eq!(evaluated.len(), 7, "the other shards");
    assert_eq!(queue.dead_letters().len(), 1, "shard 0, after its retry");
    // Nothing waits: the next cycle goes ahead, and the switch counts the lost shard ...
    let next = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + PERIOD, T + PERIOD),
    )
    .await
    .unwrap();
    assert_eq!(
        (next.skipped, next.dispatched, next.previous_missing),
        (None, 4, 1)
    );
    drain(&app, &queue, T + PERIOD + 5).await;
    // ... and again at the schedule after, though the cycle between was whole: the alarm
    // (2 of 2 periods above 0) fires once for a shard lost for good.
    let after = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + 2 * PERIOD, T + 2 * PERIOD),
    )
    .await
    .unwrap();
    assert_eq!(after.previous_missing, 1);
    drain(&app, &queue, T + 2 * PERIOD + 5).await;
    let healed = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + 3 * PERIOD, T + 3 * PERIOD),
    )
    .await
    .unwrap();
    assert_eq!(healed.previous_missing, 0);
}

#[tokio::test]
async fn a_cycle_from_the_future_is_refused_and_a_retried_dispatch_starts_its_workers() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    let err = dispatch(&app.store, &queue, &workers, &request(T + 3600, T))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FutureTrigger");
    assert!(err.to_string().contains("3600 s ahead"), "{err}");
    assert!(app.store.recent_cycles(1).await.unwrap().is_empty());
    // The orders went out, then starting the workers failed: Lambda retries the event,
    // and the retry starts workers for what waits.
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    workers.started.lock().unwrap().clear();
    let retry = dispatch(&app.store, &queue, &workers, &request(T, T + 3))
        .await
        .unwrap();
    assert!(retry.repeated && retry.dispatched == 0);
    assert_eq!(*workers.started.lock().unwrap(), vec![(2, T)]);
}

#[tokio::test]
async fn a_worker_stops_taking_orders_before_its_deadline() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    let deadline = (T + 5) * 1000 + WORK_MARGIN_MS - 1;
    let report = work(&app, &queue, || (T + 5) * 1000, Some(deadline))
        .await
        .unwrap();
    assert!(
        report.shards.is_empty() && report.stopped_at_deadline,
        "{report:?}"
    );
    assert_eq!(queue.orders().len(), 4, "left for another worker");
}

#[tokio::test]
async fn a_shard_that_never_completes_holds_one_cycle_back_and_trips_the_switch() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    let orders = queue.orders();
    // Shard 0's worker dies with it in flight; the other shards complete.
    let taken = queue.receive(0).await.unwrap().unwrap();
    assert_eq!(taken.order.as_ref().unwrap().index, 0);
    let (_, evaluated) = drain_without(&app, &queue, T + 5).await;
    assert_eq!(evaluated.len(), 7);
    // The next schedule finds the cycle still running.
    let next = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + PERIOD, T + PERIOD),
    )
    .await
    .unwrap();
    assert_eq!(next.previous_missing, 1, "the switch counts it");
    assert_eq!(
        next.skipped,
        Some(Skip::StillRunning {
            cycle: T,
            done: 3,
            shards: 4
        })
    );
    assert_eq!(next.dispatched, 0, "never doubled");
    assert_eq!(next.workers, 1, "a worker for the order still waiting");
    assert!(next
        .skipped
        .as_ref()
        .unwrap()
        .to_string()
        .contains("3 of 4 shards"));
    // Two periods on, the stuck cycle no longer holds the fleet back; it is still missing.
    let later = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + 2 * PERIOD, T + 2 * PERIOD),
    )
    .await
    .unwrap();
    assert_eq!((later.previous, later.previous_missing), (Some(T), 1));
    assert_eq!((later.skipped, later.dispatched), (None, 4));
    // The stuck order, delivered at last, is dropped: a newer cycle covers its SLOs.
    let late = run_shard(&app, &orders[0], T + 2 * PERIOD + 5, None)
        .await
        .unwrap();
    assert_eq!(late, ShardOutcome::Superseded { by: T + 2 * PERIOD });
    // A late schedule event of the skipped cycle is dropped too.
    let stale = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + PERIOD, T + 2 * PERIOD + 9),
    )
    .await
    .unwrap();
    assert_eq!(stale.skipped, Some(Skip::Superseded { by: T + 2 * PERIOD }));
}

/// Drain while one order stays in flight (its worker died): the worker stops once only
/// that order is left, as the in-memory queue never times it out by itself.
async fn drain_without(
    app: &FleetApp,
    queue: &MemoryQueue,
    now: i64,
) -> (Vec<ShardResult>, Vec<String>) {
    let mut results = Vec::new();
    while let Some(r) = queue.receive(0).await.unwrap() {
        let order = r.order.unwrap();
        let outcome = run_shard(app, &order, now, None).await;
        results.push(shard_result(&order, outcome));
        queue.done(&r.receipt).await.unwrap();
    }
    let mut evaluated: Vec<String> = results
        .iter()
        .filter_map(|s| s.report.as_ref())
        .flat_map(|r| r.slos.iter().map(|o| o.slo.clone()))
        .collect();
    evaluated.sort();
    (results, evaluated)
}

#[tokio::test]
async fn orders_that_match_no_recorded_cut_are_refused() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    let order = queue.orders().remove(1);
    let forged = [
        ShardOrder {
            cycle: T - PERIOD,
            ..order.clone()
        },
        ShardOrder {
            of: 1,
            ..order.clone()
        },
        ShardOrder {
            index: 7,
            ..order.clone()
        },
        ShardOrder {
            range: NameRange::all(),
            ..order.clone()
        },
    ];
    for f in &forged {
        let err = run_shard(&app, f, T + 5, None).await.unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        assert!(
            ["UnknownCycle", "ShardMismatch"].contains(&err.error_type()),
            "{err}"
        );
    }
    assert_eq!(snapshots_at(&app, T).await, 0, "nothing evaluated");
    // A worker reports them as refused, not as failures a retry could mend.
    let refused = shard_result(&forged[0], run_shard(&app, &forged[0], T + 5, None).await);
    assert_eq!(refused.outcome, "refused");
    assert!(matches!(
        run_shard(&app, &order, T + 5, None).await.unwrap(),
        ShardOutcome::Ran { .. }
    ));
}

#[tokio::test]
async fn a_shard_reads_its_own_range_and_a_composite_reaches_parts_in_other_shards() {
    let app = fleet(10).await;
    // A composite named so it lands in the last shard, over two SLOs of the first.
    let composite = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: zz-journey
  annotations:
    sloguard.dev/composite-of: slo-00, slo-01
spec:
  service: webshop
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"#;
    let mut loaded = load(&[SourceFile {
        name: "journey.yaml".into(),
        text: composite.into(),
    }]);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    app.store
        .put_definition(&loaded.slos.remove(0))
        .await
        .unwrap();
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    let orders = queue.orders();
    let last = orders.last().unwrap();
    assert!(last.range.contains("zz-journey") && !last.range.contains("slo-00"));
    let ShardOutcome::Ran { report } = run_shard(&app, last, T + 5, None).await.unwrap() else {
        panic!("the last shard runs");
    };
    let journey = report.slos.iter().find(|o| o.slo == "zz-journey").unwrap();
    assert!(journey.error.is_none(), "{:?}", journey.error);
    assert_eq!(report.slos.len(), 2, "slo-09 and the composite only");
}

#[tokio::test]
async fn an_empty_fleet_dispatches_no_shard_and_misses_none() {
    let app = fleet(0).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    let r = dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    assert_eq!((r.shards, r.dispatched, r.workers), (0, 0, 0));
    assert!(
        workers.started.lock().unwrap().is_empty(),
        "no worker for nothing"
    );
    let next = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + PERIOD, T + PERIOD),
    )
    .await
    .unwrap();
    assert_eq!((next.previous_missing, next.skipped), (0, None));
    let zero = DispatchRequest {
        shard_size: 0,
        ..request(T + 2 * PERIOD, T + 2 * PERIOD)
    };
    assert_eq!(
        dispatch(&app.store, &queue, &workers, &zero)
            .await
            .unwrap_err(),
        DispatchError::NoShardSize
    );
}

#[tokio::test]
async fn the_cut_is_reused_until_an_slo_is_created_or_deleted() {
    let app = fleet(10).await;
    let (queue, workers) = (MemoryQueue::default(), MemoryWorkers::default());
    dispatch(&app.store, &queue, &workers, &request(T, T))
        .await
        .unwrap();
    drain(&app, &queue, T + 5).await;
    assert_eq!(app.store.name_reads(), 1);
    let same = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + PERIOD, T + PERIOD),
    )
    .await
    .unwrap();
    assert_eq!((same.slos, same.shards), (10, 4));
    assert_eq!(
        app.store.name_reads(),
        1,
        "no SLO came or went: the cut is reused"
    );
    drain(&app, &queue, T + PERIOD + 5).await;
    app.store.delete_definition("slo-04").await.unwrap();
    app.store.delete_definition("slo-05").await.unwrap();
    let fewer = dispatch(
        &app.store,
        &queue,
        &workers,
        &request(T + 2 * PERIOD, T + 2 * PERIOD),
    )
    .await
    .unwrap();
    assert_eq!(
        (fewer.slos, fewer.shards),
        (8, 3),
        "re-cut after the deletes"
    );
    assert_eq!(app.store.name_reads(), 2);
    let (_, evaluated) = drain(&app, &queue, T + 2 * PERIOD + 5).await;
    assert_eq!(evaluated.len(), 8);
}
