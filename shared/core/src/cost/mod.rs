//! The cost model: what a fleet of SLOs costs a month on AWS, term by term, from
//! the reads the cycle really makes, the items it really writes and the EMF lines it
//! really prints. Pure: no AWS call; prices come from `prices.rs`.
//!
//! GetMetricData (billed per metric requested) and the stream caches come from `reads`,
//! which runs the cycle's own incremental planner over a simulated reconciliation period
//! (a day by default) and averages it. Per cycle the evaluator also makes two consistent
//! Query calls (definitions, states) and per SLO one PutItem (the history snapshot) and,
//! once an hour in steady state, one conditional UpdateItem of the state item (a cycle
//! that changes nothing but the evaluation time leaves the state alone; a transaction
//! only carries notifications). `tests/tests/cost.rs` counts the same units on the
//! emulator and checks this model against them.

pub mod prices;
pub mod reads;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::app::cycle::{CycleReport, SloOutcome};
use crate::app::emf;
use crate::slo::evaluate::evaluate;
use crate::slo::load::{load, SourceFile};
use crate::slo::model::{Indicator, MetricSpec, Op, SloDefinition};
use crate::slo::plan::{EvalTime, QueryPlan};
use crate::slo::series::{Series, StreamData};
use crate::slo::snapshot::{Snapshot, RECENT_HISTORY_DAYS};
use crate::slo::status::{decide, Rules, SloState};

pub use prices::Prices;

/// Hours in a month, as AWS's pricing examples count them.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// The template's alarms with one shard: evaluator and alarm-handler errors and throttles,
/// the failure queue, the dead man's switch of shard 0, and failed SLOs.
pub const TEMPLATE_ALARMS: usize = 7;
/// Dashboards the SAM template creates.
pub const TEMPLATE_DASHBOARDS: usize = 1;
/// KMS keys the SAM template creates (table, topics, queue, logs share one).
pub const TEMPLATE_KMS_KEYS: usize = 1;
/// DynamoDB's per-item storage overhead, in bytes.
const ITEM_OVERHEAD: f64 = 100.0;
/// Log bytes per cycle besides EMF: the "cycle complete" line and Lambda's START/END/REPORT lines.
const LOG_BYTES_PER_CYCLE: f64 = 700.0;
/// Cycle time estimate: fixed start (listing definitions and states), seconds.
const CYCLE_BASE_SECONDS: f64 = 0.25;
/// Cycle time estimate: one GetMetricData call (calls run `concurrency` at a time), seconds.
const GET_METRIC_DATA_SECONDS: f64 = 0.30;
/// Cycle time estimate: one DynamoDB write (writes run `concurrency` at a time), seconds.
const DYNAMODB_WRITE_SECONDS: f64 = 0.010;
/// KMS requests a month: DynamoDB refreshes its table key about every 5 minutes per caller.
const KMS_REQUESTS_PER_HOUR: f64 = 12.0;
/// Snapshot size used when a representative evaluation cannot be made, bytes.
const FALLBACK_SNAPSHOT_BYTES: usize = 1500;

/// How the stack is deployed: the template's parameters that change the bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    /// Minutes between cycles (ScheduleMinutes, SLO_SCHEDULE_MINUTES).
    pub schedule_minutes: i64,
    /// Data lag subtracted from the trigger time (SLO_LAG_SECONDS).
    pub lag_seconds: i64,
    /// Days history snapshots are kept (HistoryRetentionDays, SLO_HISTORY_DAYS).
    pub history_days: i64,
    /// The evaluator's memory (the template's 512 MB).
    pub memory_mb: f64,
    /// GetMetricData calls and SLOs processed at once (`app::Config::concurrency`).
    pub concurrency: usize,
    /// A measured cycle time (the REPORT line's Duration); None: estimated.
    pub cycle_seconds: Option<f64>,
    /// Days the functions' logs are kept (LogRetentionDays).
    pub log_retention_days: f64,
    /// Point-in-time recovery on the table (the template turns it on).
    pub point_in_time_recovery: bool,
    /// Per-SLO custom metrics (SloMetrics, SLO_METRICS; none by default).
    pub slo_metrics: emf::SloMetrics,
    /// Longest time between full reads of a cached stream (ReconcileHours,
    /// SLO_RECONCILE_HOURS; 24 by default, 0: every stream read whole every cycle).
    pub reconcile_hours: i64,
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            schedule_minutes: 5,
            lag_seconds: 120,
            history_days: 400,
            memory_mb: 512.0,
            concurrency: 8,
            cycle_seconds: None,
            log_retention_days: 365.0,
            point_in_time_recovery: true,
            slo_metrics: emf::SloMetrics::None,
            reconcile_hours: 24,
        }
    }
}

/// Sizes of the items one SLO's cycle reads and writes, in bytes as DynamoDB counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ItemSizes {
    /// The definition item (read by every cycle's Query of definitions).
    pub definition: usize,
    /// The state item (read by the Query of states, rewritten by every commit).
    pub state: usize,
    /// One history snapshot item (written once per cycle, kept for the retention).
    pub snapshot: usize,
}

/// One SLO of the fleet to price, with its measured item sizes when a table has them.
#[derive(Debug, Clone, Copy)]
pub struct FleetSlo<'a> {
    /// The definition (for the query plan).
    pub definition: &'a SloDefinition,
    /// Sizes read from the table; None: estimated from a representative evaluation.
    pub sizes: Option<ItemSizes>,
}

/// What one cycle does for the whole fleet, averaged over the cycles of an hour.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PerCycle {
    /// GetMetricData calls.
    pub get_metric_data_calls: f64,
    /// Metrics requested (what GetMetricData bills): each MetricStat of each call.
    pub metrics_requested: f64,
    /// DynamoDB write requests (PutItem of snapshots, UpdateItem of states at the hour's checkpoint).
    pub dynamodb_write_requests: f64,
    /// DynamoDB write request units (on demand).
    pub dynamodb_write_units: f64,
    /// DynamoDB read requests (Query pages).
    pub dynamodb_read_requests: f64,
    /// DynamoDB read request units (consistent reads: 1 per 4 KB).
    pub dynamodb_read_units: f64,
    /// Bytes of log lines (EMF and the cycle's own).
    pub log_bytes: f64,
    /// Lambda duration, seconds.
    pub lambda_seconds: f64,
    /// True when `lambda_seconds` is an estimate, not a measurement.
    pub lambda_seconds_estimated: bool,
}

/// One line of the bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    /// What is billed.
    pub item: String,
    /// The usage behind it, in words.
    pub usage: String,
    /// US dollars a month.
    pub monthly_usd: f64,
}

/// The expected monthly bill of a fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Region whose prices were used.
    pub region: String,
    /// When those prices were last checked.
    pub prices_checked: String,
    /// The deployment priced.
    pub deployment: Deployment,
    /// SLOs in the fleet.
    pub slos: usize,
    /// Evaluation cycles a month.
    pub cycles_per_month: f64,
    /// Units of one cycle.
    pub per_cycle: PerCycle,
    /// Distinct custom metrics (namespace, name, dimensions) the EMF lines create.
    pub custom_metrics: usize,
    /// Table size once history is full, bytes.
    pub stored_bytes: f64,
    /// The bill, term by term.
    pub terms: Vec<Term>,
    /// Sum of the terms, US dollars a month.
    pub total_usd: f64,
}

impl Estimate {
    /// Dollars a month per SLO (the whole bill shared out).
    pub fn per_slo_usd(&self) -> f64 {
        self.total_usd / self.slos.max(1) as f64
    }

    /// A figure of one cycle divided by the SLOs.
    fn per_slo(&self, v: f64) -> f64 {
        v / self.slos.max(1) as f64
    }

    /// The bill as people read it: the per-cycle units, then the terms.
    pub fn render(&self) -> String {
        let c = &self.per_cycle;
        let mut out = format!(
            "{} SLOs, a cycle every {} minutes ({} cycles a month), {} prices of {} (check them before quoting)\n\n",
            self.slos,
            self.deployment.schedule_minutes,
            thousands(self.cycles_per_month),
            self.region,
            self.prices_checked
        );
        out.push_str(&format!(
            "per cycle: {:.1} GetMetricData calls requesting {:.1} metrics ({:.2} per SLO; goal <= 2.5 per ratio SLO)\n",
            c.get_metric_data_calls,
            c.metrics_requested,
            self.per_slo(c.metrics_requested)
        ));
        out.push_str(&format!(
            "           {:.0} DynamoDB writes, {:.1} write units ({:.2} per SLO; goal <= 2); {:.0} reads, {:.1} read units\n",
            c.dynamodb_write_requests,
            c.dynamodb_write_units,
            self.per_slo(c.dynamodb_write_units),
            c.dynamodb_read_requests,
            c.dynamodb_read_units
        ));
        out.push_str(&format!(
            "           {:.2} s of Lambda ({}), {:.1} KB of logs\n",
            c.lambda_seconds,
            if c.lambda_seconds_estimated {
                "estimated; --cycle-seconds for a measured Duration"
            } else {
                "measured"
            },
            c.log_bytes / 1024.0
        ));
        out.push_str(&format!(
            "custom metrics: {} ({:.1} per SLO; goal 0 per SLO)\n\n",
            self.custom_metrics,
            self.per_slo(self.custom_metrics as f64)
        ));
        out.push_str("| item | usage per month | $ per month |\n|---|---|---:|\n");
        for t in &self.terms {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                t.item,
                t.usage,
                usd(t.monthly_usd)
            ));
        }
        out.push_str(&format!(
            "| **total** | | **{}** |\n\n{} per SLO a month\n",
            usd(self.total_usd),
            usd(self.per_slo_usd())
        ));
        out
    }
}

/// Dollars with cents and thousands separators.
pub fn usd(v: f64) -> String {
    let cents = (v * 100.0).round() as i64;
    format!("${}.{:02}", thousands((cents / 100) as f64), cents % 100)
}

/// A whole number with thousands separators.
fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes of a number attribute value: 1 byte per two significant digits, plus 1.
pub fn number_size(v: &str) -> usize {
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

/// Bytes of a snapshot item (`SNAP#<slo>`, evaluated_at, the snapshot JSON, `expires_at`).
pub fn snapshot_item_size(slo: &str, evaluated_at: &str, snapshot_json_len: usize) -> usize {
    2 + 5 + slo.len() + 2 + evaluated_at.len() + 8 + snapshot_json_len + 10 + 6
}

fn json_len<T: Serialize>(v: &T) -> usize {
    serde_json::to_string(v).map_or(0, |s| s.len())
}

/// The item sizes of one SLO at a representative evaluation (the adapter's layout).
pub fn estimated_sizes(slo: &SloDefinition, snapshot: &Snapshot, state: &SloState) -> ItemSizes {
    let keys = |pk: &str| 2 + pk.len() + 2 + slo.name.len();
    let definition =
        keys("DEF") + 10 + json_len(slo) + 7 + number_size("1") + 7 + slo.service.len() + 10 + 20;
    let snapshot_len = snapshot.to_stored().len();
    // state + a version of 6 digits (a year of 5-minute cycles)
    let state_size = keys("STATE") + 5 + json_len(state) + 7 + 4;
    ItemSizes {
        definition,
        state: state_size,
        snapshot: snapshot_item_size(&slo.name, &snapshot.evaluated_at, snapshot_len),
    }
}

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

#[derive(Clone, Copy)]
enum Role {
    Bad,
    Good,
    Total,
    Value(f64),
}

/// Snapshots and states of a plausible evaluation of each SLO at `t`: ~1,000 events a
/// minute with a few bad ones and a missing datapoint now and then, so the numbers
/// have the digits real ones have.
pub fn representative(slos: &[&SloDefinition], t: EvalTime) -> Vec<Option<(Snapshot, SloState)>> {
    let plan = QueryPlan::build(slos, t);
    let mut roles = vec![Role::Total; plan.streams.len()];
    for (slo, ids) in slos.iter().zip(&plan.slo_streams) {
        match &slo.indicator {
            Indicator::Ratio { good, .. } => {
                roles[ids[0]] = if *good { Role::Good } else { Role::Bad };
            }
            Indicator::Threshold { .. } | Indicator::Raw { .. } => {
                let v = slo.objective.value.unwrap_or(100.0);
                let good = match slo.objective.op {
                    Some(Op::Lt | Op::Lte) | None => v * 0.87,
                    Some(Op::Gt | Op::Gte) => v * 1.13,
                };
                roles[ids[0]] = Role::Value(good);
            }
        }
    }
    let data: Vec<StreamData> = plan
        .segments
        .iter()
        .zip(&roles)
        .enumerate()
        .map(|(i, (segs, role))| {
            StreamData::new(
                segs.iter()
                    .map(|g| {
                        let mut s = Series::empty(g.start, g.end, g.period);
                        let minutes = (g.period / 60) as f64;
                        for (k, v) in s.values.iter_mut().enumerate() {
                            let total = 1000.0 * minutes + ((k * 7 + i) % 13) as f64;
                            let bad = ((k * 7 + i) % 3) as f64 * minutes * 0.37;
                            *v = if (k + i) % 97 == 0 {
                                f64::NAN
                            } else {
                                match role {
                                    Role::Total => total,
                                    Role::Bad => bad.round(),
                                    Role::Good => total - bad.round(),
                                    Role::Value(x) => x + (k % 7) as f64 * 0.013,
                                }
                            };
                        }
                        s
                    })
                    .collect(),
            )
        })
        .collect();
    slos.iter()
        .zip(&plan.slo_streams)
        .map(|(slo, ids)| {
            let streams: Vec<&StreamData> = ids.iter().map(|i| &data[*i]).collect();
            let eval = evaluate(slo, t, &streams).ok()?;
            let decision = decide(&SloState::default(), &eval, &Rules::for_slo(slo, false));
            let snap = Snapshot::new(slo, &eval, decision.observed, None, &[], None);
            Some((snap, decision.state.unwrap_or_default()))
        })
        .collect()
}

/// One custom metric as CloudWatch bills it: namespace, name, dimension names and values.
pub type CustomMetric = (String, String, Vec<(String, String)>);

/// Distinct custom metrics (namespace, name, dimension names and values) in EMF lines.
pub fn distinct_emf_metrics<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<CustomMetric> {
    let mut out = BTreeSet::new();
    for line in lines {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let directives = v["_aws"]["CloudWatchMetrics"].as_array().cloned();
        for d in directives.unwrap_or_default() {
            let ns = d["Namespace"].as_str().unwrap_or_default().to_string();
            for set in d["Dimensions"].as_array().cloned().unwrap_or_default() {
                let dims: Vec<(String, String)> = set
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|n| n.as_str())
                    .map(|n| (n.to_string(), v[n].as_str().unwrap_or_default().to_string()))
                    .collect();
                for m in d["Metrics"].as_array().cloned().unwrap_or_default() {
                    let name = m["Name"].as_str().unwrap_or_default().to_string();
                    out.insert((ns.clone(), name, dims.clone()));
                }
            }
        }
    }
    out
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

fn steady_reads(slos: &[&SloDefinition], d: &Deployment, hour: i64) -> SteadyReads {
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
    let all = reads::simulate(slos, &times, d.reconcile_hours * 3600);
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
pub fn estimate(
    fleet: &[FleetSlo],
    deployment: &Deployment,
    prices: &Prices,
    hour: i64,
) -> Estimate {
    let n = fleet.len();
    let refs: Vec<&SloDefinition> = fleet.iter().map(|f| f.definition).collect();
    let times = cycle_times(hour, deployment);
    let cycles_per_hour = times.len() as f64;
    let reads = steady_reads(&refs, deployment, hour);
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
                    Some((snap, state)) => estimated_sizes(f.definition, snap, state),
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
    let read_requests = if n == 0 {
        1.0
    } else {
        (def_bytes.div_ceil(page).max(1) + state_bytes.div_ceil(page).max(1)) as f64
            + reads.cache_read_requests
    };
    let read_units =
        (def_bytes.div_ceil(4096) + state_bytes.div_ceil(4096)) as f64 + reads.cache_read_units;

    // The EMF lines the evaluator prints for this cycle.
    let report = CycleReport {
        evaluated_at: String::new(),
        slos: reps
            .iter()
            .flatten()
            .map(|(snap, _)| SloOutcome {
                slo: snap.slo.clone(),
                status: Some(snap.status),
                change: None,
                notifications_sent: 0,
                error: None,
                notify_errors: Vec::new(),
                snapshot: Some(snap.clone()),
            })
            .collect(),
        evaluated: n,
        failed: 0,
        notifications_sent: 0,
        metric_requests: 0,
    };
    let source = emf::Source {
        stack: "sloguard".into(),
        shard: "0".into(),
        slo_metrics: deployment.slo_metrics,
    };
    let lines = emf::cycle_lines(&source, &report, hour * 1000);
    let custom_metrics = distinct_emf_metrics(lines.iter().map(String::as_str)).len();
    let log_bytes = lines.iter().map(|l| l.len() + 1).sum::<usize>() as f64 + LOG_BYTES_PER_CYCLE;

    let calls_per_cycle = reads.calls;
    let conc = deployment.concurrency.max(1) as f64;
    let (lambda_seconds, estimated) = match deployment.cycle_seconds {
        Some(s) => (s, false),
        None => (
            CYCLE_BASE_SECONDS
                + GET_METRIC_DATA_SECONDS * (calls_per_cycle / conc).ceil()
                + DYNAMODB_WRITE_SECONDS * n as f64 * (1.0 + 1.0 / cycles_per_hour) / conc,
            true,
        ),
    };
    let per_cycle = PerCycle {
        get_metric_data_calls: calls_per_cycle,
        metrics_requested: reads.metrics,
        dynamodb_write_requests: n as f64 * (1.0 + 1.0 / cycles_per_hour) + reads.cache_writes,
        dynamodb_write_units: write_units,
        dynamodb_read_requests: read_requests,
        dynamodb_read_units: read_units,
        log_bytes,
        lambda_seconds,
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
    let gb_seconds = cycles * lambda_seconds * deployment.memory_mb / 1024.0;
    let log_gb = cycles * log_bytes / gib;
    let p = prices;
    let mut terms = vec![
        Term {
            item: "CloudWatch GetMetricData".into(),
            usage: format!(
                "{} metrics requested",
                thousands(cycles * per_cycle.metrics_requested)
            ),
            monthly_usd: cycles * per_cycle.metrics_requested / 1000.0
                * p.get_metric_data_per_1000_metrics,
        },
        Term {
            item: "DynamoDB writes (on demand)".into(),
            usage: format!("{} write units", thousands(cycles * write_units)),
            monthly_usd: cycles * write_units / 1e6 * p.dynamodb_write_million,
        },
        Term {
            item: "DynamoDB reads (on demand)".into(),
            usage: format!("{} read units", thousands(cycles * read_units)),
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
                "{} GB-s ({:.2} s a cycle at {} MB)",
                thousands(gb_seconds),
                lambda_seconds,
                deployment.memory_mb
            ),
            monthly_usd: gb_seconds * p.lambda_arm64_gb_second,
        },
        Term {
            item: "Lambda requests".into(),
            usage: format!("{} invocations", thousands(cycles)),
            monthly_usd: cycles / 1e6 * p.lambda_requests_million,
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
                "~{} (DynamoDB's table key)",
                thousands(KMS_REQUESTS_PER_HOUR * HOURS_PER_MONTH)
            ),
            monthly_usd: KMS_REQUESTS_PER_HOUR * HOURS_PER_MONTH / 1e4 * p.kms_requests_10k,
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

/// A fleet of `n` ratio SLOs (bad/total, 99.9%, 30 days, default alerting), each on
/// metrics of its own: the hypothetical fleet of `sloguard cost --slos N` and the benches.
pub fn synthetic_fleet(n: usize) -> Vec<SloDefinition> {
    // 100 SLOs per file keeps each file far below the loader's size limit.
    let files: Vec<SourceFile> = (0..n)
        .collect::<Vec<_>>()
        .chunks(100)
        .enumerate()
        .map(|(f, chunk)| SourceFile {
            name: format!("fleet-{f}.yaml"),
            text: chunk.iter().map(|i| synthetic_slo(*i)).collect(),
        })
        .collect();
    let loaded = load(&files);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems.first());
    loaded.slos
}

fn synthetic_slo(i: usize) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: slo-{i:05}
spec:
  service: service-{s:03}
  indicator:
    metadata:
      name: sli-{i:05}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec: {{region: us-east-1, namespace: Fleet, metricName: Errors, stat: Sum, dimensions: [{{name: Endpoint, value: endpoint-{i:05}}}]}}
        total:
          metricSource:
            type: CloudWatch
            spec: {{region: us-east-1, namespace: Fleet, metricName: Requests, stat: Sum, dimensions: [{{name: Endpoint, value: endpoint-{i:05}}}]}}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
"#,
        s = i % 37
    )
}

/// The fleet sizes README's cost section shows.
pub const README_FLEETS: [usize; 3] = [10, 100, 1000];
/// The hour README's figures are computed at (fixed, so the table does not drift).
pub const README_HOUR: i64 = 1_795_608_000; // 2026-11-25T12:00:00Z

/// README's cost table: synthetic fleets of 10, 100 and 1,000 SLOs at the template's
/// defaults and us-east-1 prices. `make cost-table` prints it; a test keeps README in step.
pub fn readme_table() -> String {
    let prices = prices::for_region("us-east-1").expect("us-east-1 is known");
    let d = Deployment::default();
    let fleets: Vec<Vec<SloDefinition>> =
        README_FLEETS.iter().map(|n| synthetic_fleet(*n)).collect();
    let estimates: Vec<Estimate> = fleets
        .iter()
        .map(|f| {
            let fleet: Vec<FleetSlo> = f
                .iter()
                .map(|definition| FleetSlo {
                    definition,
                    sizes: None,
                })
                .collect();
            estimate(&fleet, &d, prices, README_HOUR)
        })
        .collect();
    let mut out = String::from("| $ per month (us-east-1) |");
    for n in README_FLEETS {
        out.push_str(&format!(" {} SLOs |", thousands(n as f64)));
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(README_FLEETS.len()));
    out.push('\n');
    for (i, t) in estimates[0].terms.iter().enumerate() {
        out.push_str(&format!("| {} |", t.item));
        for e in &estimates {
            out.push_str(&format!(" {} |", usd(e.terms[i].monthly_usd)));
        }
        out.push('\n');
    }
    out.push_str("| **total** |");
    for e in &estimates {
        out.push_str(&format!(" **{}** |", usd(e.total_usd)));
    }
    // A tenth of a cent shown: the goal ($0.25 per SLO at 100 SLOs) is met by less than a cent.
    out.push_str("\n| **per SLO** |");
    for e in &estimates {
        out.push_str(&format!(" **${:.3}** |", e.per_slo_usd()));
    }
    out.push_str("\n| per SLO: metrics requested and write units per cycle, custom metrics |");
    for e in &estimates {
        out.push_str(&format!(
            " {:.2} / {:.2} / {:.1} |",
            e.per_slo(e.per_cycle.metrics_requested),
            e.per_slo(e.per_cycle.dynamodb_write_units),
            e.per_slo(e.custom_metrics as f64)
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests;
