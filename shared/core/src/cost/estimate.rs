//! The estimate: a fleet's monthly bill from what its cycles read, write and print, at a
//! deployment and a region's prices.

use crate::slo::message::thousands;
use crate::slo::model::{MetricSpec, SloDefinition};
use crate::slo::plan::{EvalTime, QueryPlan};
use crate::slo::snapshot::{Snapshot, RECENT_HISTORY_DAYS};

use super::fleet::representative;
use super::layout::{ItemLayout, Layout};
use super::model::{
    Deployment, Estimate, FleetSlo, ItemSizes, PerCycle, Term, DISPATCHER_MEMORY_MB,
    HOURS_PER_MONTH, TEMPLATE_ALARMS, TEMPLATE_DASHBOARDS, TEMPLATE_KMS_KEYS,
};
use super::prices::{self, Prices};
use super::reads;

/// DynamoDB's per-item storage overhead, in bytes.
const ITEM_OVERHEAD: f64 = 100.0;
/// Log bytes per shard besides EMF: its "shard handled" line.
const LOG_BYTES_PER_SHARD: f64 = 300.0;
/// Log bytes per worker (an invocation): Lambda's START/END/REPORT lines.
const LOG_BYTES_PER_INVOCATION: f64 = 400.0;
/// Cycle time estimate: fixed start (listing definitions and states), seconds.
const CYCLE_BASE_SECONDS: f64 = 0.25;
/// Cycle time estimate: one GetMetricData call (calls run `concurrency` at a time), seconds.
const GET_METRIC_DATA_SECONDS: f64 = 0.30;
/// Cycle time estimate: one DynamoDB write (writes run `concurrency` at a time), seconds.
const DYNAMODB_WRITE_SECONDS: f64 = 0.010;
/// KMS requests a month: DynamoDB refreshes its table key about every 5 minutes per caller.
const KMS_REQUESTS_PER_HOUR: f64 = 12.0;
/// The dispatcher's time a cycle: three small DynamoDB calls, seconds (plus `SQS_BATCH_SECONDS`
/// per ten shards).
const DISPATCH_SECONDS: f64 = 0.05;
/// A worker's own time besides its shards: its last look at the empty queue (a quick poll
/// and the queue's depth), seconds.
const WORKER_SECONDS: f64 = 0.05;
/// One SendMessageBatch of ten shard orders, seconds.
const SQS_BATCH_SECONDS: f64 = 0.02;
/// Log bytes of a dispatch besides its EMF line: the "cycle dispatched" line and Lambda's own.
const DISPATCH_LOG_BYTES: f64 = 700.0;
/// A cycle record's size: fixed attributes, then each shard's bound (an SLO name).
const CYCLE_RECORD_BYTES: usize = 200;
const CYCLE_RECORD_BYTES_PER_SHARD: usize = 44;
/// The completed shards' item: its keys, then each shard's index in a number set.
const DONE_BYTES: usize = 60;
const DONE_BYTES_PER_SHARD: usize = 4;
/// KMS requests an hour for the shard queue: a data key for the dispatcher and one for the
/// evaluator, each reused for SQS's default 5 minutes.
const SQS_KMS_REQUESTS_PER_HOUR: f64 = 24.0;
/// Snapshot size used when a representative evaluation cannot be made, bytes.
const FALLBACK_SNAPSHOT_BYTES: usize = 1500;

/// Metrics one query of a stream requests: 1, or each MetricStat of a metric-math spec
/// (an expression that reads metrics itself, like SEARCH, is counted as 1: a lower bound).
pub fn metrics_per_query(spec: &MetricSpec) -> usize {
    match spec {
        MetricSpec::Metric { .. } => 1,
        MetricSpec::Queries { queries, .. } => {
            let stats = queries.iter().filter(|q| q.metric.is_some()).count();
            let searches = queries
                .iter()
                .filter(|q| {
                    q.expression
                        .as_deref()
                        .is_some_and(|e| e.to_ascii_uppercase().contains("SEARCH("))
                })
                .count();
            (stats + searches).max(1)
        }
    }
}

/// Metrics a plan requests: what GetMetricData bills for it.
pub fn metrics_requested(plan: &QueryPlan) -> usize {
    plan.requests
        .iter()
        .flat_map(|r| &r.queries)
        .map(|q| metrics_per_query(&plan.streams[q.stream]))
        .sum()
}

/// The evaluation times of the cycles of the hour starting at `hour` (trigger on the schedule).
pub fn cycle_times(hour: i64, d: &Deployment) -> Vec<EvalTime> {
    let hour = hour - hour.rem_euclid(3600);
    let step = d.schedule_minutes.max(1) * 60;
    (0..(3600 / step).max(1))
        .map(|k| {
            let trigger = hour + k * step;
            EvalTime::from_trigger(trigger, d.lag_seconds, trigger)
        })
        .collect()
}

/// The metric and stream-cache figures of one cycle, averaged over a whole reconciliation
/// period in steady state (tails every cycle, far edges every few hours, one full read),
/// or over the hour's cycles when every stream is read whole.
#[derive(Debug, Clone, Default, PartialEq)]
struct SteadyReads {
    calls: f64,
    metrics: f64,
    cache_read_requests: f64,
    cache_read_units: f64,
    cache_writes: f64,
    cache_write_units: f64,
    cache_bytes: f64,
}

fn steady_reads(
    slos: &[&SloDefinition],
    d: &Deployment,
    hour: i64,
    items: &dyn ItemLayout,
) -> SteadyReads {
    let step = d.schedule_minutes.max(1) * 60;
    let period = (d.reconcile_hours.max(0) * 3600).max(3600);
    let hour = hour - hour.rem_euclid(3600);
    // From a cold table one period before `hour`, then the period that is averaged.
    let times: Vec<EvalTime> = (0..2 * period / step)
        .map(|k| {
            let trigger = hour - period + k * step;
            EvalTime::from_trigger(trigger, d.lag_seconds, trigger)
        })
        .collect();
    let all = reads::simulate(slos, &times, d.reconcile_hours * 3600, items);
    let kept = &all[all.len() / 2..];
    let mean = |f: &dyn Fn(&reads::CycleReads) -> f64| {
        kept.iter().map(f).sum::<f64>() / kept.len().max(1) as f64
    };
    SteadyReads {
        calls: mean(&|r| r.calls as f64),
        metrics: mean(&|r| r.metrics as f64),
        cache_read_requests: mean(&|r| r.cache_read_requests as f64),
        cache_read_units: mean(&|r| r.cache_read_units),
        cache_writes: mean(&|r| r.cache_writes as f64),
        cache_write_units: mean(&|r| r.cache_write_units),
        cache_bytes: kept.last().map_or(0.0, |r| r.cache_bytes as f64),
    }
}

/// Price a fleet at `deployment` with `prices`, over the cycles of the hour starting at `hour`.
/// The store's item sizes and the evaluator's log lines come from `layout`.
pub fn estimate(
    fleet: &[FleetSlo],
    deployment: &Deployment,
    prices: &Prices,
    hour: i64,
    layout: Layout,
) -> Estimate {
    let n = fleet.len();
    let refs: Vec<&SloDefinition> = fleet.iter().map(|f| f.definition).collect();
    let times = cycle_times(hour, deployment);
    let cycles_per_hour = times.len() as f64;
    let reads = steady_reads(&refs, deployment, hour, layout.items);
    let reps = if n == 0 {
        Vec::new()
    } else {
        representative(&refs, times[0])
    };
    let sizes: Vec<ItemSizes> = fleet
        .iter()
        .zip(reps.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(f, rep)| {
            f.sizes
                .unwrap_or_else(|| match rep.and_then(|r| r.as_ref()) {
                    Some((snap, state)) => layout.items.sizes(f.definition, snap, state),
                    None => ItemSizes {
                        definition: 2000,
                        state: FALLBACK_SNAPSHOT_BYTES + 300,
                        snapshot: FALLBACK_SNAPSHOT_BYTES,
                    },
                })
        })
        .collect();

    // DynamoDB: per SLO a PutItem of the snapshot (1 unit per KB) every cycle and an
    // UpdateItem of the state (1 unit per KB) at the hour's checkpoint; per cycle two
    // consistent Queries (1 unit per 4 KB of all items returned). Steady state: no
    // notification, so no transaction.
    let kb = |b: usize| b.div_ceil(1024) as f64;
    // Stream caches: read each cycle (BatchGetItem), written about once an hour.
    let write_units: f64 = sizes
        .iter()
        .map(|s| kb(s.snapshot) + kb(s.state) / cycles_per_hour)
        .sum::<f64>()
        + reads.cache_write_units;
    let def_bytes: usize = sizes.iter().map(|s| s.definition).sum();
    let state_bytes: usize = sizes.iter().map(|s| s.state).sum();
    let page = 1 << 20;
    // Fan-out: each shard reads its range of definitions and states, the corrections, its
    // cycle record and the newest record (a GetItem and a one-item Query); the dispatcher
    // reads the fleet version and the newest cycle records, writes the cycle's record and
    // marks it dispatched, and each shard adds itself to the record's `done` set.
    let shards = deployment.shards(n);
    let record_bytes = CYCLE_RECORD_BYTES + CYCLE_RECORD_BYTES_PER_SHARD * shards;
    let done_bytes = DONE_BYTES + DONE_BYTES_PER_SHARD * shards;
    let record_kb = record_bytes.div_ceil(1024);
    // A Query of a cycle's two items (its record and the completed shards), consistent.
    let record_units = (record_bytes + done_bytes).div_ceil(4096) as f64;
    // And per shard one Query of the budget corrections (the CORR partition: a few small
    // items, within the units the listings round to).
    let (shard_requests, shard_units) = if n == 0 {
        (1.0, 0.0)
    } else {
        let pages = |bytes: usize| (bytes / shards).div_ceil(page).max(1) * shards;
        let units = |bytes: usize| (bytes / shards).div_ceil(4096) * shards;
        (
            (pages(def_bytes) + pages(state_bytes) + shards) as f64,
            (units(def_bytes) + units(state_bytes)) as f64,
        )
    };
    let fanout_read_requests = (2 * shards + 2) as f64;
    let fanout_read_units = 2.0 * shards as f64 * record_units
        + 1.0
        + (3 * (record_bytes + done_bytes)).div_ceil(4096) as f64;
    let read_requests = shard_requests + fanout_read_requests + reads.cache_read_requests;
    let read_units = shard_units + fanout_read_units + reads.cache_read_units;
    let record_writes = if n == 0 { 0 } else { shards + 2 };
    let record_write_units = if n == 0 {
        0.0
    } else {
        (2 * record_kb + shards * done_bytes.div_ceil(1024)) as f64
    };

    // The EMF lines the evaluator prints for this cycle.
    let snapshots: Vec<Snapshot> = reps.iter().flatten().map(|(s, _)| s.clone()).collect();
    let log = layout
        .log
        .measure(&snapshots, deployment.slo_metrics, hour * 1000);
    let dispatch_log = layout.log.dispatch(hour * 1000);
    let health = layout.log.measure(&[], deployment.slo_metrics, hour * 1000);
    let custom_metrics = log.custom_metrics + dispatch_log.custom_metrics;
    // One health line and one "shard handled" line per shard, Lambda's own lines per
    // worker; the per-SLO lines once.
    let log_bytes = log.bytes as f64
        + shards.saturating_sub(1) as f64 * health.bytes as f64
        + shards.max(1) as f64 * LOG_BYTES_PER_SHARD
        + deployment.workers(n).max(1) as f64 * LOG_BYTES_PER_INVOCATION
        + dispatch_log.bytes as f64
        + DISPATCH_LOG_BYTES;
    let calls_per_cycle = reads.calls;
    let conc = deployment.concurrency.max(1) as f64;
    let per_shard = shards.max(1) as f64;
    let workers = deployment.workers(n) as f64;
    let (lambda_seconds, estimated) = match deployment.cycle_seconds {
        Some(s) => (s * per_shard + WORKER_SECONDS * workers, false),
        None => (
            per_shard
                * (CYCLE_BASE_SECONDS
                    + GET_METRIC_DATA_SECONDS * (calls_per_cycle / per_shard / conc).ceil())
                + DYNAMODB_WRITE_SECONDS * n as f64 * (1.0 + 1.0 / cycles_per_hour) / conc
                + WORKER_SECONDS * workers,
            true,
        ),
    };
    let batches = shards.div_ceil(10) as f64;
    let dispatcher_seconds = DISPATCH_SECONDS + SQS_BATCH_SECONDS * batches;
    // SendMessageBatch per ten orders; each order received and deleted once; each worker's
    // last look (an empty ReceiveMessage and the queue's depth).
    let sqs_requests = batches + 2.0 * shards as f64 + 2.0 * workers;
    let per_cycle = PerCycle {
        get_metric_data_calls: calls_per_cycle,
        metrics_requested: reads.metrics,
        dynamodb_write_requests: n as f64 * (1.0 + 1.0 / cycles_per_hour)
            + reads.cache_writes
            + record_writes as f64,
        dynamodb_write_units: write_units + record_write_units,
        dynamodb_read_requests: read_requests,
        dynamodb_read_units: read_units,
        log_bytes,
        fanout_read_requests,
        fanout_read_units,
        fanout_write_requests: record_writes as f64,
        fanout_write_units: record_write_units,
        lambda_seconds,
        shards: shards as f64,
        workers,
        dispatcher_seconds,
        sqs_requests,
        lambda_seconds_estimated: estimated,
    };

    let cycles = HOURS_PER_MONTH * cycles_per_hour;
    // Every cycle's snapshot for RECENT_HISTORY_DAYS, one an hour for the rest of the retention.
    let recent = RECENT_HISTORY_DAYS.min(deployment.history_days);
    let kept = (recent * 1440 / deployment.schedule_minutes.max(1)
        + (deployment.history_days - recent) * 24) as f64;
    let stored_bytes: f64 = sizes
        .iter()
        .map(|s| {
            kept * (s.snapshot as f64 + ITEM_OVERHEAD)
                + s.definition as f64
                + s.state as f64
                + 2.0 * ITEM_OVERHEAD
        })
        .sum::<f64>()
        + reads.cache_bytes;
    let gib = (1u64 << 30) as f64;
    let stored_gb = stored_bytes / gib;
    let gb_seconds = cycles
        * (lambda_seconds * deployment.memory_mb + dispatcher_seconds * DISPATCHER_MEMORY_MB)
        / 1024.0;
    let sqs_month = cycles * sqs_requests;
    let kms_per_hour = KMS_REQUESTS_PER_HOUR + SQS_KMS_REQUESTS_PER_HOUR;
    let log_gb = cycles * log_bytes / gib;
    let p = prices;
    let mut terms = vec![
        Term {
            item: "CloudWatch GetMetricData".into(),
            usage: format!(
                "{} metrics requested",
                thousands((cycles * per_cycle.metrics_requested).round())
            ),
            monthly_usd: cycles * per_cycle.metrics_requested / 1000.0
                * p.get_metric_data_per_1000_metrics,
        },
        Term {
            item: "DynamoDB writes (on demand)".into(),
            usage: format!(
                "{} write units",
                thousands((cycles * per_cycle.dynamodb_write_units).round())
            ),
            monthly_usd: cycles * per_cycle.dynamodb_write_units / 1e6 * p.dynamodb_write_million,
        },
        Term {
            item: "DynamoDB reads (on demand)".into(),
            usage: format!("{} read units", thousands((cycles * read_units).round())),
            monthly_usd: cycles * read_units / 1e6 * p.dynamodb_read_million,
        },
        Term {
            item: "DynamoDB storage".into(),
            usage: format!(
                "{stored_gb:.2} GB once {} days of history are kept",
                deployment.history_days
            ),
            monthly_usd: stored_gb * p.dynamodb_storage_gb_month,
        },
    ];
    if deployment.point_in_time_recovery {
        terms.push(Term {
            item: "DynamoDB point-in-time recovery".into(),
            usage: format!("{stored_gb:.2} GB"),
            monthly_usd: stored_gb * p.dynamodb_pitr_gb_month,
        });
    }
    terms.extend([
        Term {
            item: "Lambda compute (arm64)".into(),
            usage: format!(
                "{} GB-s ({:.2} s a cycle in {} worker{} at {} MB, {:.2} s of dispatcher at {} MB)",
                thousands(gb_seconds.round()),
                lambda_seconds,
                workers,
                if workers == 1.0 { "" } else { "s" },
                deployment.memory_mb,
                dispatcher_seconds,
                DISPATCHER_MEMORY_MB
            ),
            monthly_usd: gb_seconds * p.lambda_arm64_gb_second,
        },
        Term {
            item: "Lambda requests".into(),
            usage: format!(
                "{} invocations (workers and the dispatcher)",
                thousands((cycles * (workers + 1.0)).round())
            ),
            monthly_usd: cycles * (workers + 1.0) / 1e6 * p.lambda_requests_million,
        },
        Term {
            item: "SQS requests (shard queue)".into(),
            usage: format!(
                "{} (each order sent, received, deleted; nothing polls between cycles)",
                thousands(sqs_month.round())
            ),
            monthly_usd: sqs_month / 1e6 * p.sqs_requests_million,
        },
        Term {
            item: "CloudWatch custom metrics (EMF)".into(),
            usage: format!("{custom_metrics} metrics"),
            monthly_usd: p.custom_metrics_month(custom_metrics as f64),
        },
        Term {
            item: "CloudWatch Logs ingestion".into(),
            usage: format!("{log_gb:.2} GB"),
            monthly_usd: log_gb * p.logs_ingest_gb,
        },
        Term {
            item: "CloudWatch Logs storage".into(),
            usage: format!(
                "{:.2} GB kept {} days",
                log_gb * deployment.log_retention_days / 30.4,
                deployment.log_retention_days
            ),
            monthly_usd: log_gb * deployment.log_retention_days / 30.4 * p.logs_storage_gb_month,
        },
        Term {
            item: "CloudWatch alarms".into(),
            usage: format!("{TEMPLATE_ALARMS} standard alarms"),
            monthly_usd: TEMPLATE_ALARMS as f64 * p.alarm_month,
        },
        Term {
            item: "CloudWatch dashboard".into(),
            usage: format!("{TEMPLATE_DASHBOARDS} dashboard"),
            monthly_usd: TEMPLATE_DASHBOARDS as f64 * p.dashboard_month,
        },
        Term {
            item: "KMS key".into(),
            usage: format!("{TEMPLATE_KMS_KEYS} key"),
            monthly_usd: TEMPLATE_KMS_KEYS as f64 * p.kms_key_month,
        },
        Term {
            item: "KMS requests".into(),
            usage: format!(
                "~{} (DynamoDB's table key, the shard queue's data keys)",
                thousands((kms_per_hour * HOURS_PER_MONTH).round())
            ),
            monthly_usd: kms_per_hour * HOURS_PER_MONTH / 1e4 * p.kms_requests_10k,
        },
    ]);
    let total_usd = terms.iter().map(|t| t.monthly_usd).sum();
    Estimate {
        region: p.region.to_string(),
        prices_checked: prices::CHECKED.to_string(),
        deployment: deployment.clone(),
        slos: n,
        cycles_per_month: cycles,
        per_cycle,
        custom_metrics,
        stored_bytes,
        terms,
        total_usd,
    }
}
