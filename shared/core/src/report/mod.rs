//! Budget charts and the pages that hold them, from an SLO's stored history: one
//! renderer for `sloguard report` (a self-contained HTML file), the dashboard's
//! custom widget and the weekly review. Pure: snapshots in, text out; every byte of
//! HTML and SVG is written by [`html::Html`], so stored strings are always text.

pub mod html;
pub mod markdown;
pub mod review;
pub mod svg;

use crate::slo::change::{self, Change};
use crate::slo::message::{count, pct_cell, relative, rfc3339, thousands};
use crate::slo::model::Severity;
use crate::slo::snapshot::Snapshot;
use crate::slo::status::Status;

use html::Html;
use svg::Size;

/// Epoch seconds of an RFC 3339 time (as snapshots store them).
pub fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp())
}

/// An incident as history shows it: from its opening message to its RESOLVED one.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start: i64,
    /// None while it is still open.
    pub end: Option<i64>,
    /// Page or ticket: the highest level it reached.
    pub severity: Severity,
    pub budget_at_start: Option<f64>,
    pub budget_at_end: Option<f64>,
}

/// A history message (`page: opened`, `info: resolved (silenced)`) read back: its
/// severity and event. None for text sloguard does not write (it stays text on the page).
fn read_message(n: &str) -> Option<(Severity, &str)> {
    let (sev, event) = n.split_once(": ")?;
    let sev = match sev {
        "page" => Severity::Page,
        "ticket" => Severity::Ticket,
        "info" => Severity::Info,
        _ => return None,
    };
    Some((sev, event.trim_end_matches(" (silenced)")))
}

/// Incidents from the messages recorded in history (silenced ones count: they happened).
/// `from` is where the range starts: an incident that opened before it shows up first as
/// an escalation, de-escalation or resolution, and spans from `from` to that message.
pub fn incidents(history: &[Snapshot], from: i64) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for (i, s) in history.iter().enumerate() {
        let Some(t) = parse_time(&s.evaluated_at) else {
            continue;
        };
        for (sev, event) in s.notifications.iter().filter_map(|n| read_message(n)) {
            let leading = out.is_empty();
            let open = out.last_mut().filter(|x| x.end.is_none());
            match (event, open) {
                ("opened", None) if sev != Severity::Info => out.push(Span {
                    start: t,
                    end: None,
                    severity: sev,
                    budget_at_start: s.budget_remaining,
                    budget_at_end: None,
                }),
                ("escalated", Some(x)) => x.severity = Severity::Page,
                ("resolved", Some(x)) => {
                    x.end = Some(t);
                    x.budget_at_end = s.budget_remaining;
                }
                ("escalated" | "de-escalated" | "resolved", None) if leading => out.push(Span {
                    start: from.min(t),
                    end: (event == "resolved").then_some(t),
                    severity: leading_severity(&history[..=i], event),
                    budget_at_start: history.iter().find_map(|s| s.budget_remaining),
                    budget_at_end: (event == "resolved")
                        .then_some(s.budget_remaining)
                        .flatten(),
                }),
                _ => {}
            }
        }
    }
    out
}

/// The level of an incident that opened before the range, from its first message in
/// range: an escalation makes it a page; otherwise the highest condition seen firing.
fn leading_severity(upto: &[Snapshot], event: &str) -> Severity {
    let paged = upto
        .iter()
        .flat_map(|s| &s.conditions)
        .any(|c| c.met && c.severity == Severity::Page);
    if event == "escalated" || (event == "resolved" && paged) {
        Severity::Page
    } else {
        Severity::Ticket
    }
}

/// One SLO as the pages show it.
#[derive(Debug, Clone)]
pub struct SloView {
    pub name: String,
    pub service: String,
    pub objective: f64,
    /// "30d" or "calendar month".
    pub window: String,
    /// The window's time zone, for calendar windows.
    pub time_zone: Option<String>,
    /// Oldest first.
    pub history: Vec<Snapshot>,
    /// Deployments of the targets the SLO names, in and shortly before the range.
    pub changes: Vec<Change>,
    /// How far before an incident its changes are listed (sloguard.dev/changes-lookback).
    pub changes_lookback: i64,
    /// Corrected time in the range (budget corrections in force), shaded on the charts.
    pub corrected: Vec<CorrectedSpan>,
}

/// A stretch of corrected time as the charts shade it: it does not count against the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectedSpan {
    pub start: i64,
    pub end: i64,
    /// The correction's id, category and reason (stored text: the writer escapes it).
    pub id: String,
    pub category: String,
    pub reason: String,
}

impl SloView {
    fn latest(&self) -> Option<&Snapshot> {
        self.history.last()
    }

    fn budget(&self) -> f64 {
        self.latest()
            .and_then(|s| s.budget_remaining)
            .unwrap_or(f64::INFINITY)
    }
}

/// The light/dark palette and layout, inline so the page needs nothing else. The page
/// follows the reader's OS setting; `.dark` and `.light` (the dashboard's theme) override it.
pub const STYLE: &str = r#"
:root { color-scheme: light dark; --fg:#1b1f24; --bg:#ffffff; --muted:#6a737d; --grid:#e1e4e8; --line:#0969da;
  --page:#cf222e; --ticket:#bf8700; --ok:#1a7f37; --proj:#8250df; --shade-page:rgba(207,34,46,.12); --shade-ticket:rgba(191,135,0,.12); }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --bg:#0d1117; --muted:#8b949e; --grid:#30363d; --line:#58a6ff;
  --page:#ff7b72; --ticket:#d29922; --ok:#3fb950; --proj:#d2a8ff; --shade-page:rgba(255,123,114,.18); --shade-ticket:rgba(210,153,34,.18); } }
.dark { color-scheme: dark; --fg:#e6edf3; --bg:#0d1117; --muted:#8b949e; --grid:#30363d; --line:#58a6ff; --page:#ff7b72; --ticket:#d29922; --ok:#3fb950; --proj:#d2a8ff; --shade-page:rgba(255,123,114,.18); --shade-ticket:rgba(210,153,34,.18); }
.light { color-scheme: light; --fg:#1b1f24; --bg:#ffffff; --muted:#6a737d; --grid:#e1e4e8; --line:#0969da; --page:#cf222e; --ticket:#bf8700; --ok:#1a7f37; --proj:#8250df; --shade-page:rgba(207,34,46,.12); --shade-ticket:rgba(191,135,0,.12); }
.dark, .light { color: var(--fg); background: var(--bg); padding: 4px 8px; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 16px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; } .muted { color: var(--muted); }
table.fleet { border-collapse: collapse; } table.fleet td, table.fleet th { padding: 4px 10px; text-align: left; border-bottom: 1px solid var(--grid); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status-ok { color: var(--ok); } .status-warning, .status-no_data { color: var(--ticket); } .status-breaching, .status-exhausted { color: var(--page); font-weight: 600; }
svg.chart { display: block; margin: 6px 0 14px; max-width: 100%; height: auto; }
svg text { fill: var(--muted); font-size: 11px; } svg text.empty { font-size: 14px; }
.grid { stroke: var(--grid); stroke-width: 1; } .zero { stroke: var(--fg); stroke-width: 1.5; }
.budget { stroke: var(--line); stroke-width: 2; } .projection { stroke: var(--proj); stroke-width: 1.5; stroke-dasharray: 5 4; }
.incident.page { fill: var(--shade-page); } .incident.ticket { fill: var(--shade-ticket); }
.correction { fill: var(--muted); fill-opacity: .18; stroke: var(--muted); stroke-opacity: .5; stroke-dasharray: 2 3; }
.threshold { stroke-dasharray: 3 3; stroke-width: 1; } .threshold.page { stroke: var(--page); } .threshold.ticket { stroke: var(--ticket); }
.rate { stroke-width: 1.5; fill: none; } .rate.s0 { stroke: #0969da; } .rate.s1 { stroke: #8250df; } .rate.s2 { stroke: #1a7f37; }
.rate.s3 { stroke: #bf8700; } .rate.s4 { stroke: #cf222e; } .rate.s5 { stroke: #57606a; }
svg text.legend.s0 { fill: #0969da; } svg text.legend.s1 { fill: #8250df; } svg text.legend.s2 { fill: #1a7f37; }
svg text.legend.s3 { fill: #bf8700; } svg text.legend.s4 { fill: #cf222e; } svg text.legend.s5 { fill: #57606a; }
polyline.budget { fill: none; }
text.legend { font-weight: 600; } .alarm-mark { fill: var(--page); } .message-mark { fill: var(--proj); }
.note { color: var(--ticket); }
@media print { body { margin: 0; } section { break-inside: avoid; } }
"#;

/// The report's Content-Security-Policy: nothing may load or run, no script at all, and
/// the only style is the page's own sheet, named by its hash.
pub fn content_security_policy() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; base-uri 'none'; form-action 'none'"
    )
}

/// Least budget left first, then by name: the order people should look in.
fn by_budget(views: &[SloView]) -> Vec<&SloView> {
    let mut sorted: Vec<&SloView> = views.iter().collect();
    sorted.sort_by(|a, b| a.budget().total_cmp(&b.budget()).then(a.name.cmp(&b.name)));
    sorted
}

/// Every SLO sorted by budget left (least first): status, attainment against objective, a sparkline.
pub fn fleet_overview(views: &[SloView]) -> Html {
    let mut out = Html::new();
    out.open("table", &[("class", &"fleet")])
        .open("thead", &[])
        .open("tr", &[]);
    for h in [
        "SLO",
        "service",
        "status",
        "attainment / objective",
        "budget left",
        "events",
        "budget, over the range",
    ] {
        out.element("th", &[], h);
    }
    out.close().close().open("tbody", &[]);
    for v in by_budget(views) {
        let l = v.latest();
        let status = l.map_or(Status::NoData, |s| s.status).as_str();
        let num = [("class", &"num" as &dyn std::fmt::Display)];
        out.open("tr", &[("data-slo", &v.name)]);
        out.open("td", &[])
            .element("a", &[("href", &format_args!("#slo-{}", v.name))], &v.name)
            .close();
        out.element("td", &[], &v.service);
        out.element("td", &[("class", &format_args!("status-{status}"))], status);
        out.element(
            "td",
            &num,
            format_args!(
                "{} / {}",
                pct_cell(l.and_then(|s| s.attainment), 3),
                pct_cell(Some(v.objective), 3)
            ),
        );
        out.element("td", &num, pct_cell(l.and_then(|s| s.budget_remaining), 1));
        out.element("td", &num, l.map_or("-".into(), |s| thousands(s.total)));
        out.open("td", &[])
            .push(&svg::sparkline(
                &v.history,
                Size {
                    width: 160.0,
                    height: 28.0,
                },
            ))
            .close();
        out.close();
    }
    out.close().close();
    out
}

/// One SLO's section: its numbers, the burn-down and the burn rates.
pub fn slo_section(v: &SloView, range: (i64, i64), size: Size) -> Html {
    let l = v.latest();
    let spans = incidents(&v.history, range.0);
    let status = l.map_or(Status::NoData, |s| s.status).as_str();
    let mut out = Html::new();
    out.open(
        "section",
        &[
            ("id", &format_args!("slo-{}", v.name)),
            ("data-slo", &v.name),
        ],
    );
    out.open("h2", &[])
        .text(&v.name)
        .markup(" ")
        .element("span", &[("class", &"muted")], &v.service)
        .close();
    out.open("p", &[]).text(format_args!(
        "{} over {}",
        pct_cell(Some(v.objective), 3),
        v.window
    ));
    if let Some(z) = &v.time_zone {
        out.text(format_args!(" (the window's periods follow {z})"));
    }
    out.markup("; status ")
        .element("b", &[("class", &format_args!("status-{status}"))], status)
        .markup(", budget left ")
        .element("b", &[], pct_cell(l.and_then(|s| s.budget_remaining), 1))
        .text(format_args!(
            ", attainment {}",
            pct_cell(l.and_then(|s| s.attainment), 3)
        ));
    if let Some(at) = l.and_then(|s| s.exhausts_at) {
        out.text(format_args!(", exhausted at {at} at the last hour's rate"));
    }
    out.text(format_args!(
        ". {} in range. Times in UTC.",
        count(spans.len(), "incident")
    ))
    .close();
    if !v.corrected.is_empty() {
        out.open("p", &[("class", &"muted")])
            .text(format_args!(
                "Shaded with dashes: corrected time ({}), not counted against the budget.",
                count(v.corrected.len(), "window")
            ))
            .close();
    }
    out.push(&svg::burn_down_with(
        &v.name,
        &v.history,
        &v.corrected,
        range,
        size,
    ));
    out.push(&svg::burn_rates_with(
        &v.name,
        &v.history,
        &v.corrected,
        range,
        size,
    ));
    out.push(&changes_before(v, &spans));
    out.close();
    out
}

/// Whether `link` may be a link on the page: an AWS console address (the links sloguard
/// makes for changes). Anything else from a stored change stays text.
pub(crate) fn console_link(link: &str) -> bool {
    let Some(rest) = link.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    host.strip_suffix(".console.aws.amazon.com")
        .is_some_and(|region| {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// The deployments before each incident's opening (the lookback), newest first, with
/// how long before and a console link: what to look at first.
fn changes_before(v: &SloView, spans: &[Span]) -> Html {
    let mut out = Html::new();
    for s in spans {
        let recent = change::before(&v.changes, s.start, v.changes_lookback);
        if recent.is_empty() {
            continue;
        }
        out.element(
            "p",
            &[("class", &"changes")],
            format_args!(
                "Changes in the {} before the {} incident opened at {}:",
                relative(v.changes_lookback),
                s.severity.as_str(),
                rfc3339(s.start)
            ),
        );
        out.open("ul", &[("class", &"changes")]);
        for c in recent {
            out.open("li", &[])
                .text(format_args!("{} before: ", relative(s.start - c.at)))
                .element("b", &[], &c.target)
                .text(format_args!(" {} ({})", c.what, rfc3339(c.at)));
            if console_link(&c.link) {
                out.markup(" ")
                    .element("a", &[("href", &c.link)], "console");
            }
            out.close();
        }
        out.close();
    }
    out
}

/// Notes about what a page could not show (a range clamped, reads stopped), one paragraph each.
fn notes_of(notes: &[String]) -> Html {
    let mut out = Html::new();
    for n in notes {
        out.element("p", &[("class", &"note")], n);
    }
    out
}

/// The whole report: one self-contained HTML file, printable, fleet overview first, that
/// loads nothing and runs nothing (see [`content_security_policy`]).
pub fn page(
    title: &str,
    views: &[SloView],
    range: (i64, i64),
    generated_at: i64,
    notes: &[String],
) -> Html {
    let mut out = Html::new();
    out.markup("<!DOCTYPE html>")
        .open("html", &[("lang", &"en")])
        .open("head", &[])
        .empty("meta", &[("charset", &"utf-8")])
        .empty(
            "meta",
            &[
                ("http-equiv", &"Content-Security-Policy"),
                ("content", &content_security_policy()),
            ],
        )
        .empty(
            "meta",
            &[
                ("name", &"viewport"),
                ("content", &"width=device-width, initial-scale=1"),
            ],
        )
        .element("title", &[], title)
        .open("style", &[])
        .markup(STYLE)
        .close()
        .close()
        .open("body", &[])
        .element("h1", &[], title)
        .element(
            "p",
            &[("class", &"muted")],
            format_args!(
                "{}, {} to {} (UTC); generated {}.",
                count(views.len(), "SLO"),
                rfc3339(range.0),
                rfc3339(range.1),
                rfc3339(generated_at)
            ),
        )
        .push(&notes_of(notes))
        .element("h2", &[], "Fleet, by budget left")
        .push(&fleet_overview(views));
    let size = Size {
        width: 860.0,
        height: 220.0,
    };
    for v in by_budget(views) {
        out.push(&slo_section(v, range, size));
    }
    out.close().close().markup("\n");
    out
}

/// The dashboard's theme: it wins over the reader's OS setting, in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
    /// No theme in the request: follow the OS setting.
    System,
}

impl Theme {
    fn class(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::System => "system",
        }
    }
}

/// The charts' size in a widget of `width` x `height` pixels: as wide as the widget, and
/// short enough that the heading and both charts fit without scrolling (within reason).
pub fn widget_chart_size(width: f64, height: f64) -> Size {
    Size {
        width: (width - 40.0).max(320.0),
        // heading and summary ~110 px; each chart has 20 px of margin
        height: ((height - 110.0) / 2.0 - 20.0).clamp(120.0, 360.0).round(),
    }
}

/// The widget's frame: the style sheet and a div in the dashboard's theme around `body`.
fn themed(body: &Html, theme: Theme) -> Html {
    let mut out = Html::new();
    out.open("style", &[])
        .markup(STYLE)
        .close()
        .open("div", &[("class", &theme.class())])
        .push(body)
        .close();
    out
}

/// What the dashboard's custom widget shows: the fleet, or one SLO, sized to the widget
/// (`size` is widgetContext's width and height) and in the dashboard's theme, with
/// `notes` on what it could not show.
pub fn widget(
    views: &[SloView],
    range: (i64, i64),
    size: (f64, f64),
    theme: Theme,
    notes: &[String],
) -> Html {
    let mut body = notes_of(notes);
    match views {
        [one] => body.push(&slo_section(one, range, widget_chart_size(size.0, size.1))),
        _ => body.push(&fleet_overview(views)),
    };
    themed(&body, theme)
}

/// A short note in the widget's place (in the dashboard's theme), for a request that
/// needs something from the reader first.
pub fn info_panel(message: &str, theme: Theme) -> Html {
    let mut body = Html::new();
    body.element("p", &[("class", &"muted")], message);
    themed(&body, theme)
}

/// A readable panel for a widget request that could not be served.
pub fn error_panel(message: &str) -> Html {
    let mut out = Html::new();
    out.open(
        "div",
        &[(
            "style",
            &"font:14px system-ui,sans-serif;color:#cf222e;padding:8px",
        )],
    )
    .element("b", &[], "sloguard widget:")
    .markup(" ")
    .text(message)
    .close();
    out
}

/// Aggregation of history into periods: per period the last budget, the highest burn
/// rate of each window and the worst status (for `history --every`).
pub fn aggregate(history: &[Snapshot], every: i64) -> Vec<Snapshot> {
    let mut out: Vec<Snapshot> = Vec::new();
    let mut current: Option<i64> = None;
    for s in history {
        let Some(t) = parse_time(&s.evaluated_at) else {
            continue;
        };
        let period = t - t.rem_euclid(every.max(60));
        if current != Some(period) {
            current = Some(period);
            let mut first = s.clone();
            first.evaluated_at = rfc3339(period);
            out.push(first);
            continue;
        }
        let agg = out.last_mut().expect("a period is open");
        agg.status = Status::worst([agg.status, s.status]).unwrap_or(agg.status);
        for (w, r) in &s.burn_rates {
            let e = agg.burn_rates.entry(w.clone()).or_insert(None);
            *e = match (*e, *r) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        agg.budget_remaining = s.budget_remaining;
        agg.attainment = s.attainment;
        agg.exhausts_at = s.exhausts_at;
        agg.good = s.good;
        agg.total = s.total;
        agg.notifications.extend(s.notifications.iter().cloned());
        if s.change.is_some() {
            agg.change = s.change.clone();
        }
        if s.alarm.is_some() {
            agg.alarm = s.alarm.clone();
        }
    }
    out
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
