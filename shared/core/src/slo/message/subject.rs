//! The first thing on-call reads: the SNS subject (one ASCII line of at most 99
//! characters, severity and SLO first) and the body's headline, both in the composer's
//! words; the only outside text in them, an alarm's name, is quoted and shortened.

use super::text::{pct, quoted_at_most, relative};
use super::AlarmNote;
use crate::slo::evaluate::Evaluation;
use crate::slo::model::Severity;
use crate::slo::status::{Event, Incident};

/// SNS subjects must be under 100 characters, one line, ASCII.
pub const MAX_SUBJECT: usize = 99;

/// Most characters of an alarm's name a subject quotes: the outlook after it must fit.
const SUBJECT_ALARM_CHARS: usize = 40;

/// Make a subject SNS accepts: one ASCII line of at most 99 characters.
pub fn clean_subject(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else if c.is_whitespace() {
                ' '
            } else {
                '?'
            }
        })
        .collect();
    if out.len() > MAX_SUBJECT {
        out.truncate(MAX_SUBJECT - 3);
        out.push_str("...");
    }
    out
}

/// `[SEV] service slo: tail` within `MAX_SUBJECT`, giving way from the front: the numbers
/// and the outlook at the end are what on-call reads, so long names are shortened first
/// (the service dropped, then the SLO name cut in the middle), the tail only last.
pub fn fit_subject(sev: &str, service: &str, slo: &str, tail: &str) -> String {
    // clean_subject writes one character for each: a subject fits when its characters do.
    let fits = |s: &str| s.chars().count() <= MAX_SUBJECT;
    let whole = format!("[{sev}] {service} {slo}: {tail}");
    if fits(&whole) {
        return clean_subject(&whole);
    }
    let without_service = format!("[{sev}] {slo}: {tail}");
    if fits(&without_service) {
        return clean_subject(&without_service);
    }
    let room = MAX_SUBJECT.saturating_sub(format!("[{sev}] : {tail}").chars().count());
    let name: Vec<char> = slo.chars().collect();
    if room >= 12 && name.len() > room {
        let keep = room - 3;
        let (head, rest) = (keep / 2, keep - keep / 2);
        let short: String = name[..head]
            .iter()
            .chain(['.', '.', '.'].iter())
            .chain(name[name.len() - rest..].iter())
            .collect();
        return clean_subject(&format!("[{sev}] {short}: {tail}"));
    }
    clean_subject(&without_service)
}

/// An alarm state as the message names it: one of CloudWatch's three, else quoted.
pub(super) fn state_word(state: &str) -> String {
    match state {
        "ALARM" | "OK" | "INSUFFICIENT_DATA" => state.to_string(),
        other => quoted_at_most(other, SUBJECT_ALARM_CHARS),
    }
}

/// "when the budget is gone", for subjects: `budget gone in ~29 h`.
fn outlook(eval: &Evaluation) -> String {
    match (eval.budget_remaining, eval.exhausts_at) {
        (Some(b), _) if b <= 0.0 => "budget already spent".into(),
        (_, Some(at)) => format!("budget gone in ~{}", relative(at - eval.evaluated_at)),
        _ => format!("budget {} left", pct(eval.budget_remaining, 0)),
    }
}

/// What an announcement says first: in the body's first line and at the end of the subject.
pub(super) struct Headline {
    /// After `[SEV] service slo: ` on the body's first line; the composer's words only.
    pub(super) line: String,
    /// After `[SEV] service slo: ` in the subject.
    pub(super) subject_tail: String,
}

/// What happened, for the first line and the subject.
pub(super) struct Said<'a> {
    pub(super) severity: Severity,
    pub(super) event: Option<Event>,
    pub(super) incident: Option<&'a Incident>,
    pub(super) alarm: Option<&'a AlarmNote>,
    /// "events" or "5m slices".
    pub(super) unit: &'a str,
    /// The fraction of events failing now, by the leading condition.
    pub(super) bad_now: Option<f64>,
}

/// The headline of an announcement (or, `event` None, of an alarm without a burn).
pub(super) fn headline(said: &Said, eval: &Evaluation) -> Headline {
    let (unit, left) = (said.unit, eval.budget_remaining);
    let incident_severity = said.incident.map_or("", |i| i.severity.as_str());
    let (line, subject_tail) = match said.event {
        Some(e @ (Event::Opened | Event::Escalated)) => (
            format!(
                "{} incident {}: {} of {unit} failing",
                said.severity.as_str(),
                if e == Event::Opened {
                    "opened"
                } else {
                    "escalated"
                },
                pct(said.bad_now, 1)
            ),
            format!(
                "{} of {unit} failing, {}",
                pct(said.bad_now, 1),
                outlook(eval)
            ),
        ),
        Some(Event::DeEscalated) => (
            "burn slowed to ticket level, incident still open".to_string(),
            format!("burn slowed to ticket level, {}", outlook(eval)),
        ),
        Some(Event::Resolved) => {
            let used = said
                .incident
                .and_then(|i| i.budget_at_open)
                .zip(left)
                .map(|(a, b)| (a - b).max(0.0));
            (
                "RESOLVED: no burn-rate condition fired for the hold time".to_string(),
                format!(
                    "RESOLVED, used {} of the budget, {} left",
                    pct(used, 1),
                    pct(left, 1)
                ),
            )
        }
        Some(Event::Exhausted) => (
            "error budget exhausted".to_string(),
            match left {
                Some(l) if l < 0.0 => {
                    format!("error budget exhausted, overspent by {}", pct(-l, 1))
                }
                _ => "error budget exhausted, none left".to_string(),
            },
        ),
        Some(Event::BudgetConsumed { percent }) => (
            format!("{percent}% of the error budget consumed"),
            format!(
                "{percent}% of the error budget consumed, {} left",
                pct(left, 1)
            ),
        ),
        Some(Event::SilenceEnded) => (
            format!("silence ended; the {incident_severity} incident is still open"),
            format!("silence ended, {incident_severity} incident still open"),
        ),
        // The alarm's own name and state go in the ALARM section, never in the first line.
        None => (
            "an alarm fired; no burn-rate condition met".to_string(),
            match said.alarm {
                Some(a) => format!(
                    "alarm {} is {}, no burn-rate condition met",
                    quoted_at_most(&a.name, SUBJECT_ALARM_CHARS),
                    state_word(&a.state)
                ),
                None => "no burn-rate condition met".to_string(),
            },
        ),
    };
    Headline { line, subject_tail }
}
