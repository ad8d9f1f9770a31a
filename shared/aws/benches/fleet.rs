//! A fleet's cycle fanned out (`make bench-fleet SLOS=100000`): the dispatcher and its
//! workers over N SLOs, in two steps.
//!
//! 1. **One shard, measured.** A cycle over one shard's SLOs (SLO_SHARD_SIZE) runs through
//!    the real adapters and the SDK with canned AWS answers (as `make bench-cycle`): its
//!    wall time, CPU, peak RSS and requests by operation are this machine's figures for
//!    one worker's shard, on a cold table (every stream read whole: the heaviest cycle).
//! 2. **The fleet, played in virtual time.** The real dispatcher (`app::fanout::dispatch`)
//!    cuts N stored SLO names into shard orders on the in-memory queue and starts its
//!    workers; each worker takes orders from the queue until none is left, and each shard
//!    costs what step 1 measured: its CPU (scaled to the 512 MB function's share of a
//!    vCPU), its DynamoDB calls (8 ms each, 8 at a time) and its GetMetricData calls
//!    (300 ms each, 8 at a time) through the account's quota of 50 requests a second,
//!    a throttled call retried with the SDK's backoff (4 attempts, as sloguard's clients
//!    make) and failed after that. A tokio clock that only moves when every task waits
//!    makes a 100,000-SLO cycle play in seconds.
//!
//! Printed: wall time per cycle (the steady cycle, whose calls per shard are the cost
//! model's, and the cold first cycle, whose are step 1's), concurrent invocations, peak
//! memory per shard, requests by operation, throttled calls, and the cost per SLO-month
//! at 1,000 / 10,000 / 100,000 SLOs (the cost model `sloguard cost --slos N` prints, with
//! the measured shard time).

#[path = "support/canned.rs"]
mod canned;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sloguard_core::app::fanout::{dispatch, CycleStore, DispatchRequest, ShardQueue};
use sloguard_core::app::memory::{MemoryQueue, MemoryStore, MemoryWorkers};
use sloguard_core::app::ports::DefinitionStore;
use sloguard_core::cost::{estimate, prices, synthetic_fleet, Deployment, FleetSlo};
use sloguard_core::settings::{Settings, CONCURRENCY};
use tokio::time::Instant;

/// GetMetricData's latency, seconds (a few hundred ms for a 500-metric call).
const GET_METRIC_DATA_SECONDS: f64 = 0.30;
/// A DynamoDB call's latency, seconds.
const DYNAMODB_SECONDS: f64 = 0.008;
/// An SQS or Lambda Invoke call's latency, seconds.
const QUEUE_SECONDS: f64 = 0.015;
/// A worker's cold start (the evaluator's init, measured by `make bench-cold-start`), seconds.
const COLD_START_SECONDS: f64 = 0.15;
/// The account's GetMetricData quota, requests a second (the default, raisable).
const QUOTA_TPS: f64 = 50.0;
/// Attempts the SDK makes at a throttled call (sloguard's clients: `MAX_ATTEMPTS`).
const ATTEMPTS: u32 = sloguard_aws::MAX_ATTEMPTS;
/// The evaluator's memory and its share of a vCPU (Lambda gives a full vCPU at 1,769 MB).
const MEMORY_MB: f64 = 512.0;
const VCPU_SHARE: f64 = MEMORY_MB / 1769.0;

/// A token bucket over the virtual clock: the account's GetMetricData quota.
struct Quota {
    tokens: f64,
    at: Instant,
}

impl Quota {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + (now - self.at).as_secs_f64() * QUOTA_TPS).min(QUOTA_TPS);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What one shard costs, from step 1.
#[derive(Clone, Copy)]
struct ShardCost {
    cpu_seconds: f64,
    dynamodb_calls: f64,
    get_metric_data_calls: f64,
}

#[derive(Default)]
struct Counts {
    calls: AtomicUsize,
    throttled: AtomicUsize,
    failed: AtomicUsize,
    shards: AtomicUsize,
    receives: AtomicUsize,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// One GetMetricData call through the quota: throttled attempts back off as the SDK's
/// standard retry does (exponential, jittered, at most 20 s) and the call fails after the
/// last attempt.
async fn get_metric_data(quota: &Mutex<Quota>, counts: &Counts, seed: usize) {
    for attempt in 0..ATTEMPTS {
        counts.calls.fetch_add(1, Ordering::Relaxed);
        if quota.lock().unwrap().take() {
            tokio::time::sleep(secs(GET_METRIC_DATA_SECONDS)).await;
            return;
        }
        counts.throttled.fetch_add(1, Ordering::Relaxed);
        // jitter in [0.5, 1) of the backoff, from the call's seed (no RNG needed)
        let jitter = 0.5 + (seed.wrapping_mul(2_654_435_761) % 1000) as f64 / 2000.0;
        let backoff = (2f64.powi(attempt as i32) * jitter).min(20.0);
        tokio::time::sleep(secs(backoff)).await;
    }
    counts.failed.fetch_add(1, Ordering::Relaxed);
}

/// One shard: its CPU and DynamoDB time, then its GetMetricData calls 8 at a time.
async fn run_shard(cost: ShardCost, quota: Arc<Mutex<Quota>>, counts: Arc<Counts>, shard: usize) {
    let conc = CONCURRENCY as f64;
    tokio::time::sleep(secs(
        cost.cpu_seconds / VCPU_SHARE + (cost.dynamodb_calls / conc).ceil() * DYNAMODB_SECONDS,
    ))
    .await;
    let calls = cost.get_metric_data_calls.round() as usize;
    let mut done = 0;
    while done < calls {
        let batch = (calls - done).min(CONCURRENCY);
        let waves = (0..batch).map(|i| {
            let (q, c) = (quota.clone(), counts.clone());
            async move { get_metric_data(&q, &c, shard * 7919 + done + i).await }
        });
        futures::future::join_all(waves).await;
        done += batch;
    }
}

/// Figures of one played cycle.
struct Played {
    wall_seconds: f64,
    dispatch_seconds: f64,
    shards: u32,
    workers: u32,
    calls: usize,
    throttled: usize,
    failed: usize,
    receives: usize,
}

/// Play one cycle of `slos` SLOs: the real dispatcher over the stored names, then its
/// workers draining the in-memory queue, each shard costing `cost`.
async fn play(
    store: &Arc<MemoryStore>,
    slos: usize,
    settings: &Settings,
    cost: ShardCost,
    cycle: i64,
) -> Played {
    let queue = Arc::new(MemoryQueue::default());
    let workers = MemoryWorkers::default();
    let start = Instant::now();
    let req = DispatchRequest {
        cycle,
        now: cycle,
        shard_size: settings.shard_size as usize,
        schedule_seconds: settings.schedule_minutes * 60,
        workers: settings.shard_concurrency as u32,
    };
    let report = dispatch(store.as_ref(), queue.as_ref(), &workers, &req)
        .await
        .expect("the dispatch runs");
    // The dispatcher's calls: the fleet version and recent cycles, the names (1 MB pages
    // of keys), the record written and marked, the orders ten to a batch, the workers.
    let name_pages = (slos * 120).div_ceil(1 << 20) as f64;
    let dispatch_seconds = (4.0 + name_pages) * DYNAMODB_SECONDS
        + (f64::from(report.shards).div_euclid(10.0) + 1.0) * QUEUE_SECONDS
        + f64::from(report.workers) * QUEUE_SECONDS;
    tokio::time::sleep(secs(dispatch_seconds)).await;
    let quota = Arc::new(Mutex::new(Quota {
        tokens: QUOTA_TPS,
        at: Instant::now(),
    }));
    let counts = Arc::new(Counts::default());
    let mut tasks = Vec::new();
    for _ in 0..report.workers {
        let (queue, quota, counts) = (queue.clone(), quota.clone(), counts.clone());
        let store = store.clone();
        let full = settings.shard_size as usize;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(secs(COLD_START_SECONDS)).await;
            loop {
                counts.receives.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(secs(QUEUE_SECONDS)).await;
                let Some(got) = queue.receive(0).await.unwrap() else {
                    break;
                };
                let order = got.order.expect("the dispatcher's orders read");
                // The last shard may hold fewer SLOs: its calls and CPU scale down.
                let held = if order.index + 1 == order.of {
                    slos - full * (order.of as usize - 1)
                } else {
                    full
                };
                let part = held as f64 / full as f64;
                let cost = ShardCost {
                    cpu_seconds: cost.cpu_seconds * part,
                    dynamodb_calls: cost.dynamodb_calls * part,
                    get_metric_data_calls: (cost.get_metric_data_calls * part).max(1.0),
                };
                run_shard(cost, quota.clone(), counts.clone(), order.index as usize).await;
                counts.shards.fetch_add(1, Ordering::Relaxed);
                // As `run_shard` does: the shard marked done in the cycle's record.
                store
                    .complete_shard(order.cycle, order.index)
                    .await
                    .unwrap();
                tokio::time::sleep(secs(QUEUE_SECONDS)).await;
                queue.done(&got.receipt).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.expect("a worker finishes");
    }
    assert_eq!(
        counts.shards.load(Ordering::Relaxed),
        report.shards as usize,
        "every shard once"
    );
    Played {
        wall_seconds: (Instant::now() - start).as_secs_f64(),
        dispatch_seconds,
        shards: report.shards,
        workers: report.workers,
        calls: counts.calls.load(Ordering::Relaxed),
        throttled: counts.throttled.load(Ordering::Relaxed),
        failed: counts.failed.load(Ordering::Relaxed),
        receives: counts.receives.load(Ordering::Relaxed),
    }
}

/// A fleet as the cost model prices it, its item sizes estimated.
fn priced_estimated(fleet: &[sloguard_core::slo::model::SloDefinition]) -> Vec<FleetSlo<'_>> {
    fleet
        .iter()
        .map(|d| FleetSlo {
            definition: d,
            sizes: None,
        })
        .collect()
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let slos: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut settings = Settings::default();
    if let Some(v) = arg("--shard-size").and_then(|v| v.parse().ok()) {
        settings.shard_size = v;
    }
    if let Some(v) = arg("--workers").and_then(|v| v.parse().ok()) {
        settings.shard_concurrency = v;
    }
    let shard_size = settings.shard_size as usize;
    let one = shard_size.min(slos);

    // Step 1: one shard, measured.
    let f = canned::measure_cycle(one);
    let count = |op: &str| {
        f.requests
            .iter()
            .find(|(o, _)| *o == op)
            .map_or(0, |(_, c)| *c) as f64
    };
    let dynamodb: f64 = f
        .requests
        .iter()
        .filter(|(o, _)| o.starts_with("DynamoDB"))
        .map(|(_, c)| *c as f64)
        .sum();
    println!(
        "one shard of {one} SLOs, measured (real adapters, canned answers, cold table): {:.2} s wall, {:.2} s CPU, peak RSS {:.1} MB (canned table included: {:.1} MB before the cycle)",
        f.wall_seconds, f.cpu_seconds, f.peak_rss_mb, f.rss_before_mb
    );
    for (op, calls) in &f.requests {
        println!("  {op}: {calls}");
    }

    // The steady cycle's calls per shard come from the cost model (tails only, far edges
    // now and then, a daily full read), the cold cycle's from step 1.
    let fleet = synthetic_fleet(slos);
    let priced = priced_estimated(&fleet);
    let deployment = Deployment {
        shard_size,
        workers: settings.shard_concurrency as usize,
        ..Deployment::from_settings(&settings)
    };
    let hour = 1_795_608_000;
    let p = prices::for_region("us-east-1").expect("known region");
    let layout = sloguard_aws::cost::LAYOUT;
    let steady = estimate(&priced, &deployment, p, hour, layout);
    let shards = steady.per_cycle.shards.max(1.0);

    // Step 2: the fleet, played.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::default());
    rt.block_on(async {
        for d in &fleet {
            store.put_definition(d).await.unwrap();
        }
    });
    let cold = ShardCost {
        cpu_seconds: f.cpu_seconds,
        dynamodb_calls: dynamodb,
        get_metric_data_calls: count("CloudWatch GetMetricData"),
    };
    let warm = ShardCost {
        get_metric_data_calls: steady.per_cycle.get_metric_data_calls / shards,
        ..cold
    };
    println!();
    println!(
        "{slos} SLOs in shards of {shard_size}, at most {} workers, GetMetricData at {QUOTA_TPS} requests/s ({GET_METRIC_DATA_SECONDS} s each), CPU at {VCPU_SHARE:.2} vCPU ({MEMORY_MB} MB):",
        settings.shard_concurrency
    );
    let mut cycle = hour + 300;
    for (name, cost) in [("steady cycle", warm), ("cold first cycle", cold)] {
        let r = rt.block_on(play(&store, slos, &settings, cost, cycle));
        cycle += 300;
        println!(
            "  {name}: {:.1} s wall ({:.2} s of dispatch), {} shards, {} concurrent invocations + the dispatcher; GetMetricData {} requests ({:.1} per shard), {} throttled and retried, {} failed",
            r.wall_seconds,
            r.dispatch_seconds,
            r.shards,
            r.workers,
            r.calls,
            cost.get_metric_data_calls,
            r.throttled,
            r.failed
        );
        println!(
            "    requests: DynamoDB {:.0}, SQS {} (send {}, receive {}, delete {}), Lambda Invoke {}",
            cost.dynamodb_calls * f64::from(r.shards) + f64::from(r.shards) * 3.0 + 6.0,
            f64::from(r.shards).div_euclid(10.0) as usize + 1 + r.receives + r.shards as usize,
            f64::from(r.shards).div_euclid(10.0) as usize + 1,
            r.receives,
            r.shards,
            r.workers
        );
    }
    println!(
        "  peak memory per shard: {:.1} MB (the canned table included)",
        f.peak_rss_mb
    );
    let shard_seconds = f.cpu_seconds / VCPU_SHARE
        + (dynamodb / CONCURRENCY as f64).ceil() * DYNAMODB_SECONDS
        + (warm.get_metric_data_calls / CONCURRENCY as f64).ceil() * GET_METRIC_DATA_SECONDS;
    println!();
    println!("cost per SLO-month (us-east-1), a steady shard taking {shard_seconds:.2} s:");
    for n in [1_000usize, 10_000, 100_000] {
        let fleet = synthetic_fleet(n);
        let priced = priced_estimated(&fleet);
        let fanned = estimate(
            &priced,
            &Deployment {
                cycle_seconds: Some(shard_seconds),
                ..deployment.clone()
            },
            p,
            hour,
            layout,
        );
        let single = estimate(
            &priced,
            &Deployment {
                cycle_seconds: Some(shard_seconds * n as f64 / shard_size as f64),
                shard_size: n,
                workers: 1,
                ..deployment.clone()
            },
            p,
            hour,
            layout,
        );
        println!(
            "  {n:>7} SLOs: ${:.4} in shards of {shard_size} (${:.2} a month); ${:.4} as one shard; `sloguard cost --slos {n} --cycle-seconds {shard_seconds:.2}` prints the first",
            fanned.per_slo_usd(),
            fanned.total_usd,
            single.per_slo_usd()
        );
    }
}
