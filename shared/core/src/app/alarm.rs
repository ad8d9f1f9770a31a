//! Alarm-triggered evaluation: find the SLOs an alarm touches and re-evaluate
//! them at the alarm's state timestamp, through the same cycle as the schedule,
//! so neither path repeats a message the other sent.

use serde::Serialize;

use crate::slo::message::{rfc3339, AlarmNote};
use crate::slo::model::SloDefinition;
use crate::slo::origin::{AccountId, AwsRegion};
use crate::slo::shard::NameRange;

use super::changes::{record_change_event, ChangeError, ChangeOutcome};
use super::cycle::{run_cycle, CycleError, CycleReport, CycleRequest, MAX_FUTURE_SECONDS};
use super::events::{name_from_arn, AlarmEvent, AlarmMetric, EventError, HandlerEvent};
use super::ports::{BudgetStore, MetricSource, Notifier, Once, OnceClaim, StoreError};
use super::App;

/// How long a handled transition is remembered, to drop duplicate deliveries.
const DEDUP_DAYS: i64 = 7;

/// What happened to one alarm transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmOutcome {
    pub alarm: String,
    pub state: String,
    pub timestamp: String,
    pub shape: &'static str,
    /// Already handled before (in this shape or another): nothing done.
    pub duplicate: bool,
    pub touched: Vec<String>,
    /// Touched SLOs already evaluated for an alarm this minute: recorded, not re-evaluated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub debounced: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycle: Option<CycleReport>,
    /// Why the transition was not acted on (a timestamp from the future).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// An alarm older than this is re-evaluated at the current time: what matters is the budget now.
pub const STALE_ALARM_SECONDS: i64 = 86_400;

/// The alarm handler's response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmReport {
    pub alarms: Vec<AlarmOutcome>,
    /// Deployment events recorded (the handler also takes those).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ChangeOutcome>,
}

/// Why an alarm invocation failed (and goes to the failure destination).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlarmError {
    #[error(transparent)]
    BadEvent(#[from] EventError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("re-evaluating for alarm {alarm} failed: {error}")]
    Cycle { alarm: String, error: CycleError },
    #[error(
        "alarm {alarm}: the same transition is being handled elsewhere; retry after its lease"
    )]
    InProgress { alarm: String },
    #[error("deployment event not recorded: {0}")]
    Change(#[from] ChangeError),
    #[error(
        "this handler cannot tell its own account and region from its function ARN {arn:?}; \
         it handles no event rather than take any account's"
    )]
    UnknownHome { arn: String },
}

impl AlarmError {
    /// A stable error type for Lambda diagnostics.
    pub fn error_type(&self) -> &'static str {
        match self {
            AlarmError::BadEvent(_) => "BadEvent",
            AlarmError::Store(_) => "StoreUnavailable",
            AlarmError::Cycle { .. } => "CycleFailed",
            AlarmError::InProgress { .. } => "InProgress",
            AlarmError::Change(ChangeError::BadEvent(_)) => "BadChangeEvent",
            AlarmError::Change(ChangeError::Store(_)) => "StoreUnavailable",
            AlarmError::UnknownHome { .. } => "UnknownHome",
        }
    }
}

/// Whether an alarm (by any of its names) or one of its metrics touches this SLO.
pub fn touches(slo: &SloDefinition, alarm_names: &[&str], metrics: &[AlarmMetric]) -> bool {
    let named = slo.settings.alarms.iter().any(|a| {
        let a_name = name_from_arn(a).unwrap_or(a);
        alarm_names
            .iter()
            .any(|n| *n == a || name_from_arn(n).unwrap_or(n) == a_name)
    });
    named
        || slo
            .metric_specs()
            .iter()
            .flat_map(|s| s.metrics())
            .any(|m| {
                metrics.iter().any(|am| {
                    am.namespace == m.namespace
                        && am.name == m.metric_name
                        && am.dimensions == m.dimensions
                })
            })
}

/// The SLOs `alarm` touches; a composite alarm's children are described in `region` (the
/// alarm's, checked, else the handler's).
async fn touched_slos<M: MetricSource, S, N>(
    app: &App<M, S, N>,
    defs: &[SloDefinition],
    alarm: &AlarmEvent,
    region: Option<&AwsRegion>,
) -> Vec<String> {
    let mut names: Vec<&str> = vec![&alarm.name];
    if let Some(a) = &alarm.arn {
        names.push(a);
    }
    let mut out: Vec<String> = defs
        .iter()
        .filter(|d| touches(d, &names, &alarm.metrics))
        .map(|d| d.name.clone())
        .collect();
    if alarm.composite && !alarm.children.is_empty() {
        // A composite alarm touches what its triggering children touch: by name, and by their metrics.
        let child_metrics = match region {
            Some(r) => app.metrics.alarm_metrics(r.as_str(), &alarm.children).await.unwrap_or_else(|e| {
                tracing::warn!(alarm = %alarm.name, error = %e, "cannot describe child alarms; matching them by name only");
                Vec::new()
            }),
            None => Vec::new(),
        };
        for child in &alarm.children {
            let metrics = child_metrics
                .iter()
                .find(|(n, _)| n == child)
                .map(|(_, m)| m.as_slice())
                .unwrap_or(&[]);
            for d in defs
                .iter()
                .filter(|d| touches(d, &[child.as_str()], metrics))
            {
                if !out.contains(&d.name) {
                    out.push(d.name.clone());
                }
            }
        }
    }
    out.sort();
    out
}

/// Where the handler runs: the stack's account and region (from its function ARN) and the
/// invocation's deadline. Events of other accounts or regions are refused. Where the
/// account is not known (the default: the CLI's demo, which feeds its own events) an event
/// must still name one account and at most one region, well-formed and agreeing, but
/// whose it is cannot be checked; the deployed handler always knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HandlerContext {
    pub account: Option<AccountId>,
    pub region: Option<AwsRegion>,
    /// Epoch milliseconds; SLOs not started by then are left for the schedule.
    pub deadline_ms: Option<i64>,
}

impl HandlerContext {
    /// From the invoked function's ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`); an
    /// ARN without a well-formed account and region is an error, never a handler that
    /// takes every account's events.
    pub fn from_function_arn(arn: &str, deadline_ms: Option<i64>) -> Result<Self, AlarmError> {
        let parts: Vec<&str> = arn.split(':').collect();
        let unknown = || AlarmError::UnknownHome {
            arn: arn.chars().take(200).collect(),
        };
        let (Some(region), Some(account)) = (parts.get(3), parts.get(4)) else {
            return Err(unknown());
        };
        Ok(HandlerContext {
            region: Some(AwsRegion::parse(region).map_err(|_| unknown())?),
            account: Some(AccountId::parse(account).map_err(|_| unknown())?),
            deadline_ms,
        })
    }
}

/// A claimed alarm transition not completed within this long is taken by the retry
/// (longer than the handler's timeout, so a live handler is never overtaken).
pub const TRANSITION_LEASE_SECONDS: i64 = 120;

/// The alarm handler: drop duplicates, re-evaluate the touched SLOs (or record a deployment).
/// Its stack's account is unknown here (the CLI's demo, tests): each event must name one
/// well-formed account and region consistently, but whose they are is not checked.
pub async fn handle_alarm_event<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    event: &HandlerEvent,
    now: i64,
) -> Result<AlarmReport, AlarmError> {
    handle_alarm_event_in(app, event, now, &HandlerContext::default()).await
}

/// The alarm handler with its account, region and deadline.
pub async fn handle_alarm_event_in<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    event: &HandlerEvent,
    now: i64,
    ctx: &HandlerContext,
) -> Result<AlarmReport, AlarmError> {
    let alarms = match event {
        HandlerEvent::Change(change) => {
            let outcome = record_change_event(
                &app.store,
                change,
                app.config.changes_days,
                ctx.account.as_ref(),
            )
            .await?;
            return Ok(AlarmReport {
                alarms: Vec::new(),
                changes: vec![outcome],
            });
        }
        HandlerEvent::Alarms(alarms) => alarms.clone(),
    };
    let defs: Vec<SloDefinition> = app
        .store
        .definitions()
        .await?
        .into_iter()
        .filter_map(|d| d.definition.ok())
        .collect();
    let mut outcomes = Vec::new();
    for alarm in alarms {
        let mut outcome = AlarmOutcome {
            alarm: alarm.name.clone(),
            state: alarm.state.clone(),
            timestamp: rfc3339(alarm.timestamp()),
            shape: alarm.shape,
            duplicate: false,
            touched: Vec::new(),
            debounced: Vec::new(),
            cycle: None,
            refused: None,
        };
        // Whose alarm it is, from every account and region the delivery names.
        let origin = alarm
            .claims
            .check(ctx.account.as_ref(), ctx.region.as_ref());
        let refused = if alarm.timestamp() > now + MAX_FUTURE_SECONDS {
            Err(format!(
                "alarm timestamp {} is ahead of the clock ({}); ignored",
                rfc3339(alarm.timestamp()),
                rfc3339(now)
            ))
        } else {
            origin.map_err(|r| format!("alarm {r}; ignored"))
        };
        let origin = match refused {
            Ok(origin) => origin,
            Err(why) => {
                // A refusal is this record's alone: the others of the batch go on.
                tracing::warn!(alarm = %alarm.name, reason = %why, "alarm refused");
                outcome.refused = Some(why);
                outcomes.push(outcome);
                continue;
            }
        };
        let once = Once::AlarmTransition {
            alarm: &alarm.name,
            timestamp_ms: alarm.timestamp_ms,
            state: &alarm.state,
        };
        match app
            .store
            .claim_once(
                once,
                now,
                TRANSITION_LEASE_SECONDS,
                now + DEDUP_DAYS * 86_400,
            )
            .await?
        {
            OnceClaim::Claimed => {}
            OnceClaim::Done => {
                tracing::info!(alarm = %alarm.name, state = %alarm.state, "duplicate alarm transition; already handled");
                outcome.duplicate = true;
                outcomes.push(outcome);
                continue;
            }
            // Another handler is at it, or died at it: fail, so Lambda retries after the lease.
            OnceClaim::Busy => {
                return Err(AlarmError::InProgress {
                    alarm: alarm.name.clone(),
                })
            }
        }
        let region = origin.region.as_ref().or(ctx.region.as_ref());
        outcome.touched = touched_slos(app, &defs, &alarm, region).await;
        // Debounce: one alarm-triggered evaluation per SLO per minute; later transitions
        // in that minute are recorded (handled, acknowledged) and left to the schedule.
        let minute = now.div_euclid(60);
        let mut evaluate = Vec::new();
        for slo in &outcome.touched {
            let first = app
                .store
                .record_once(Once::AlarmEvaluation { slo, minute }, now + 3600)
                .await?;
            if first {
                evaluate.push(slo.clone());
            } else {
                outcome.debounced.push(slo.clone());
            }
        }
        if !outcome.debounced.is_empty() {
            tracing::info!(alarm = %alarm.name, debounced = ?outcome.debounced, "evaluated for another alarm this minute; recorded, not re-evaluated");
        }
        if evaluate.is_empty() {
            if outcome.touched.is_empty() {
                tracing::info!(alarm = %alarm.name, state = %alarm.state, "alarm touches no SLO; acknowledged");
            }
            app.store.complete_once(once).await?;
            outcomes.push(outcome);
            continue;
        }
        let note = AlarmNote {
            name: alarm.name.clone(),
            arn: alarm.arn.clone(),
            state: alarm.state.clone(),
            previous_state: alarm.previous_state.clone(),
            reason: alarm.reason.chars().take(1024).collect(),
            timestamp: alarm.timestamp(),
            // The cycle sends the one info message on the first SLO named here (the lead):
            // the evaluated SLOs come first, so a debounced SLO is never the lead and the
            // message is not lost; it still names every SLO the alarm touches.
            touched: evaluate.iter().chain(&outcome.debounced).cloned().collect(),
        };
        let trigger = if now - alarm.timestamp() > STALE_ALARM_SECONDS {
            now
        } else {
            alarm.timestamp()
        };
        let request = CycleRequest {
            trigger,
            now,
            only: Some(evaluate.clone()),
            range: NameRange::all(),
            alarm: Some(note),
            deadline_ms: ctx.deadline_ms,
            // An alarm is a live event: its evaluation may notify even when delivered late
            // (a state already newer than it still decides nothing twice).
            notify_past: true,
            history_only: false,
        };
        match run_cycle(app, request).await {
            Ok(report) => outcome.cycle = Some(report),
            Err(error) => {
                // Forget the transition and the debounce so that Lambda's retry handles it again.
                let mut forgot = app.store.forget_once(once).await;
                for slo in &evaluate {
                    if forgot.is_ok() {
                        forgot = app
                            .store
                            .forget_once(Once::AlarmEvaluation { slo, minute })
                            .await;
                    }
                }
                if let Err(e) = forgot {
                    tracing::warn!(alarm = %alarm.name, error = %e, "cannot forget the dedup record; the retry takes it after the lease");
                }
                return Err(AlarmError::Cycle {
                    alarm: alarm.name,
                    error,
                });
            }
        }
        app.store.complete_once(once).await?;
        outcomes.push(outcome);
    }
    Ok(AlarmReport {
        alarms: outcomes,
        changes: Vec::new(),
    })
}

#[cfg(test)]
#[path = "alarm_tests.rs"]
mod tests;
