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
    /// The start of the first short window seen over its threshold (its evaluation time
    /// minus its length): the burn began at or after it.
    pub started_at: i64,
    /// That window (`5m`).
    pub window: String,
    /// The evaluation that first saw it.
    pub seen_at: i64,
    /// Budget left at its start: at the evaluation that saw it, plus what the window over
    /// its threshold spent.
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

/// Each condition's burn, from the previous one: a condition whose short window is over
/// its threshold keeps the burn it started; one whose short window is not forgets it. A
/// new burn starts where that window starts: the burn began at or after it.
pub fn burns(
    prev: &BTreeMap<String, Burn>,
    eval: &Evaluation,
    conditions: &[BurnRateCondition],
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
        // The short window: it follows the burn closely (the long one still remembers a
        // burn that ended, and would join the next one to it).
        if !c.short_rate.is_some_and(|r| c.op.holds(r, c.threshold)) {
            continue;
        }
        let seconds = def.short_seconds;
        let burn = match prev.get(&c.name).filter(|b| b.seen_at <= t) {
            Some(b) => b.clone(),
            None => {
                // What the window spent, added back: the budget at its start.
                let spent = eval
                    .windows
                    .iter()
                    .find(|w| w.seconds == seconds)
                    .and_then(|w| Some(w.burn_rate? * w.total / eval.budget_base()))
                    .filter(|x| x.is_finite())
                    .unwrap_or(0.0);
                Burn {
                    started_at: t - seconds,
                    window: label(seconds),
                    seen_at: t,
                    budget: eval.budget_remaining.map(|b| b + spent),
                }
            }
        };
        out.insert(c.name.clone(), burn);
    }
    out
}

/// Where an incident that opens now began: the burn seen first and, of those seen at the
/// same evaluation, the one of the shortest window (it says the most about when).
pub fn earliest(burns: &BTreeMap<String, Burn>) -> Option<Burn> {
    burns
        .values()
        .min_by_key(|b| (b.seen_at, std::cmp::Reverse(b.started_at)))
        .cloned()
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
            severity: incident
                .peak
                .unwrap_or(incident.severity)
                .max(incident.severity),
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

impl IncidentFacts {
    /// The JSON object `incidents --json`, `incident --json` and the review document print
    /// (times RFC 3339, durations in seconds, budgets as fractions of the budget).
    pub fn to_json(&self, now: i64) -> serde_json::Value {
        use super::message::rfc3339;
        let r = &self.record;
        let time = |t: Option<i64>| t.map(rfc3339);
        serde_json::json!({
            "id": r.id(),
            "slo": r.slo,
            "service": r.service,
            "severity": r.severity.as_str(),
            "open": r.resolved_at.is_none(),
            "burn_started_at": rfc3339(r.burn_started_at),
            "burn_window": r.burn_window,
            "opened_at": rfc3339(r.opened_at),
            "detected_at": rfc3339(r.detected_at),
            "paged_at": time(r.paged_at),
            "resolved_at": time(r.resolved_at),
            "time_to_detect_seconds": r.time_to_detect(),
            "duration_seconds": r.duration(now),
            "budget_at_start": r.budget_at_start,
            "budget_at_end": r.budget_at_end,
            "budget_spent": r.budget_spent(),
            "changes": self.changes.iter().map(|c| serde_json::json!({
                "target": c.target, "kind": c.kind, "at": rfc3339(c.at), "what": c.what,
                "region": c.region, "link": c.link,
                "before_burn_seconds": r.burn_started_at - c.at,
            })).collect::<Vec<_>>(),
            "silences": r.silences.iter().map(|s| serde_json::json!({
                "since": rfc3339(s.since), "until": rfc3339(s.until), "reason": s.reason,
            })).collect::<Vec<_>>(),
        })
    }

    /// The incident as plain text lines (the CLI, the review digest), outside text quoted.
    pub fn lines(&self, now: i64) -> Vec<String> {
        use super::message::{one_line, pct, pct_cell, quoted, relative, rfc3339};
        let r = &self.record;
        let mut out = vec![format!(
            "{}  {}, {}",
            one_line(&r.id()),
            r.severity.as_str(),
            match r.resolved_at {
                Some(t) => format!("resolved {}", rfc3339(t)),
                None => "still open".to_string(),
            }
        )];
        out.push(format!(
            "  burn started {}{}; {} after {}{}; lasted {}{}",
            rfc3339(r.burn_started_at),
            r.burn_window
                .as_deref()
                .map_or(String::new(), |w| format!(" ({} window)", one_line(w))),
            if r.paged_at.is_some() {
                "paged"
            } else {
                "opened"
            },
            relative(r.time_to_detect()),
            if r.paged_at.is_some() {
                ""
            } else {
                " (no page went out)"
            },
            relative(r.duration(now)),
            if r.resolved_at.is_none() {
                " so far"
            } else {
                ""
            },
        ));
        out.push(format!(
            "  budget spent {} ({} left at the start, {} at the end)",
            r.budget_spent().map_or("n/a".to_string(), |s| pct(s, 1)),
            pct_cell(r.budget_at_start, 1),
            pct_cell(r.budget_at_end, 1)
        ));
        for c in &self.changes {
            out.push(format!(
                "  change {} before the burn: {} {} at {}",
                relative(r.burn_started_at - c.at),
                quoted(&c.target),
                quoted(&c.what),
                rfc3339(c.at)
            ));
        }
        for s in &r.silences {
            out.push(format!(
                "  silenced from {} until {}: {}",
                rfc3339(s.since),
                rfc3339(s.until),
                quoted(&s.reason)
            ));
        }
        out
    }
}
