//! A snapshot: one SLO at one evaluation time, as history stores it and as
//! `status --json` and `history --json` print it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::slo::evaluate::Evaluation;
use crate::slo::message::{rfc3339, AlarmNote};
use crate::slo::model::{Op, SloDefinition};
use crate::slo::status::{Announcement, Status, StatusChange};

/// One burn-rate condition at a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionView {
    pub name: String,
    pub severity: String,
    pub long_window: String,
    pub short_window: String,
    pub long_burn_rate: Option<f64>,
    pub short_burn_rate: Option<f64>,
    /// How the burn rates compare with the threshold (snapshots written before it was kept: `gt`).
    #[serde(default = "greater")]
    pub op: Op,
    pub threshold: f64,
    pub met: bool,
}

fn greater() -> Op {
    Op::Gt
}

/// The contract's status object, plus counts and conditions for people who dig.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub slo: String,
    pub service: String,
    pub objective: f64,
    pub window: String,
    pub evaluated_at: String,
    pub status: Status,
    pub attainment: Option<f64>,
    pub budget_remaining: Option<f64>,
    pub burn_rates: BTreeMap<String, Option<f64>>,
    pub exhausts_at: Option<String>,
    pub good: f64,
    pub total: f64,
    pub conditions: Vec<ConditionView>,
    /// "ok -> breaching" when this evaluation changed the announced status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The alarm transition that triggered this evaluation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<AlarmNote>,
    /// What this evaluation told people (`page: opened`), silenced ones marked `(silenced)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<String>,
}

impl Snapshot {
    /// Build from an evaluation and what the status rules decided.
    pub fn new(
        slo: &SloDefinition,
        eval: &Evaluation,
        status: Status,
        change: Option<&StatusChange>,
        announcements: &[Announcement],
        alarm: Option<&AlarmNote>,
    ) -> Self {
        Snapshot {
            slo: slo.name.clone(),
            service: slo.service.clone(),
            objective: slo.objective.target,
            window: slo.window_label(),
            evaluated_at: rfc3339(eval.evaluated_at),
            status,
            attainment: eval.attainment,
            budget_remaining: eval.budget_remaining,
            burn_rates: eval
                .windows
                .iter()
                .map(|w| (w.label.clone(), w.burn_rate))
                .collect(),
            exhausts_at: eval.exhausts_at.map(rfc3339),
            good: eval.good,
            total: eval.total,
            conditions: eval
                .conditions
                .iter()
                .map(|c| ConditionView {
                    name: c.name.clone(),
                    severity: c.severity.as_str().to_string(),
                    long_window: c.long.clone(),
                    short_window: c.short.clone(),
                    long_burn_rate: c.long_rate,
                    short_burn_rate: c.short_rate,
                    op: c.op,
                    threshold: c.threshold,
                    met: c.met,
                })
                .collect(),
            change: change.map(ToString::to_string),
            alarm: alarm.cloned(),
            notifications: announcements.iter().map(Announcement::label).collect(),
        }
    }
}
