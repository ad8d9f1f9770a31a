//! Plain SVG charts written by hand: a budget burn-down with its projection, burn
//! rates on a log scale against the conditions' thresholds, and sparklines. No
//! JavaScript; colours come from CSS classes so one chart reads in light and dark.

use std::fmt::Write;

use crate::slo::message::rfc3339;
use crate::slo::snapshot::Snapshot;

use super::{incidents, parse_time, Span};

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

/// Escape text for HTML and SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

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
    fn time_axis(&self, out: &mut String) {
        // One label per ~140 px, so narrow widgets do not overlap their labels.
        let ticks = ((self.size.width / 140.0) as i64).clamp(2, 6);
        for i in 0..=ticks {
            let t = self.t0 + (self.t1 - self.t0) * i / ticks;
            let x = self.x(t);
            let label = rfc3339(t);
            let short = format!("{} {}", &label[5..10], &label[11..16]);
            let anchor = match i {
                0 => "start",
                i if i == ticks => "end",
                _ => "middle",
            };
            let _ = write!(
                out,
                r#"<line class="grid" x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{b:.1}"/><text class="tick" x="{x:.1}" y="{ty:.1}" text-anchor="{anchor}">{short}</text>"#,
                top = PAD_TOP,
                b = self.bottom(),
                ty = self.bottom() + 16.0,
            );
        }
    }
}

fn open_svg(out: &mut String, class: &str, slo: &str, size: Size, points: usize, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart {class}" data-slo="{slo}" data-points="{points}" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#,
        slo = esc(slo),
        w = size.width,
        h = size.height,
        title = esc(title),
    );
}

fn empty(out: &mut String, size: Size) {
    let _ = write!(
        out,
        r#"<text class="empty" x="{x}" y="{y}" text-anchor="middle">no history in this range</text></svg>"#,
        x = size.width / 2.0,
        y = size.height / 2.0
    );
}

fn shade_incidents(out: &mut String, f: &Frame, spans: &[Span]) {
    for s in spans {
        let (a, b) = (f.x(s.start.max(f.t0)), f.x(s.end.unwrap_or(f.t1).min(f.t1)));
        let _ = write!(
            out,
            r#"<rect class="incident {sev}" x="{a:.1}" y="{top}" width="{w:.1}" height="{h:.1}"><title>{sev} incident from {from}</title></rect>"#,
            sev = s.severity,
            top = PAD_TOP,
            w = (b - a).max(1.0),
            h = f.bottom() - PAD_TOP,
            from = rfc3339(s.start),
        );
    }
}

/// Marks for alarms (triangles on the top edge) and messages (dots on the bottom edge).
fn marks(out: &mut String, f: &Frame, history: &[Snapshot]) {
    for s in history {
        let Some(t) = parse_time(&s.evaluated_at) else {
            continue;
        };
        let x = f.x(t);
        if let Some(a) = &s.alarm {
            let _ = write!(
                out,
                r#"<path class="alarm-mark" d="M{x:.1},{y0:.1} l-5,-8 h10 z"><title>alarm {} {} at {}</title></path>"#,
                esc(&a.name),
                esc(&a.state),
                s.evaluated_at,
                y0 = PAD_TOP + 8.0,
            );
        }
        if !s.notifications.is_empty() {
            let _ = write!(
                out,
                r#"<circle class="message-mark" cx="{x:.1}" cy="{y:.1}" r="4"><title>{}: {}</title></circle>"#,
                s.evaluated_at,
                esc(&s.notifications.join(", ")),
                y = f.bottom() - 4.0,
            );
        }
    }
}

/// Budget remaining over time, the zero line, incidents shaded, and the straight-line
/// projection from the last point to exhaustion.
pub fn burn_down(slo: &str, history: &[Snapshot], range: (i64, i64), size: Size) -> String {
    let pts: Vec<(i64, f64)> = history
        .iter()
        .filter_map(|s| Some((parse_time(&s.evaluated_at)?, s.budget_remaining?)))
        .collect();
    let mut out = String::new();
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
    f.time_axis(&mut out);
    let mut ticks = vec![lo, 0.0, 0.5, 1.0];
    ticks.retain(|v| (lo..=hi).contains(v));
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    for v in ticks {
        let class = if v == 0.0 { "zero" } else { "grid" };
        let y = f.y(v);
        let _ = write!(
            out,
            r#"<line class="{class}" x1="{l}" y1="{y:.1}" x2="{r:.1}" y2="{y:.1}"/><text class="tick" x="{tx}" y="{ty:.1}" text-anchor="end">{label:.0}%</text>"#,
            l = PAD_LEFT,
            r = size.width - PAD_RIGHT,
            tx = PAD_LEFT - 6.0,
            ty = y + 4.0,
            label = v * 100.0,
        );
    }
    let line: Vec<String> = pts
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", f.x(*t), f.y(*v)))
        .collect();
    let _ = write!(
        out,
        r#"<polyline class="budget" fill="none" points="{}"/>"#,
        line.join(" ")
    );
    // The projection: from the last point to zero at the forecast exhaustion time.
    if let Some(last) = history.iter().rev().find(|s| s.budget_remaining.is_some()) {
        if let (Some(t), Some(b), Some(at)) = (
            parse_time(&last.evaluated_at),
            last.budget_remaining,
            last.exhausts_at.as_deref().and_then(parse_time),
        ) {
            let end = at.min(f.t1);
            let v = if at <= f.t1 {
                0.0
            } else {
                b * (1.0 - (end - t) as f64 / (at - t).max(1) as f64)
            };
            let _ = write!(
                out,
                r#"<line class="projection" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"><title>exhausted at {} at the last hour's rate</title></line>"#,
                f.x(t),
                f.y(b),
                f.x(end),
                f.y(v),
                rfc3339(at)
            );
        }
    }
    marks(&mut out, &f, history);
    out.push_str("</svg>");
    out
}

/// Burn rate per alert window on a log scale, with each condition's threshold.
pub fn burn_rates(slo: &str, history: &[Snapshot], range: (i64, i64), size: Size) -> String {
    let mut windows: Vec<&String> = history.iter().flat_map(|s| s.burn_rates.keys()).collect();
    windows.sort_by_key(|w| {
        crate::slo::duration::parse(w).map_or(i64::MAX, |d| match d {
            crate::slo::duration::Duration::Seconds(s) => s,
            crate::slo::duration::Duration::Calendar(..) => i64::MAX,
        })
    });
    windows.dedup();
    let points = history
        .iter()
        .filter(|s| s.burn_rates.values().any(Option::is_some))
        .count();
    let mut out = String::new();
    open_svg(
        &mut out,
        "burn-rates",
        slo,
        size,
        points,
        &format!("{slo}: burn rates (log scale)"),
    );
    if points == 0 {
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
    f.time_axis(&mut out);
    let mut decade = FLOOR.log10() as i32;
    while f64::from(decade) <= top {
        let v = 10f64.powi(decade);
        let y = ly(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{l}" y1="{y:.1}" x2="{r:.1}" y2="{y:.1}"/><text class="tick" x="{tx}" y="{ty:.1}" text-anchor="end">{v}x</text>"#,
            l = PAD_LEFT,
            r = size.width - PAD_RIGHT,
            tx = PAD_LEFT - 6.0,
            ty = y + 4.0,
        );
        decade += 1;
    }
    if let Some(last) = history.last() {
        for c in &last.conditions {
            let y = ly(c.threshold);
            let _ = write!(
                out,
                r#"<line class="threshold {sev}" x1="{l}" y1="{y:.1}" x2="{r:.1}" y2="{y:.1}"><title>{name}: burn &gt; {t}x over {lw} and {sw}</title></line>"#,
                sev = esc(&c.severity),
                l = PAD_LEFT,
                r = size.width - PAD_RIGHT,
                name = esc(&c.name),
                t = c.threshold,
                lw = esc(&c.long_window),
                sw = esc(&c.short_window),
            );
        }
    }
    for (i, w) in windows.iter().enumerate() {
        let line: Vec<String> = history
            .iter()
            .filter_map(|s| {
                let t = parse_time(&s.evaluated_at)?;
                let v = s.burn_rates.get(*w).copied().flatten()?;
                Some(format!("{:.1},{:.1}", f.x(t), ly(v)))
            })
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="rate s{i}" fill="none" data-window="{w}" points="{}"><title>burn rate over {w}</title></polyline>"#,
            line.join(" "),
            w = esc(w),
        );
        let _ = write!(
            out,
            r#"<text class="legend s{i}" x="{x:.1}" y="{y}">{w}</text>"#,
            x = PAD_LEFT + 8.0 + 40.0 * i as f64,
            y = PAD_TOP + 12.0,
            w = esc(w),
        );
    }
    marks(&mut out, &f, history);
    out.push_str("</svg>");
    out
}

/// Points at most in a sparkline.
pub const SPARKLINE_POINTS: usize = 120;

/// A small line of budget remaining, for the fleet overview.
pub fn sparkline(history: &[Snapshot], size: Size) -> String {
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
    let mut out = format!(
        r#"<svg class="sparkline" data-points="{}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">"#,
        pts.len(),
        w = size.width,
        h = size.height
    );
    if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
        let lo = pts.iter().map(|p| p.1).fold(0.0_f64, f64::min);
        let hi = pts.iter().map(|p| p.1).fold(1.0_f64, f64::max);
        let span_t = (last.0 - first.0).max(1) as f64;
        let line: Vec<String> = pts
            .iter()
            .map(|(t, v)| {
                format!(
                    "{:.1},{:.1}",
                    (t - first.0) as f64 / span_t * (size.width - 2.0) + 1.0,
                    (1.0 - (v - lo) / (hi - lo).max(f64::MIN_POSITIVE)) * (size.height - 2.0) + 1.0
                )
            })
            .collect();
        let zero =
            (1.0 - (0.0 - lo) / (hi - lo).max(f64::MIN_POSITIVE)) * (size.height - 2.0) + 1.0;
        let _ = write!(
            out,
            r#"<line class="zero" x1="0" y1="{zero:.1}" x2="{w}" y2="{zero:.1}"/><polyline class="budget" fill="none" points="{}"/>"#,
            line.join(" "),
            w = size.width,
        );
    }
    out.push_str("</svg>");
    out
}
