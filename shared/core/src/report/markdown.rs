//! The post-incident review skeleton in Markdown (`sloguard incident ID --markdown`): the
//! incident's facts, the changes before it, the silences during it, its burn charts as
//! inline SVG links, and empty sections for the cause and the actions. Outside text
//! (SLO names, change descriptions, silence reasons) enters only through [`escape`].

use std::fmt::Write;

use base64::Engine as _;

use crate::slo::incident::{IncidentFacts, CHART_MARGIN};
use crate::slo::message::{one_line, pct, pct_cell, relative, rfc3339};
use crate::slo::snapshot::Snapshot;

use super::html::Html;
use super::svg::{self, Size};
use super::{console_link, STYLE};

/// Outside text as Markdown text: one line (unsafe characters escaped as `one_line` does)
/// with every ASCII punctuation character backslash-escaped, so it shows as written and can
/// never become a heading, a list, a link, an image, HTML, code or a table cell's end.
pub fn escape(text: &str) -> String {
    let line = one_line(text);
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A name that may stand in a shell command as it is (what the loader accepts for SLOs).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A link target Markdown keeps whole: a console address with nothing that ends a link.
fn markdown_link(link: &str) -> bool {
    console_link(link)
        && !link
            .chars()
            .any(|c| "()<>[] \\`\"'".contains(c) || c.is_control())
}

/// `chart` as a standalone SVG document (the report's style sheet inside) in a data URI.
fn data_uri(chart: &Html, size: Size) -> String {
    let mut doc = Html::new();
    doc.open(
        "svg",
        &[
            ("xmlns", &"http://www.w3.org/2000/svg"),
            ("width", &size.width),
            ("height", &size.height),
            (
                "viewBox",
                &format_args!("0 0 {} {}", size.width, size.height),
            ),
        ],
    )
    .open("style", &[])
    .markup(STYLE)
    .close()
    .push(chart)
    .close();
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(doc.into_string())
    )
}

/// The review skeleton of one incident; `history` is the SLO's history around it.
pub fn incident_review(f: &IncidentFacts, history: &[Snapshot], now: i64) -> String {
    let r = &f.record;
    let slo = escape(&r.slo);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Post-incident review: {slo}, {} UTC\n",
        rfc3339(r.burn_started_at)
    );
    md.push_str("| | |\n|---|---|\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(md, "| {k} | {v} |");
    };
    row(
        "Incident",
        if plain_name(&r.slo) {
            format!("`{}`", r.id())
        } else {
            escape(&r.id())
        },
    );
    row("SLO", format!("{slo} (service {})", escape(&r.service)));
    row("Severity reached", r.severity.as_str().to_string());
    row(
        "Burn started",
        match &r.burn_window {
            Some(w) => format!(
                "{} (the first {} window over its threshold)",
                rfc3339(r.burn_started_at),
                escape(w)
            ),
            None => format!("{} (when the incident opened)", rfc3339(r.burn_started_at)),
        },
    );
    row("Incident opened", rfc3339(r.detected_at));
    row(
        "Page sent",
        r.paged_at.map_or("no page went out".to_string(), rfc3339),
    );
    row("Time to detect", relative(r.time_to_detect()));
    row(
        "Resolved",
        r.resolved_at.map_or("still open".to_string(), rfc3339),
    );
    row(
        "Duration",
        format!(
            "{}{}",
            relative(r.duration(now)),
            if r.resolved_at.is_none() {
                " so far"
            } else {
                ""
            }
        ),
    );
    row(
        "Budget spent",
        match r.budget_spent() {
            Some(s) => format!(
                "{} of the budget ({} left at the start, {} at the end)",
                pct(s, 1),
                pct_cell(r.budget_at_start, 1),
                pct_cell(r.budget_at_end, 1)
            ),
            None => "n/a".to_string(),
        },
    );

    let _ = writeln!(
        md,
        "\n## Changes before it\n\nDeployments recorded in the {} before the burn started, up to the incident's opening:\n",
        relative(f.changes_lookback)
    );
    if f.changes.is_empty() {
        md.push_str("- none recorded\n");
    }
    for c in &f.changes {
        let _ = write!(
            md,
            "- {} ({} before the burn): {} {}",
            rfc3339(c.at),
            relative(r.burn_started_at - c.at),
            escape(&c.target),
            escape(&c.what)
        );
        if markdown_link(&c.link) {
            let _ = write!(md, " ([console]({}))", c.link);
        }
        md.push('\n');
    }

    md.push_str("\n## Silences during it\n\n");
    if r.silences.is_empty() {
        md.push_str("- none\n");
    }
    for s in &r.silences {
        let _ = writeln!(
            md,
            "- set {}, until {}: {}",
            rfc3339(s.since),
            rfc3339(s.until),
            escape(&s.reason)
        );
    }

    md.push_str("\n## Burn chart\n\n");
    let range = (
        r.burn_started_at - CHART_MARGIN,
        r.resolved_at.unwrap_or(now) + CHART_MARGIN,
    );
    let size = Size {
        width: 860.0,
        height: 220.0,
    };
    let down = svg::burn_down(&r.slo, history, range, size);
    let rates = svg::burn_rates(&r.slo, history, range, size);
    let _ = writeln!(
        md,
        "[Error budget remaining (SVG)]({}) · [Burn rates (SVG)]({})\n",
        data_uri(&down, size),
        data_uri(&rates, size)
    );
    if plain_name(&r.slo) {
        let days = (now - range.0).div_euclid(86_400) + 1;
        let _ = writeln!(
            md,
            "The whole report: `sloguard report {} --since {days}d --out {}-report.html`",
            r.slo, r.slo
        );
    }

    md.push_str("\n## Cause\n\n\n## Actions\n\n");
    md
}
