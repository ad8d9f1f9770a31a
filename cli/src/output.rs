//! Human output: aligned tables, with colour only on a terminal (and never with NO_COLOR).

use std::io::IsTerminal;

use serde_json::{json, Value};
use sloguard_core::app::{Snapshot, StoredState};
use sloguard_core::slo::duration;
use sloguard_core::slo::message::{fires_when, one_line, rate, rfc3339, thousands};
use sloguard_core::slo::model::BudgetingMethod;
use sloguard_core::slo::status::Status;

/// Whether to colour stdout.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && !no_color(std::env::var_os("NO_COLOR").as_deref())
}

/// Whether a value of NO_COLOR turns colour off: any value but the empty one (no-color.org:
/// "when present and not an empty string").
pub fn no_color(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

fn paint(text: &str, status: Option<Status>, on: bool) -> String {
    let code = match status {
        _ if !on => return text.to_string(),
        Some(Status::Ok) => "32",
        Some(Status::Warning) | Some(Status::NoData) => "33",
        Some(Status::Breaching) | Some(Status::Exhausted) => "31",
        None => return text.to_string(),
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Render rows as columns separated by two spaces; `status_col` is coloured.
pub fn table(
    header: &[&str],
    rows: &[Vec<String>],
    status_col: Option<usize>,
    colour: bool,
) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String, is_header: bool| {
        let mut parts = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(c.chars().count());
            let cell = if !is_header && Some(i) == status_col {
                paint(c, Status::parse(c), colour)
            } else {
                c.clone()
            };
            parts.push(format!("{cell}{}", " ".repeat(pad)));
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(
        header.iter().map(|s| s.to_string()).collect(),
        &mut out,
        true,
    );
    for r in rows {
        line(r.clone(), &mut out, false);
    }
    out
}

pub use sloguard_core::slo::message::pct_cell;

/// Burn rates ordered by window length: "5m 0.10x, 1h 2.30x, 6h 14.4x"; "-" with no data.
pub fn burn_rates(s: &Snapshot) -> String {
    if s.burn_rates.values().all(Option::is_none) {
        return "-".into();
    }
    let mut rates: Vec<(i64, &String, &Option<f64>)> = s
        .burn_rates
        .iter()
        .map(|(k, v)| {
            let secs = match duration::parse(k) {
                Ok(duration::Duration::Seconds(x)) => x,
                _ => i64::MAX,
            };
            (secs, k, v)
        })
        .collect();
    rates.sort_by_key(|r| r.0);
    rates
        .iter()
        .map(|(_, k, v)| format!("{k} {}", rate(**v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An objective as people write it: `99.9%`, `95%`, `99.95%`.
pub fn objective(target: f64) -> String {
    let p = format!("{:.3}", target * 100.0);
    format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
}

/// Good of valid events (or slices) with thousands separators: `383,010 of 389,850 events`.
pub fn counts(s: &Snapshot, method: Option<BudgetingMethod>) -> String {
    if s.total <= 0.0 {
        return "-".into();
    }
    let unit = match method {
        Some(BudgetingMethod::Timeslices | BudgetingMethod::RatioTimeslices) => "slices",
        _ => "events",
    };
    format!("{} of {} {unit}", thousands(s.good), thousands(s.total))
}

/// The `status --json` object of the contract for one SLO (never evaluated: status no_data,
/// numbers null), with the open incident and an active silence.
pub fn status_json(
    name: &str,
    service: &str,
    objective: f64,
    window: &str,
    state: Option<&StoredState>,
    now: i64,
) -> Value {
    let latest = state.and_then(|s| s.latest.as_ref());
    let mut v = match latest {
        Some(s) => json!({
            "slo": s.slo, "service": s.service, "objective": s.objective, "window": s.window,
            "evaluated_at": s.evaluated_at, "status": s.status, "attainment": s.attainment,
            "budget_remaining": s.budget_remaining, "burn_rates": s.burn_rates, "exhausts_at": s.exhausts_at,
        }),
        None => json!({
            "slo": name, "service": service, "objective": objective, "window": window,
            "evaluated_at": null, "status": "no_data", "attainment": null,
            "budget_remaining": null, "burn_rates": {}, "exhausts_at": null,
        }),
    };
    // false: never evaluated, or only at a past time (`evaluate --at`), so the numbers
    // come from history and no cycle is watching the SLO yet.
    v["live"] = json!(latest.is_some() && !state.is_some_and(StoredState::is_history_only));
    let incident = state.and_then(|s| s.state.incident.as_ref());
    v["incident"] = incident.map_or(
        Value::Null,
        |i| json!({"severity": i.severity.as_str(), "opened_at": rfc3339(i.opened_at)}),
    );
    let silence = state
        .and_then(|s| s.silence.as_ref())
        .filter(|x| x.active_at(now));
    v["silenced_until"] = json!(silence.map(|x| rfc3339(x.until)));
    v["silence_reason"] = json!(silence.map(|x| x.reason.clone()));
    v
}

/// What on-call should know at a glance beside the numbers: an open incident, a silence.
pub fn status_note(state: Option<&StoredState>, now: i64) -> String {
    let mut notes = Vec::new();
    if state.is_some_and(StoredState::is_history_only) {
        notes.push("not evaluated live: from history (evaluate --at)".to_string());
    }
    if let Some(i) = state.and_then(|s| s.state.incident.as_ref()) {
        notes.push(format!(
            "{} incident since {}",
            i.severity.as_str(),
            rfc3339(i.opened_at)
        ));
    }
    if let Some(x) = state
        .and_then(|s| s.silence.as_ref())
        .filter(|x| x.active_at(now))
    {
        notes.push(format!(
            "silenced until {} ({})",
            rfc3339(x.until),
            x.reason
        ));
    }
    notes.join("; ")
}

/// The `history --json` object of one snapshot.
pub fn history_json(s: &Snapshot) -> Value {
    let mut v = json!({
        "evaluated_at": s.evaluated_at, "status": s.status, "attainment": s.attainment,
        "budget_remaining": s.budget_remaining, "burn_rates": s.burn_rates,
    });
    if let Some(c) = &s.change {
        v["change"] = json!(c);
    }
    if let Some(a) = &s.alarm {
        v["alarm"] = json!({"name": a.name, "state": a.state, "reason": a.reason});
    }
    if !s.notifications.is_empty() {
        v["notifications"] = json!(s.notifications);
    }
    v
}

/// One row of the status table; `method` (from the definition) says whether counts are events or slices.
pub fn status_row(
    name: &str,
    method: Option<BudgetingMethod>,
    state: Option<&StoredState>,
    now: i64,
) -> Vec<String> {
    let note = status_note(state, now);
    let mut row = match state.and_then(|s| s.latest.as_ref()) {
        None => {
            let mut r = vec![name.to_string(), "no_data".into()];
            r.extend(["-"; 7].map(String::from));
            r[8] = "never evaluated".into();
            r
        }
        Some(s) => vec![
            s.slo.clone(),
            s.status.as_str().into(),
            format!("{} over {}", objective(s.objective), s.window),
            pct_cell(s.attainment, 3),
            counts(s, method),
            pct_cell(s.budget_remaining, 1),
            burn_rates(s),
            s.exhausts_at.map_or_else(|| "-".into(), |t| t.to_string()),
            s.evaluated_at.clone(),
        ],
    };
    row.push(note);
    row
}

/// Header of the status table.
pub const STATUS_HEADER: [&str; 10] = [
    "SLO",
    "STATUS",
    "OBJECTIVE",
    "ATTAINMENT",
    "GOOD OF VALID",
    "BUDGET LEFT",
    "BURN RATES",
    "EXHAUSTS AT",
    "EVALUATED AT",
    "INCIDENT / SILENCE",
];

/// The burn-rate conditions of one snapshot, one row each, for the SLOs people look at.
pub fn condition_rows(s: &Snapshot) -> Vec<Vec<String>> {
    s.conditions
        .iter()
        .map(|c| {
            vec![
                s.slo.clone(),
                c.name.clone(),
                c.severity.as_str().to_string(),
                format!(
                    "{} over {}, {} over {}",
                    rate(c.long_burn_rate),
                    c.long_window,
                    rate(c.short_burn_rate),
                    c.short_window
                ),
                fires_when(c.op, c.threshold),
                if c.met { "FIRING" } else { "quiet" }.into(),
            ]
        })
        .collect()
}

/// Header of the conditions table.
pub const CONDITIONS_HEADER: [&str; 6] = [
    "SLO",
    "CONDITION",
    "SEVERITY",
    "BURN RATE (LONG, SHORT WINDOW)",
    "FIRES WHEN",
    "NOW",
];

/// One row of the history table.
pub fn history_row(s: &Snapshot) -> Vec<String> {
    let mut notes: Vec<String> = s.change.iter().cloned().collect();
    if let Some(a) = &s.alarm {
        // The alarm's name is outside text: one line in the terminal, escapes and all.
        notes.push(format!(
            "alarm {} {}",
            one_line(&a.name),
            one_line(&a.state)
        ));
    }
    notes.extend(s.notifications.iter().cloned());
    let note = notes.join("; ");
    vec![
        s.evaluated_at.clone(),
        s.status.as_str().into(),
        pct_cell(s.attainment, 3),
        pct_cell(s.budget_remaining, 1),
        burn_rates(s),
        note,
    ]
}

/// Header of the history table.
pub const HISTORY_HEADER: [&str; 6] = [
    "EVALUATED AT",
    "STATUS",
    "ATTAINMENT",
    "BUDGET LEFT",
    "BURN RATES",
    "CHANGE / ALARM / MESSAGES",
];

/// History as CSV for spreadsheets: one row per snapshot (or period), burn rates by window.
pub fn history_csv(snaps: &[Snapshot]) -> String {
    let mut windows: Vec<&String> = snaps.iter().flat_map(|s| s.burn_rates.keys()).collect();
    windows.sort_by_key(|w| match duration::parse(w) {
        Ok(duration::Duration::Seconds(x)) => x,
        _ => i64::MAX,
    });
    windows.dedup();
    let cell = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    let mut out = String::from("evaluated_at,status,attainment,budget_remaining,good,total");
    for w in &windows {
        out.push_str(&format!(",burn_rate_{w}"));
    }
    out.push_str(",exhausts_at,notes\n");
    for s in snaps {
        let mut notes: Vec<String> = s.change.iter().cloned().collect();
        notes.extend(s.notifications.iter().cloned());
        if let Some(a) = &s.alarm {
            notes.push(format!("alarm {} {}", a.name, a.state));
        }
        out.push_str(&format!(
            "{},{},{},{},{},{}",
            s.evaluated_at,
            s.status.as_str(),
            cell(s.attainment),
            cell(s.budget_remaining),
            s.good,
            s.total
        ));
        for w in &windows {
            out.push(',');
            out.push_str(&cell(s.burn_rates.get(*w).copied().flatten()));
        }
        // Notes may hold commas: quote them, doubling any quote inside.
        out.push_str(&format!(
            ",{},\"{}\"\n",
            s.exhausts_at.map(|t| t.to_string()).unwrap_or_default(),
            notes.join("; ").replace('"', "\"\"")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_no_color_is_as_if_unset() {
        assert!(!no_color(None));
        assert!(!no_color(Some(std::ffi::OsStr::new(""))));
        assert!(no_color(Some(std::ffi::OsStr::new("1"))));
        assert!(no_color(Some(std::ffi::OsStr::new("false"))));
    }
}
