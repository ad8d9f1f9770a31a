//! Backfill: rebuild an SLO's history at past times from CloudWatch. It records
//! snapshots only (never state, never a message), skips times already recorded so an
//! interrupted run resumes where it stopped, and runs a few times at once.

use futures::stream::{self, StreamExt};

use crate::slo::message::rfc3339;

use super::cycle::{run_cycle, CycleError, CycleRequest};
use super::ports::{BudgetStore, MetricSource, Notifier, StoreError};
use super::App;

/// CloudWatch keeps hourly data 455 days: history cannot be rebuilt further back.
pub const OLDEST_SECONDS: i64 = 455 * 86_400;
/// Evaluation times run at once (each is a whole cycle over the selected SLOs).
pub const CONCURRENT_TIMES: usize = 4;

/// What to rebuild.
#[derive(Debug, Clone)]
pub struct BackfillRequest {
    /// Only these SLOs (None: every stored SLO).
    pub slos: Option<Vec<String>>,
    /// First evaluation time (epoch seconds), inclusive.
    pub from: i64,
    /// Last evaluation time, exclusive.
    pub to: i64,
    pub step: i64,
    pub now: i64,
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BackfillReport {
    /// Evaluation times in the range.
    pub times: usize,
    /// Snapshots written by this run.
    pub written: usize,
    /// Snapshots already there (an earlier, interrupted run).
    pub skipped: usize,
    /// `slo at time: error` for each evaluation that failed.
    pub failed: Vec<String>,
}

/// Why a backfill could not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackfillError {
    #[error("--from {} is not before --to {}", rfc3339(*.from), rfc3339(*.to))]
    EmptyRange { from: i64, to: i64 },
    #[error("--step must be at least 1 minute")]
    Step,
    #[error("--to {} is in the future; history can only be rebuilt up to now", rfc3339(*.0))]
    Future(i64),
    #[error("--from {} is older than CloudWatch keeps data (455 days)", rfc3339(*.0))]
    TooOld(i64),
    #[error("no such SLO: {0} (apply it first)")]
    UnknownSlo(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cycle(#[from] CycleError),
}

/// Rebuild history over `[from, to)` every `step`; `progress(done, total)` after each time.
pub async fn backfill<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    req: &BackfillRequest,
    progress: impl Fn(usize, usize),
) -> Result<BackfillReport, BackfillError> {
    if req.step < 60 {
        return Err(BackfillError::Step);
    }
    if req.from >= req.to {
        return Err(BackfillError::EmptyRange {
            from: req.from,
            to: req.to,
        });
    }
    if req.to > req.now + 60 {
        return Err(BackfillError::Future(req.to));
    }
    if req.now - req.from > OLDEST_SECONDS {
        return Err(BackfillError::TooOld(req.from));
    }
    let stored: Vec<String> = app
        .store
        .definitions()
        .await?
        .into_iter()
        .map(|d| d.name)
        .collect();
    let names = match &req.slos {
        None => stored,
        Some(asked) => {
            if let Some(missing) = asked.iter().find(|n| !stored.contains(n)) {
                return Err(BackfillError::UnknownSlo(missing.clone()));
            }
            asked.clone()
        }
    };
    let times: Vec<i64> = (0..)
        .map(|i| req.from + i * req.step)
        .take_while(|t| *t < req.to)
        .collect();
    // What an earlier run already wrote, so a resumed run does only the rest.
    let mut done = std::collections::HashSet::new();
    for name in &names {
        for snap in app.store.history(name, req.from, req.to).await? {
            done.insert((name.clone(), snap.evaluated_at));
        }
    }
    let mut report = BackfillReport {
        times: times.len(),
        ..BackfillReport::default()
    };
    let lag = app.config.lag_seconds;
    let work: Vec<(i64, Vec<String>)> = times
        .iter()
        .map(|t| {
            let todo: Vec<String> = names
                .iter()
                .filter(|n| !done.contains(&((*n).clone(), rfc3339(*t))))
                .cloned()
                .collect();
            (*t, todo)
        })
        .collect();
    report.skipped = names.len() * times.len() - work.iter().map(|(_, w)| w.len()).sum::<usize>();
    let total = work.len();
    let mut finished = 0;
    let mut runs = stream::iter(work)
        .map(|(t, todo)| async move {
            if todo.is_empty() {
                return (t, Ok(None));
            }
            let request = CycleRequest {
                // The trigger the evaluation time `t` comes from, whatever the lag.
                trigger: t + lag,
                now: req.now,
                only: Some(todo),
                history_only: true,
                ..CycleRequest::default()
            };
            (t, run_cycle(app, request).await.map(Some))
        })
        .buffer_unordered(CONCURRENT_TIMES);
    while let Some((t, result)) = runs.next().await {
        finished += 1;
        progress(finished, total);
        match result {
            Ok(None) => {}
            Ok(Some(cycle)) => {
                for o in cycle.slos {
                    match o.error {
                        None => report.written += 1,
                        Some(e) => report
                            .failed
                            .push(format!("{} at {}: {e}", o.slo, rfc3339(t))),
                    }
                }
            }
            Err(CycleError::NothingEvaluated { first, .. }) => {
                report.failed.push(format!("{}: {first}", rfc3339(t)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}
