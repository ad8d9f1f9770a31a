//! Fan-out: one schedule starts a cycle; the dispatcher cuts the stored fleet into shards
//! of at most `shard_size` SLOs (contiguous name ranges), queues one order per shard and
//! starts a bounded number of workers (evaluator invocations). Each worker takes orders
//! from the queue until none is left, runs each shard as an ordinary cycle over its range
//! and marks it done in the cycle's record; a failed shard is made visible again soon, so
//! it is retried once within the cycle before the queue dead-letters it. Shards completed
//! against shards dispatched is the dead man's switch, judged by the next dispatch. A
//! repeated schedule delivery queues nothing twice, a cycle still running when the next
//! one starts holds that one back (reported), and a shard order is only run when it
//! matches a cycle this stack's dispatcher recorded. Nothing polls between cycles.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;

use serde::Serialize;

use crate::slo::shard::{bounds_of, bounds_to_ranges, cut, NameRange};

use super::cycle::{
    run_cycle, CycleError, CycleReport, CycleRequest, SloError, MAX_FUTURE_SECONDS,
};
use super::ports::{BudgetStore, MetricSource, Notifier, StoreError};
use super::App;

/// How long cycle records are kept: long enough to read a week of switch history by hand.
pub const CYCLE_RECORD_DAYS: i64 = 7;

/// One shard of one cycle, as queued for an evaluator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardOrder {
    /// The cycle's trigger time (epoch seconds): every shard evaluates at the same time.
    pub cycle: i64,
    /// 0-based, below `of`.
    pub index: u32,
    /// Shards in the cycle.
    pub of: u32,
    /// The SLOs this shard evaluates: checked against the cycle's recorded cut.
    pub range: NameRange,
}

/// What the store keeps of one cycle: its cut and which shards completed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CycleRecord {
    /// The trigger time (epoch seconds), the cycle's identity.
    pub cycle: i64,
    /// Wall clock when the dispatcher recorded it (epoch seconds).
    pub started: i64,
    pub shards: u32,
    /// The cut's inner bounds (`slo::shard::bounds_of`): a resent dispatch cuts as the first.
    pub bounds: Vec<String>,
    /// Indexes of the shards that completed.
    pub done: BTreeSet<u32>,
    /// Every order was queued (false: a dispatch that failed half-way, resent on retry).
    pub dispatched: bool,
    /// SLOs stored when the fleet was cut.
    pub slos: usize,
    /// The store's fleet version when the fleet was cut: the next cycle reuses the cut
    /// while it holds (and the shard size is the same).
    pub fleet_version: u64,
    /// The shard size the fleet was cut with.
    pub shard_size: usize,
}

impl CycleRecord {
    /// Shards dispatched and not completed: what the dead man's switch counts.
    pub fn missing(&self) -> u32 {
        self.shards
            .saturating_sub(u32::try_from(self.done.len()).unwrap_or(u32::MAX))
    }

    /// The orders of this cycle, one per shard.
    pub fn orders(&self) -> Vec<ShardOrder> {
        bounds_to_ranges(&self.bounds, self.shards as usize)
            .into_iter()
            .zip(0u32..)
            .map(|(range, index)| ShardOrder {
                cycle: self.cycle,
                index,
                of: self.shards,
                range,
            })
            .collect()
    }
}

/// Cycle records: the dispatcher's bookkeeping and the switch's source.
pub trait CycleStore: Send + Sync {
    /// Record a new cycle before its orders are queued; false when it was recorded before
    /// (a repeated delivery of the same schedule event).
    fn begin_cycle(
        &self,
        record: &CycleRecord,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Every order of the cycle is queued.
    fn mark_dispatched(&self, cycle: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// One cycle's record.
    fn cycle(
        &self,
        cycle: i64,
    ) -> impl Future<Output = Result<Option<CycleRecord>, StoreError>> + Send;
    /// The newest `limit` cycle records, newest first.
    fn recent_cycles(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CycleRecord>, StoreError>> + Send;
    /// Mark shard `index` of `cycle` completed (idempotent: a set, not a counter).
    fn complete_shard(
        &self,
        cycle: i64,
        index: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Why shard orders were not all queued.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{queued} of {total} shard orders queued: {message}")]
pub struct QueueError {
    /// Orders queued (or workers started) before the failure: what a retry must not repeat.
    pub queued: usize,
    /// Orders (or workers) asked for.
    pub total: usize,
    /// The service's words, for the log.
    pub message: String,
}

/// One order taken from the queue: its receipt (to settle it) and the order, or why its
/// body is not one.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// What settles this delivery (SQS's receipt handle): it changes with each delivery.
    pub receipt: String,
    /// The order, or why the body is not one (refused, and dead-lettered after a retry).
    pub order: Result<ShardOrder, String>,
}

/// Where shard orders wait (SQS in AWS): each order is taken by one worker at a time, at
/// least once, and comes back if it is not settled.
pub trait ShardQueue: Send + Sync {
    /// Queue every order, or fail saying how many were queued.
    fn send(&self, orders: &[ShardOrder]) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Take the next visible order, waiting up to `wait_seconds` for one.
    fn receive(
        &self,
        wait_seconds: i32,
    ) -> impl Future<Output = Result<Option<Received>, QueueError>> + Send;
    /// Orders waiting or taken and not settled (in flight): while any are, work may remain.
    fn pending(&self) -> impl Future<Output = Result<u64, QueueError>> + Send;
    /// The order is done: remove it.
    fn done(&self, receipt: &str) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// The order failed: make it visible again soon (the queue dead-letters it after its
    /// second failure).
    fn retry_soon(&self, receipt: &str) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Starts workers (asynchronous evaluator invocations in AWS) that drain the shard queue.
pub trait Workers: Send + Sync {
    /// Start `n` workers for `cycle`.
    fn start(&self, n: u32, cycle: i64) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// What one schedule asks of the dispatcher.
#[derive(Debug, Clone)]
pub struct DispatchRequest {
    /// The schedule's trigger time (epoch seconds).
    pub cycle: i64,
    /// The wall clock (epoch seconds).
    pub now: i64,
    /// At most this many SLOs per shard (SLO_SHARD_SIZE).
    pub shard_size: usize,
    /// The schedule period: a cycle older than two periods no longer holds the next back.
    pub schedule_seconds: i64,
    /// At most this many workers at once (SLO_SHARD_CONCURRENCY): what keeps GetMetricData
    /// under the account's request quota.
    pub workers: u32,
}

/// Why a cycle was not dispatched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Skip {
    /// The previous cycle still has shards running: dispatching now would evaluate their
    /// SLOs twice at once.
    StillRunning { cycle: i64, done: u32, shards: u32 },
    /// A newer cycle is already recorded: this schedule event arrived late.
    Superseded { by: i64 },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::StillRunning {
                cycle,
                done,
                shards,
            } => write!(
                f,
                "cycle {} is still running ({done} of {shards} shards completed); this cycle is skipped",
                crate::slo::message::rfc3339(*cycle)
            ),
            Skip::Superseded { by } => write!(
                f,
                "a newer cycle ({}) is already dispatched; this late schedule event is dropped",
                crate::slo::message::rfc3339(*by)
            ),
        }
    }
}

/// What a dispatch did: the Lambda response and the switch's figures.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DispatchReport {
    pub cycle: i64,
    /// SLOs stored when the cycle was cut (0 when nothing was cut).
    pub slos: usize,
    /// Shards in this cycle.
    pub shards: u32,
    /// Orders queued by this invocation.
    pub dispatched: u32,
    /// The cycle before this one, judged now.
    pub previous: Option<i64>,
    /// Its shards that never completed: the dead man's switch.
    pub previous_missing: u32,
    /// Why nothing was dispatched, when nothing was.
    pub skipped: Option<Skip>,
    /// The schedule event was delivered before (orders are resent only when the first
    /// delivery failed half-way).
    pub repeated: bool,
    /// Workers started.
    pub workers: u32,
}

/// Why a dispatch failed (Lambda retries the schedule event; nothing is queued twice).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DispatchError {
    #[error("cannot read or write cycle records or SLO names: {0}")]
    Store(#[from] StoreError),
    #[error("cannot queue the cycle's shards or start its workers: {0}")]
    Queue(#[from] QueueError),
    #[error("SLO_SHARD_SIZE is 0; a shard holds at least one SLO")]
    NoShardSize,
    /// A cycle recorded in the future would make every real schedule look late.
    #[error("cycle time {cycle} is {} s ahead of the clock; more than {MAX_FUTURE_SECONDS} s ahead is refused", .cycle - .now)]
    FutureCycle { cycle: i64, now: i64 },
}

impl DispatchError {
    /// A stable error type for Lambda diagnostics and alarms.
    pub fn error_type(&self) -> &'static str {
        match self {
            DispatchError::Store(_) => "StoreUnavailable",
            DispatchError::Queue(_) => "QueueUnavailable",
            DispatchError::NoShardSize => "BadSettings",
            DispatchError::FutureCycle { .. } => "FutureTrigger",
        }
    }
}

/// Records looked at: the two cycles the switch judges (within `SWITCH_PERIODS`), and one
/// more to tell a repeated or late schedule event from a new one.
const RECENT: usize = 3;
/// The switch reports the worst of the cycles started within this many schedule periods
/// (two and a half: the previous two, with the schedule's jitter), so a shard lost for
/// good is counted at two schedules in a row, as the alarm (2 of 2) needs.
const SWITCH_PERIODS_X2: i64 = 5;

/// Start one cycle: judge the previous one, cut the fleet, queue one order per shard and
/// start the workers.
pub async fn dispatch<S, Q, W>(
    store: &S,
    queue: &Q,
    workers: &W,
    req: &DispatchRequest,
) -> Result<DispatchReport, DispatchError>
where
    S: CycleStore + BudgetStore,
    Q: ShardQueue,
    W: Workers,
{
    if req.shard_size == 0 {
        return Err(DispatchError::NoShardSize);
    }
    if req.cycle > req.now + MAX_FUTURE_SECONDS {
        return Err(DispatchError::FutureCycle {
            cycle: req.cycle,
            now: req.now,
        });
    }
    let recent = store.recent_cycles(RECENT).await?;
    let previous = recent.iter().find(|c| c.cycle < req.cycle);
    let judged = recent.iter().filter(|c| {
        c.cycle < req.cycle && 2 * (req.now - c.started) < SWITCH_PERIODS_X2 * req.schedule_seconds
    });
    let mut report = DispatchReport {
        cycle: req.cycle,
        previous: previous.map(|p| p.cycle),
        previous_missing: judged.map(CycleRecord::missing).max().unwrap_or(0),
        ..DispatchReport::default()
    };
    if let Some(newer) = recent.iter().find(|c| c.cycle > req.cycle) {
        report.skipped = Some(Skip::Superseded { by: newer.cycle });
        return Ok(report);
    }
    if let Some(own) = recent.iter().find(|c| c.cycle == req.cycle) {
        report.repeated = true;
        report.shards = own.shards;
        if !own.dispatched {
            // The first delivery failed half-way: queue the orders not completed yet, cut as
            // the first time. A shard that did run checks the record and is not run again.
            let orders: Vec<ShardOrder> = own
                .orders()
                .into_iter()
                .filter(|o| !own.done.contains(&o.index))
                .collect();
            queue.send(&orders).await?;
            store.mark_dispatched(req.cycle).await?;
            report.dispatched = u32::try_from(orders.len()).unwrap_or(u32::MAX);
        }
        // Workers for whatever waits: the first delivery may have failed before (or while)
        // starting them; a duplicate's extra workers find the queue drained and stop.
        let waiting = u32::try_from(queue.pending().await?).unwrap_or(u32::MAX);
        report.workers = start_workers(workers, req, waiting).await?;
        return Ok(report);
    }
    if let Some(p) = previous {
        // Its orders still wait or run: dispatching now would evaluate their SLOs twice at
        // once. Shards lost for good (dead-lettered) hold nothing back; the switch counts them.
        if p.missing() > 0
            && req.now - p.started < 2 * req.schedule_seconds
            && queue.pending().await? > 0
        {
            report.skipped = Some(Skip::StillRunning {
                cycle: p.cycle,
                done: p.shards - p.missing(),
                shards: p.shards,
            });
            // Its orders may be waiting with no worker left (one crashed, its order came
            // back after the others had finished): start workers for what is waiting.
            let waiting = u32::try_from(queue.pending().await?).unwrap_or(u32::MAX);
            report.workers = start_workers(workers, req, waiting).await?;
            return Ok(report);
        }
    }
    // The previous cut holds while no definition was created or deleted: one item
    // read instead of every definition's. (A stale cut would still cover every name: the
    // ranges are contiguous and open at both ends.)
    let version = store.fleet_version().await?;
    let (bounds, shards, slos) =
        match previous.filter(|p| p.fleet_version == version && p.shard_size == req.shard_size) {
            Some(p) => (p.bounds.clone(), p.shards, p.slos),
            None => {
                let names = store.definition_names().await?;
                let ranges = cut(&names, req.shard_size);
                let shards = u32::try_from(ranges.len()).unwrap_or(u32::MAX);
                (bounds_of(&ranges), shards, names.len())
            }
        };
    let record = CycleRecord {
        cycle: req.cycle,
        started: req.now,
        shards,
        bounds,
        done: BTreeSet::new(),
        dispatched: false,
        slos,
        fleet_version: version,
        shard_size: req.shard_size,
    };
    report.slos = slos;
    report.shards = record.shards;
    let expires_at = req.now + CYCLE_RECORD_DAYS * 86_400;
    if !store.begin_cycle(&record, expires_at).await? {
        // A concurrent delivery of the same event recorded it first; it queues the orders.
        report.repeated = true;
        return Ok(report);
    }
    let orders = record.orders();
    queue.send(&orders).await?;
    store.mark_dispatched(req.cycle).await?;
    report.dispatched = record.shards;
    report.workers = start_workers(workers, req, record.shards).await?;
    Ok(report)
}

/// Start one worker per waiting order, at most `req.workers`; none for none.
async fn start_workers<W: Workers>(
    workers: &W,
    req: &DispatchRequest,
    waiting: u32,
) -> Result<u32, QueueError> {
    let n = waiting.min(req.workers.max(1));
    if n > 0 {
        workers.start(n, req.cycle).await?;
    }
    Ok(n)
}

/// What running one shard order came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ShardOutcome {
    /// Evaluated and marked completed.
    Ran { report: CycleReport },
    /// Completed before (a repeated delivery): not run again.
    AlreadyDone,
    /// A newer cycle is dispatched: running this late shard would only evaluate its SLOs
    /// twice, so it is dropped.
    Superseded { by: i64 },
}

/// Why a shard order failed (SQS delivers it again once, then to the dead-letter queue).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShardError {
    #[error("cannot read or write the cycle record: {0}")]
    Store(#[from] StoreError),
    #[error("no cycle {cycle} is recorded: the order did not come from this stack's dispatcher, or its record expired")]
    UnknownCycle { cycle: i64 },
    #[error("{deferred} SLOs were not reached before the deadline; the shard is retried")]
    Deferred { deferred: usize },
    #[error("shard {index} of {of} ({range}) does not match cycle {cycle}'s cut: {why}")]
    Mismatch {
        cycle: i64,
        index: u32,
        of: u32,
        range: NameRange,
        why: &'static str,
    },
    #[error(transparent)]
    Cycle(#[from] CycleError),
}

impl ShardError {
    /// A stable error type for Lambda diagnostics and alarms.
    pub fn error_type(&self) -> &'static str {
        match self {
            ShardError::Store(_) => "StoreUnavailable",
            ShardError::UnknownCycle { .. } => "UnknownCycle",
            ShardError::Deferred { .. } => "ShardDeferred",
            ShardError::Mismatch { .. } => "ShardMismatch",
            ShardError::Cycle(e) => e.error_type(),
        }
    }

    /// Whether delivering the order again could succeed: a forged or mismatched order never will.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            ShardError::UnknownCycle { .. } | ShardError::Mismatch { .. }
        )
    }
}

/// Run one shard order: check it against the cycle's record, evaluate its range as one
/// cycle at the cycle's trigger time, and mark it completed.
pub async fn run_shard<M, S, N>(
    app: &App<M, S, N>,
    order: &ShardOrder,
    now: i64,
    deadline_ms: Option<i64>,
) -> Result<ShardOutcome, ShardError>
where
    M: MetricSource,
    S: BudgetStore + CycleStore,
    N: Notifier,
{
    let record = app
        .store
        .cycle(order.cycle)
        .await?
        .ok_or(ShardError::UnknownCycle { cycle: order.cycle })?;
    let mismatch = |why| ShardError::Mismatch {
        cycle: order.cycle,
        index: order.index,
        of: order.of,
        range: order.range.clone(),
        why,
    };
    if order.of != record.shards {
        return Err(mismatch("the cycle has another number of shards"));
    }
    let ranges = bounds_to_ranges(&record.bounds, record.shards as usize);
    match ranges.get(order.index as usize) {
        None => return Err(mismatch("no such shard")),
        Some(r) if *r != order.range => return Err(mismatch("another range")),
        Some(_) => {}
    }
    if record.done.contains(&order.index) {
        return Ok(ShardOutcome::AlreadyDone);
    }
    if let Some(newest) = app.store.recent_cycles(1).await?.first() {
        if newest.cycle > order.cycle {
            return Ok(ShardOutcome::Superseded { by: newest.cycle });
        }
    }
    let report = run_cycle(
        app,
        CycleRequest {
            trigger: order.cycle,
            now,
            range: order.range.clone(),
            deadline_ms,
            ..CycleRequest::default()
        },
    )
    .await?;
    // SLOs left for lack of time are not done: the shard comes back (once, then the
    // failure queue), rather than counting as complete with some of its SLOs unwatched.
    let deferred = report
        .slos
        .iter()
        .filter(|o| o.error == Some(SloError::Deferred))
        .count();
    if deferred > 0 {
        return Err(ShardError::Deferred { deferred });
    }
    app.store.complete_shard(order.cycle, order.index).await?;
    Ok(ShardOutcome::Ran { report })
}

mod work;

#[cfg(test)]
use work::shard_result;
pub use work::{work, ShardResult, WorkReport, WORK_MARGIN_MS};

#[cfg(test)]
#[path = "fanout_tests.rs"]
mod tests;
