//! Evaluate one SLO at time T from fetched metric data: attainment, budget,
//! burn rates per window, which conditions are met, and the exhaustion forecast.

use super::duration::label;
use super::model::{BudgetingMethod, Indicator, Objective, Op, Severity, SloDefinition};
use super::plan::{spans, EvalTime, Spans};
use super::series::{ratio_sums, slice_counts, Gap, StreamData};

/// Good and total (events or slices) over one window, and its burn rate.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowResult {
    pub seconds: i64,
    pub label: String,
    pub good: f64,
    pub total: f64,
    /// Bad fraction over the error budget fraction; None when the window has no data.
    pub burn_rate: Option<f64>,
}

/// A burn-rate condition at T: both windows' rates beside the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionResult {
    pub name: String,
    pub severity: Severity,
    pub op: Op,
    pub threshold: f64,
    pub long: String,
    pub short: String,
    pub long_rate: Option<f64>,
    pub short_rate: Option<f64>,
    /// Both windows pass the threshold and have at least `min-events` events.
    pub met: bool,
}

/// Everything known about an SLO at one evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub slo: String,
    pub evaluated_at: i64,
    pub window_start: i64,
    /// Length of the whole SLO window (the whole calendar period for calendar windows).
    pub window_length: i64,
    pub good: f64,
    pub total: f64,
    pub attainment: Option<f64>,
    pub budget_remaining: Option<f64>,
    /// Each alert window, shortest first.
    pub windows: Vec<WindowResult>,
    pub conditions: Vec<ConditionResult>,
    pub exhausts_at: Option<i64>,
    /// Slice length of timeslice methods (None for Occurrences).
    pub slice_seconds: Option<i64>,
    /// A composite's parts, each with its own figures per alert window (empty otherwise).
    pub parts: Vec<PartResult>,
}

/// One part of a composite at T, to name the part that burns most.
#[derive(Debug, Clone, PartialEq)]
pub struct PartResult {
    pub name: String,
    pub weight: f64,
    /// Per alert window, in `Evaluation::windows` order.
    pub windows: Vec<PartWindow>,
}

/// A part's figures over one alert window.
#[derive(Debug, Clone, PartialEq)]
pub struct PartWindow {
    pub label: String,
    /// The part's bad fraction over its own error budget (1 - its target); None without data.
    pub burn_rate: Option<f64>,
    /// Its weighted bad part, `weight x (1 - good fraction)`, as the composite adds it up.
    pub weighted_bad: Option<f64>,
}

impl Evaluation {
    /// The part with the largest weighted bad part over the window `label` (first on ties).
    pub fn burning_most(&self, label: &str) -> Option<(&PartResult, &PartWindow)> {
        let mut best: Option<(&PartResult, &PartWindow)> = None;
        for p in &self.parts {
            let Some(w) = p.windows.iter().find(|w| w.label == label) else {
                continue;
            };
            let Some(bad) = w.weighted_bad.filter(|b| *b > 0.0) else {
                continue;
            };
            if best.is_none_or(|(_, b)| bad > b.weighted_bad.unwrap_or(0.0)) {
                best = Some((p, w));
            }
        }
        best
    }
}

impl Evaluation {
    /// The events the budget is a share of: all events (Occurrences) or every slice of the
    /// window, with data or not (timeslices), so budget and counts describe the same things.
    pub fn budget_base(&self) -> f64 {
        match self.slice_seconds {
            None => self.total,
            Some(s) => (self.window_length / s.max(1)).max(1) as f64,
        }
    }

    /// Slices of the window so far that had no data (timeslice methods only); slices an
    /// exclusion touches are not counted here (see `excluded_slices`): they were left out.
    pub fn slices_without_data(&self, exclusions: &[(i64, i64)]) -> Option<f64> {
        let excluded = self.excluded_slices(exclusions)?;
        self.slice_seconds.map(|s| {
            let so_far = ((self.evaluated_at - self.window_start) / s.max(1)).max(0) as f64;
            (so_far - excluded - self.total).max(0.0)
        })
    }

    /// Slices of the window so far that an exclusion touches (timeslice methods only): the
    /// evaluation leaves them out, as it leaves out a slice an exclusion edge cuts.
    pub fn excluded_slices(&self, exclusions: &[(i64, i64)]) -> Option<f64> {
        let s = self.slice_seconds?.max(1);
        let n = ((self.evaluated_at - self.window_start) / s).max(0);
        // Each exclusion as the slice indexes it touches, [first, last), merged where they overlap.
        let mut ranges: Vec<(i64, i64)> = exclusions
            .iter()
            .filter(|(a, b)| a < b)
            .map(|&(a, b)| {
                let first = (a - self.window_start).div_euclid(s);
                let last = (b - self.window_start + s - 1).div_euclid(s);
                (first.clamp(0, n), last.clamp(0, n))
            })
            .filter(|(a, b)| a < b)
            .collect();
        ranges.sort_unstable();
        let (mut count, mut reached) = (0, 0);
        for (a, b) in ranges {
            let a = a.max(reached);
            if b > a {
                count += b - a;
                reached = b;
            }
        }
        Some(count as f64)
    }

    /// The burn rate over the window with this label, when it had data.
    pub fn burn_rate(&self, label: &str) -> Option<f64> {
        self.windows
            .iter()
            .find(|w| w.label == label)
            .and_then(|w| w.burn_rate)
    }
}

/// Why an SLO could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluateError {
    #[error("metric data does not cover {at} (the query plan and the data disagree)")]
    Gap { at: i64 },
    #[error("expected {expected} metric streams, got {got}")]
    Streams { expected: usize, got: usize },
    #[error("composite: {0}")]
    Composite(String),
}

impl From<Gap> for EvaluateError {
    fn from(g: Gap) -> Self {
        EvaluateError::Gap { at: g.at }
    }
}

/// Evaluate `slo` at `t`; `streams` are its metric streams in `metric_specs()` order.
pub fn evaluate(
    slo: &SloDefinition,
    t: EvalTime,
    streams: &[&StreamData],
) -> Result<Evaluation, EvaluateError> {
    let expected = slo.metric_specs().len();
    if streams.len() != expected {
        return Err(EvaluateError::Streams {
            expected,
            got: streams.len(),
        });
    }
    if let Indicator::Composite(c) = &slo.indicator {
        return super::composite::evaluate(slo, c, t, streams);
    }
    let sp = spans(slo, t);
    let excl = &slo.settings.exclusions[..];
    let slice = sp.slice.unwrap_or(60);
    let (ind, obj, method) = (&slo.indicator, &slo.objective, slo.method);
    let counts = |start: i64| -> Result<(f64, f64), Gap> {
        match (ind, method) {
            (Indicator::Ratio { good, .. }, BudgetingMethod::Occurrences) => {
                ratio_sums(streams[0], streams[1], *good, start, sp.end, excl)
            }
            (Indicator::Ratio { .. }, _) => {
                slice_counts([streams[0], streams[1]], slice, start, sp.end, excl, |v| {
                    slice_score(ind, obj, method, &v)
                })
            }
            _ => slice_counts([streams[0]], slice, start, sp.end, excl, |v| {
                slice_score(ind, obj, method, &v)
            }),
        }
    };
    let whole = counts(sp.slo_start.start)?;
    let mut alerts = Vec::with_capacity(sp.alerts.len());
    for (_, edge) in &sp.alerts {
        alerts.push(counts(edge.start)?);
    }
    Ok(finish(slo, &sp, whole, &alerts))
}

/// How good one slice (or datapoint) is from its streams' values (`[numerator, total]` for a
/// ratio, `[value]` otherwise): None without data, else 1 (good), 0 (bad) or, for
/// RatioTimeslices and datapoints of a raw ratio, the good fraction.
pub(crate) fn slice_score(
    ind: &Indicator,
    obj: &Objective,
    method: BudgetingMethod,
    vals: &[f64],
) -> Option<f64> {
    // A slice's ratio meets timeSliceTarget (Timeslices), or counts as its own value
    // (RatioTimeslices: the window's attainment is the average of the slices' ratios).
    let judge = |ratio: f64| match method {
        BudgetingMethod::RatioTimeslices => ratio,
        _ => bool_score(ratio >= obj.time_slice_target.unwrap_or(1.0)),
    };
    match ind {
        Indicator::Ratio { good, .. } => {
            let (n, tot) = (vals[0], vals[1]);
            if tot.is_nan() || tot <= 0.0 {
                return None;
            }
            let n = if n.is_nan() { 0.0 } else { n.clamp(0.0, tot) };
            Some(judge(if *good { n / tot } else { 1.0 - n / tot }))
        }
        Indicator::Raw { success, .. } => {
            let v = vals[0];
            if v.is_nan() {
                return None;
            }
            let ratio = v.clamp(0.0, 1.0);
            let ratio = if *success { ratio } else { 1.0 - ratio };
            Some(match method {
                // Each datapoint is an event whose good share is its ratio.
                BudgetingMethod::Occurrences => ratio,
                _ => judge(ratio),
            })
        }
        Indicator::Threshold { .. } => {
            let op = obj.op.unwrap_or(Op::Lte);
            let value = obj.value.unwrap_or(0.0);
            (!vals[0].is_nan()).then(|| bool_score(op.holds(vals[0], value)))
        }
        Indicator::Composite(_) => None,
    }
}

/// The evaluation from the counts (good, total) of the SLO window and of each alert window
/// (in `sp.alerts` order): attainment, budget, burn rates, conditions and the forecast.
pub(crate) fn finish(
    slo: &SloDefinition,
    sp: &Spans,
    (good, total): (f64, f64),
    alerts: &[(f64, f64)],
) -> Evaluation {
    let target = slo.objective.target;
    let slice = sp.slice.unwrap_or(60);
    let burn = |good: f64, total: f64| (total > 0.0).then(|| (1.0 - good / total) / (1.0 - target));
    let attainment = (total > 0.0).then(|| good / total);
    let budget_remaining = match slo.method {
        // Events (or datapoints) so far: the budget is a share of them.
        BudgetingMethod::Occurrences => {
            (total > 0.0).then(|| 1.0 - (total - good) / ((1.0 - target) * total))
        }
        _ => {
            // A slice budget is the bad slices the whole window allows.
            let slices = (sp.slo_length / slice).max(1) as f64;
            (total > 0.0).then(|| 1.0 - (total - good) / ((1.0 - target) * slices))
        }
    };

    let windows: Vec<WindowResult> = sp
        .alerts
        .iter()
        .zip(alerts)
        .map(|((len, _), &(g, tot))| WindowResult {
            seconds: *len,
            label: label(*len),
            good: g,
            total: tot,
            burn_rate: burn(g, tot),
        })
        .collect();
    let find = |secs: i64| windows.iter().find(|w| w.seconds == secs);
    let min_events = slo.settings.min_events as f64;
    let conditions = slo
        .conditions
        .iter()
        .map(|c| {
            let (l, s) = (find(c.long_seconds), find(c.short_seconds));
            let passes = |w: Option<&WindowResult>| {
                w.is_some_and(|w| {
                    w.total >= min_events.max(f64::MIN_POSITIVE)
                        && w.burn_rate.is_some_and(|r| c.op.holds(r, c.threshold))
                })
            };
            ConditionResult {
                name: c.name.clone(),
                severity: c.severity,
                op: c.op,
                threshold: c.threshold,
                long: label(c.long_seconds),
                short: label(c.short_seconds),
                long_rate: l.and_then(|w| w.burn_rate),
                short_rate: s.and_then(|w| w.burn_rate),
                met: passes(l) && passes(s),
            }
        })
        .collect();
    let exhausts_at = match (budget_remaining, find(3600).and_then(|w| w.burn_rate)) {
        (Some(b), Some(rate)) if b > 0.0 && rate > 1.0 => {
            Some(sp.end + (b * sp.slo_length as f64 / rate).round() as i64)
        }
        _ => None,
    };
    Evaluation {
        slo: slo.name.clone(),
        evaluated_at: sp.end,
        window_start: sp.slo_start.start,
        window_length: sp.slo_length,
        good,
        total,
        attainment,
        budget_remaining,
        windows,
        conditions,
        exhausts_at,
        slice_seconds: match slo.method {
            BudgetingMethod::Occurrences => None,
            _ => Some(slice),
        },
        parts: Vec::new(),
    }
}

/// A good slice scores 1, a bad one 0.
fn bool_score(good: bool) -> f64 {
    if good {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day_of_5m_slices() -> Evaluation {
        Evaluation {
            slo: "x".into(),
            evaluated_at: 86_400,
            window_start: 0,
            window_length: 7 * 86_400,
            good: 90.0,
            total: 100.0,
            attainment: Some(0.9),
            budget_remaining: Some(0.5),
            windows: vec![],
            conditions: vec![],
            exhausts_at: None,
            slice_seconds: Some(300),
            parts: Vec::new(),
        }
    }

    #[test]
    fn excluded_slices_are_not_slices_without_data() {
        let e = day_of_5m_slices();
        assert_eq!(e.slices_without_data(&[]), Some(188.0));
        // One hour on the grid (12 slices), one overlapping it by half an hour and cutting a
        // slice at its end (6 + 1 more), one before the window and one after T (none).
        let ex = [
            (3600, 7200),
            (5400, 9000 + 60),
            (-7200, -3600),
            (90_000, 95_000),
        ];
        assert_eq!(e.excluded_slices(&ex), Some(19.0));
        assert_eq!(e.slices_without_data(&ex), Some(288.0 - 19.0 - 100.0));
        let occurrences = Evaluation {
            slice_seconds: None,
            ..day_of_5m_slices()
        };
        assert_eq!(occurrences.slices_without_data(&ex), None);
    }
}
