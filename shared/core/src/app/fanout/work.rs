//! A worker: take shard orders from the queue until none is waiting or in flight, run
//! each (`run_shard`), settle it (done, or retried soon), and stop before the deadline.

use serde::Serialize;

use super::{run_shard, CycleStore, QueueError, ShardError, ShardOrder, ShardOutcome, ShardQueue};
use crate::app::cycle::CycleReport;
use crate::app::ports::{BudgetStore, MetricSource, Notifier};
use crate::app::App;

/// Time kept before a worker's deadline besides its longest shard so far: a shard started
/// later could be cut off half-way (its SLOs would be deferred).
pub const WORK_MARGIN_MS: i64 = 10_000;
/// How long a worker waits for an order before asking whether any are still in flight.
const WAIT_SECONDS: i32 = 5;
/// A worker's first look: a long poll, however short, asks every SQS server (a short poll
/// samples some, and may miss orders that are there); it returns as soon as an order is.
const LOOK_SECONDS: i32 = 1;

/// What one shard order came to, for the log and the tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardResult {
    /// The order's cycle and shard, when its body could be read.
    pub cycle: Option<i64>,
    pub shard: Option<u32>,
    /// `ran`, `already_done`, `superseded`, `failed` or `refused` (a body that is no order,
    /// or an order that matches no recorded cut).
    pub outcome: &'static str,
    pub evaluated: usize,
    pub failed_slos: usize,
    pub error: Option<String>,
    pub error_type: Option<&'static str>,
    /// The cycle's report, when the shard ran (the EMF lines are made from it).
    #[serde(skip)]
    pub report: Option<CycleReport>,
}

/// What one worker did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkReport {
    pub shards: Vec<ShardResult>,
    /// It stopped at its deadline with orders still pending (another worker, or the next
    /// cycle's, takes them).
    pub stopped_at_deadline: bool,
}

/// Drain the shard queue: take orders until none is waiting or in flight, run each, settle
/// it (done, or retried soon), and stop early when the deadline (epoch milliseconds, by
/// `clock`) leaves too little time for another shard.
pub async fn work<M, S, N, Q>(
    app: &App<M, S, N>,
    queue: &Q,
    clock: impl Fn() -> i64,
    deadline_ms: Option<i64>,
) -> Result<WorkReport, QueueError>
where
    M: MetricSource,
    S: BudgetStore + CycleStore,
    N: Notifier,
    Q: ShardQueue,
{
    let mut report = WorkReport::default();
    let mut longest_ms = 0;
    loop {
        if deadline_ms.is_some_and(|d| clock() + longest_ms + WORK_MARGIN_MS > d) {
            report.stopped_at_deadline = queue.pending().await? > 0;
            return Ok(report);
        }
        // A short look: the first a long poll of a second (the orders were sent before the
        // worker started, so it finds them), later ones a quick poll, so a worker whose
        // queue is empty stops at once (its Lambda time is billed). Should a quick poll and
        // the queue's depth both miss an order, another worker, or the next cycle's, takes it.
        let look = if report.shards.is_empty() {
            LOOK_SECONDS
        } else {
            0
        };
        let received = match queue.receive(look).await? {
            Some(r) => r,
            None if queue.pending().await? == 0 => return Ok(report),
            // Orders in flight elsewhere or due back soon (a retry): wait for one.
            None => match queue.receive(WAIT_SECONDS).await? {
                Some(r) => r,
                None => continue,
            },
        };
        let started = clock();
        let result = match received.order {
            Err(why) => ShardResult {
                cycle: None,
                shard: None,
                outcome: "refused",
                evaluated: 0,
                failed_slos: 0,
                error: Some(why),
                error_type: Some("BadShardOrder"),
                report: None,
            },
            Ok(order) => {
                let r = run_shard(app, &order, started / 1000, deadline_ms).await;
                shard_result(&order, r)
            }
        };
        // A refused or failed order comes back soon; its second failure dead-letters it.
        if result.error.is_some() {
            queue.retry_soon(&received.receipt).await?;
        } else {
            queue.done(&received.receipt).await?;
        }
        longest_ms = longest_ms.max(clock() - started);
        report.shards.push(result);
    }
}

pub(crate) fn shard_result(order: &ShardOrder, r: Result<ShardOutcome, ShardError>) -> ShardResult {
    let mut result = ShardResult {
        cycle: Some(order.cycle),
        shard: Some(order.index),
        outcome: "failed",
        evaluated: 0,
        failed_slos: 0,
        error: None,
        error_type: None,
        report: None,
    };
    match r {
        Ok(ShardOutcome::Ran { report }) => {
            result.outcome = "ran";
            result.evaluated = report.evaluated;
            result.failed_slos = report.failed;
            result.report = Some(report);
        }
        Ok(ShardOutcome::AlreadyDone) => result.outcome = "already_done",
        Ok(ShardOutcome::Superseded { .. }) => result.outcome = "superseded",
        Err(e) => {
            // An order no retry can help (no such cycle, another cut) is refused: it comes
            // back once all the same and then waits in the failure queue for a person.
            if !e.is_retryable() {
                result.outcome = "refused";
            }
            result.error = Some(e.to_string());
            result.error_type = Some(e.error_type());
        }
    }
    result
}
