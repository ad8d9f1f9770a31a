//! What on-call reads: the notification subject, the email body and the JSON
//! document for machines, composed from an evaluation. Pure text, no AWS.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::change::{self, Change};
use super::duration::label;
use super::evaluate::{ConditionResult, Evaluation};
use super::model::{Op, Severity, SloDefinition};
use super::status::{Announcement, Event, Status};

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

/// RFC 3339 in UTC, seconds precision: the time format of every output.
pub fn rfc3339(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// A fraction as a percentage with `digits` decimals; never `-0.0%` (a value that rounds
/// to zero has no sign).
fn pct(x: Option<f64>, digits: usize) -> String {
    x.map_or("n/a".to_string(), |v| {
        let s = format!("{:.*}", digits, v * 100.0);
        let zero = s
            .trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.');
        format!("{}%", if zero { s.trim_start_matches('-') } else { &s })
    })
}

/// A condition's trigger as people read it: `burn > 14.4x in both` (its windows), not `gt 14.4`.
pub fn fires_when(op: Op, threshold: f64) -> String {
    let t = format!("{threshold:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("burn {} {t}x in both", op.symbol())
}

/// A burn rate as people read it: `126x`, `29.3x`, `3.36x`, `n/a` without data.
pub fn rate(x: Option<f64>) -> String {
    match x {
        None => "n/a".to_string(),
        Some(v) if v >= 100.0 => format!("{v:.0}x"),
        Some(v) if v >= 10.0 => format!("{v:.1}x"),
        Some(v) => format!("{v:.2}x"),
    }
}

/// A count as people read it: thousands separated, at most one decimal when not whole.
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let rounded = (x * 10.0).round() / 10.0;
    let whole = rounded.trunc().abs() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    let frac = (rounded.abs() - whole as f64) * 10.0;
    if frac.round() >= 1.0 {
        out.push_str(&format!(".{}", frac.round() as u64));
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// A count and its noun as people write them: `1 problem`, `2 problems`, `1,204 SLOs`
/// (every noun sloguard counts takes an `s`).
pub fn count(n: usize, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", thousands(n as f64))
}

/// The stack dashboard opened on one SLO: the console reads dashboard variables from the
/// URL fragment as `var-<id>=<value>`, and the template's variable is `slo`.
pub fn dashboard_link(url: &str, slo: &str) -> String {
    let fragment_has_query = url.split_once('#').is_some_and(|(_, f)| f.contains('?'));
    let value: String = slo
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "{url}{}var-slo={value}",
        if fragment_has_query { '&' } else { '?' }
    )
}

/// A span of time in the unit that reads best: `45 min`, `29 h`, `6 d`.
pub fn relative(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 90 * 60 {
        format!("{} min", (s + 30) / 60)
    } else if s < 72 * 3600 {
        format!("{} h", (s + 1800) / 3600)
    } else {
        format!("{} d", (s + 43_200) / 86_400)
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

/// `[SEV] service slo: tail` within `MAX_SUBJECT`, giving way from the front: the numbers
/// and the outlook at the end are what on-call reads, so long names are shortened first
/// (the service dropped, then the SLO name cut in the middle), the tail only last.
pub fn fit_subject(sev: &str, service: &str, slo: &str, tail: &str) -> String {
    let whole = clean_subject(&format!("[{sev}] {service} {slo}: {tail}"));
    if !whole.ends_with("...") {
        return whole;
    }
    let without_service = format!("[{sev}] {slo}: {tail}");
    if without_service.len() <= MAX_SUBJECT {
        return clean_subject(&without_service);
    }
    let room = MAX_SUBJECT.saturating_sub(format!("[{sev}] : {tail}").len());
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

/// "when the budget is gone", for subjects: `budget gone in ~29 h`.
fn outlook(eval: &Evaluation) -> String {
    match (eval.budget_remaining, eval.exhausts_at) {
        (Some(b), _) if b <= 0.0 => "budget already spent".into(),
        (_, Some(at)) => format!("budget gone in ~{}", relative(at - eval.evaluated_at)),
        _ => format!("budget {} left", pct(eval.budget_remaining, 0)),
    }
}

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
    let sev = severity.as_str().to_uppercase();
    let who = format!("{} {}", slo.service, slo.name);
    let lead = leading(eval);
    let bad_now = lead
        .and_then(|c| c.short_rate.or(c.long_rate))
        .map(|r| r * (1.0 - slo.objective.target));
    let unit = unit(eval);
    let left = eval.budget_remaining;
    let incident = announcement.and_then(|a| a.incident.as_ref());
    let event = announcement.map(|a| a.event);
    let (headline, subject_tail) = match event {
        Some(Event::Opened | Event::Escalated) => (
            format!(
                "{} incident {}: {} of {unit} failing",
                severity.as_str(),
                if event == Some(Event::Opened) {
                    "opened"
                } else {
                    "escalated"
                },
                pct(bad_now, 1)
            ),
            format!("{} of {unit} failing, {}", pct(bad_now, 1), outlook(eval)),
        ),
        Some(Event::DeEscalated) => (
            "burn slowed to ticket level, incident still open".to_string(),
            format!("burn slowed to ticket level, {}", outlook(eval)),
        ),
        Some(Event::Resolved) => {
            let used = incident
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
                    format!("error budget exhausted, overspent by {}", pct(Some(-l), 1))
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
            format!(
                "silence ended; the {} incident is still open",
                incident.map_or("", |i| i.severity.as_str())
            ),
            format!(
                "silence ended, {} incident still open",
                incident.map_or("", |i| i.severity.as_str())
            ),
        ),
        None => {
            let a = alarm.map_or(String::new(), |a| {
                format!("alarm {} is {}", a.name, a.state)
            });
            (
                format!("{a}; no burn-rate condition met"),
                format!("{a}, no burn-rate condition met"),
            )
        }
    };
    let subject = fit_subject(&sev.to_string(), &slo.service, &slo.name, &subject_tail);

    let mut b = String::new();
    let title = slo.display_name.as_deref().unwrap_or(&slo.name);
    b.push_str(&format!("[{sev}] {who}: {headline}\n"));
    b.push_str(&format!(
        "{title}: {} of {unit} good over {}; status now {status}.\n",
        pct(Some(slo.objective.target), 3),
        slo.window_label()
    ));
    if let Some(d) = &slo.description {
        b.push_str(&format!("Promise: {d}\n"));
    }

    let allowed = 1.0 - slo.objective.target;
    if event != Some(Event::Resolved) {
        b.push_str("\nWHAT IS WRONG NOW\n");
        match lead {
            Some(c) if status != Status::NoData => {
                let frac = |r: Option<f64>| pct(r.map(|r| r * allowed), 2);
                b.push_str(&format!(
                    "  {} of {unit} failing over the last {}, {} over the last {}; the objective allows {}.\n",
                    frac(c.short_rate),
                    c.short,
                    frac(c.long_rate),
                    c.long,
                    pct(Some(allowed), 2)
                ));
                b.push_str(&format!(
                    "  That spends the budget {} as fast as the window allows ({}), {} over {}.\n",
                    rate(c.short_rate),
                    c.short,
                    rate(c.long_rate),
                    c.long
                ));
            }
            _ => b.push_str("  No data in the window: the metrics may have stopped.\n"),
        }
    }

    if let (Some(r), false) = (reference, slo.settings.changes.is_empty()) {
        b.push_str(&format!(
            "\nCHANGES BEFORE IT ({} before the incident opened at {}, newest first)\n",
            relative(slo.settings.changes_lookback),
            rfc3339(r)
        ));
        if recent.is_empty() {
            b.push_str(&format!(
                "  none recorded for {}\n",
                slo.settings.changes.join(", ")
            ));
        }
        for l in change::lines(&recent, r) {
            b.push_str(&format!("  {l}\n"));
        }
    }

    b.push_str("\nBUDGET\n");
    let base = eval.budget_base();
    let bad = (eval.total - eval.good).max(0.0);
    match left {
        Some(l) if l < 0.0 => b.push_str(&format!(
            "  Overspent by {}: {} bad {unit} against the {} the window allows.\n",
            pct(Some(-l), 1),
            thousands(bad),
            thousands(allowed * base)
        )),
        Some(l) => b.push_str(&format!(
            "  {} left: {} of the {} bad {unit} the window allows are used.\n",
            pct(Some(l), 1),
            thousands(bad),
            thousands(allowed * base)
        )),
        None => b.push_str("  Unknown: no data in the window.\n"),
    }
    b.push_str(&format!(
        "  Attainment {} ({} good of {} {unit} with data, since {}).\n",
        pct(eval.attainment, 3),
        thousands(eval.good),
        thousands(eval.total),
        rfc3339(eval.window_start)
    ));
    let exclusions = &slo.settings.exclusions;
    if let Some(none) = eval.slices_without_data(exclusions) {
        let excluded = eval.excluded_slices(exclusions).unwrap_or(0.0);
        b.push_str(&format!(
            "  {} slices of the window so far had no data{}; the budget counts all {} slices of the window.\n",
            thousands(none),
            if excluded > 0.0 {
                format!(" ({} more were excluded)", thousands(excluded))
            } else {
                String::new()
            },
            thousands(base)
        ));
    }
    if event == Some(Event::Resolved) {
        if let Some(i) = incident {
            let used = i.budget_at_open.zip(left).map(|(a, b)| (a - b).max(0.0));
            b.push_str(&format!(
                "  The incident lasted {} (opened {}); {} of the budget was spent since it opened.\n",
                relative(eval.evaluated_at - i.opened_at),
                rfc3339(i.opened_at),
                pct(used, 1)
            ));
        }
    } else {
        match (left, eval.exhausts_at) {
            (Some(l), _) if l <= 0.0 => {}
            (_, Some(at)) => b.push_str(&format!(
                "  Runs out in ~{}, at {}, if the last hour's burn rate goes on.\n",
                relative(at - eval.evaluated_at),
                rfc3339(at)
            )),
            _ => {
                b.push_str("  Not running out at the last hour's rate (1h burn rate at most 1).\n")
            }
        }
    }

    if !eval.conditions.is_empty() {
        b.push_str(
            if event == Some(Event::Resolved) || announcement.is_none() {
                "\nCONDITIONS NOW\n"
            } else {
                "\nWHY IT FIRED\n"
            },
        );
        let rows: Vec<[String; 5]> = eval
            .conditions
            .iter()
            .map(|c| {
                // The AlertCondition's own word beside sloguard's reading of it: `page (sev1)`.
                let label = slo
                    .conditions
                    .iter()
                    .find(|d| d.name == c.name)
                    .and_then(|d| d.severity_label.as_deref());
                [
                    c.name.clone(),
                    match label {
                        Some(l) => format!("{} ({l})", c.severity.as_str()),
                        None => c.severity.as_str().to_string(),
                    },
                    format!(
                        "{} over {}, {} over {}",
                        rate(c.long_rate),
                        c.long,
                        rate(c.short_rate),
                        c.short
                    ),
                    fires_when(c.op, c.threshold),
                    if c.met {
                        "FIRING".into()
                    } else {
                        "quiet".into()
                    },
                ]
            })
            .collect();
        let header = ["condition", "severity", "burn rate", "fires when", "now"];
        let width = |i: usize| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..5).map(width).collect();
        let line = |cells: [&str; 5]| {
            let mut l = String::from("  ");
            for (i, c) in cells.iter().enumerate() {
                l.push_str(&format!("{:<w$}  ", c, w = widths[i]));
            }
            format!("{}\n", l.trim_end())
        };
        b.push_str(&line(header));
        for r in &rows {
            b.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
        }
    }
    match &slo.settings.runbook {
        Some(r) => b.push_str(&format!("\nRUNBOOK\n  {r}\n")),
        None => b.push_str("\nRUNBOOK\n  none set (add the sloguard.dev/runbook annotation)\n"),
    }
    if let Some(a) = alarm {
        b.push_str(&format!(
            "\nALARM\n  {} -> {}{} at {}\n  {}\n",
            a.name,
            a.state,
            a.previous_state
                .as_deref()
                .map(|p| format!(" (was {p})"))
                .unwrap_or_default(),
            rfc3339(a.timestamp),
            a.reason
        ));
        if announcement.is_none() {
            b.push_str("  The alarm fired, but no burn-rate condition is met: the budget is not at risk yet.\n");
            if a.touched.len() > 1 {
                b.push_str(&format!(
                    "  It touches these SLOs: {} (one message for all of them).\n",
                    a.touched.join(", ")
                ));
            }
        }
    }
    b.push_str(&format!(
        "\nLOOK CLOSER\n  sloguard status\n  sloguard history {} --since {}\n",
        slo.name,
        rfc3339(eval.evaluated_at - 6 * 3600)
    ));
    if let Some(url) = dashboard_url {
        b.push_str(&format!(
            "  dashboard: {}\n",
            dashboard_link(url, &slo.name)
        ));
    }
    if matches!(
        event,
        Some(Event::Opened | Event::Escalated | Event::DeEscalated)
    ) {
        b.push_str(&format!(
            "  sloguard silence {} --for 2h --reason \"...\"   (hold back pages while you work)\n",
            slo.name
        ));
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
    let id = match (announcement, alarm) {
        (Some(a), _) => format!("{}#{}", rfc3339(a.at), a.event.key()),
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
            text: include_str!("../../../../examples/slos/checkout-availability.yaml").into(),
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
            slice_seconds: None,
        };
        let alarm = AlarmNote {
            name: "a".repeat(255),
            arn: None,
            state: "ALARM".into(),
            previous_state: None,
            reason: "r".repeat(400 * 1024),
            timestamp: 0,
            touched: vec![],
        };
        let n = compose(&slo, &eval, Status::Ok, None, Some(&alarm), None);
        assert!(n.body.len() <= MAX_BODY_BYTES + 32, "{}", n.body.len());
        assert!(n.body.ends_with("[truncated]\n"));
        assert!(n.subject.len() <= MAX_SUBJECT);
        assert_eq!(n.severity, Severity::Info);
    }

    fn ts(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    /// A day into chat-wait-time's 7-day window of 5-minute slices, across its six excluded
    /// hours (2026-01-01T00:00Z/06:00Z): 288 slices so far, 72 excluded, 150 with data.
    fn chat_sparse() -> (SloDefinition, Evaluation) {
        let files = [crate::slo::load::SourceFile {
            name: "chat.yaml".into(),
            text: include_str!("../../../../examples/slos/chat-wait-time.yaml").into(),
        }];
        let slo = crate::slo::load::load(&files).slos.remove(0);
        let start = ts("2025-12-31T12:00:00Z");
        let cond = &slo.conditions[0];
        let eval = Evaluation {
            slo: slo.name.clone(),
            evaluated_at: start + 86_400,
            window_start: start,
            window_length: 7 * 86_400,
            good: 140.0,
            total: 150.0,
            attainment: Some(140.0 / 150.0),
            // 10 bad slices of the 20.16 that 1% of 2,016 slices allows
            budget_remaining: Some(1.0 - 10.0 / 20.16),
            windows: vec![],
            conditions: vec![ConditionResult {
                name: cond.name.clone(),
                severity: cond.severity,
                op: cond.op,
                threshold: cond.threshold,
                long: label(cond.long_seconds),
                short: label(cond.short_seconds),
                long_rate: Some(20.0),
                short_rate: Some(30.0),
                met: true,
            }],
            exhausts_at: None,
            slice_seconds: Some(300),
        };
        (slo, eval)
    }

    #[test]
    fn a_timeslice_budget_counts_the_same_slices_and_names_those_without_data() {
        let (slo, eval) = chat_sparse();
        let opened = Announcement {
            event: Event::Opened,
            severity: Severity::Page,
            at: eval.evaluated_at,
            suppressed: false,
            incident: None,
        };
        let n = compose(&slo, &eval, Status::Breaching, Some(&opened), None, None);
        let budget: Vec<&str> = n
            .body
            .split("\nBUDGET\n")
            .nth(1)
            .expect("a BUDGET section")
            .lines()
            .take(3)
            .collect();
        assert_eq!(
            budget,
            [
                "  50.4% left: 10 of the 20.2 bad 5m slices the window allows are used.",
                "  Attainment 93.333% (140 good of 150 5m slices with data, since 2025-12-31T12:00:00Z).",
                "  66 slices of the window so far had no data (72 more were excluded); the budget counts all 2,016 slices of the window.",
            ],
            "{}",
            n.body
        );
    }

    #[test]
    fn a_budget_of_exactly_zero_is_never_minus_zero() {
        let (slo, mut eval) = chat_sparse();
        eval.budget_remaining = Some(0.0);
        let exhausted = Announcement {
            event: Event::Exhausted,
            severity: Severity::Ticket,
            at: eval.evaluated_at,
            suppressed: false,
            incident: None,
        };
        let n = compose(&slo, &eval, Status::Exhausted, Some(&exhausted), None, None);
        assert!(
            n.subject.ends_with("error budget exhausted, none left"),
            "{}",
            n.subject
        );
        assert!(!n.body.contains("-0.0"), "{}", n.body);
        assert_eq!(pct(Some(-0.000_01), 1), "0.0%");
        assert_eq!(pct(Some(-0.026), 1), "-2.6%");
    }

    #[test]
    fn the_runbook_comes_before_the_alarm_and_failures_are_called_failing() {
        let (slo, eval) = chat_sparse();
        let alarm = AlarmNote {
            name: "chat-queue-long".into(),
            arn: None,
            state: "ALARM".into(),
            previous_state: Some("OK".into()),
            reason: "Threshold Crossed".into(),
            timestamp: eval.evaluated_at,
            touched: vec![],
        };
        let opened = Announcement {
            event: Event::Opened,
            severity: Severity::Page,
            at: eval.evaluated_at,
            suppressed: false,
            incident: None,
        };
        let n = compose(
            &slo,
            &eval,
            Status::Breaching,
            Some(&opened),
            Some(&alarm),
            None,
        );
        let (runbook, alarm_at) = (n.body.find("\nRUNBOOK\n"), n.body.find("\nALARM\n"));
        assert!(
            runbook.is_some() && alarm_at.is_some() && runbook < alarm_at,
            "{}",
            n.body
        );
        assert!(n.subject.contains("of 5m slices failing,"), "{}", n.subject);
    }

    #[test]
    fn subjects_are_one_short_ascii_line() {
        let s = clean_subject(&format!("[PAGE] caf\u{e9}\nline {}", "x".repeat(200)));
        assert_eq!(s.len(), MAX_SUBJECT);
        assert!(s.is_ascii() && !s.contains('\n'));
        assert!(s.starts_with("[PAGE] caf? line"));
    }

    #[test]
    fn long_names_give_way_before_the_numbers_and_the_outlook() {
        let tail = "2.5% of events failing (budget gone in ~29 h)";
        // Short names: the whole subject, service included.
        assert_eq!(
            fit_subject("PAGE", "shop", "checkout", tail),
            format!("[PAGE] shop checkout: {tail}")
        );
        // Two names of 63 characters (the longest allowed): the tail stays whole.
        let service = format!("payments-{}", "s".repeat(54));
        let slo = format!("checkout-availability-{}", "x".repeat(41));
        let s = fit_subject("PAGE", &service, &slo, tail);
        assert!(s.len() <= MAX_SUBJECT, "{} chars: {s}", s.len());
        assert!(s.ends_with(tail), "{s}");
        assert!(s.starts_with("[PAGE] checkout-availability"), "{s}");
        assert!(s.contains("..."), "the SLO name cut in the middle: {s}");
        // Without the service it fits: the SLO name whole.
        let s = fit_subject("TICKET", &service, "checkout", tail);
        assert_eq!(s, format!("[TICKET] checkout: {tail}"));
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(0, "problem"), "0 problems");
        assert_eq!(count(1, "problem"), "1 problem");
        assert_eq!(count(2, "file"), "2 files");
        assert_eq!(count(1204, "SLO"), "1,204 SLOs");
    }
}
