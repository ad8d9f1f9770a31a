//! The evaluation cycle: fetch what the plan needs, evaluate each SLO, record
//! the snapshot, commit state changes with their notifications, and deliver
//! the outbox. One SLO's failure is reported and never stops the others.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};

use crate::slo::composite::resolve;
use crate::slo::correction;
use crate::slo::evaluate::evaluate;
use crate::slo::incident::{follow, SilenceNote};
use crate::slo::message::{changes_reference, compose, compose_with, rfc3339, AlarmNote};
use crate::slo::model::SloDefinition;
use crate::slo::plan::{EvalTime, QueryPlan};
use crate::slo::series::StreamData;
use crate::slo::shard::NameRange;
use crate::slo::status::{decide, Rules, SloState};

use super::deliver::dedup;
use super::events::ScheduleInput;
use super::ports::{
    destinations, outbox_items, BudgetStore, MetricSource, Notifier, SourceError, StoredState,
};
use super::read::read_streams;
use super::App;

mod outcome;

use crate::slo::route::people_topics;
use crate::slo::snapshot::{Snapshot, RECENT_HISTORY_DAYS};
pub use outcome::{CycleError, CycleReport, DeliveryError, SloError, SloOutcome};

/// Attempts at committing a state change when other evaluators keep winning the race.
const COMMIT_ATTEMPTS: usize = 8;

/// What to evaluate, and when.
#[derive(Debug, Clone, Default)]
pub struct CycleRequest {
    /// The trigger time (epoch seconds): schedule time, alarm timestamp or `--at`.
    pub trigger: i64,
    /// The wall clock.
    pub now: i64,
    /// Only these SLOs (None: all).
    pub only: Option<Vec<String>>,
    /// Only the SLOs whose names are in this range (one shard of a fanned-out cycle).
    pub range: NameRange,
    /// The alarm transition behind this cycle, named in snapshots and messages.
    pub alarm: Option<AlarmNote>,
    /// Wall-clock deadline (epoch milliseconds), e.g. the Lambda invocation's: SLOs not
    /// started by `deadline - DEADLINE_MARGIN_MS` are left for the next cycle.
    pub deadline_ms: Option<i64>,
    /// Notify even when the trigger time is in the past (`--notify`); otherwise a past
    /// evaluation only records history.
    pub notify_past: bool,
    /// Record history only, whatever the time (backfill).
    pub history_only: bool,
}

/// Trigger times further ahead of the wall clock than this are refused: a typo or a wrong
/// clock must never become the state's "last evaluated" and silence the real cycles.
pub const MAX_FUTURE_SECONDS: i64 = 300;

impl CycleRequest {
    /// A past evaluation (older than one schedule period, with a minute's slack for delivery)
    /// rebuilds history; it must never page anyone about the past.
    pub fn is_backfill(&self, schedule_seconds: i64) -> bool {
        self.history_only
            || (!self.notify_past && !is_live(self.trigger, self.now, schedule_seconds))
    }
}

/// Whether something that happened at `time` is news at `now`: within one schedule period,
/// with a minute's slack for delivery. Older times are history; they never notify by themselves.
pub fn is_live(time: i64, now: i64, schedule_seconds: i64) -> bool {
    now - time <= schedule_seconds + 60
}

/// Time kept in reserve before the deadline: an SLO started later could be cut off half-way.
pub const DEADLINE_MARGIN_MS: i64 = 10_000;

fn past_deadline(deadline_ms: Option<i64>) -> bool {
    deadline_ms.is_some_and(|d| chrono::Utc::now().timestamp_millis() > d - DEADLINE_MARGIN_MS)
}

/// The scheduled evaluator's handler: run the cycle the schedule asks for.
pub async fn handle_scheduled_event<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    input: &ScheduleInput,
    now: i64,
) -> Result<CycleReport, CycleError> {
    handle_scheduled_event_until(app, input, now, None).await
}

/// The scheduled handler with the invocation's deadline (epoch milliseconds).
pub async fn handle_scheduled_event_until<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    input: &ScheduleInput,
    now: i64,
    deadline_ms: Option<i64>,
) -> Result<CycleReport, CycleError> {
    run_cycle(
        app,
        CycleRequest {
            trigger: input.time.unwrap_or(now),
            now,
            only: input.slo.clone().map(|s| vec![s]),
            alarm: None,
            deadline_ms,
            ..CycleRequest::default()
        },
    )
    .await
}

/// Rounds of fetching composites' parts from outside the range: deeper nesting than this
/// is left to `resolve`, which names the part it could not find.
const PART_ROUNDS: usize = 8;

/// The readable definitions of `stored` and every SLO their composites name, fetched one by
/// one when a shard's range does not hold them.
async fn with_parts<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    stored: &[super::ports::StoredDefinition],
) -> Result<Vec<SloDefinition>, CycleError> {
    let mut all: Vec<SloDefinition> = stored
        .iter()
        .filter_map(|d| d.definition.as_ref().ok().cloned())
        .collect();
    let mut asked: std::collections::HashSet<String> = all.iter().map(|d| d.name.clone()).collect();
    for _ in 0..PART_ROUNDS {
        let missing: Vec<String> = all
            .iter()
            .flat_map(crate::slo::composite::slo_parts)
            .filter(|n| asked.insert(n.clone()))
            .collect();
        if missing.is_empty() {
            break;
        }
        for name in missing {
            let part = app
                .store
                .definition(&name)
                .await
                .map_err(CycleError::Definitions)?;
            if let Some(Ok(def)) = part.map(|p| p.definition) {
                all.push(def);
            }
        }
    }
    Ok(all)
}

/// One evaluation cycle over the stored definitions.
pub async fn run_cycle<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    req: CycleRequest,
) -> Result<CycleReport, CycleError> {
    if req.trigger > req.now + MAX_FUTURE_SECONDS {
        return Err(CycleError::FutureTrigger {
            trigger: req.trigger,
            now: req.now,
        });
    }
    let backfill = req.is_backfill(app.config.schedule_seconds);
    let stored = app
        .store
        .definitions_in(&req.range)
        .await
        .map_err(CycleError::Definitions)?;
    let t = EvalTime::from_trigger(req.trigger, app.config.lag_seconds, req.now);
    let mut outcomes = Vec::new();
    let mut slos: Vec<SloDefinition> = Vec::new();
    // Composites read their parts (stored SLOs, any service, any shard) whatever this
    // cycle selects.
    let all = with_parts(app, &stored).await?;
    let by_name: HashMap<&str, &SloDefinition> = all.iter().map(|d| (d.name.as_str(), d)).collect();
    for d in stored {
        if !req
            .only
            .as_ref()
            .is_none_or(|names| names.contains(&d.name))
        {
            continue;
        }
        match d.definition {
            Ok(def) => match resolve(&def, &by_name) {
                Ok(def) => slos.push(def),
                Err(e) => outcomes.push(failed(&d.name, SloError::Composite(e))),
            },
            Err(reason) => outcomes.push(failed(
                &d.name,
                SloError::Unreadable {
                    version: d.version,
                    reason,
                },
            )),
        }
    }
    if let Some(names) = &req.only {
        for n in names {
            if !slos.iter().any(|s| &s.name == n)
                && !outcomes.iter().any(|o: &SloOutcome| &o.slo == n)
            {
                outcomes.push(failed(n, SloError::Unknown));
            }
        }
    }
    let states = if slos.is_empty() {
        HashMap::new()
    } else {
        app.store
            .states_in(&req.range)
            .await
            .map_err(CycleError::States)?
    };
    if !slos.is_empty() {
        // Corrected time is left out exactly as an exclusion is, from here on.
        let all = app
            .store
            .corrections()
            .await
            .map_err(CycleError::Corrections)?;
        let in_force = correction::in_force(&all);
        for slo in &mut slos {
            correction::apply(slo, &in_force, t.at);
        }
    }

    let refs: Vec<&SloDefinition> = slos.iter().collect();
    let plan = QueryPlan::build(&refs, t);
    let read = read_streams(app, &slos, &plan, backfill).await;
    let data = read.data;

    let results: Vec<SloOutcome> = stream::iter(slos.iter().enumerate())
        .map(|(i, slo)| {
            let streams: Result<Vec<&StreamData>, SourceError> = plan.slo_streams[i]
                .iter()
                .map(|s| data[*s].as_ref().map_err(Clone::clone))
                .collect();
            let state = states.get(&slo.name).cloned().unwrap_or_default();
            let alarm = req.alarm.as_ref();
            let deadline = req.deadline_ms;
            async move {
                if past_deadline(deadline) {
                    return failed(&slo.name, SloError::Deferred);
                }
                match streams {
                    Err(e) => failed(&slo.name, e.into()),
                    Ok(streams) => {
                        match process(app, slo, t, &streams, state, alarm, backfill).await {
                            Ok(o) => o,
                            Err(e) => failed(&slo.name, e),
                        }
                    }
                }
            }
        })
        .buffer_unordered(app.config.concurrency.max(1))
        .collect()
        .await;
    outcomes.extend(results);
    outcomes.sort_by(|a, b| a.slo.cmp(&b.slo));

    let failed_count = outcomes.iter().filter(|o| o.error.is_some()).count();
    for o in &outcomes {
        if let Some(e) = &o.error {
            tracing::warn!(slo = %o.slo, error = %e, "SLO not evaluated");
        }
        for e in &o.notify_errors {
            tracing::warn!(slo = %o.slo, error = %e, "notification left pending");
        }
    }
    if failed_count > 0 && failed_count == outcomes.len() {
        return Err(CycleError::NothingEvaluated {
            failed: failed_count,
            first: outcomes[0].error.clone().unwrap_or(SloError::Unknown),
        });
    }
    Ok(CycleReport {
        evaluated_at: rfc3339(t.at),
        evaluated: outcomes.len() - failed_count,
        failed: failed_count,
        notifications_sent: outcomes.iter().map(|o| o.notifications_sent).sum(),
        metric_requests: read.requests,
        slos: outcomes,
    })
}

fn failed(slo: &str, error: SloError) -> SloOutcome {
    SloOutcome {
        slo: slo.to_string(),
        status: None,
        change: None,
        notifications_sent: 0,
        error: Some(error),
        notify_errors: Vec::new(),
        snapshot: None,
    }
}

/// Evaluate one SLO, record it, commit its state with what to tell people, deliver the outbox.
/// A backfill (a past evaluation) records history only.
async fn process<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    slo: &SloDefinition,
    t: EvalTime,
    streams: &[&StreamData],
    mut stored: StoredState,
    alarm: Option<&AlarmNote>,
    backfill: bool,
) -> Result<SloOutcome, SloError> {
    let eval = evaluate(slo, t, streams)?;
    let people = people_topics(
        slo,
        app.config.copy_all_to_stack_topic,
        app.config.stack_topic.as_deref(),
    );
    let destinations = destinations(&app.notifier.channels(), &people);
    // A state from the future (a wrong clock, or a trigger accepted before times were
    // checked) would make every real cycle look old: repair it, never obey it.
    let repaired = repair_future(&mut stored.state, t.now + MAX_FUTURE_SECONDS, t.at);
    if repaired {
        tracing::warn!(slo = %slo.name, "state held times in the future; repaired");
    }
    let hourly = hourly_checkpoint(&stored.state, t.at);
    if backfill {
        let decision = decide(&stored.state, &eval, &Rules::for_slo(slo, false));
        let snap = Snapshot::new(slo, &eval, decision.observed, None, &[], alarm);
        // Rebuilt history was asked for: it is kept the full retention.
        let expires = expires_at(&app.config, t.at, true);
        app.store.put_snapshot(&snap, expires).await?;
        return Ok(SloOutcome {
            slo: slo.name.clone(),
            status: Some(decision.observed),
            change: None,
            notifications_sent: 0,
            error: None,
            notify_errors: Vec::new(),
            snapshot: Some(snap),
        });
    }
    let dashboard = app.config.dashboard_url.as_deref();
    let mut attempt = 0;
    let (observed, change, pending, snap) = loop {
        attempt += 1;
        let silence = stored
            .silence
            .as_ref()
            .filter(|s| s.active_at(t.now))
            .map(|s| SilenceNote {
                since: s.created_at,
                until: s.until,
                reason: s.reason.clone(),
            });
        let mut decision = decide(
            &stored.state,
            &eval,
            &Rules::for_slo(slo, silence.is_some()),
        );
        // The incident records this commit writes (what a review reads later).
        let mut incidents = follow(
            slo,
            &stored.state,
            &mut decision,
            &eval,
            silence.as_ref(),
            app.config.lag_seconds,
        );
        for r in &mut incidents {
            r.expires_at = r.resolved_at.unwrap_or(r.opened_at) + app.config.history_days * 86_400;
        }
        let snap = Snapshot::new(
            slo,
            &eval,
            decision.observed,
            decision.change.as_ref(),
            &decision.announcements,
            alarm,
        );
        app.store
            .put_snapshot(&snap, expires_at(&app.config, t.at, hourly))
            .await?;
        // An alarm that fires while no burn-rate condition is met still tells on-call (info, never a page).
        // One info message per alarm transition: on the first SLO it touches (the lead). Only
        // for a live alarm: one delivered later than a schedule period is history, not news.
        let alarm_info = alarm.filter(|a| {
            a.state == "ALARM"
                && is_live(a.timestamp, t.now, app.config.schedule_seconds)
                && a.touched.first().is_none_or(|lead| *lead == slo.name)
                && decision.announcements.is_empty()
                && !eval.conditions.iter().any(|c| c.met)
        });
        let new_state = match (decision.state, alarm_info) {
            (Some(s), _) => s,
            // Not newer than the state (the schedule got there first): keep the state, still queue the info.
            (None, Some(_)) => stored.state.clone(),
            (None, None) => break (decision.observed, None, stored.pending, snap),
        };
        if alarm_info.is_none()
            && decision.announcements.is_empty()
            && incidents.is_empty()
            && !hourly
            && !repaired
            && stored.version > 0
            && same_but_time(&stored.state, &new_state)
        {
            // Only the evaluation time moved: history has this cycle, the state item need
            // not be rewritten (it is, once an hour, at the hourly checkpoint).
            break (decision.observed, decision.change, stored.pending, snap);
        }
        let told: Vec<_> = decision
            .announcements
            .iter()
            .filter(|a| !a.suppressed)
            .collect();
        // The deployments before each incident, for the SLOs that name their targets.
        let changes = super::changes::for_messages(
            &app.store,
            slo,
            told.iter().map(|a| changes_reference(a)),
        )
        .await;
        let mut notifications: Vec<_> = told
            .iter()
            .map(|a| {
                compose_with(
                    slo,
                    &eval,
                    decision.observed,
                    Some(a),
                    alarm,
                    dashboard,
                    &changes,
                )
            })
            .collect();
        if let Some(a) = alarm_info {
            notifications.push(compose(
                slo,
                &eval,
                decision.observed,
                None,
                Some(a),
                dashboard,
            ));
        }
        let committed = app
            .store
            .commit(
                &slo.name,
                stored.version,
                &new_state,
                &notifications,
                &destinations,
                &incidents,
            )
            .await?;
        if committed {
            let mut pending = stored.pending;
            pending.extend(
                outbox_items(&notifications, &destinations)
                    .into_iter()
                    .map(|(k, _)| k),
            );
            break (decision.observed, decision.change, pending, snap);
        }
        if attempt >= COMMIT_ATTEMPTS {
            return Err(SloError::LostRace(attempt));
        }
        tracing::info!(slo = %slo.name, attempt, "state changed under us; re-reading");
        // Back off with jitter (from the claimant id) so racing evaluators do not collide in step.
        let jitter =
            crate::slo::shard::stable_hash(&format!("{}{attempt}", app.config.claimant)) % 50;
        tokio::time::sleep(std::time::Duration::from_millis(
            20 * attempt as u64 + jitter,
        ))
        .await;
        stored = app.store.state(&slo.name).await?.unwrap_or_default();
    };

    let mut sent = 0;
    let mut errors = Vec::new();
    for key in dedup(pending) {
        match super::deliver::deliver(app, &slo.name, &key, t.now).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    Ok(SloOutcome {
        slo: slo.name.clone(),
        status: Some(observed),
        change,
        notifications_sent: sent,
        error: None,
        snapshot: Some(snap),
        // The state is committed; an undelivered notification stays pending for the next cycle.
        notify_errors: errors,
    })
}

/// Whether an evaluation at `at` is the first of its hour the state knows of: its snapshot
/// is kept the full retention and the state item is rewritten (its evaluation time moves on).
fn hourly_checkpoint(state: &SloState, at: i64) -> bool {
    state
        .last_evaluated_at
        .is_none_or(|last| last.div_euclid(3600) < at.div_euclid(3600))
}

/// The TTL of a snapshot evaluated at `at`: the full retention for hourly checkpoints,
/// `RECENT_HISTORY_DAYS` (never more than the retention) for the others.
fn expires_at(config: &super::Config, at: i64, hourly: bool) -> i64 {
    let days = if hourly {
        config.history_days
    } else {
        RECENT_HISTORY_DAYS.min(config.history_days)
    };
    at + days * 86_400
}

/// Forget what a state remembers from after `limit` (the clock plus the future a trigger
/// may have): a future `last_evaluated_at` makes every real cycle look old, a future
/// `budget_announced` keeps a threshold "told" for a window period, a future `met_since`
/// delays alertAfter. Times that start something still true (the status, the incident) move
/// back to `at`, the evaluation time; the others are dropped. Returns whether anything was repaired.
fn repair_future(state: &mut SloState, limit: i64, at: i64) -> bool {
    let ahead = |t: &i64| *t > limit;
    let before = state.clone();
    state.last_evaluated_at = state.last_evaluated_at.filter(|t| !ahead(t));
    state.status_since = state.status_since.map(|t| if ahead(&t) { at } else { t });
    state.met_since.retain(|_, t| !ahead(t));
    state.budget_announced.retain(|_, t| !ahead(t));
    if let Some(i) = state.incident.as_mut() {
        if ahead(&i.opened_at) {
            i.opened_at = at;
        }
        i.calm_since = i.calm_since.filter(|t| !ahead(t));
        i.quiet_since = i.quiet_since.filter(|t| !ahead(t));
    }
    *state != before
}

/// Whether two states differ in nothing but the evaluation time (nothing to write).
fn same_but_time(a: &SloState, b: &SloState) -> bool {
    SloState {
        last_evaluated_at: None,
        ..a.clone()
    } == SloState {
        last_evaluated_at: None,
        ..b.clone()
    }
}

#[cfg(test)]
#[path = "cycle_tests.rs"]
pub(crate) mod tests;

#[cfg(test)]
#[path = "composite_tests.rs"]
mod composite_tests;
