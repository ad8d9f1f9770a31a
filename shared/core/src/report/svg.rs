//! Plain SVG charts: a budget burn-down with its projection, burn rates on a log scale
//! against the conditions' thresholds, and sparklines, written through [`Html`] so
//! every stored string is text. No JavaScript; colours come from CSS classes so one
//! chart reads in light and dark.

use std::fmt;

use crate::slo::message::rfc3339;
use crate::slo::snapshot::Snapshot;

use super::html::Html;
use super::{incidents, parse_time, CorrectedSpan, Span};

/// A coordinate with one decimal, as every chart writes them.
struct D1(f64);

impl fmt::Display for D1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// Chart size in CSS pixels.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub width: f64,
    pub height: f64,
}

const PAD_LEFT: f64 = 56.0;
const PAD_RIGHT: f64 = 12.0;
const PAD_TOP: f64 = 12.0;
const PAD_BOTTOM: f64 = 26.0;

struct Frame {
    size: Size,
    t0: i64,
    t1: i64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn x(&self, t: i64) -> f64 {
        let span = (self.t1 - self.t0).max(1) as f64;
        PAD_LEFT + (t - self.t0) as f64 / span * (self.size.width - PAD_LEFT - PAD_RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        let span = (self.y1 - self.y0).max(f64::MIN_POSITIVE);
        let h = self.size.height - PAD_TOP - PAD_BOTTOM;
        PAD_TOP + (1.0 - (v.clamp(self.y0, self.y1) - self.y0) / span) * h
    }

    fn bottom(&self) -> f64 {
        self.size.height - PAD_BOTTOM
    }

    /// Time ticks along the bottom, UTC.
    fn time_axis(&self, out: &mut Html) {
        // One label per ~140 px, so narrow widgets do not overlap their labels.
        let ticks = ((self.size.width / 140.0) as i64).clamp(2, 6);
        for i in 0..=ticks {
            let t = self.t0 + (self.t1 - self.t0) * i / ticks;
            let x = D1(self.x(t));
            let label = rfc3339(t);
            let short = format!(
                "{} {}",
                label.get(5..10).unwrap_or_default(),
                label.get(11..16).unwrap_or_default()
            );
            let anchor = match i {
                0 => "start",
                i if i == ticks => "end",
                _ => "middle",
            };
            out.empty(
                "line",
                &[
                    ("class", &"grid"),
                    ("x1", &x),
                    ("y1", &PAD_TOP),
                    ("x2", &x),
                    ("y2", &D1(self.bottom())),
                ],
            );
            out.element(
                "text",
                &[
                    ("class", &"tick"),
                    ("x", &x),
                    ("y", &D1(self.bottom() + 16.0)),
                    ("text-anchor", &anchor),
                ],
                short,
            );
        }
    }
}

fn open_svg(out: &mut Html, class: &str, slo: &str, size: Size, points: usize, title: &str) {
    out.open(
        "svg",
        &[
            ("class", &format_args!("chart {class}")),
            ("data-slo", &slo),
            ("data-points", &points),
            ("role", &"img"),
            (
                "viewBox",
                &format_args!("0 0 {} {}", size.width, size.height),
            ),
            ("width", &size.width),
            ("height", &size.height),
            ("xmlns", &"http://www.w3.org/2000/svg"),
        ],
    );
    out.element("title", &[], title);
}

/// The text of an empty chart; closes the chart.
fn empty(out: &mut Html, size: Size) {
    out.element(
        "text",
        &[
            ("class", &"empty"),
            ("x", &(size.width / 2.0)),
            ("y", &(size.height / 2.0)),
            ("text-anchor", &"middle"),
        ],
        "no history in this range",
    )
    .close();
}

fn shade_incidents(out: &mut Html, f: &Frame, spans: &[Span]) {
    for s in spans {
        let (a, b) = (f.x(s.start.max(f.t0)), f.x(s.end.unwrap_or(f.t1).min(f.t1)));
        let sev = s.severity.as_str();
        out.open(
            "rect",
            &[
                ("class", &format_args!("incident {sev}")),
                ("x", &D1(a)),
                ("y", &PAD_TOP),
                ("width", &D1((b - a).max(1.0))),
                ("height", &D1(f.bottom() - PAD_TOP)),
            ],
        )
        .element(
            "title",
            &[],
            format_args!("{sev} incident from {}", rfc3339(s.start)),
        )
        .close();
    }
}

/// Corrected time, shaded over the whole height, with the correction in its tooltip.
fn shade_corrections(out: &mut Html, f: &Frame, spans: &[CorrectedSpan]) {
    for c in spans.iter().filter(|c| c.end > f.t0 && c.start < f.t1) {
        let (a, b) = (f.x(c.start.max(f.t0)), f.x(c.end.min(f.t1)));
        out.open(
            "rect",
            &[
                ("class", &format_args!("correction {}", c.category)),
                ("data-correction", &c.id),
                ("x", &D1(a)),
                ("y", &PAD_TOP),
                ("width", &D1((b - a).max(1.0))),
                ("height", &D1(f.bottom() - PAD_TOP)),
            ],
        )
        .element(
            "title",
            &[],
            format_args!(
                "corrected ({}, {}): {} to {}: {}",
                c.id,
                c.category,
                rfc3339(c.start),
                rfc3339(c.end),
                c.reason
            ),
        )
        .close();
    }
}

/// Marks for alarms (triangles on the top edge) and messages (dots on the bottom edge).
fn marks(out: &mut Html, f: &Frame, history: &[Snapshot]) {
    for s in history {
        let Some(t) = parse_time(&s.evaluated_at) else {
            continue;
        };
        let x = f.x(t);
        if let Some(a) = &s.alarm {
            out.open(
                "path",
                &[
                    ("class", &"alarm-mark"),
                    (
                        "d",
                        &format_args!("M{},{} l-5,-8 h10 z", D1(x), D1(PAD_TOP + 8.0)),
                    ),
                ],
            )
            .element(
                "title",
                &[],
                format_args!("alarm {} {} at {}", a.name, a.state, rfc3339(t)),
            )
            .close();
        }
        if !s.notifications.is_empty() {
            out.open(
                "circle",
                &[
                    ("class", &"message-mark"),
                    ("cx", &D1(x)),
                    ("cy", &D1(f.bottom() - 4.0)),
                    ("r", &4),
                ],
            )
            .element(
                "title",
                &[],
                format_args!("{}: {}", rfc3339(t), s.notifications.join(", ")),
            )
            .close();
        }
    }
}

/// A horizontal grid line at `y` with its label on the left.
fn value_tick(out: &mut Html, class: &str, y: f64, width: f64, label: fmt::Arguments<'_>) {
    out.empty(
        "line",
        &[
            ("class", &class),
            ("x1", &PAD_LEFT),
            ("y1", &D1(y)),
            ("x2", &D1(width - PAD_RIGHT)),
            ("y2", &D1(y)),
        ],
    );
    out.element(
        "text",
        &[
            ("class", &"tick"),
            ("x", &(PAD_LEFT - 6.0)),
            ("y", &D1(y + 4.0)),
            ("text-anchor", &"end"),
        ],
        label,
    );
}

/// Points of a polyline.
fn points(pts: impl Iterator<Item = (f64, f64)>) -> String {
    pts.map(|(x, y)| format!("{},{}", D1(x), D1(y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Budget remaining over time, the zero line, incidents shaded, and the straight-line
/// projection from the last point to exhaustion.
pub fn burn_down(slo: &str, history: &[Snapshot], range: (i64, i64), size: Size) -> Html {
    burn_down_with(slo, history, &[], range, size)
}

/// `burn_down` with corrected time shaded.
pub fn burn_down_with(
    slo: &str,
    history: &[Snapshot],
    corrected: &[CorrectedSpan],
    range: (i64, i64),
    size: Size,
) -> Html {
    let pts: Vec<(i64, f64)> = history
        .iter()
        .filter_map(|s| Some((parse_time(&s.evaluated_at)?, s.budget_remaining?)))
        .collect();
    let mut out = Html::new();
    open_svg(
        &mut out,
        "burn-down",
        slo,
        size,
        pts.len(),
        &format!("{slo}: error budget remaining"),
    );
    if pts.is_empty() {
        empty(&mut out, size);
        return out;
    }
    let lo = pts.iter().map(|p| p.1).fold(0.0_f64, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(1.0_f64, f64::max);
    let f = Frame {
        size,
        t0: range.0,
        t1: range.1,
        y0: lo,
        y1: hi,
    };
    shade_incidents(&mut out, &f, &incidents(history, range.0));
    shade_corrections(&mut out, &f, corrected);
    f.time_axis(&mut out);
    let mut ticks = vec![lo, 0.0, 0.5, 1.0];
    ticks.retain(|v| (lo..=hi).contains(v));
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    for v in ticks {
        let class = if v == 0.0 { "zero" } else { "grid" };
        value_tick(
            &mut out,
            class,
            f.y(v),
            size.width,
            format_args!("{:.0}%", v * 100.0),
        );
    }
    out.empty(
        "polyline",
        &[
            ("class", &"budget"),
            ("fill", &"none"),
            (
                "points",
                &points(pts.iter().map(|(t, v)| (f.x(*t), f.y(*v)))),
            ),
        ],
    );
    // The projection: from the last point to zero at the forecast exhaustion time.
    if let Some(last) = history.iter().rev().find(|s| s.budget_remaining.is_some()) {
        if let (Some(t), Some(b), Some(at)) = (
            parse_time(&last.evaluated_at),
            last.budget_remaining,
            last.exhausts_at.map(|e| e.0),
        ) {
            let end = at.min(f.t1);
            let v = if at <= f.t1 {
                0.0
            } else {
                b * (1.0 - (end - t) as f64 / (at - t).max(1) as f64)
            };
            out.open(
                "line",
                &[
                    ("class", &"projection"),
                    ("x1", &D1(f.x(t))),
                    ("y1", &D1(f.y(b))),
                    ("x2", &D1(f.x(end))),
                    ("y2", &D1(f.y(v))),
                ],
            )
            .element(
                "title",
                &[],
                format_args!("exhausted at {} at the last hour's rate", rfc3339(at)),
            )
            .close();
        }
    }
    marks(&mut out, &f, history);
    out.close();
    out
}

/// Burn rate per alert window on a log scale, with each condition's threshold.
pub fn burn_rates(slo: &str, history: &[Snapshot], range: (i64, i64), size: Size) -> Html {
    burn_rates_with(slo, history, &[], range, size)
}

/// `burn_rates` with corrected time shaded.
pub fn burn_rates_with(
    slo: &str,
    history: &[Snapshot],
    corrected: &[CorrectedSpan],
    range: (i64, i64),
    size: Size,
) -> Html {
    let mut windows: Vec<&String> = history.iter().flat_map(|s| s.burn_rates.keys()).collect();
    windows.sort_by_key(|w| {
        crate::slo::duration::parse(w).map_or(i64::MAX, |d| match d {
            crate::slo::duration::Duration::Seconds(s) => s,
            crate::slo::duration::Duration::Calendar(..) => i64::MAX,
        })
    });
    windows.dedup();
    let count = history
        .iter()
        .filter(|s| s.burn_rates.values().any(Option::is_some))
        .count();
    let mut out = Html::new();
    open_svg(
        &mut out,
        "burn-rates",
        slo,
        size,
        count,
        &format!("{slo}: burn rates (log scale)"),
    );
    if count == 0 {
        empty(&mut out, size);
        return out;
    }
    const FLOOR: f64 = 0.1;
    let top = history
        .iter()
        .flat_map(|s| s.burn_rates.values().flatten())
        .chain(
            history
                .iter()
                .flat_map(|s| s.conditions.iter().map(|c| &c.threshold)),
        )
        .filter(|v| v.is_finite())
        .fold(10.0_f64, |a, b| a.max(*b))
        .log10()
        .ceil();
    let f = Frame {
        size,
        t0: range.0,
        t1: range.1,
        y0: FLOOR.log10(),
        y1: top,
    };
    let ly = |v: f64| f.y(v.max(FLOOR).log10());
    shade_incidents(&mut out, &f, &incidents(history, range.0));
    shade_corrections(&mut out, &f, corrected);
    f.time_axis(&mut out);
    let mut decade = FLOOR.log10() as i32;
    while f64::from(decade) <= top {
        let v = 10f64.powi(decade);
        value_tick(&mut out, "grid", ly(v), size.width, format_args!("{v}x"));
        decade += 1;
    }
    if let Some(last) = history.last() {
        for c in &last.conditions {
            let y = D1(ly(c.threshold));
            out.open(
                "line",
                &[
                    ("class", &format_args!("threshold {}", c.severity.as_str())),
                    ("x1", &PAD_LEFT),
                    ("y1", &y),
                    ("x2", &D1(size.width - PAD_RIGHT)),
                    ("y2", &y),
                ],
            )
            .element(
                "title",
                &[],
                format_args!(
                    "{}: burn > {}x over {} and {}",
                    c.name, c.threshold, c.long_window, c.short_window
                ),
            )
            .close();
        }
    }
    for (i, w) in windows.iter().enumerate() {
        let line = points(history.iter().filter_map(|s| {
            let t = parse_time(&s.evaluated_at)?;
            let v = s.burn_rates.get(*w).copied().flatten()?;
            Some((f.x(t), ly(v)))
        }));
        out.open(
            "polyline",
            &[
                ("class", &format_args!("rate s{i}")),
                ("fill", &"none"),
                ("data-window", w),
                ("points", &line),
            ],
        )
        .element("title", &[], format_args!("burn rate over {w}"))
        .close();
        out.element(
            "text",
            &[
                ("class", &format_args!("legend s{i}")),
                ("x", &D1(PAD_LEFT + 8.0 + 40.0 * i as f64)),
                ("y", &(PAD_TOP + 12.0)),
            ],
            w,
        );
    }
    marks(&mut out, &f, history);
    out.close();
    out
}

/// Points at most in a sparkline.
pub const SPARKLINE_POINTS: usize = 120;

/// A small line of budget remaining, for the fleet overview.
pub fn sparkline(history: &[Snapshot], size: Size) -> Html {
    let all: Vec<(i64, f64)> = history
        .iter()
        .filter_map(|s| Some((parse_time(&s.evaluated_at)?, s.budget_remaining?)))
        .collect();
    // A sparkline is a hundred pixels or so wide: more points only make the page heavier
    // (a fleet of thousands must fit in one widget answer). Evenly spaced, the newest kept.
    let step = all.len().div_ceil(SPARKLINE_POINTS).max(1);
    let mut pts: Vec<(i64, f64)> = all.iter().step_by(step).copied().collect();
    if let (Some(last), Some(kept)) = (all.last(), pts.last()) {
        if kept != last {
            pts.push(*last);
        }
    }
    let mut out = Html::new();
    out.open(
        "svg",
        &[
            ("class", &"sparkline"),
            ("data-points", &pts.len()),
            (
                "viewBox",
                &format_args!("0 0 {} {}", size.width, size.height),
            ),
            ("width", &size.width),
            ("height", &size.height),
            ("xmlns", &"http://www.w3.org/2000/svg"),
        ],
    );
    if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
        let lo = pts.iter().map(|p| p.1).fold(0.0_f64, f64::min);
        let hi = pts.iter().map(|p| p.1).fold(1.0_f64, f64::max);
        let span_t = (last.0 - first.0).max(1) as f64;
        let y = |v: f64| {
            (1.0 - (v - lo) / (hi - lo).max(f64::MIN_POSITIVE)) * (size.height - 2.0) + 1.0
        };
        let line = points(pts.iter().map(|(t, v)| {
            (
                (t - first.0) as f64 / span_t * (size.width - 2.0) + 1.0,
                y(*v),
            )
        }));
        let zero = D1(y(0.0));
        out.empty(
            "line",
            &[
                ("class", &"zero"),
                ("x1", &0),
                ("y1", &zero),
                ("x2", &size.width),
                ("y2", &zero),
            ],
        );
        out.empty(
            "polyline",
            &[("class", &"budget"), ("fill", &"none"), ("points", &line)],
        );
    }
    out.close();
    out
}
