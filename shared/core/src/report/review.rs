//! The SLO review: per SLO, how it did over the range, what its incidents cost, and a
//! hint where the data says the objective or the alerting wants a second look.

use std::fmt::Write;

use crate::slo::incident::IncidentFacts;
use crate::slo::message::{clean_subject, count, pct_cell, relative};
use crate::slo::status::Status;

use crate::slo::snapshot::Snapshot;

use super::{incidents, parse_time, SloView};

/// Less than this share of the budget used in [`UNTESTED_LOOKBACK`]: the objective was never tested.
pub const UNTESTED_BELOW: f64 = 0.10;

/// How far back the "never tested" and "too tight" hints look, whatever the digest covers.
pub const UNTESTED_LOOKBACK: i64 = 90 * 86_400;

/// One SLO's review.
#[derive(Debug, Clone, PartialEq)]
pub struct SloReview {
    pub slo: String,
    pub attainment_now: Option<f64>,
    /// The window's attainment as it stood a week ago (kept for the JSON document).
    pub attainment_week_ago: Option<f64>,
    /// Attainment over the last seven days alone.
    pub attainment_last_week: Option<f64>,
    /// True when `attainment_last_week` is estimated from hourly burn rates (rolling
    /// windows, whose counts cannot be split by week) rather than counted.
    pub last_week_estimated: bool,
    pub budget_now: Option<f64>,
    /// Budget spent over the range (start minus now; negative when it grew back).
    pub budget_spent: Option<f64>,
    /// (start, duration seconds, budget it cost) of each incident in the range.
    pub incidents: Vec<(i64, i64, Option<f64>)>,
    pub hints: Vec<String>,
}

/// Review every SLO over `[since, now]`. The views' history may reach further back (up to
/// [`UNTESTED_LOOKBACK`]): the hints about the objective read it all, the figures only the range.
pub fn review(views: &[SloView], since: i64, now: i64) -> Vec<SloReview> {
    views.iter().map(|v| review_one(v, since, now)).collect()
}

fn at(s: &Snapshot) -> i64 {
    parse_time(&s.evaluated_at).unwrap_or(0)
}

/// Seconds in a rolling window (`30d`); None for calendar windows.
fn rolling_seconds(window: &str) -> Option<i64> {
    match crate::slo::duration::parse(window) {
        Ok(crate::slo::duration::Duration::Seconds(s)) if s > 0 => Some(s),
        _ => None,
    }
}

/// Attainment over the last seven days. Calendar windows count events from the period's
/// start, so the week is the latest counts minus those a week ago (plus the counts at the
/// end of each period that began since). Rolling windows drop a week's old events while
/// they add the new one, so differences of their counts are not the week: a 7-day window
/// is the week itself, other windows are estimated from the hourly burn rates.
fn last_week(v: &SloView, h: &[Snapshot], now: i64) -> (Option<f64>, bool) {
    let Some(latest) = h.last() else {
        return (None, false);
    };
    let from = now - 7 * 86_400;
    match rolling_seconds(&v.window) {
        Some(w) if w == 7 * 86_400 => (latest.attainment, false),
        Some(_) => {
            // one 1h burn rate per hour of the week, time-weighted
            let mut hours: std::collections::BTreeMap<i64, f64> = Default::default();
            for s in h.iter().filter(|s| at(s) > from) {
                if let Some(Some(r)) = s.burn_rates.get("1h") {
                    hours.insert(at(s).div_euclid(3600), *r);
                }
            }
            if hours.is_empty() || !v.objective.is_finite() {
                return (None, true);
            }
            let mean = hours.values().sum::<f64>() / hours.len() as f64;
            (
                Some((1.0 - mean * (1.0 - v.objective)).clamp(0.0, 1.0)),
                true,
            )
        }
        None => {
            let Some(start) = h.iter().rposition(|s| at(s) <= from) else {
                return (None, false);
            };
            let (mut good, mut total) = (0.0, 0.0);
            for pair in h[start..].windows(2) {
                if pair[1].total < pair[0].total {
                    // a new period began: bank the old one's counts
                    good += pair[0].good;
                    total += pair[0].total;
                }
            }
            good += latest.good - h[start].good;
            total += latest.total - h[start].total;
            ((total > 0.0).then(|| good / total), false)
        }
    }
}

/// The budget left at the end of each recent window in the lookback, newest first:
/// rolling windows end now, one window ago, two ago...; calendar windows end where a new
/// period begins (the counts start again).
fn window_ends(v: &SloView, h: &[Snapshot], now: i64) -> Vec<f64> {
    let oldest = now - UNTESTED_LOOKBACK;
    let h: Vec<&Snapshot> = h.iter().filter(|s| at(s) >= oldest).collect();
    let mut ends = Vec::new();
    match rolling_seconds(&v.window) {
        Some(w) => {
            // the windows wholly inside the lookback
            let mut end = now;
            while end - w >= oldest {
                // the last evaluation of that window, if it ran close to its end
                if let Some(s) = h
                    .iter()
                    .rev()
                    .find(|s| at(s) <= end && at(s) > end - (w / 10).max(3600))
                {
                    ends.extend(s.budget_remaining);
                }
                end -= w;
            }
        }
        None => {
            ends.extend(h.last().and_then(|s| s.budget_remaining));
            for pair in h.windows(2).rev() {
                if pair[1].total < pair[0].total {
                    ends.extend(pair[0].budget_remaining);
                }
            }
        }
    }
    ends
}

fn review_one(v: &SloView, since: i64, now: i64) -> SloReview {
    let all = &v.history;
    let h: Vec<Snapshot> = all.iter().filter(|s| at(s) >= since).cloned().collect();
    let latest = h.last();
    let week_ago = all.iter().rev().find(|s| at(s) <= now - 7 * 86_400);
    let first_budget = h.iter().find_map(|s| s.budget_remaining);
    let budget_now = latest.and_then(|s| s.budget_remaining);
    let incidents: Vec<(i64, i64, Option<f64>)> = incidents(&h, since)
        .iter()
        .map(|i| {
            let end = i.end.unwrap_or(now);
            let cost = match (i.budget_at_start, i.budget_at_end.or(budget_now)) {
                (Some(a), Some(b)) => Some((a - b).max(0.0)),
                _ => None,
            };
            (i.start, end - i.start, cost)
        })
        .collect();
    let mut hints = Vec::new();
    let lookback: Vec<&Snapshot> = all
        .iter()
        .filter(|s| at(s) >= now - UNTESTED_LOOKBACK)
        .collect();
    if let Some(lowest) = lookback
        .iter()
        .filter_map(|s| s.budget_remaining)
        .reduce(f64::min)
    {
        let days = lookback
            .first()
            .map_or(0, |s| (now - at(s)).div_euclid(86_400));
        if 1.0 - lowest < UNTESTED_BELOW {
            hints.push(format!(
                "objective never tested: less than {:.0}% of the budget used in {}; a tighter objective would tell you more",
                UNTESTED_BELOW * 100.0,
                count(days.max(1) as usize, "day"),
            ));
        }
    }
    let ends = window_ends(v, all, now);
    let exhausted = ends.iter().filter(|b| **b <= 0.0).count();
    // One exhausted window is an incident; most of several is the objective.
    if ends.len() >= 2 && exhausted * 2 > ends.len() {
        hints.push(format!(
            "objective too tight? the budget was exhausted at the end of {exhausted} of the last {}",
            count(ends.len(), "window")
        ));
    }
    let no_data = h.iter().filter(|s| s.status == Status::NoData).count();
    if no_data > 0 {
        hints.push(format!(
            "no data for part of the window: {no_data} of {} saw no events",
            count(h.len(), "evaluation")
        ));
    }
    let mut noisy: Vec<(String, usize)> = Vec::new();
    for s in &h {
        if let Some(a) = &s.alarm {
            if a.state == "ALARM" && !s.conditions.iter().any(|c| c.met) {
                match noisy.iter_mut().find(|(n, _)| *n == a.name) {
                    Some((_, c)) => *c += 1,
                    None => noisy.push((a.name.clone(), 1)),
                }
            }
        }
    }
    for (name, n) in noisy {
        hints.push(format!(
            "noisy alarm: {name} fired {} with no burn-rate condition met",
            count(n, "time")
        ));
    }
    let (attainment_last_week, last_week_estimated) = last_week(v, all, now);
    SloReview {
        slo: v.name.clone(),
        attainment_now: latest.and_then(|s| s.attainment),
        attainment_week_ago: week_ago.and_then(|s| s.attainment),
        attainment_last_week,
        last_week_estimated,
        budget_now,
        budget_spent: first_budget.zip(budget_now).map(|(a, b)| a - b),
        incidents,
        hints,
    }
}

/// The incidents of the digest's range, from their records, with their figures; and how
/// to start the review of each.
pub fn incident_section(incidents: &[IncidentFacts], days: i64, now: i64) -> String {
    let mut b = format!(
        "\nIncidents of the last {days} days: {}\n",
        if incidents.is_empty() {
            "none".to_string()
        } else {
            count(incidents.len(), "incident")
        }
    );
    for f in incidents {
        for line in f.lines(now) {
            let _ = writeln!(b, "  {line}");
        }
        let _ = writeln!(
            b,
            "    review it: sloguard incident {} --markdown",
            crate::slo::message::one_line(&f.record.id())
        );
    }
    b
}

/// The digest as one info message: a subject and a plain-text body.
pub fn digest(reviews: &[SloReview], days: i64) -> (String, String) {
    let incidents: usize = reviews.iter().map(|r| r.incidents.len()).sum();
    let exhausted = reviews
        .iter()
        .filter(|r| r.budget_now.is_some_and(|b| b <= 0.0))
        .count();
    let hinted = reviews.iter().filter(|r| !r.hints.is_empty()).count();
    let subject = clean_subject(&format!(
        "[INFO] sloguard review, last {days} days: {}, {}, {exhausted} exhausted, {hinted} to look at",
        count(reviews.len(), "SLO"),
        count(incidents, "incident")
    ));
    let mut b = format!("SLO review of the last {days} days.\n");
    for r in reviews {
        let _ = write!(
            b,
            "\n{}\n  attainment {} over the window, {}{} over the last week; budget left {}, {} spent in the range\n",
            r.slo,
            pct_cell(r.attainment_now, 3),
            if r.last_week_estimated { "~" } else { "" },
            pct_cell(r.attainment_last_week, 3),
            pct_cell(r.budget_now, 1),
            pct_cell(r.budget_spent, 1),
        );
        if r.incidents.is_empty() {
            b.push_str("  no incidents\n");
        } else {
            let total: i64 = r.incidents.iter().map(|i| i.1).sum();
            let _ = writeln!(
                b,
                "  {}, {} in all:",
                count(r.incidents.len(), "incident"),
                relative(total)
            );
            for (start, dur, cost) in &r.incidents {
                let _ = writeln!(
                    b,
                    "    {} for {}, cost {} of the budget",
                    crate::slo::message::rfc3339(*start),
                    relative(*dur),
                    pct_cell(*cost, 1)
                );
            }
        }
        for h in &r.hints {
            let _ = writeln!(b, "  hint: {h}");
        }
    }
    b.push_str("\nCharts: sloguard report --since 28d --out report.html\n");
    (subject, b)
}
