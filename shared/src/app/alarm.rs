//! Alarm-triggered evaluation: find the SLOs an alarm touches and re-evaluate
//! them at the alarm's state timestamp, through the same cycle as the schedule,
//! so neither path repeats a message the other sent.

use serde::Serialize;
use serde_json::Value;

use crate::slo::message::{rfc3339, AlarmNote};
use crate::slo::model::SloDefinition;

use super::alarm_events::{name_from_arn, parse_alarm_payload, AlarmEvent, AlarmMetric};
use super::cycle::{run_cycle, CycleError, CycleReport, CycleRequest, MAX_FUTURE_SECONDS};
use super::events::EventError;
use super::ports::{BudgetStore, MetricSource, Notifier, Once, StoreError};
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
}

impl AlarmError {
    /// A stable error type for Lambda diagnostics.
    pub fn error_type(&self) -> &'static str {
        match self {
            AlarmError::BadEvent(_) => "BadEvent",
            AlarmError::Store(_) => "StoreUnavailable",
            AlarmError::Cycle { .. } => "CycleFailed",
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

async fn touched_slos<M: MetricSource, S, N>(
    app: &App<M, S, N>,
    defs: &[SloDefinition],
    alarm: &AlarmEvent,
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
        let region = alarm
            .arn
            .as_deref()
            .and_then(|a| a.split(':').nth(3))
            .filter(|r| !r.is_empty());
        let child_metrics = match region {
            Some(r) => app.metrics.alarm_metrics(r, &alarm.children).await.unwrap_or_else(|e| {
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

/// The alarm handler: parse the payload, drop duplicates, re-evaluate the touched SLOs.
pub async fn handle_alarm_event<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    payload: &Value,
    now: i64,
) -> Result<AlarmReport, AlarmError> {
    let alarms = parse_alarm_payload(payload)?;
    let defs: Vec<SloDefinition> = app
        .store
        .definitions()
        .await?
        .into_iter()
        .filter_map(|d| d.definition.ok())
        .collect();
    let mut outcomes = Vec::new();
    for alarm in alarms {
        let transition = format!("{}#{}", alarm.timestamp_ms, alarm.state);
        let mut outcome = AlarmOutcome {
            alarm: alarm.name.clone(),
            state: alarm.state.clone(),
            timestamp: rfc3339(alarm.timestamp()),
            shape: alarm.shape,
            duplicate: false,
            touched: Vec::new(),
            cycle: None,
            refused: None,
        };
        if alarm.timestamp() > now + MAX_FUTURE_SECONDS {
            let why = format!(
                "alarm timestamp {} is ahead of the clock ({}); ignored",
                rfc3339(alarm.timestamp()),
                rfc3339(now)
            );
            tracing::warn!(alarm = %alarm.name, "{why}");
            outcome.refused = Some(why);
            outcomes.push(outcome);
            continue;
        }
        if !app
            .store
            .record_once(
                Once::AlarmTransition {
                    alarm: &alarm.name,
                    transition: &transition,
                },
                now + DEDUP_DAYS * 86_400,
            )
            .await?
        {
            tracing::info!(alarm = %alarm.name, state = %alarm.state, "duplicate alarm transition; already handled");
            outcome.duplicate = true;
            outcomes.push(outcome);
            continue;
        }
        outcome.touched = touched_slos(app, &defs, &alarm).await;
        if outcome.touched.is_empty() {
            tracing::info!(alarm = %alarm.name, state = %alarm.state, "alarm touches no SLO; acknowledged");
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
        };
        let trigger = if now - alarm.timestamp() > STALE_ALARM_SECONDS {
            now
        } else {
            alarm.timestamp()
        };
        let request = CycleRequest {
            trigger,
            now,
            only: Some(outcome.touched.clone()),
            shard: None,
            alarm: Some(note),
            deadline_ms: None,
            // An alarm is a live event: its evaluation may notify even when delivered late
            // (a state already newer than it still decides nothing twice).
            notify_past: true,
            history_only: false,
        };
        match run_cycle(app, request).await {
            Ok(report) => outcome.cycle = Some(report),
            Err(error) => {
                // Forget the transition so that Lambda's retry handles it again.
                if let Err(e) = app
                    .store
                    .forget_once(Once::AlarmTransition {
                        alarm: &alarm.name,
                        transition: &transition,
                    })
                    .await
                {
                    tracing::warn!(alarm = %alarm.name, error = %e, "cannot forget the dedup record; the retry will be dropped");
                }
                return Err(AlarmError::Cycle {
                    alarm: alarm.name,
                    error,
                });
            }
        }
        outcomes.push(outcome);
    }
    Ok(AlarmReport { alarms: outcomes })
}

#[cfg(test)]
#[path = "alarm_tests.rs"]
mod tests;
