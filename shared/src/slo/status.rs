//! SLO statuses and the rules for announcing a change: worse at once, better once
//! it has held for the shortest alert window, never the same change twice.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::evaluate::Evaluation;
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

    /// The severity of a change that makes this the new, worse status.
    pub fn severity(self) -> Severity {
        match self {
            Status::Breaching | Status::Exhausted => Severity::Page,
            Status::Warning | Status::NoData => Severity::Ticket,
            Status::Ok => Severity::Info,
        }
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
    /// The last announced (or, for a first quiet ok, recorded) status.
    pub status: Option<Status>,
    pub status_since: Option<i64>,
    pub last_evaluated_at: Option<i64>,
    /// Since when each condition has been met without a break (for alertAfter).
    #[serde(default)]
    pub met_since: BTreeMap<String, i64>,
    /// Since when the observed status has been better than `status`.
    pub improving_since: Option<i64>,
}

/// A status change to announce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub from: Option<Status>,
    pub to: Status,
    pub severity: Severity,
    pub at: i64,
}

/// The outcome of one evaluation against the remembered state.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub observed: Status,
    /// The new state; None when the evaluation is not newer than the state (a duplicate or a backfill).
    pub state: Option<SloState>,
    pub change: Option<StatusChange>,
}

/// Apply one evaluation to the state: alertAfter, status precedence and announcement rules.
pub fn decide(prev: &SloState, eval: &Evaluation, conditions: &[BurnRateCondition]) -> Decision {
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
        conditions
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.alert_after_seconds)
    };
    let observed = classify(eval, |name| {
        met_since
            .get(name)
            .is_some_and(|since| t - since >= after(name))
    });

    if prev.last_evaluated_at.is_some_and(|last| last >= t) {
        return Decision {
            observed,
            state: None,
            change: None,
        };
    }
    let hold = conditions
        .iter()
        .map(|c| c.short_seconds)
        .min()
        .unwrap_or(300);
    let mut next = SloState {
        status: prev.status,
        status_since: prev.status_since,
        last_evaluated_at: Some(t),
        met_since,
        improving_since: None,
    };
    let change = match prev.status {
        None if matches!(observed, Status::Ok | Status::NoData) => {
            next.status = Some(observed);
            next.status_since = Some(t);
            None
        }
        Some(p) if p == observed => None,
        Some(p) if observed.rank() < p.rank() => {
            let since = prev.improving_since.filter(|s| *s <= t).unwrap_or(t);
            if t - since >= hold {
                Some(StatusChange {
                    from: Some(p),
                    to: observed,
                    severity: Severity::Info,
                    at: t,
                })
            } else {
                next.improving_since = Some(since);
                None
            }
        }
        from => Some(StatusChange {
            from,
            to: observed,
            severity: observed.severity(),
            at: t,
        }),
    };
    if let Some(c) = &change {
        next.status = Some(c.to);
        next.status_since = Some(t);
    }
    Decision {
        observed,
        state: Some(next),
        change,
    }
}
