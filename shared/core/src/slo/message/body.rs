//! The email body, section by section. Every heading and every line start is the
//! composer's; outside text (SLO texts, alarm names and reasons, change names) only ever
//! follows a label, quoted on its one line (`text::quoted`).

use std::fmt::Write;

use super::compose::dashboard_link;
use super::subject::state_word;
use super::text::{fires_when, one_line, pct, quoted, rate, relative, rfc3339, thousands};
use super::AlarmNote;
use crate::slo::change::{self, Change};
use crate::slo::evaluate::{ConditionResult, Evaluation};
use crate::slo::model::SloDefinition;
use crate::slo::status::{Event, Incident, Status};

/// Label of the line that quotes what the alarm said (its state reason).
pub(super) const ALARM_SAYS: &str = "  Alarm says: ";
/// Label of the line that names the alarm, its new state and the time.
pub(super) const ALARM_LINE: &str = "  Alarm: ";
/// Label of the line that quotes the SLO's description.
pub(super) const PROMISE: &str = "Promise: ";

/// What the body is written from.
pub(super) struct Facts<'a> {
    pub(super) slo: &'a SloDefinition,
    pub(super) eval: &'a Evaluation,
    pub(super) status: Status,
    pub(super) event: Option<Event>,
    pub(super) incident: Option<&'a Incident>,
    pub(super) alarm: Option<&'a AlarmNote>,
    /// "events" or "5m slices".
    pub(super) unit: &'a str,
    /// The condition that speaks for now.
    pub(super) lead: Option<&'a ConditionResult>,
    /// When listed changes must have happened by (None: no announcement, no changes).
    pub(super) reference: Option<i64>,
    /// The changes of the lookback before `reference`, newest first.
    pub(super) recent: &'a [Change],
    pub(super) dashboard_url: Option<&'a str>,
}

impl Facts<'_> {
    /// The fraction of events the objective allows to fail.
    fn allowed(&self) -> f64 {
        1.0 - self.slo.objective.target
    }
}

/// The whole body: first line `[SEV] service slo: headline`, then the sections.
pub(super) fn write(f: &Facts, sev: &str, headline: &str) -> String {
    let mut b = String::new();
    intro(&mut b, f, sev, headline);
    if f.event != Some(Event::Resolved) {
        wrong_now(&mut b, f);
    }
    changes(&mut b, f);
    budget(&mut b, f);
    conditions(&mut b, f);
    runbook(&mut b, f);
    alarm(&mut b, f);
    look_closer(&mut b, f);
    b
}

fn intro(b: &mut String, f: &Facts, sev: &str, headline: &str) {
    let slo = f.slo;
    let _ = writeln!(
        b,
        "[{sev}] {} {}: {headline}",
        one_line(&slo.service),
        one_line(&slo.name)
    );
    let title = slo.display_name.as_deref().unwrap_or(&slo.name);
    let _ = writeln!(
        b,
        "{}: {} of {} good over {}; status now {}.",
        quoted(title),
        pct(slo.objective.target, 3),
        f.unit,
        slo.window_label(),
        f.status
    );
    if let Some(d) = &slo.description {
        let _ = writeln!(b, "{PROMISE}{}", quoted(d));
    }
}

fn wrong_now(b: &mut String, f: &Facts) {
    b.push_str("\nWHAT IS WRONG NOW\n");
    let unit = f.unit;
    match f.lead {
        Some(c) if f.status != Status::NoData => {
            let frac = |r: Option<f64>| pct(r.map(|r| r * f.allowed()), 2);
            let _ = writeln!(
                b,
                "  {} of {unit} failing over the last {}, {} over the last {}; the objective allows {}.",
                frac(c.short_rate),
                c.short,
                frac(c.long_rate),
                c.long,
                pct(f.allowed(), 2)
            );
            let _ = writeln!(
                b,
                "  That spends the budget {} as fast as the window allows ({}), {} over {}.",
                rate(c.short_rate),
                c.short,
                rate(c.long_rate),
                c.long
            );
            burning_most(b, f, &c.long);
        }
        _ => b.push_str("  No data in the window: the metrics may have stopped.\n"),
    }
}

/// A composite's part that adds the most to its bad part over `window` (the lead's long one).
fn burning_most(b: &mut String, f: &Facts, window: &str) {
    let Some((part, w)) = f.eval.burning_most(window) else {
        return;
    };
    let all: f64 = f
        .eval
        .parts
        .iter()
        .filter_map(|p| p.windows.iter().find(|x| x.label == window))
        .filter_map(|x| x.weighted_bad)
        .sum();
    let _ = writeln!(
        b,
        "  Burning most: part {} (weight {}), burning its own budget {} as fast as allowed over {window}; {} of the composite's bad part.",
        quoted(&part.name),
        part.weight,
        rate(w.burn_rate),
        pct(w.weighted_bad.filter(|_| all > 0.0).map(|x| x / all), 0)
    );
}

fn changes(b: &mut String, f: &Facts) {
    let targets = &f.slo.settings.changes;
    let Some(r) = f.reference.filter(|_| !targets.is_empty()) else {
        return;
    };
    let _ = writeln!(
        b,
        "\nCHANGES BEFORE IT ({} before the incident opened at {}, newest first)",
        relative(f.slo.settings.changes_lookback),
        rfc3339(r)
    );
    if f.recent.is_empty() {
        let names: Vec<String> = targets.iter().map(|t| one_line(t)).collect();
        let _ = writeln!(b, "  none recorded for {}", names.join(", "));
    }
    for l in change::lines(f.recent, r) {
        let _ = writeln!(b, "  {l}");
    }
}

fn budget(b: &mut String, f: &Facts) {
    let (eval, unit) = (f.eval, f.unit);
    let left = eval.budget_remaining;
    let allowed = f.allowed();
    b.push_str("\nBUDGET\n");
    let base = eval.budget_base();
    let bad = (eval.total - eval.good).max(0.0);
    let _ = match left {
        Some(l) if l < 0.0 => writeln!(
            b,
            "  Overspent by {}: {} bad {unit} against the {} the window allows.",
            pct(-l, 1),
            thousands(bad),
            thousands(allowed * base)
        ),
        Some(l) => writeln!(
            b,
            "  {} left: {} of the {} bad {unit} the window allows are used.",
            pct(l, 1),
            thousands(bad),
            thousands(allowed * base)
        ),
        None => writeln!(b, "  Unknown: no data in the window."),
    };
    let _ = writeln!(
        b,
        "  Attainment {} ({} good of {} {unit} with data, since {}).",
        pct(eval.attainment, 3),
        thousands(eval.good),
        thousands(eval.total),
        rfc3339(eval.window_start)
    );
    let exclusions = &f.slo.settings.exclusions;
    if let Some(none) = eval.slices_without_data(exclusions) {
        let excluded = eval.excluded_slices(exclusions).unwrap_or(0.0);
        let _ = writeln!(
            b,
            "  {} slices of the window so far had no data{}; the budget counts all {} slices of the window.",
            thousands(none),
            if excluded > 0.0 {
                format!(" ({} more were excluded)", thousands(excluded))
            } else {
                String::new()
            },
            thousands(base)
        );
    }
    if f.event == Some(Event::Resolved) {
        if let Some(i) = f.incident {
            let used = i.budget_at_open.zip(left).map(|(a, b)| (a - b).max(0.0));
            let _ = writeln!(
                b,
                "  The incident lasted {} (opened {}); {} of the budget was spent since it opened.",
                relative(eval.evaluated_at - i.opened_at),
                rfc3339(i.opened_at),
                pct(used, 1)
            );
        }
        return;
    }
    match (left, eval.exhausts_at) {
        (Some(l), _) if l <= 0.0 => {}
        (_, Some(at)) => {
            let _ = writeln!(
                b,
                "  Runs out in ~{}, at {}, if the last hour's burn rate goes on.",
                relative(at - eval.evaluated_at),
                rfc3339(at)
            );
        }
        _ => b.push_str("  Not running out at the last hour's rate (1h burn rate at most 1).\n"),
    }
}

/// The conditions as a table: why it fired (or, resolved or alarm-only, how they stand).
fn conditions(b: &mut String, f: &Facts) {
    let eval = f.eval;
    if eval.conditions.is_empty() {
        return;
    }
    b.push_str(match f.event {
        Some(Event::Resolved) | None => "\nCONDITIONS NOW\n",
        _ => "\nWHY IT FIRED\n",
    });
    let rows: Vec<[String; 5]> = eval
        .conditions
        .iter()
        .map(|c| {
            // The AlertCondition's own word beside sloguard's reading of it: `page (sev1)`.
            let label = f
                .slo
                .conditions
                .iter()
                .find(|d| d.name == c.name)
                .and_then(|d| d.severity_label.as_deref());
            [
                one_line(&c.name),
                match label {
                    Some(l) => format!("{} ({})", c.severity.as_str(), one_line(l)),
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
                if c.met { "FIRING" } else { "quiet" }.into(),
            ]
        })
        .collect();
    let header = ["condition", "severity", "burn rate", "fires when", "now"];
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut line = |cells: [&str; 5]| {
        let mut l = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(l, "{:<w$}  ", c, w = widths[i]);
        }
        let _ = writeln!(b, "{}", l.trim_end());
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
}

fn runbook(b: &mut String, f: &Facts) {
    match &f.slo.settings.runbook {
        Some(r) => {
            let _ = write!(b, "\nRUNBOOK\n  {}\n", one_line(r));
        }
        None => b.push_str("\nRUNBOOK\n  none set (add the sloguard.dev/runbook annotation)\n"),
    }
}

fn alarm(b: &mut String, f: &Facts) {
    let Some(a) = f.alarm else { return };
    let _ = write!(
        b,
        "\nALARM\n{ALARM_LINE}{} -> {}{} at {}\n{ALARM_SAYS}{}\n",
        quoted(&a.name),
        state_word(&a.state),
        a.previous_state
            .as_deref()
            .map(|p| format!(" (was {})", state_word(p)))
            .unwrap_or_default(),
        rfc3339(a.timestamp),
        quoted(&a.reason)
    );
    if f.event.is_none() {
        b.push_str(
            "  The alarm fired, but no burn-rate condition is met: the budget is not at risk yet.\n",
        );
        if a.touched.len() > 1 {
            let names: Vec<String> = a.touched.iter().map(|t| one_line(t)).collect();
            let _ = writeln!(
                b,
                "  It touches these SLOs: {} (one message for all of them).",
                names.join(", ")
            );
        }
    }
}

fn look_closer(b: &mut String, f: &Facts) {
    let name = one_line(&f.slo.name);
    let _ = write!(
        b,
        "\nLOOK CLOSER\n  sloguard status\n  sloguard history {name} --since {}\n",
        rfc3339(f.eval.evaluated_at - 6 * 3600)
    );
    if let Some(url) = f.dashboard_url {
        let _ = writeln!(b, "  dashboard: {}", dashboard_link(url, &f.slo.name));
    }
    if matches!(
        f.event,
        Some(Event::Opened | Event::Escalated | Event::DeEscalated)
    ) {
        let _ = writeln!(
            b,
            "  sloguard silence {name} --for 2h --reason \"...\"   (hold back pages while you work)"
        );
    }
}
