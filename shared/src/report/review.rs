//! The SLO review: per SLO, how it did over the range, what its incidents cost, and a
//! hint where the data says the objective or the alerting wants a second look.

use std::fmt::Write;

use crate::slo::message::{clean_subject, count, relative};
use crate::slo::status::Status;

use super::{incidents, parse_time, pct, SloView};

/// Less than this share of the budget used in the whole range: the objective was never tested.
pub const UNTESTED_BELOW: f64 = 0.10;

/// One SLO's review.
#[derive(Debug, Clone, PartialEq)]
pub struct SloReview {
    pub slo: String,
    pub attainment_now: Option<f64>,
    pub attainment_week_ago: Option<f64>,
    pub budget_now: Option<f64>,
    /// Budget spent over the range (start minus now; negative when it grew back).
    pub budget_spent: Option<f64>,
    /// (start, duration seconds, budget it cost) of each incident in the range.
    pub incidents: Vec<(i64, i64, Option<f64>)>,
    pub hints: Vec<String>,
}

/// Review every SLO over its history (`now` ends the range).
pub fn review(views: &[SloView], now: i64) -> Vec<SloReview> {
    views.iter().map(|v| review_one(v, now)).collect()
}

fn review_one(v: &SloView, now: i64) -> SloReview {
    let h = &v.history;
    let at = |s: &crate::app::Snapshot| parse_time(&s.evaluated_at).unwrap_or(0);
    let latest = h.last();
    let week_ago = h.iter().rev().find(|s| at(s) <= now - 7 * 86_400);
    let first_budget = h.iter().find_map(|s| s.budget_remaining);
    let budget_now = latest.and_then(|s| s.budget_remaining);
    let incidents: Vec<(i64, i64, Option<f64>)> = incidents(h)
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
    let with_budget: Vec<f64> = h.iter().filter_map(|s| s.budget_remaining).collect();
    if let Some(lowest) = with_budget.iter().copied().reduce(f64::min) {
        let days = h.first().map_or(0, |s| (now - at(s)) / 86_400);
        if 1.0 - lowest < UNTESTED_BELOW {
            hints.push(format!(
                "objective never tested: less than {:.0}% of the budget used in {days} days; a tighter objective would tell you more",
                UNTESTED_BELOW * 100.0
            ));
        }
        let exhausted = with_budget.iter().filter(|b| **b <= 0.0).count();
        if exhausted * 2 > with_budget.len() {
            hints.push(format!(
                "objective too tight? the budget was exhausted in {} of {} evaluations",
                exhausted,
                with_budget.len()
            ));
        }
    }
    let no_data = h.iter().filter(|s| s.status == Status::NoData).count();
    if no_data > 0 {
        hints.push(format!(
            "no data for part of the window: {no_data} of {} evaluations saw no events",
            h.len()
        ));
    }
    let mut noisy: Vec<(String, usize)> = Vec::new();
    for s in h {
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
            "noisy alarm: {name} fired {n} time(s) with no burn-rate condition met"
        ));
    }
    SloReview {
        slo: v.name.clone(),
        attainment_now: latest.and_then(|s| s.attainment),
        attainment_week_ago: week_ago.and_then(|s| s.attainment),
        budget_now,
        budget_spent: first_budget.zip(budget_now).map(|(a, b)| a - b),
        incidents,
        hints,
    }
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
            "\n{}\n  attainment {} now, {} a week ago; budget left {}, {} spent in the range\n",
            r.slo,
            pct(r.attainment_now, 3),
            pct(r.attainment_week_ago, 3),
            pct(r.budget_now, 1),
            pct(r.budget_spent, 1),
        );
        if r.incidents.is_empty() {
            b.push_str("  no incidents\n");
        } else {
            let total: i64 = r.incidents.iter().map(|i| i.1).sum();
            let _ = writeln!(
                b,
                "  {} incident(s), {} in all:",
                r.incidents.len(),
                relative(total)
            );
            for (start, dur, cost) in &r.incidents {
                let _ = writeln!(
                    b,
                    "    {} for {}, cost {} of the budget",
                    crate::slo::message::rfc3339(*start),
                    relative(*dur),
                    pct(*cost, 1)
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
