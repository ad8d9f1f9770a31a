//! What on-call reads: the notification subject, the email body and the JSON
//! document for machines, composed from an evaluation. Pure text, no AWS.
//!
//! `text` holds the one sanitiser for outside text and the number formats, `subject` the
//! subject and headline, `body` the sections, `compose` puts a notification together.

mod body;
mod compose;
mod denied;
mod subject;
mod text;

#[cfg(test)]
mod injection_tests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use super::model::Severity;
use super::status::Status;

pub use compose::{changes_reference, compose, compose_with, dashboard_link};
pub use denied::denied_ticket;
pub use subject::{clean_subject, fit_subject, MAX_SUBJECT};
pub use text::{
    count, fires_when, is_unsafe_char, one_line, pct, pct_cell, quoted, quoted_at_most, rate,
    relative, rfc3339, thousands, MAX_QUOTED_CHARS,
};

/// SNS messages may be at most 256 KB; keep well inside it.
pub const MAX_BODY_BYTES: usize = 200 * 1024;

/// The alarm that triggered an evaluation, as the message names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmNote {
    pub name: String,
    pub arn: Option<String>,
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: String,
    pub timestamp: i64,
    /// Every SLO the alarm touches (the one info message about it names them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub touched: Vec<String>,
}

/// One notification, ready to publish and to keep in the outbox until sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique per SLO and change: the outbox key, so the same change is never queued twice.
    pub id: String,
    pub slo: String,
    pub service: String,
    /// The SLO's team (`metadata.labels.team`), the SNS `team` attribute; None before routing
    /// existed and for SLOs without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub severity: Severity,
    pub status: Status,
    pub subject: String,
    pub body: String,
    pub document: serde_json::Value,
}

impl Notification {
    /// The EventBridge `detail-type` of this notification's kind, so rules can match one kind;
    /// None for what is only for people (silence ended, an alarm without a burn).
    pub fn detail_type(&self) -> Option<&'static str> {
        Some(match self.document.get("event")?.as_str()? {
            "opened" => "SLO Incident Opened",
            "escalated" => "SLO Incident Escalated",
            "de-escalated" => "SLO Incident De-escalated",
            "resolved" => "SLO Incident Resolved",
            "exhausted" => "SLO Budget Exhausted",
            k if k.starts_with("budget-") => "SLO Budget Threshold",
            _ => return None,
        })
    }
}
