//! The alerting model, transition by transition: incidents, budget events, silences.

use super::evaluate::{ConditionResult, Evaluation};
use super::model::{BurnRateCondition, Op, Severity, TimeWindow};
use super::policy::default_conditions;
use super::status::{decide, Event, Rules, SloState, Status};

const DAY: i64 = 86_400;
const T0: i64 = 1_800_000_000;

fn conds() -> Vec<BurnRateCondition> {
    default_conditions(&TimeWindow::Rolling { seconds: 30 * DAY })
}

/// An evaluation at `at` with `budget` left and these default conditions met.
fn eval(at: i64, budget: f64, page: bool, ticket: bool) -> Evaluation {
    let cond = |name: &str, severity, met| ConditionResult {
        name: name.into(),
        severity,
        op: Op::Gt,
        threshold: 1.0,
        long: "1h".into(),
        short: "5m".into(),
        long_rate: Some(20.0),
        short_rate: Some(20.0),
        met,
    };
    Evaluation {
        slo: "x".into(),
        evaluated_at: at,
        window_start: at - 30 * DAY,
        window_length: 30 * DAY,
        good: 990.0,
        total: 1000.0,
        attainment: Some(0.99),
        budget_remaining: Some(budget),
        windows: vec![],
        conditions: vec![
            cond("page-1h", Severity::Page, page),
            cond("page-6h", Severity::Page, false),
            cond("ticket-3d", Severity::Ticket, ticket),
        ],
        exhausts_at: None,
        slice_seconds: None,
        parts: Vec::new(),
    }
}

/// Run evaluations in order; return each step's announcements as `severity: event` labels.
fn run(rules: &Rules, steps: &[Evaluation], mut state: SloState) -> (Vec<Vec<String>>, SloState) {
    let mut out = Vec::new();
    for e in steps {
        let d = decide(&state, e, rules);
        out.push(d.announcements.iter().map(|a| a.label()).collect());
        if let Some(s) = d.state {
            state = s;
        }
    }
    (out, state)
}

#[test]
fn a_page_incident_opens_once_and_resolves_once_after_the_hold() {
    let c = conds();
    let rules = Rules::new(&c);
    let steps = [
        eval(T0, 0.9, false, false),        // quiet first evaluation
        eval(T0 + 300, 0.8, true, false),   // fast burn: page
        eval(T0 + 600, 0.7, true, false),   // still burning: nothing
        eval(T0 + 900, 0.7, false, false),  // quiet once: held
        eval(T0 + 1200, 0.7, false, false), // quiet for the 5m hold: resolved
        eval(T0 + 1500, 0.7, false, false),
    ];
    let (said, state) = run(&rules, &steps, SloState::default());
    assert_eq!(
        said,
        vec![
            vec![],
            vec!["page: opened".to_string()],
            vec![],
            vec![],
            vec!["info: resolved".to_string()],
            vec![],
        ]
    );
    assert!(state.incident.is_none());
    assert_eq!(state.status, Some(Status::Ok));
}

#[test]
fn the_same_evaluation_twice_decides_nothing() {
    let c = conds();
    let rules = Rules::new(&c);
    let d = decide(&SloState::default(), &eval(T0, 0.8, true, false), &rules);
    let s = d.state.unwrap();
    let again = decide(&s, &eval(T0, 0.8, true, false), &rules);
    assert!(again.state.is_none() && again.announcements.is_empty());
    let older = decide(&s, &eval(T0 - 300, 0.8, true, false), &rules);
    assert!(older.state.is_none() && older.announcements.is_empty());
}

#[test]
fn page_calming_to_ticket_sends_a_ticket_then_one_resolved() {
    let c = conds();
    let rules = Rules::new(&c);
    let steps = [
        eval(T0, 0.8, true, true),
        eval(T0 + 300, 0.7, false, true), // page condition quiet: held
        eval(T0 + 600, 0.7, false, true), // held for 5m: de-escalate with a ticket
        eval(T0 + 900, 0.7, false, true),
        eval(T0 + 1200, 0.7, false, false),
        eval(T0 + 1500, 0.7, false, false),
    ];
    let (said, _) = run(&rules, &steps, SloState::default());
    let flat: Vec<String> = said.concat();
    assert_eq!(
        flat,
        vec!["page: opened", "ticket: de-escalated", "info: resolved"]
    );
    assert_eq!(said[2], vec!["ticket: de-escalated".to_string()]);
}

#[test]
fn a_ticket_incident_escalates_to_a_page() {
    let c = conds();
    let rules = Rules::new(&c);
    let steps = [
        eval(T0, 0.9, false, true),
        eval(T0 + 300, 0.8, true, true),
        eval(T0 + 600, 0.8, true, true),
    ];
    let (said, state) = run(&rules, &steps, SloState::default());
    assert_eq!(said.concat(), vec!["ticket: opened", "page: escalated"]);
    assert_eq!(state.incident.unwrap().severity, Severity::Page);
}

#[test]
fn an_exhausted_budget_never_silences_a_new_fast_burn() {
    let c = conds();
    let rules = Rules::new(&c);
    let steps = [
        eval(T0, -0.2, false, false), // budget already spent: exhaustion, once
        eval(T0 + 300, -0.2, false, false), // nothing new
        eval(T0 + 600, -0.5, true, false), // a new outage: it pages
        eval(T0 + 900, -0.6, true, false),
    ];
    let (said, state) = run(&rules, &steps, SloState::default());
    assert_eq!(said[0], vec!["ticket: exhausted".to_string()]);
    assert!(said[1].is_empty());
    assert_eq!(said[2], vec!["page: opened".to_string()]);
    assert!(said[3].is_empty());
    assert_eq!(state.status, Some(Status::Exhausted));
}

#[test]
fn budget_thresholds_are_each_told_once_a_window() {
    let c = conds();
    let alerts = [50, 75];
    let rules = Rules {
        budget_alerts: &alerts,
        exhaustion_severity: Severity::Page,
        ..Rules::new(&c)
    };
    let steps = [
        eval(T0, 0.6, false, false),
        eval(T0 + 300, 0.45, false, false), // 55% consumed
        eval(T0 + 600, 0.40, false, false),
        eval(T0 + 900, 0.10, false, false), // 90%: only 75 is new
        eval(T0 + 1200, 0.0, false, false), // exhausted, as a page here
        eval(T0 + 1500, -0.1, false, false),
        eval(T0 + 1800, 0.3, false, false), // recovered a little: no repeat within the window
        eval(T0 + 2100, -0.1, false, false),
    ];
    let (said, state) = run(&rules, &steps, SloState::default());
    assert_eq!(
        said.concat(),
        vec!["info: budget-50", "info: budget-75", "page: exhausted"]
    );
    assert_eq!(said[1], vec!["info: budget-50".to_string()]);
    // A window length later the same threshold can be told again.
    let later = decide(
        &state,
        &eval(T0 + 1200 + 30 * DAY, -0.1, false, false),
        &rules,
    );
    assert_eq!(
        later
            .announcements
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>(),
        vec!["page: exhausted"]
    );
}

#[test]
fn a_jump_past_several_thresholds_is_told_once() {
    let c = conds();
    let alerts = [50, 75];
    let rules = Rules {
        budget_alerts: &alerts,
        ..Rules::new(&c)
    };
    let d = decide(&SloState::default(), &eval(T0, -0.5, false, false), &rules);
    assert_eq!(d.announcements.len(), 1);
    assert_eq!(d.announcements[0].event, Event::Exhausted);
    let s = d.state.unwrap();
    assert_eq!(
        s.budget_announced.len(),
        3,
        "50, 75 and 100 all count as told"
    );
}

#[test]
fn calendar_windows_re_arm_budget_alerts_each_period() {
    let c = conds();
    let rules = Rules {
        calendar: true,
        ..Rules::new(&c)
    };
    let mut e = eval(T0, -0.1, false, false);
    e.window_start = T0 - 1000;
    let d = decide(&SloState::default(), &e, &rules);
    assert_eq!(d.announcements.len(), 1);
    let s = d.state.unwrap();
    let mut same_period = eval(T0 + 300, -0.2, false, false);
    same_period.window_start = T0 - 1000;
    let d = decide(&s, &same_period, &rules);
    assert!(d.announcements.is_empty());
    let mut next_period = eval(T0 + 600, -0.1, false, false);
    next_period.window_start = T0 + 500;
    let d = decide(&d.state.unwrap(), &next_period, &rules);
    assert_eq!(d.announcements[0].event, Event::Exhausted);
}

#[test]
fn a_silence_holds_back_pages_and_says_when_it_ends_with_the_incident_open() {
    let c = conds();
    let silenced = Rules {
        silenced: true,
        ..Rules::new(&c)
    };
    let open = Rules::new(&c);
    let d = decide(&SloState::default(), &eval(T0, 0.8, true, false), &silenced);
    assert_eq!(d.announcements.len(), 1);
    assert!(d.announcements[0].suppressed, "held back");
    assert_eq!(d.announcements[0].label(), "page: opened (silenced)");
    let s = d.state.unwrap();
    assert!(s.incident.as_ref().unwrap().held_back);
    // still silenced, still burning: nothing
    let d = decide(&s, &eval(T0 + 300, 0.7, true, false), &silenced);
    assert!(d.announcements.is_empty());
    // silence over, incident still open: one info line
    let d = decide(&d.state.unwrap(), &eval(T0 + 600, 0.7, true, false), &open);
    assert_eq!(
        d.announcements
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>(),
        vec!["info: silence-ended"]
    );
    let s = d.state.unwrap();
    let d = decide(&s, &eval(T0 + 900, 0.7, true, false), &open);
    assert!(d.announcements.is_empty(), "said once");
}

#[test]
fn an_incident_that_opened_and_closed_in_a_silence_stays_quiet() {
    let c = conds();
    let silenced = Rules {
        silenced: true,
        ..Rules::new(&c)
    };
    let (said, state) = run(
        &silenced,
        &[
            eval(T0, 0.8, true, false),
            eval(T0 + 300, 0.8, false, false),
            eval(T0 + 600, 0.8, false, false),
        ],
        SloState::default(),
    );
    assert_eq!(
        said.concat(),
        vec!["page: opened (silenced)", "info: resolved (silenced)"]
    );
    assert!(state.incident.is_none());
    let d = decide(&state, &eval(T0 + 900, 0.8, false, false), &Rules::new(&c));
    assert!(
        d.announcements.is_empty(),
        "nothing left to say after the silence"
    );
}

#[test]
fn alert_after_delays_the_page() {
    let mut slow = conds();
    slow[0].alert_after_seconds = 600;
    let rules = Rules::new(&slow);
    let (said, state) = run(
        &rules,
        &[
            eval(T0, 0.5, true, false),
            eval(T0 + 300, 0.5, true, false),
            eval(T0 + 600, 0.5, true, false),
        ],
        SloState::default(),
    );
    assert_eq!(said, vec![vec![], vec![], vec!["page: opened".to_string()]]);
    assert_eq!(state.status, Some(Status::Breaching));
}

#[test]
fn the_worst_status_is_the_highest_rank() {
    use Status::*;
    assert_eq!(
        Status::worst([Ok, Breaching, NoData, Warning]),
        Some(Breaching)
    );
    assert_eq!(Status::worst([NoData, Ok]), Some(NoData));
    assert_eq!(
        Status::worst([Warning, Exhausted, Breaching]),
        Some(Exhausted)
    );
    assert_eq!(Status::worst([]), None);
}
