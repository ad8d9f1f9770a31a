//! Incidents as records to learn from: when the burn started (the first window over its
//! threshold), when the page went out, when it resolved, what it cost, which silences
//! held it back. The state follows the open incident (`status::Incident`); each change of
//! what a record says is written with the state's commit, so a record is exact and
//! written once per change, however often an invocation repeats. Pure data and rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::duration::label;
use super::evaluate::Evaluation;
use super::model::{BurnRateCondition, Severity, SloDefinition};
use super::status::{Decision, Event, Incident, SloState};

/// History shown around an incident in its charts, before its burn and after it resolved.
pub const CHART_MARGIN: i64 = 3600;

/// Silences kept per incident (a silence renewed every few minutes must not grow the state).
pub const MAX_SILENCES: usize = 10;

/// When a condition's windows started burning past its threshold, without a break.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Burn {
    /// The start of the first window seen over its threshold (its evaluation time minus its length).
    pub started_at: i64,
    /// That window (`5m`), the shortest over the threshold at that evaluation.
    pub window: String,
    /// The evaluation that first saw it.
    pub seen_at: i64,
    /// Budget left at its start: at the evaluation that saw it, plus what the window
    /// over its threshold spent since the start (exact when the window is no longer
    /// than the schedule period; a share of it, spread evenly, when it is longer).
    pub budget: Option<f64>,
}

/// A silence in force while an incident was open, as `sloguard silence` set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceNote {
    /// When the silence was set.
    pub since: i64,
    pub until: i64,
    /// The reason people gave: outside text.
    pub reason: String,
}

/// Each condition's burn, from the previous one: a condition with a window over its
/// threshold keeps the burn it started; one with none over forgets it. A new burn starts
/// where its shortest window over the threshold starts, or at `previous` (the evaluation
/// before, which saw no window of it over) if that is later: a 30-minute window over at
/// 10:05 that was not at 10:00 was pushed over by what came after 10:00.
pub fn burns(
    prev: &BTreeMap<String, Burn>,
    eval: &Evaluation,
    conditions: &[BurnRateCondition],
    previous: Option<i64>,
) -> BTreeMap<String, Burn> {
    let t = eval.evaluated_at;
    let mut out = BTreeMap::new();
    for c in eval
        .conditions
        .iter()
        .filter(|c| c.severity != Severity::Info)
    {
        let Some(def) = conditions.iter().find(|d| d.name == c.name) else {
            continue;
        };
        let over = |r: Option<f64>| r.is_some_and(|r| c.op.holds(r, c.threshold));
        let shortest = [
            (c.short_rate, def.short_seconds),
            (c.long_rate, def.long_seconds),
        ]
        .into_iter()
        .filter(|(r, _)| over(*r))
        .map(|(_, s)| s)
        .min();
        let Some(seconds) = shortest else {
            continue;
        };
        let burn = match prev.get(&c.name).filter(|b| b.seen_at <= t) {
            Some(b) => b.clone(),
            None => {
                let started_at = previous
                    .filter(|p| *p < t)
                    .map_or(t - seconds, |p| p.max(t - seconds));
                // What the window spent since the start, added back: the budget then.
                let spent = eval
                    .windows
                    .iter()
                    .find(|w| w.seconds == seconds)
                    .and_then(|w| Some(w.burn_rate? * w.total / eval.budget_base()))
                    .filter(|x| x.is_finite())
                    .unwrap_or(0.0);
                let share = (t - started_at) as f64 / seconds as f64;
                Burn {
                    started_at,
                    window: label(seconds),
                    seen_at: t,
                    budget: eval.budget_remaining.map(|b| b + spent * share),
                }
            }
        };
        out.insert(c.name.clone(), burn);
    }
    out
}

/// The earliest of the burns: where an incident that opens now began.
pub fn earliest(burns: &BTreeMap<String, Burn>) -> Option<Burn> {
    burns.values().min_by_key(|b| b.started_at).cloned()
}

/// One incident as stored: what a post-incident review starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub slo: String,
    pub service: String,
    /// The evaluation that opened it (with the SLO, its identity).
    pub opened_at: i64,
    /// The start of the first window over its threshold (the opening, for incidents
    /// opened before burns were followed).
    pub burn_started_at: i64,
    /// The window that saw it first (`5m`).
    #[serde(default)]
    pub burn_window: Option<String>,
    /// Budget left when the burn was first seen (else when it opened).
    pub budget_at_start: Option<f64>,
    /// The highest level it reached: page or ticket.
    pub severity: Severity,
    /// When the cycle that opened it ran (evaluation time plus the data lag).
    pub detected_at: i64,
    /// When the cycle that sent its page ran; None when no page went out (a ticket, or
    /// held back by a silence).
    pub paged_at: Option<i64>,
    /// The evaluation that resolved it; None while open.
    pub resolved_at: Option<i64>,
    /// Budget left when it resolved (while open: when the record was last written).
    pub budget_at_end: Option<f64>,
    /// Silences in force while it was open.
    #[serde(default)]
    pub silences: Vec<SilenceNote>,
    /// Kept until (epoch seconds): the history retention after it ended.
    #[serde(default)]
    pub expires_at: i64,
}

impl IncidentRecord {
    /// The record of `incident` of `slo`; `lag` is the data lag, `end` the evaluation that
    /// resolved it, `budget` the budget left now.
    pub fn of(
        slo: &SloDefinition,
        incident: &Incident,
        lag: i64,
        end: Option<i64>,
        budget: Option<f64>,
    ) -> Self {
        let burn = incident.burn.as_ref();
        IncidentRecord {
            slo: slo.name.clone(),
            service: slo.service.clone(),
            opened_at: incident.opened_at,
            burn_started_at: burn.map_or(incident.opened_at, |b| b.started_at),
            burn_window: burn.map(|b| b.window.clone()),
            budget_at_start: burn.map_or(incident.budget_at_open, |b| b.budget),
            severity: incident.peak.unwrap_or(incident.severity).max(incident.severity),
            detected_at: incident.opened_at + lag,
            paged_at: incident.paged_at,
            resolved_at: end,
            budget_at_end: budget,
            silences: incident.silences.clone(),
            expires_at: 0,
        }
    }

    /// How people and the CLI name it: `checkout-availability@20261206T1015Z`.
    pub fn id(&self) -> String {
        incident_id(&self.slo, self.opened_at)
    }

    /// From the burn's start to the page (or, with no page, to the detection).
    pub fn time_to_detect(&self) -> i64 {
        self.paged_at.unwrap_or(self.detected_at) - self.burn_started_at
    }

    /// From the burn's start to the resolution (to `now` while open).
    pub fn duration(&self, now: i64) -> i64 {
        self.resolved_at.unwrap_or(now).max(self.burn_started_at) - self.burn_started_at
    }

    /// The share of the budget it spent: budget left at its start minus at its end (the
    /// latest known while open); negative when the window regained more than it spent.
    pub fn budget_spent(&self) -> Option<f64> {
        Some(self.budget_at_start? - self.budget_at_end?)
    }

    /// Whether it was open at any time in [since, until].
    pub fn overlaps(&self, since: i64, until: i64) -> bool {
        self.burn_started_at.min(self.opened_at) <= until
            && self.resolved_at.is_none_or(|r| r >= since)
    }
}

/// The identity of the incident of `slo` opened at `opened_at`.
pub fn incident_id(slo: &str, opened_at: i64) -> String {
    let t = chrono::DateTime::<chrono::Utc>::from_timestamp(opened_at, 0).unwrap_or_default();
    let fmt = if opened_at % 60 == 0 {
        "%Y%m%dT%H%MZ"
    } else {
        "%Y%m%dT%H%M%SZ"
    };
    format!("{slo}@{}", t.format(fmt))
}

/// The SLO and opening time an id names; None for text that is not an incident id.
pub fn parse_incident_id(id: &str) -> Option<(String, i64)> {
    let (slo, at) = id.rsplit_once('@')?;
    let at = at.strip_suffix('Z')?;
    let parsed = chrono::NaiveDateTime::parse_from_str(at, "%Y%m%dT%H%M%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&format!("{at}00"), "%Y%m%dT%H%M%S"))
        .ok()?;
    (!slo.is_empty()).then(|| (slo.to_string(), parsed.and_utc().timestamp()))
}

/// After `decide`: note on the open incident the page that went out (at the cycle's
/// trigger time, the evaluation time plus `lag`) and the silence in force, and return the
/// records to write with this commit: the resolved incident's, and the open one's when
/// what it says changed.
pub fn follow(
    slo: &SloDefinition,
    prev: &SloState,
    decision: &mut Decision,
    eval: &Evaluation,
    silence: Option<&SilenceNote>,
    lag: i64,
) -> Vec<IncidentRecord> {
    let Some(next) = decision.state.as_mut() else {
        return Vec::new();
    };
    let budget = eval.budget_remaining;
    let paged = decision.announcements.iter().any(|a| {
        !a.suppressed
            && a.severity == Severity::Page
            && matches!(a.event, Event::Opened | Event::Escalated)
    });
    if let Some(i) = next.incident.as_mut() {
        if paged && i.paged_at.is_none() {
            i.paged_at = Some(eval.evaluated_at + lag);
        }
        if let Some(s) = silence {
            let known = i
                .silences
                .iter()
                .any(|x| x.since == s.since && x.until == s.until);
            if !known && i.silences.len() < MAX_SILENCES {
                i.silences.push(s.clone());
            }
        }
    }
    let mut out = Vec::new();
    for a in &decision.announcements {
        if let (Event::Resolved, Some(i)) = (a.event, &a.incident) {
            out.push(IncidentRecord::of(slo, i, lag, Some(a.at), budget));
        }
    }
    if let Some(i) = &next.incident {
        let said = |x: &Incident| IncidentRecord::of(slo, x, lag, None, None);
        if prev.incident.as_ref().map(said) != Some(said(i)) {
            out.push(IncidentRecord::of(slo, i, lag, None, budget));
        }
    }
    out
}

/// An incident with what surrounds it: the record, the changes before it, and (while
/// open) the budget left now. What the listing, the review and the Markdown start from.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFacts {
    pub record: IncidentRecord,
    /// Deployments of the SLO's targets in its lookback before the burn, up to the
    /// detection, newest first.
    pub changes: Vec<Change>,
    /// The lookback those changes were read over (sloguard.dev/changes-lookback).
    pub changes_lookback: i64,
}
