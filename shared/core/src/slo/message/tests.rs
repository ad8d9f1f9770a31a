//! The composer's words: budget lines, section order, subjects within SNS's limits.

use super::*;
use crate::slo::change::tests::change;
use crate::slo::duration::label;
use crate::slo::evaluate::{ConditionResult, Evaluation};
use crate::slo::model::SloDefinition;
use crate::slo::status::{Announcement, Event};

pub(super) fn ts(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// An SLO of the examples, loaded.
pub(super) fn example(name: &str, text: &str) -> SloDefinition {
    let files = [crate::slo::load::SourceFile {
        name: name.into(),
        text: text.into(),
    }];
    crate::slo::load::load(&files).slos.remove(0)
}

/// A day into chat-wait-time's 7-day window of 5-minute slices, across its six excluded
/// hours (2026-01-01T00:00Z/06:00Z): 288 slices so far, 72 excluded, 150 with data.
pub(super) fn chat_sparse() -> (SloDefinition, Evaluation) {
    let slo = example(
        "chat.yaml",
        include_str!("../../../../../examples/slos/chat-wait-time.yaml"),
    );
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
        parts: Vec::new(),
    };
    (slo, eval)
}

/// An announcement of `event` at the evaluation's time.
pub(super) fn announced(event: Event, severity: Severity, eval: &Evaluation) -> Announcement {
    Announcement {
        event,
        severity,
        at: eval.evaluated_at,
        suppressed: false,
        incident: None,
    }
}

/// The alarm chat-queue-long going to ALARM with `reason`.
pub(super) fn alarm(reason: &str, at: i64) -> AlarmNote {
    AlarmNote {
        name: "chat-queue-long".into(),
        arn: None,
        state: "ALARM".into(),
        previous_state: Some("OK".into()),
        reason: reason.into(),
        timestamp: at,
        touched: vec![],
    }
}

#[test]
fn bodies_stay_inside_what_sns_accepts() {
    let slo = example(
        "c.yaml",
        include_str!("../../../../../examples/slos/checkout-availability.yaml"),
    );
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
        parts: Vec::new(),
    };
    let mut note = alarm(&"r".repeat(400 * 1024), 0);
    note.name = "a".repeat(255);
    let n = compose(&slo, &eval, Status::Ok, None, Some(&note), None);
    // The reason is quoted up to its cap, not 400 KB of it.
    assert!(n.body.len() < 8 * 1024, "{}", n.body.len());
    assert!(
        n.body.contains(&format!(
            "  Alarm says: \"{}\"...\n",
            "r".repeat(MAX_QUOTED_CHARS)
        )),
        "{}",
        n.body
    );
    assert!(n.subject.len() <= MAX_SUBJECT);
    assert_eq!(n.severity, Severity::Info);
    // What is still unbounded (the changes listed) is cut at the body limit.
    let mut slo = slo;
    slo.settings.changes = vec!["stack/shop-api".into()];
    let opened = announced(Event::Opened, Severity::Page, &eval);
    let many: Vec<_> = (0..5_000)
        .map(|i| {
            let mut c = change("stack/shop-api", -i);
            c.what = "w".repeat(300);
            c.id = i.to_string();
            c
        })
        .collect();
    let n = compose_with(
        &slo,
        &eval,
        Status::Breaching,
        Some(&opened),
        None,
        None,
        &many,
    );
    assert!(n.body.len() <= MAX_BODY_BYTES + 32, "{}", n.body.len());
    assert!(n.body.ends_with("[truncated]\n"));
}

#[test]
fn a_timeslice_budget_counts_the_same_slices_and_names_those_without_data() {
    let (slo, eval) = chat_sparse();
    let opened = announced(Event::Opened, Severity::Page, &eval);
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
    let exhausted = announced(Event::Exhausted, Severity::Ticket, &eval);
    let n = compose(&slo, &eval, Status::Exhausted, Some(&exhausted), None, None);
    assert!(
        n.subject.ends_with("error budget exhausted, none left"),
        "{}",
        n.subject
    );
    assert!(!n.body.contains("-0.0"), "{}", n.body);
}

#[test]
fn the_runbook_comes_before_the_alarm_and_failures_are_called_failing() {
    let (slo, eval) = chat_sparse();
    let opened = announced(Event::Opened, Severity::Page, &eval);
    let note = alarm("Threshold Crossed", eval.evaluated_at);
    let n = compose(
        &slo,
        &eval,
        Status::Breaching,
        Some(&opened),
        Some(&note),
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
fn outside_text_is_quoted_under_its_label() {
    let (slo, eval) = chat_sparse();
    let note = alarm("Threshold Crossed: 1 datapoint", eval.evaluated_at);
    let n = compose(&slo, &eval, Status::Ok, None, Some(&note), None);
    let lines: Vec<&str> = n.body.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "[INFO] customer-support chat-wait-time: an alarm fired; no burn-rate condition met",
            "\"Live chat wait under a minute\": 99.000% of 5m slices good over 7d; status now ok.",
            "Promise: \"The average wait for a chat agent stays at or below 60 seconds.\"",
        ],
        "{}",
        n.body
    );
    let alarm_section: Vec<&str> = n
        .body
        .split("\nALARM\n")
        .nth(1)
        .expect("an ALARM section")
        .lines()
        .take(2)
        .collect();
    assert_eq!(
        alarm_section,
        [
            "  Alarm: \"chat-queue-long\" -> ALARM (was OK) at 2026-01-01T12:00:00Z",
            "  Alarm says: \"Threshold Crossed: 1 datapoint\"",
        ],
        "{}",
        n.body
    );
    // 100 characters with the service: the service gives way, the alarm's name stays.
    assert_eq!(
        n.subject,
        "[INFO] chat-wait-time: alarm \"chat-queue-long\" is ALARM, no burn-rate condition met"
    );
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
    // A tail that itself ends in "..." (a quoted name cut short) is not taken for a cut subject.
    let quoted_tail = "alarm \"checkout-5xx\"... is ALARM";
    assert_eq!(
        fit_subject("INFO", "shop", "checkout", quoted_tail),
        format!("[INFO] shop checkout: {quoted_tail}")
    );
}
