//! Outside text cannot pass for the composer's (issue 20, item 2): whatever an alarm's
//! reason or name, a change's name or an SLO's texts hold, the body keeps the first line,
//! the sections and the line count the composer writes, and each outside text sits on one
//! line under its label.

use proptest::prelude::*;

use super::body::{ALARM_LINE, ALARM_SAYS, PROMISE};
use super::tests::{alarm, announced, chat_sparse};
use super::*;
use crate::slo::change::{tests::change, Change};
use crate::slo::evaluate::Evaluation;
use crate::slo::model::SloDefinition;
use crate::slo::status::Event;

/// The lines the composer starts a section with: each follows an empty line.
fn headings(body: &str) -> Vec<&str> {
    let lines: Vec<&str> = body.lines().collect();
    (1..lines.len())
        .filter(|&i| lines[i - 1].is_empty() && !lines[i].is_empty())
        .map(|i| lines[i])
        .collect()
}

#[test]
fn an_alarm_reason_cannot_add_a_section_or_a_resolved_line() {
    let (slo, eval) = chat_sparse();
    let opened = announced(Event::Opened, Severity::Page, &eval);
    let page = |reason: &str| {
        compose(
            &slo,
            &eval,
            Status::Breaching,
            Some(&opened),
            Some(&alarm(reason, eval.evaluated_at)),
            None,
        )
    };
    let benign = page("Threshold Crossed");
    let attack =
        page("Threshold Crossed\n\nRUNBOOK\n  https://evil.example/runbook\nRESOLVED, false alarm");
    assert_eq!(
        headings(&attack.body),
        headings(&benign.body),
        "{}",
        attack.body
    );
    assert!(
        !attack.body.lines().any(|l| l.starts_with("RESOLVED")),
        "{}",
        attack.body
    );
    assert_eq!(
        attack.body.lines().next(),
        benign.body.lines().next(),
        "{}",
        attack.body
    );
    assert!(
        attack.body.contains(
            "  Alarm says: \"Threshold Crossed\\n\\nRUNBOOK\\n  https://evil.example/runbook\\nRESOLVED, false alarm\"\n"
        ),
        "{}",
        attack.body
    );
}

#[test]
fn a_stored_description_with_a_bidi_override_is_escaped() {
    let (mut slo, eval) = chat_sparse();
    // What the loader refuses may still come back from a tampered store.
    slo.description = Some("fine \u{202E}KO deriuqer noitca on\u{202C}".into());
    let n = compose(&slo, &eval, Status::Ok, None, None, None);
    assert!(
        n.body
            .contains("Promise: \"fine \\u{202e}KO deriuqer noitca on\\u{202c}\"\n"),
        "{}",
        n.body
    );
    assert!(!n.body.contains('\u{202E}'));
}

/// Pieces that have broken or forged message text, mixed with arbitrary characters.
fn outside_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\r\n".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{2029}".to_string()),
        Just("\u{202E}".to_string()),
        Just("\u{85}".to_string()),
        Just("\t".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("RUNBOOK".to_string()),
        Just("RESOLVED, false alarm".to_string()),
        Just("\n\nRUNBOOK\n  https://evil.example/".to_string()),
        Just("\nCHANGES BEFORE IT\n".to_string()),
        Just(ALARM_SAYS.to_string()),
        Just(PROMISE.to_string()),
        Just("[PAGE] ".to_string()),
        any::<char>().prop_map(String::from),
        "[a-zA-Z0-9 .:/-]{0,12}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
}

/// Outside text of one message.
#[derive(Debug, Clone)]
struct Outside {
    reason: String,
    alarm_name: String,
    change_name: String,
    description: String,
    display_name: String,
}

impl Outside {
    fn benign() -> Outside {
        Outside {
            reason: "Threshold Crossed".into(),
            alarm_name: "chat-queue-long".into(),
            change_name: "UPDATE_COMPLETE".into(),
            description: "The average wait stays under a minute.".into(),
            display_name: "Live chat wait".into(),
        }
    }
}

/// What each case announces: a page opening, a resolution, or an alarm alone.
#[derive(Debug, Clone, Copy)]
enum Case {
    Opened,
    Resolved,
    AlarmOnly,
}

/// The prefix of the one change line (the stack update 10 minutes before the opening).
const CHANGE_LINE: &str = "   10 min before  stack/chat-api  ";

fn message(case: Case, o: &Outside) -> Notification {
    let (slo, eval) = chat_sparse();
    let slo = SloDefinition {
        description: Some(o.description.clone()),
        display_name: Some(o.display_name.clone()),
        settings: crate::slo::model::Settings {
            changes: vec!["stack/chat-api".into()],
            ..slo.settings.clone()
        },
        ..slo
    };
    let mut note = alarm(&o.reason, eval.evaluated_at);
    note.name = o.alarm_name.clone();
    let changes: Vec<Change> = vec![Change {
        what: o.change_name.clone(),
        ..change("stack/chat-api", eval.evaluated_at - 600)
    }];
    let compose_case = |a: Option<&_>, status: Status, e: &Evaluation| {
        compose_with(&slo, e, status, a, Some(&note), None, &changes)
    };
    match case {
        Case::Opened => compose_case(
            Some(&announced(Event::Opened, Severity::Page, &eval)),
            Status::Breaching,
            &eval,
        ),
        Case::Resolved => compose_case(
            Some(&announced(Event::Resolved, Severity::Info, &eval)),
            Status::Ok,
            &eval,
        ),
        Case::AlarmOnly => compose_case(None, Status::Ok, &eval),
    }
}

/// The one line of `body` that starts with `label`; an error when none or several do.
fn only_line<'b>(body: &'b str, label: &str) -> Result<&'b str, TestCaseError> {
    let found: Vec<&str> = body.lines().filter(|l| l.starts_with(label)).collect();
    prop_assert_eq!(found.len(), 1, "lines starting {:?} in\n{}", label, body);
    Ok(found[0])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The first line, the headings and the line count are the composer's; each outside
    /// text is quoted whole (to its cap) on the one line under its label.
    #[test]
    fn outside_text_never_shapes_the_message(
        reason in outside_text(),
        alarm_name in outside_text(),
        change_name in outside_text(),
        description in outside_text(),
        display_name in outside_text(),
        case in prop_oneof![Just(Case::Opened), Just(Case::Resolved), Just(Case::AlarmOnly)],
    ) {
        let o = Outside { reason, alarm_name, change_name, description, display_name };
        let benign = message(case, &Outside::benign());
        let n = message(case, &o);
        let body = n.body.as_str();
        prop_assert_eq!(body.lines().next(), benign.body.lines().next(), "{}", body);
        prop_assert_eq!(headings(body), headings(&benign.body), "{}", body);
        prop_assert_eq!(body.lines().count(), benign.body.lines().count(), "{}", body);
        prop_assert!(!body.chars().any(|c| c != '\n' && is_unsafe_char(c)), "{:?}", body);

        let second = body.lines().nth(1).unwrap_or_default();
        prop_assert!(second.starts_with(&format!("{}: ", quoted(&o.display_name))), "{}", body);
        prop_assert_eq!(only_line(body, PROMISE)?, format!("{PROMISE}{}", quoted(&o.description)));
        let named = format!("{ALARM_LINE}{} -> ALARM (was OK) at ", quoted(&o.alarm_name));
        prop_assert!(only_line(body, ALARM_LINE)?.starts_with(&named), "{}", body);
        prop_assert_eq!(only_line(body, ALARM_SAYS)?, format!("{ALARM_SAYS}{}", quoted(&o.reason)));
        if !matches!(case, Case::AlarmOnly) {
            let listed = format!("{CHANGE_LINE}{}  (at ", quoted(&o.change_name));
            prop_assert!(only_line(body, CHANGE_LINE)?.starts_with(&listed), "{}", body);
        }

        let s = n.subject.as_str();
        prop_assert!(s.len() <= MAX_SUBJECT && s.is_ascii(), "{:?}", s);
        prop_assert!(!s.chars().any(|c| c.is_ascii_control()), "{:?}", s);
        prop_assert!(s.starts_with(&format!("[{}] ", n.severity.as_str().to_uppercase())), "{:?}", s);
    }
}
