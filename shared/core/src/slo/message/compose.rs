//! Composing one notification: the subject, the body section by section (`body.rs`) and
//! the JSON document for machines, from an evaluation and what was announced.

use serde_json::json;

use super::body::{self, Facts};
use super::subject::{fit_subject, headline, Said};
use super::text::rfc3339;
use super::{AlarmNote, Notification, MAX_BODY_BYTES};
use crate::slo::change::{self, Change};
use crate::slo::duration::label;
use crate::slo::evaluate::{ConditionResult, Evaluation};
use crate::slo::model::{Severity, SloDefinition};
use crate::slo::status::{Announcement, Event, Status};

/// Compose what on-call reads for an announcement (or, `announcement` None, for an alarm
/// that fired while no burn-rate condition is met).
pub fn compose(
    slo: &SloDefinition,
    eval: &Evaluation,
    status: Status,
    announcement: Option<&Announcement>,
    alarm: Option<&AlarmNote>,
    dashboard_url: Option<&str>,
) -> Notification {
    compose_with(slo, eval, status, announcement, alarm, dashboard_url, &[])
}

/// When the changes listed in a message must have happened by: the incident's opening
/// (or the announcement's time when it belongs to none).
pub fn changes_reference(announcement: &Announcement) -> i64 {
    announcement
        .incident
        .as_ref()
        .map_or(announcement.at, |i| i.opened_at)
}

/// The stack dashboard opened on one SLO: the console reads dashboard variables from the
/// URL fragment as `var-<id>=<value>`, and the template's variable is `slo`.
pub fn dashboard_link(url: &str, slo: &str) -> String {
    let fragment_has_query = url.split_once('#').is_some_and(|(_, f)| f.contains('?'));
    format!(
        "{url}{}var-slo={}",
        if fragment_has_query { '&' } else { '?' },
        change::encode(slo)
    )
}

/// What one "event" is for this SLO: requests for a ratio, slices for timeslices.
fn unit(eval: &Evaluation) -> String {
    match eval.slice_seconds {
        None => "events".into(),
        Some(s) => format!("{} slices", label(s)),
    }
}

/// The condition that speaks for "now": the most severe firing one, else the first.
fn leading(eval: &Evaluation) -> Option<&ConditionResult> {
    eval.conditions
        .iter()
        .filter(|c| c.met)
        .max_by_key(|c| c.severity)
        .or_else(|| eval.conditions.first())
}

/// `compose`, listing the `changes` of the SLO's targets (any times: those in its lookback
/// before the incident opened are shown, newest first).
pub fn compose_with(
    slo: &SloDefinition,
    eval: &Evaluation,
    status: Status,
    announcement: Option<&Announcement>,
    alarm: Option<&AlarmNote>,
    dashboard_url: Option<&str>,
    changes: &[Change],
) -> Notification {
    let reference = announcement.map(changes_reference);
    let recent = reference.map_or(Vec::new(), |r| {
        change::before(changes, r, slo.settings.changes_lookback)
    });
    let severity = announcement.map_or(Severity::Info, |a| a.severity);
    let event = announcement.map(|a| a.event);
    let incident = announcement.and_then(|a| a.incident.as_ref());
    let lead = leading(eval);
    let unit = unit(eval);
    let bad_now = lead
        .and_then(|c| c.short_rate.or(c.long_rate))
        .map(|r| r * (1.0 - slo.objective.target));
    let said = Said {
        severity,
        event,
        incident,
        alarm,
        unit: &unit,
        bad_now,
    };
    let head = headline(&said, eval);
    let sev = severity.as_str().to_uppercase();
    let subject = fit_subject(&sev, &slo.service, &slo.name, &head.subject_tail);
    let facts = Facts {
        slo,
        eval,
        status,
        event,
        incident,
        alarm,
        unit: &unit,
        lead,
        reference,
        recent: &recent,
        dashboard_url,
    };
    let b = cap(body::write(&facts, &sev, &head.line));
    let document = json!({
        "version": 1,
        "slo": slo.name,
        "service": slo.service,
        "team": slo.owner,
        "severity": severity.as_str(),
        "status": status.as_str(),
        "event": event.map(Event::key),
        "incident": incident.map(|i| json!({"severity": i.severity.as_str(), "opened_at": rfc3339(i.opened_at)})),
        "evaluated_at": rfc3339(eval.evaluated_at),
        "objective": slo.objective.target,
        "objective_of": slo.parent,
        "window": slo.window_label(),
        "attainment": eval.attainment,
        "budget_remaining": eval.budget_remaining,
        "burn_rates": eval.windows.iter().map(|w| (w.label.clone(), json!(w.burn_rate))).collect::<serde_json::Map<_, _>>(),
        "exhausts_at": eval.exhausts_at.map(rfc3339),
        "conditions": eval.conditions.iter().map(|c| json!({
            "name": c.name, "severity": c.severity.as_str(), "long_window": c.long, "short_window": c.short,
            "long_burn_rate": c.long_rate, "short_burn_rate": c.short_rate, "op": c.op.as_str(),
            "threshold": c.threshold, "met": c.met,
        })).collect::<Vec<_>>(),
        "runbook": slo.settings.runbook,
        "alarm": alarm,
        "changes": recent.iter().map(|c| json!({
            "target": c.target, "kind": c.kind, "what": c.what, "at": rfc3339(c.at),
            "seconds_before": reference.map(|r| r - c.at), "link": c.link,
        })).collect::<Vec<_>>(),
        "subject": subject,
    });
    let mut document = document;
    if let Some((p, w)) = lead.and_then(|c| eval.burning_most(&c.long)) {
        document["burning_most"] = json!({
            "part": p.name, "weight": p.weight, "window": w.label, "burn_rate": w.burn_rate,
            "weighted_bad": w.weighted_bad,
        });
    }
    let id = match (announcement, alarm) {
        (Some(a), _) => format!("{}#{}", rfc3339(a.at), a.event.key()),
        (None, Some(a)) => format!("{}#alarm#{}", rfc3339(a.timestamp), a.name),
        (None, None) => format!("{}#{}", rfc3339(eval.evaluated_at), status),
    };
    Notification {
        id,
        slo: slo.name.clone(),
        service: slo.service.clone(),
        team: slo.owner.clone(),
        severity,
        status,
        subject,
        body: b,
        document,
    }
}

/// A body SNS accepts: cut at [`MAX_BODY_BYTES`] (on a character boundary) and marked.
pub(super) fn cap(mut b: String) -> String {
    if b.len() > MAX_BODY_BYTES {
        let mut cut = MAX_BODY_BYTES;
        while !b.is_char_boundary(cut) {
            cut -= 1;
        }
        b.truncate(cut);
        b.push_str("\n[truncated]\n");
    }
    b
}
