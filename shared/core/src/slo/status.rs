//! SLO statuses, and what is worth telling people: incidents that open, escalate,
//! de-escalate and resolve with the burn-rate conditions (a calmer level is told only
//! once it has held for the shortest alert window), and budget events apart from them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::evaluate::Evaluation;
use super::incident::{burns, earliest, Burn, SilenceNote};
use super::model::{BurnRateCondition, Severity};

/// The state of an SLO as on-call sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    NoData,
    Warning,
    Breaching,
    Exhausted,
}

impl Status {
    /// How bad it is: a change to a higher rank is announced at once.
    pub fn rank(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::NoData => 1,
            Status::Warning => 2,
            Status::Breaching => 3,
            Status::Exhausted => 4,
        }
    }

    /// The worst of `statuses` by [`Status::rank`] (None for none): what a group of
    /// objectives, or a fleet, is shown as.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
        statuses.into_iter().max_by_key(|s| s.rank())
    }

    /// The contract spelling (`ok`, `no_data`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NoData => "no_data",
            Status::Warning => "warning",
            Status::Breaching => "breaching",
            Status::Exhausted => "exhausted",
        }
    }

    /// Parse the contract spelling.
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Ok,
            Status::NoData,
            Status::Warning,
            Status::Breaching,
            Status::Exhausted,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status an evaluation shows, given which conditions fire.
pub fn classify(eval: &Evaluation, firing: impl Fn(&str) -> bool) -> Status {
    if eval.total <= 0.0 {
        return Status::NoData;
    }
    if eval.budget_remaining.is_some_and(|b| b <= 0.0) {
        return Status::Exhausted;
    }
    let fired = |sev| {
        eval.conditions
            .iter()
            .any(|c| c.severity == sev && firing(&c.name))
    };
    if fired(Severity::Page) {
        Status::Breaching
    } else if fired(Severity::Ticket) {
        Status::Warning
    } else {
        Status::Ok
    }
}

/// What sloguard remembers about an SLO between evaluations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SloState {
    /// The status of the last evaluation (what `status` shows).
    pub status: Option<Status>,
    pub status_since: Option<i64>,
    pub last_evaluated_at: Option<i64>,
    /// Since when each condition has been met without a break (for alertAfter).
    #[serde(default)]
    pub met_since: BTreeMap<String, i64>,
    /// The open incident, if burn-rate conditions are firing (or fired within the hold time).
    #[serde(default)]
    pub incident: Option<Incident>,
    /// When each budget-consumption threshold (percent consumed) was last announced.
    #[serde(default)]
    pub budget_announced: BTreeMap<u32, i64>,
    /// Since when each condition has had a window over its threshold (where an incident's
    /// burn started); empty, and not stored, while nothing burns.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub burns: BTreeMap<String, Burn>,
}

/// An incident: opened when a page or ticket condition starts firing, closed once none
/// has fired for the hold time. Notifications follow it, not the status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The level on-call was last told: page or ticket.
    pub severity: Severity,
    pub opened_at: i64,
    /// Budget left when it opened, to say what the incident cost.
    pub budget_at_open: Option<f64>,
    /// Since when no page condition has fired (a page incident de-escalates after the hold).
    #[serde(default)]
    pub calm_since: Option<i64>,
    /// Since when no condition has fired at all (it resolves after the hold).
    #[serde(default)]
    pub quiet_since: Option<i64>,
    /// A silence held back some of its messages: say so when the silence ends.
    #[serde(default)]
    pub held_back: bool,
    /// Where its burn started (None for incidents opened before burns were followed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burn: Option<Burn>,
    /// The highest level it reached (`severity` is the current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<Severity>,
    /// When its page went out (the cycle's trigger time); None until one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paged_at: Option<i64>,
    /// Silences in force while it was open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silences: Vec<SilenceNote>,
}

/// A change of the shown status, recorded in history ("ok -> breaching").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub from: Option<Status>,
    pub to: Status,
    pub at: i64,
}

impl fmt::Display for StatusChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {}",
            self.from.map_or("new", Status::as_str),
            self.to
        )
    }
}

/// What happened that on-call should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Event {
    /// A page or ticket condition started firing.
    Opened,
    /// A ticket incident now has a page condition firing.
    Escalated,
    /// No page condition for the hold time, ticket conditions still firing.
    DeEscalated,
    /// No condition for the hold time.
    Resolved,
    /// `percent` of the budget consumed (below 100).
    BudgetConsumed { percent: u32 },
    /// The budget reached zero.
    Exhausted,
    /// A silence ended while its incident is still open.
    SilenceEnded,
}

impl Event {
    /// A short stable name: part of outbox keys, history and the JSON document.
    pub fn key(self) -> String {
        match self {
            Event::Opened => "opened".into(),
            Event::Escalated => "escalated".into(),
            Event::DeEscalated => "de-escalated".into(),
            Event::Resolved => "resolved".into(),
            Event::BudgetConsumed { percent } => format!("budget-{percent}"),
            Event::Exhausted => "exhausted".into(),
            Event::SilenceEnded => "silence-ended".into(),
        }
    }
}

/// One message to send (or, when silenced, to hold back and record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub event: Event,
    pub severity: Severity,
    pub at: i64,
    /// Held back by a silence: recorded in history, never sent.
    pub suppressed: bool,
    /// The incident it belongs to (its state after this evaluation, or as it closed).
    pub incident: Option<Incident>,
}

impl Announcement {
    /// How history and logs name it: `page: opened`, `ticket: exhausted (silenced)`.
    pub fn label(&self) -> String {
        format!(
            "{}: {}{}",
            self.severity.as_str(),
            self.event.key(),
            if self.suppressed { " (silenced)" } else { "" }
        )
    }
}

/// The rules one SLO is decided by: its conditions, budget alerts and whether it is silenced.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub conditions: &'a [BurnRateCondition],
    /// Percent consumed to announce besides exhaustion.
    pub budget_alerts: &'a [u32],
    pub exhaustion_severity: Severity,
    /// Calendar windows re-arm budget alerts each period; rolling ones a window length later.
    pub calendar: bool,
    /// A silence is in force: page and ticket messages are held back.
    pub silenced: bool,
}

impl<'a> Rules<'a> {
    /// The default rules over these conditions: no budget thresholds, not silenced.
    pub fn new(conditions: &'a [BurnRateCondition]) -> Self {
        Rules {
            conditions,
            budget_alerts: &[],
            exhaustion_severity: Severity::Ticket,
            calendar: false,
            silenced: false,
        }
    }

    /// The rules an SLO's definition sets.
    pub fn for_slo(slo: &'a super::model::SloDefinition, silenced: bool) -> Self {
        Rules {
            conditions: &slo.conditions,
            budget_alerts: &slo.settings.budget_alerts,
            exhaustion_severity: slo.settings.exhaustion_severity,
            calendar: matches!(slo.window, super::model::TimeWindow::Calendar { .. }),
            silenced,
        }
    }

    /// How long a calmer level must hold before it is announced: the shortest alert window.
    fn hold(&self) -> i64 {
        self.conditions
            .iter()
            .map(|c| c.short_seconds)
            .min()
            .unwrap_or(300)
    }
}

/// The outcome of one evaluation against the remembered state.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub observed: Status,
    /// The new state; None when the evaluation is not newer than the state (a duplicate or a backfill).
    pub state: Option<SloState>,
    /// The shown status changed.
    pub change: Option<StatusChange>,
    /// What to tell people, in order.
    pub announcements: Vec<Announcement>,
}

/// Apply one evaluation to the state: alertAfter, the status shown, the incident's
/// transitions and the budget events.
pub fn decide(prev: &SloState, eval: &Evaluation, rules: &Rules) -> Decision {
    let t = eval.evaluated_at;
    let mut met_since = BTreeMap::new();
    for c in &eval.conditions {
        if c.met {
            let since = prev
                .met_since
                .get(&c.name)
                .copied()
                .filter(|s| *s <= t)
                .unwrap_or(t);
            met_since.insert(c.name.clone(), since);
        }
    }
    let after = |name: &str| {
        rules
            .conditions
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.alert_after_seconds)
    };
    let fires = |name: &str| {
        met_since
            .get(name)
            .is_some_and(|since| t - since >= after(name))
    };
    let observed = classify(eval, fires);
    if prev.last_evaluated_at.is_some_and(|last| last >= t) {
        return Decision {
            observed,
            state: None,
            change: None,
            announcements: Vec::new(),
        };
    }
    let firing = eval
        .conditions
        .iter()
        .filter(|c| c.severity != Severity::Info && fires(&c.name))
        .map(|c| c.severity)
        .max();

    let mut next = SloState {
        status: Some(observed),
        status_since: prev.status_since,
        last_evaluated_at: Some(t),
        met_since,
        incident: prev.incident.clone(),
        budget_announced: prev.budget_announced.clone(),
        burns: burns(&prev.burns, eval, rules.conditions),
    };
    let change = (prev.status != Some(observed)).then(|| {
        next.status_since = Some(t);
        StatusChange {
            from: prev.status,
            to: observed,
            at: t,
        }
    });
    let mut out = Vec::new();
    incident_step(&mut next, firing, eval, rules, t, &mut out);
    budget_step(&mut next, eval, rules, t, &mut out);

    // Silences hold back page and ticket messages; an incident that opened unheard
    // resolves unheard too. When the silence is over, one line says the incident is still open.
    for a in &mut out {
        let unheard_close =
            a.event == Event::Resolved && a.incident.as_ref().is_some_and(|i| i.held_back);
        if (rules.silenced && a.severity != Severity::Info) || unheard_close {
            a.suppressed = true;
            if let Some(i) = next.incident.as_mut() {
                i.held_back = true;
            }
        }
    }
    if !rules.silenced {
        if let Some(i) = next.incident.as_mut().filter(|i| i.held_back) {
            i.held_back = false;
            out.push(Announcement {
                event: Event::SilenceEnded,
                severity: Severity::Info,
                at: t,
                suppressed: false,
                incident: Some(i.clone()),
            });
        }
    }
    Decision {
        observed,
        state: Some(next),
        change,
        announcements: out,
    }
}

/// Open, escalate, de-escalate or resolve the incident from the conditions firing now.
fn incident_step(
    next: &mut SloState,
    firing: Option<Severity>,
    eval: &Evaluation,
    rules: &Rules,
    t: i64,
    out: &mut Vec<Announcement>,
) {
    let hold = rules.hold();
    let mut announce = |event, severity, incident: &Incident| {
        out.push(Announcement {
            event,
            severity,
            at: t,
            suppressed: false,
            incident: Some(incident.clone()),
        })
    };
    match (next.incident.take(), firing) {
        (None, None) => {}
        (None, Some(severity)) => {
            let i = Incident {
                severity,
                opened_at: t,
                budget_at_open: eval.budget_remaining,
                calm_since: None,
                quiet_since: None,
                held_back: false,
                burn: earliest(&next.burns),
                peak: Some(severity),
                paged_at: None,
                silences: Vec::new(),
            };
            announce(Event::Opened, severity, &i);
            next.incident = Some(i);
        }
        (Some(mut i), Some(severity)) => {
            i.quiet_since = None;
            if severity == Severity::Page {
                i.calm_since = None;
                if i.severity != Severity::Page {
                    i.severity = Severity::Page;
                    i.peak = Some(Severity::Page);
                    announce(Event::Escalated, Severity::Page, &i);
                }
            } else if i.severity == Severity::Page {
                let calm = i.calm_since.filter(|c| *c <= t).unwrap_or(t);
                if t - calm >= hold {
                    i.severity = severity;
                    i.calm_since = None;
                    announce(Event::DeEscalated, severity, &i);
                } else {
                    i.calm_since = Some(calm);
                }
            }
            next.incident = Some(i);
        }
        (Some(mut i), None) => {
            let quiet = i.quiet_since.filter(|q| *q <= t).unwrap_or(t);
            if t - quiet >= hold {
                announce(Event::Resolved, Severity::Info, &i);
            } else {
                i.quiet_since = Some(quiet);
                i.calm_since = Some(i.calm_since.unwrap_or(quiet));
                next.incident = Some(i);
            }
        }
    }
}

/// Budget thresholds and exhaustion, each once a window period, independent of incidents.
fn budget_step(
    next: &mut SloState,
    eval: &Evaluation,
    rules: &Rules,
    t: i64,
    out: &mut Vec<Announcement>,
) {
    let Some(left) = eval.budget_remaining else {
        return;
    };
    let consumed = (1.0 - left) * 100.0;
    let armed = |announced: Option<&i64>| match announced {
        None => true,
        Some(at) if rules.calendar => *at < eval.window_start,
        Some(at) => t - at >= eval.window_length,
    };
    // Only the highest threshold newly crossed is announced; the lower ones count as told.
    let mut highest = None;
    for p in rules
        .budget_alerts
        .iter()
        .copied()
        .filter(|p| *p < 100)
        .chain(std::iter::once(100))
    {
        let crossed = if p == 100 {
            left <= 0.0
        } else {
            consumed >= p as f64
        };
        if crossed && armed(next.budget_announced.get(&p)) {
            next.budget_announced.insert(p, t);
            highest = Some(p);
        }
    }
    if let Some(p) = highest {
        let (event, severity) = if p == 100 {
            (Event::Exhausted, rules.exhaustion_severity)
        } else {
            (Event::BudgetConsumed { percent: p }, Severity::Info)
        };
        out.push(Announcement {
            event,
            severity,
            at: t,
            suppressed: false,
            incident: next.incident.clone(),
        });
    }
}
