//! What the model prices and what it answers: the deployment (the template's parameters
//! that change the bill), the fleet with its item sizes, and the estimate, term by term.

use crate::slo::message::thousands;
use serde::Serialize;

use crate::settings::Settings;
use crate::slo::model::SloDefinition;

/// Hours in a month, as AWS's pricing examples count them.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// The template's alarms: alarm-handler errors and throttles, the failure queue (failed
/// invocations of every function and shards that failed twice), the dead man's switch
/// (ShardsMissing) and failed SLOs. The evaluator's errors and throttles need none of their
/// own: its invocations are asynchronous, so a failed or throttled-out one lands in the
/// failure queue, and a shard it leaves undone trips the switch.
pub const TEMPLATE_ALARMS: usize = 5;
/// The dispatcher's memory (the template's 256 MB).
pub const DISPATCHER_MEMORY_MB: f64 = 256.0;

/// Dashboards the SAM template creates.
pub const TEMPLATE_DASHBOARDS: usize = 1;
/// KMS keys the SAM template creates (table, topics, queue, logs share one).
pub const TEMPLATE_KMS_KEYS: usize = 1;
/// Which per-SLO custom metrics the evaluator emits (each distinct SLO and metric name is billed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloMetrics {
    /// None: the dashboard reads history from DynamoDB (the default, and the cheapest).
    #[default]
    None,
    /// BudgetRemaining per SLO, for users who want CloudWatch alarms on it.
    Budget,
    /// Budget, attainment and every window's burn rate.
    All,
}

impl SloMetrics {
    /// Parse SLO_METRICS (`none`, `budget`, `all`).
    pub fn parse(s: &str) -> Option<SloMetrics> {
        match s {
            "none" => Some(SloMetrics::None),
            "budget" => Some(SloMetrics::Budget),
            "all" => Some(SloMetrics::All),
            _ => None,
        }
    }
}

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
    /// A measured shard time (one evaluator invocation's REPORT Duration); None: estimated.
    pub cycle_seconds: Option<f64>,
    /// Days the functions' logs are kept (LogRetentionDays).
    pub log_retention_days: f64,
    /// Point-in-time recovery on the table (the template turns it on).
    pub point_in_time_recovery: bool,
    /// Per-SLO custom metrics (SloMetrics, SLO_METRICS; none by default).
    pub slo_metrics: SloMetrics,
    /// Longest time between full reads of a cached stream (ReconcileHours,
    /// SLO_RECONCILE_HOURS; 24 by default, 0: every stream read whole every cycle).
    pub reconcile_hours: i64,
    /// At most this many SLOs per shard (ShardSize, SLO_SHARD_SIZE).
    pub shard_size: usize,
    /// Workers a cycle starts at most (ShardConcurrency, SLO_SHARD_CONCURRENCY).
    pub workers: usize,
}

impl Deployment {
    /// Shards per cycle for `slos` SLOs.
    pub fn shards(&self, slos: usize) -> usize {
        slos.div_ceil(self.shard_size.max(1))
    }

    /// Workers (evaluator invocations) per cycle for `slos` SLOs.
    pub fn workers(&self, slos: usize) -> usize {
        self.shards(slos).min(self.workers.max(1))
    }
}

impl Deployment {
    /// The deployment these settings describe (schedule, lag, history, per-SLO metrics,
    /// reconciliation), with the template's memory, logs and backups.
    pub fn from_settings(s: &Settings) -> Deployment {
        Deployment {
            schedule_minutes: s.schedule_minutes,
            lag_seconds: s.lag_seconds,
            history_days: s.history_days,
            memory_mb: 512.0,
            concurrency: crate::settings::CONCURRENCY,
            cycle_seconds: None,
            log_retention_days: 365.0,
            point_in_time_recovery: true,
            slo_metrics: s.slo_metrics,
            reconcile_hours: s.reconcile_hours,
            shard_size: usize::try_from(s.shard_size).unwrap_or(1).max(1),
            workers: usize::try_from(s.shard_concurrency).unwrap_or(1).max(1),
        }
    }
}

impl Default for Deployment {
    /// The template's defaults: every setting's default (`Settings::default()`).
    fn default() -> Self {
        Deployment::from_settings(&Settings::default())
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
    /// Of the reads, the fan-out's own: each shard's cycle record and the newest one, the
    /// dispatcher's fleet version and newest records (requests, then units).
    pub fanout_read_requests: f64,
    pub fanout_read_units: f64,
    /// Of the writes, the cycle record's: written, marked dispatched, marked done per shard.
    pub fanout_write_requests: f64,
    pub fanout_write_units: f64,
    /// Lambda duration of the evaluator's invocations (all shards), seconds.
    pub lambda_seconds: f64,
    /// Shards.
    pub shards: f64,
    /// Evaluator invocations (workers).
    pub workers: f64,
    /// The dispatcher's duration, seconds.
    pub dispatcher_seconds: f64,
    /// SQS requests for the cycle's orders: sent ten to a batch, each received and deleted,
    /// and each worker's last look at an empty queue (nothing polls between cycles).
    pub sqs_requests: f64,
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
    pub fn per_slo(&self, v: f64) -> f64 {
        v / self.slos.max(1) as f64
    }

    /// The bill as people read it: the per-cycle units, then the terms.
    pub fn render(&self) -> String {
        let c = &self.per_cycle;
        let mut out = format!(
            "{} SLOs, a cycle every {} minutes ({} cycles a month), {} prices of {} (check them before quoting)\n\n",
            self.slos,
            self.deployment.schedule_minutes,
            thousands(self.cycles_per_month.round()),
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
            "           {} shard{} of at most {} SLOs taken by {} worker{}, one dispatch ({:.2} s), {:.0} SQS requests\n",
            c.shards,
            if c.shards == 1.0 { "" } else { "s" },
            self.deployment.shard_size,
            c.workers,
            if c.workers == 1.0 { "" } else { "s" },
            c.dispatcher_seconds,
            c.sqs_requests
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
