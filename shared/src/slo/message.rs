//! What on-call reads: the notification subject, the email body and the JSON
//! document for machines, composed from an evaluation. Pure text, no AWS.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::evaluate::Evaluation;
use super::model::{Severity, SloDefinition};
use super::status::{Status, StatusChange};

/// SNS subjects must be under 100 characters, one line, ASCII.
pub const MAX_SUBJECT: usize = 99;
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
}

/// One notification, ready to publish and to keep in the outbox until sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique per SLO and change: the outbox key, so the same change is never queued twice.
    pub id: String,
    pub slo: String,
    pub service: String,
    pub severity: Severity,
    pub status: Status,
    pub subject: String,
    pub body: String,
    pub document: serde_json::Value,
}

/// RFC 3339 in UTC, seconds precision: the time format of every output.
pub fn rfc3339(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

fn pct(x: Option<f64>, digits: usize) -> String {
    x.map_or("n/a".to_string(), |v| format!("{:.*}%", digits, v * 100.0))
}

fn rate(x: Option<f64>) -> String {
    match x {
        None => "n/a".to_string(),
        Some(v) if v >= 100.0 => format!("{v:.0}x"),
        Some(v) if v >= 10.0 => format!("{v:.1}x"),
        Some(v) => format!("{v:.2}x"),
    }
}

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

/// Compose the notification for a status change (or an alarm with no change, `change` None).
pub fn compose(
    slo: &SloDefinition,
    eval: &Evaluation,
    status: Status,
    change: Option<&StatusChange>,
    alarm: Option<&AlarmNote>,
) -> Notification {
    let severity = change.map_or(Severity::Info, |c| c.severity);
    let sev = severity.as_str().to_uppercase();
    let headline = match (change, alarm) {
        (Some(c), _) if c.to == Status::Ok => format!("{} is back to ok", slo.name),
        (Some(c), _) if c.severity == Severity::Info => {
            format!("{} improved to {}", slo.name, c.to)
        }
        (Some(c), _) => format!("{} is {}", slo.name, c.to),
        (None, Some(a)) => format!(
            "{} alarm {} is {}, no burn-rate condition met",
            slo.name, a.name, a.state
        ),
        (None, None) => format!("{} is {}", slo.name, status),
    };
    let tail = match status {
        Status::NoData => ": no data in the window".to_string(),
        _ => format!(
            ": budget {} left, 1h burn {}",
            pct(eval.budget_remaining, 0),
            rate(eval.burn_rate("1h"))
        ),
    };
    let subject = clean_subject(&format!("[{sev}] {headline}{tail}"));

    let mut b = String::new();
    let title = slo.display_name.as_deref().unwrap_or(&slo.name);
    b.push_str(&format!("{headline}\n\n"));
    b.push_str(&format!("SLO:          {} ({title})\n", slo.name));
    b.push_str(&format!("Service:      {}\n", slo.service));
    if let Some(d) = &slo.description {
        b.push_str(&format!("Promise:      {d}\n"));
    }
    match change {
        Some(c) => b.push_str(&format!(
            "Status:       {} -> {} at {}\n",
            c.from.map_or("new", Status::as_str),
            c.to,
            rfc3339(c.at)
        )),
        None => b.push_str(&format!(
            "Status:       {status} (unchanged) at {}\n",
            rfc3339(eval.evaluated_at)
        )),
    }
    b.push_str(&format!(
        "Objective:    {} over {}\n",
        pct(Some(slo.objective.target), 3),
        slo.window_label()
    ));
    b.push_str(&format!(
        "Attainment:   {} ({:.0} good of {:.0} since {})\n",
        pct(eval.attainment, 3),
        eval.good,
        eval.total,
        rfc3339(eval.window_start)
    ));
    b.push_str(&format!(
        "Budget left:  {} of the error budget\n",
        pct(eval.budget_remaining, 1)
    ));
    match eval.exhausts_at {
        Some(t) => b.push_str(&format!(
            "Exhausted at: {} if the last hour's burn rate goes on\n",
            rfc3339(t)
        )),
        None => b.push_str("Exhausted at: not on the current trend (1h burn rate at most 1)\n"),
    }
    b.push_str("\nBurn-rate conditions (both windows must exceed the threshold):\n");
    for c in &eval.conditions {
        b.push_str(&format!(
            "  {:<7} {:<20} {:>4} {:>8}   {:>4} {:>8}   {} {}{}\n",
            c.severity.as_str(),
            c.name,
            c.long,
            rate(c.long_rate),
            c.short,
            rate(c.short_rate),
            c.op.as_str(),
            c.threshold_label(),
            if c.met { "   MET" } else { "" }
        ));
    }
    if let Some(a) = alarm {
        b.push_str(&format!(
            "\nTriggered by alarm {} -> {}{} at {}\n  {}\n",
            a.name,
            a.state,
            a.previous_state
                .as_deref()
                .map(|p| format!(" (was {p})"))
                .unwrap_or_default(),
            rfc3339(a.timestamp),
            a.reason
        ));
        if change.is_none() && !eval.conditions.iter().any(|c| c.met) {
            b.push_str("  The alarm fired, but no burn-rate condition is met: the budget is not at risk yet.\n");
        }
    }
    match &slo.settings.runbook {
        Some(r) => b.push_str(&format!("\nRunbook: {r}\n")),
        None => b.push_str("\nRunbook: none set (add the sloguard.dev/runbook annotation)\n"),
    }
    if b.len() > MAX_BODY_BYTES {
        let mut cut = MAX_BODY_BYTES;
        while !b.is_char_boundary(cut) {
            cut -= 1;
        }
        b.truncate(cut);
        b.push_str("\n[truncated]\n");
    }

    let document = json!({
        "version": 1,
        "slo": slo.name,
        "service": slo.service,
        "severity": severity.as_str(),
        "status": status.as_str(),
        "previous_status": change.and_then(|c| c.from).map(Status::as_str),
        "evaluated_at": rfc3339(eval.evaluated_at),
        "objective": slo.objective.target,
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
        "subject": subject,
    });
    let id = match (change, alarm) {
        (Some(c), _) => format!("{}#{}", rfc3339(c.at), c.to),
        (None, Some(a)) => format!("{}#alarm#{}", rfc3339(a.timestamp), a.name),
        (None, None) => format!("{}#{}", rfc3339(eval.evaluated_at), status),
    };
    Notification {
        id,
        slo: slo.name.clone(),
        service: slo.service.clone(),
        severity,
        status,
        subject,
        body: b,
        document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_stay_inside_what_sns_accepts() {
        let files = [crate::slo::load::SourceFile {
            name: "c.yaml".into(),
            text: include_str!("../../../examples/slos/checkout-availability.yaml").into(),
        }];
        let slo = crate::slo::load::load(&files).slos.remove(0);
        let eval = Evaluation {
            slo: slo.name.clone(),
            evaluated_at: 0,
            window_start: 0,
            window_length: 1,
            good: 1.0,
            total: 1.0,
            attainment: Some(1.0),
            budget_remaining: Some(1.0),
            windows: vec![],
            conditions: vec![],
            exhausts_at: None,
        };
        let alarm = AlarmNote {
            name: "a".repeat(255),
            arn: None,
            state: "ALARM".into(),
            previous_state: None,
            reason: "r".repeat(400 * 1024),
            timestamp: 0,
        };
        let n = compose(&slo, &eval, Status::Ok, None, Some(&alarm));
        assert!(n.body.len() <= MAX_BODY_BYTES + 32, "{}", n.body.len());
        assert!(n.body.ends_with("[truncated]\n"));
        assert!(n.subject.len() <= MAX_SUBJECT);
        assert_eq!(n.severity, Severity::Info);
    }

    #[test]
    fn subjects_are_one_short_ascii_line() {
        let s = clean_subject(&format!("[PAGE] caf\u{e9}\nline {}", "x".repeat(200)));
        assert_eq!(s.len(), MAX_SUBJECT);
        assert!(s.is_ascii() && !s.contains('\n'));
        assert!(s.starts_with("[PAGE] caf? line"));
    }
}
