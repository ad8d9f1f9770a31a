//! Backfill: rebuild an SLO's history at past times from CloudWatch. It records
//! snapshots only (never state, never a message), skips times already recorded so an
//! interrupted run resumes where it stopped, and runs a few times at once.

use futures::stream::{self, StreamExt};

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::slo::message::rfc3339;
use crate::slo::model::SloDefinition;
use crate::slo::plan::{spans, EvalTime};

use super::cycle::{run_cycle, CycleError, CycleRequest};
use super::ports::{BudgetStore, MetricSource, Notifier, StoreError};
use super::App;

/// CloudWatch keeps hourly data 455 days: history cannot be rebuilt further back.
pub const OLDEST_SECONDS: i64 = 455 * 86_400;
/// How long the oldest rebuilt snapshot must still be kept: evaluation times round down
/// (to the minute, to the slice), and a snapshot that expires during the run is no history.
pub const RETENTION_MARGIN_SECONDS: i64 = 3600;
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
    /// Seconds between evaluation times (at least a minute).
    pub step: i64,
    /// The wall clock (epoch seconds): nothing newer is rebuilt, nothing older than the retention.
    pub now: i64,
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BackfillReport {
    /// Evaluation times in the range.
    pub times: usize,
    /// Snapshots written by this run.
    pub written: usize,
    /// Snapshots already there: written by an earlier (interrupted) run, or by an earlier
    /// time of this run that rounds to the same evaluation time (minute, or timeslice).
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
    /// Snapshots expire `history_days` after their evaluation time: older ones would be
    /// written already expired (and vanish), so the range is refused rather than clamped.
    #[error("--from {} is older than history is kept (SLO_HISTORY_DAYS={days}): snapshots before {} would expire at once; use a --from at or after it", rfc3339(*.from), rfc3339(*.oldest))]
    BeyondRetention { from: i64, oldest: i64, days: i64 },
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
    run(app, req, false, progress).await
}

/// Recompute history over `[from, to)` every `step` as `backfill` does, rewriting the
/// snapshots already there (what they counted changed: a correction), and every snapshot
/// recorded in the range at its own time too (the newest is what `status` shows).
pub async fn recompute<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    req: &BackfillRequest,
    progress: impl Fn(usize, usize),
) -> Result<BackfillReport, BackfillError> {
    run(app, req, true, progress).await
}

async fn run<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    req: &BackfillRequest,
    rewrite: bool,
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
    let days = app.config.history_days;
    // A snapshot evaluated at `at` expires at `at + history_days`: one older than the
    // retention would be written already expired and vanish.
    let oldest = req.now - days * 86_400 + RETENTION_MARGIN_SECONDS;
    if req.from < oldest {
        return Err(BackfillError::BeyondRetention {
            from: req.from,
            oldest,
            days,
        });
    }
    let definitions: HashMap<String, Option<SloDefinition>> = app
        .store
        .definitions()
        .await?
        .into_iter()
        .map(|d| (d.name, d.definition.ok()))
        .collect();
    let mut stored: Vec<String> = definitions.keys().cloned().collect();
    stored.sort();
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
    let lag = app.config.lag_seconds;
    // The time the snapshot of `name` at backfill time `t` is recorded under: what the
    // cycle evaluates at (rounded down to the minute, and to the slice of timeslice SLOs).
    let evaluated_at = |name: &str, t: i64| {
        let at = EvalTime::from_trigger(t + lag, lag, req.now);
        match definitions.get(name) {
            Some(Some(def)) => spans(def, at).end,
            _ => at.at,
        }
    };
    // What an earlier run already wrote, so a resumed run does only the rest; a rewrite
    // redoes it, and every snapshot already in the range at its own time too.
    let mut done = HashSet::new();
    let mut recorded: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for name in &names {
        let first = evaluated_at(name, req.from);
        for snap in app.store.history(name, first, req.to).await? {
            if !rewrite {
                done.insert((name.clone(), snap.evaluated_at));
            } else if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&snap.evaluated_at) {
                recorded
                    .entry(at.timestamp())
                    .or_default()
                    .push(name.clone());
            }
        }
    }
    let newest: Vec<(i64, Vec<String>)> = recorded.into_iter().collect();
    let mut report = BackfillReport {
        times: times.len() + newest.len(),
        ..BackfillReport::default()
    };
    let slots = names.len() * times.len() + newest.iter().map(|(_, n)| n.len()).sum::<usize>();
    let work: Vec<(i64, Vec<String>)> = times
        .iter()
        .map(|t| (*t, names.clone()))
        .chain(newest)
        .map(|(t, names)| {
            let todo: Vec<String> = names
                .into_iter()
                // `insert` is false when written before, or scheduled by an earlier time here.
                .filter(|n| done.insert((n.clone(), rfc3339(evaluated_at(n, t)))))
                .collect();
            (t, todo)
        })
        .collect();
    report.skipped = slots - work.iter().map(|(_, w)| w.len()).sum::<usize>();
    let total = work.len();
    let mut finished = 0;
    let evaluated_at = &evaluated_at;
    let mut runs = stream::iter(work)
        .map(|(t, todo)| async move {
            if todo.is_empty() {
                return (t, Ok(None));
            }
            // What the snapshots being rewritten told people stays on record.
            let mut told = HashMap::new();
            if rewrite {
                for name in &todo {
                    let at = evaluated_at(name, t);
                    match app.store.history(name, at, at).await {
                        Ok(old) => {
                            if let Some(s) = old.into_iter().find(|s| {
                                !s.notifications.is_empty()
                                    || s.change.is_some()
                                    || s.alarm.is_some()
                            }) {
                                told.insert(name.clone(), s);
                            }
                        }
                        Err(e) => return (t, Err(BackfillError::Store(e))),
                    }
                }
            }
            let request = CycleRequest {
                // The trigger the evaluation time `t` comes from, whatever the lag.
                trigger: t + lag,
                now: req.now,
                only: Some(todo),
                history_only: true,
                ..CycleRequest::default()
            };
            let mut cycle = match run_cycle(app, request).await {
                Ok(c) => c,
                Err(e) => return (t, Err(e.into())),
            };
            for o in &mut cycle.slos {
                if let (Some(snap), Some(old)) = (o.snapshot.as_mut(), told.remove(&o.slo)) {
                    snap.notifications = old.notifications;
                    snap.change = old.change;
                    snap.alarm = old.alarm;
                    let expires = t + app.config.history_days * 86_400;
                    if let Err(e) = app.store.put_snapshot(snap, expires).await {
                        return (t, Err(BackfillError::Store(e)));
                    }
                }
            }
            (t, Ok(Some(cycle)))
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
            Err(BackfillError::Cycle(CycleError::NothingEvaluated { first, .. })) => {
                report.failed.push(format!("{}: {first}", rfc3339(t)));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cycle::tests::{app_with, TestApp, T};
    use crate::app::ports::{DefinitionStore, HistoryStore, StateStore};
    use crate::slo::load::SourceFile;

    const MIN: i64 = 60;

    /// A timeslice SLO on 5-minute slices (its snapshots fall on the slice grid).
    fn chat_yaml() -> String {
        r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: chat
spec:
  service: support
  indicator:
    metadata:
      name: chat-wait
    spec:
      thresholdMetric:
        metricSource:
          type: CloudWatch
          spec: {region: eu-west-1, namespace: Test, metricName: Requests, stat: Sum}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - op: lte
      value: 1000
      target: 0.99
      timeSliceWindow: 5m
"#
        .to_string()
    }

    /// The checkout SLO and the timeslice SLO `chat`, quiet traffic.
    async fn app() -> TestApp {
        let app = app_with(|_| 0.0).await;
        let chat = crate::slo::load::load(&[SourceFile {
            name: "chat.yaml".into(),
            text: chat_yaml(),
        }]);
        assert!(chat.problems.is_empty(), "{:?}", chat.problems);
        app.store.put_definition(&chat.slos[0]).await.unwrap();
        app
    }

    fn request(slo: &str, from: i64, to: i64, step: i64) -> BackfillRequest {
        BackfillRequest {
            slos: Some(vec![slo.into()]),
            from,
            to,
            step,
            now: T + 2 * 3600,
        }
    }

    #[tokio::test]
    async fn an_unaligned_from_on_a_timeslice_slo_resumes_where_it_stopped() {
        let app = app().await;
        // 30 s past the hour, every 10 minutes: evaluated at T, T+10m, ... (the slice grid).
        let from = T + 30;
        let half = backfill(
            &app,
            &request("chat", from, from + 30 * MIN, 10 * MIN),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!((half.times, half.written, half.skipped), (3, 3, 0));
        // The whole hour: the three already there are skipped, not rewritten.
        let whole = backfill(
            &app,
            &request("chat", from, from + 60 * MIN, 10 * MIN),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(
            (whole.times, whole.written, whole.skipped),
            (6, 3, 3),
            "{whole:?}"
        );
        let times: Vec<String> = app
            .store
            .history("chat", T - 3600, T + 3600)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.evaluated_at)
            .collect();
        let expected: Vec<String> = (0..6).map(|k| rfc3339(T + k * 10 * MIN)).collect();
        assert_eq!(times, expected);
        assert!(app.store.state("chat").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn times_within_one_slice_are_evaluated_once() {
        let app = app().await;
        // Every 2.5 minutes from T+30s: two times fall in each 5-minute slice.
        let r = backfill(
            &app,
            &request("chat", T + 30, T + 30 + 20 * MIN, 150),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!((r.times, r.written, r.skipped), (8, 4, 4), "{r:?}");
        // An Occurrences SLO rounds to the minute only: each time is its own snapshot.
        let r = backfill(
            &app,
            &request("checkout", T + 30, T + 30 + 20 * MIN, 150),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!((r.times, r.written, r.skipped), (8, 8, 0), "{r:?}");
    }

    #[tokio::test]
    async fn a_from_older_than_the_history_retention_is_refused() {
        let app = app().await;
        let now = T + 2 * 3600;
        let from = now - 401 * 86_400;
        let err = backfill(
            &app,
            &request("checkout", from, now - 400 * 86_400 + 7200, 3600),
            |_, _| {},
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, BackfillError::BeyondRetention { days: 400, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("SLO_HISTORY_DAYS=400"), "{err}");
        assert!(app
            .store
            .history("checkout", 0, now)
            .await
            .unwrap()
            .is_empty());
        // Two hours inside the retention is accepted.
        let ok = backfill(
            &app,
            &request(
                "checkout",
                now - 400 * 86_400 + 7200,
                now - 400 * 86_400 + 3 * 3600,
                3600,
            ),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(ok.written, 1);
    }
}
