//! Pages rendered from history whose every stored string is hostile, parsed with a real
//! HTML parser (html5ever): they hold exactly the elements and attributes the writer
//! writes, and the hostile strings come out as text.

use std::collections::BTreeSet;

use scraper::{Html as Parsed, Selector};

use super::*;
use crate::slo::change::{Change, ChangeKind};
use crate::slo::message::AlarmNote;
use crate::slo::snapshot::{ConditionView, Snapshot, StoredTime};

const T0: i64 = 1_800_000_000;
const H: i64 = 3600;

/// Closes every context it might land in, then tries a script, an event handler and a
/// `javascript:` URL.
const HOSTILE: &str = r#"</title></style></textarea>'"><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)><a href="javascript:alert(4)">x</a>"#;

/// A history like the report tests' (an incident, an alarm, a projection) with every
/// string set to `s` or built from it.
fn history(s: &str) -> Vec<Snapshot> {
    (0..24)
        .map(|i| {
            let mut snap = Snapshot {
                slo: s.into(),
                service: s.into(),
                objective: 0.999,
                window: s.into(),
                evaluated_at: rfc3339(T0 + i * H),
                status: Status::Warning,
                attainment: Some(0.9995),
                budget_remaining: Some(1.0 - i as f64 / 30.0),
                burn_rates: [("1h", Some(2.0)), (s, Some(3.0))]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                exhausts_at: Some(StoredTime(T0 + 40 * H)),
                good: 999.0,
                total: 1000.0,
                conditions: vec![ConditionView {
                    name: s.into(),
                    severity: Severity::Page,
                    long_window: s.into(),
                    short_window: s.into(),
                    long_burn_rate: Some(2.0),
                    short_burn_rate: None,
                    op: crate::slo::model::Op::Gt,
                    threshold: 14.4,
                    met: i > 5,
                }],
                change: Some(s.into()),
                alarm: None,
                notifications: vec![],
            };
            match i {
                // the message severity itself hostile, then a real incident
                3 => snap.notifications = vec![format!("{s}: opened"), s.into()],
                6 => snap.notifications = vec!["page: opened".into()],
                9 => {
                    snap.alarm = Some(AlarmNote {
                        name: s.into(),
                        arn: Some(s.into()),
                        state: s.into(),
                        previous_state: Some(s.into()),
                        reason: s.into(),
                        timestamp: T0 + i * H,
                        touched: vec![s.into()],
                    })
                }
                12 => {
                    snap.notifications = vec![format!("info: resolved{s}"), "info: resolved".into()]
                }
                _ => {}
            }
            snap
        })
        .collect()
}

fn view(s: &str) -> SloView {
    // As a forged stored item would read back: every field hostile, through the same
    // deserialisation the stores use (which re-checks the region and the link).
    let change = |at: i64, link: String| -> Change {
        serde_json::from_value(serde_json::json!({
            "target": s, "kind": ChangeKind::Stack, "at": at, "what": s,
            "region": s, "account": s, "link": link, "id": s,
        }))
        .expect("a stored change reads back")
    };
    SloView {
        name: s.into(),
        service: s.into(),
        objective: 0.999,
        window: s.into(),
        time_zone: Some(s.into()),
        history: history(s),
        changes: vec![
            // A change of ours: its link built by sloguard from a checked region, around a
            // hostile stack id.
            Change {
                region: "eu-west-1".into(),
                account: None,
                link: crate::slo::change::stack_link("eu-west-1", s),
                ..change(T0 + 5 * H, String::new())
            },
            change(T0 + 5 * H + 60, format!("javascript:alert(5)//{s}")),
        ],
        changes_lookback: 7200,
        corrected: Vec::new(),
    }
}

/// Every (element, attribute) the parser found; an element alone as (element, "").
fn shape(doc: &Parsed) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for e in doc.tree.values().filter_map(scraper::Node::as_element) {
        let name = e.name().to_string();
        out.insert((name.clone(), String::new()));
        for (a, _) in e.attrs() {
            out.insert((name.clone(), a.to_string()));
        }
    }
    out
}

/// What the writer writes: each element with each of its attributes.
const WRITTEN: &[(&str, &[&str])] = &[
    ("html", &["lang"]),
    ("head", &[]),
    ("meta", &["charset", "http-equiv", "content", "name"]),
    ("title", &[]),
    ("style", &[]),
    ("body", &[]),
    ("h1", &[]),
    ("h2", &[]),
    ("p", &["class"]),
    ("table", &["class"]),
    ("thead", &[]),
    ("tbody", &[]),
    ("tr", &["data-slo"]),
    ("th", &[]),
    ("td", &["class"]),
    ("a", &["href"]),
    ("section", &["id", "data-slo"]),
    ("span", &["class"]),
    ("b", &["class"]),
    ("ul", &["class"]),
    ("li", &[]),
    ("div", &["class"]),
    (
        "svg",
        &[
            "class",
            "data-slo",
            "data-points",
            "role",
            "viewBox",
            "width",
            "height",
            "xmlns",
        ],
    ),
    ("line", &["class", "x1", "y1", "x2", "y2"]),
    ("text", &["class", "x", "y", "text-anchor"]),
    ("polyline", &["class", "fill", "points", "data-window"]),
    ("rect", &["class", "x", "y", "width", "height"]),
    ("path", &["class", "d"]),
    ("circle", &["class", "cx", "cy", "r"]),
];

fn written() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (e, attrs) in WRITTEN {
        out.insert((e.to_string(), String::new()));
        for a in *attrs {
            out.insert((e.to_string(), a.to_string()));
        }
    }
    out
}

/// The class names the style sheet knows, and the theme's.
fn known_class(c: &str) -> bool {
    let fixed = [
        "fleet",
        "num",
        "muted",
        "chart",
        "burn-down",
        "burn-rates",
        "sparkline",
        "grid",
        "tick",
        "zero",
        "budget",
        "projection",
        "incident",
        "page",
        "ticket",
        "threshold",
        "rate",
        "legend",
        "alarm-mark",
        "message-mark",
        "changes",
        "note",
        "empty",
        "light",
        "dark",
        "system",
    ];
    fixed.contains(&c)
        || c.strip_prefix("status-")
            .is_some_and(|s| ["ok", "warning", "breaching", "exhausted", "no_data"].contains(&s))
        || c.strip_prefix('s')
            .is_some_and(|n| !n.is_empty() && n.chars().all(|d| d.is_ascii_digit()))
}

/// The checks every page and widget answer must pass, whatever its history held.
fn assert_only_what_the_writer_writes(html: &str) {
    let doc = Parsed::parse_document(html);
    let found = shape(&doc);
    let allowed = written();
    let extra: Vec<_> = found.difference(&allowed).collect();
    assert!(extra.is_empty(), "not written by the writer: {extra:?}");
    for e in doc.tree.values().filter_map(scraper::Node::as_element) {
        for (a, v) in e.attrs() {
            if a == "class" {
                for c in v.split_whitespace() {
                    assert!(known_class(c), "class {c:?} on <{}>", e.name());
                }
            }
            if a == "href" {
                assert!(
                    v.starts_with("#slo-")
                        || v.starts_with("https://eu-west-1.console.aws.amazon.com/"),
                    "href {v:?}"
                );
            }
        }
    }
}

#[test]
fn a_report_of_hostile_history_holds_only_what_the_writer_writes() {
    let range = (T0, T0 + 23 * H);
    let notes = [HOSTILE.to_string()];
    let hostile = page(HOSTILE, &[view(HOSTILE)], range, T0 + 24 * H, &notes).into_string();
    let benign = page("report", &[view("checkout")], range, T0 + 24 * H, &notes).into_string();
    assert_only_what_the_writer_writes(&hostile);
    // The same elements and attributes as the same history with plain strings: a
    // hostile string changes no structure. (The benign page uses every entry but one.)
    let (h, b) = (
        shape(&Parsed::parse_document(&hostile)),
        shape(&Parsed::parse_document(&benign)),
    );
    assert_eq!(h, b);
    assert_eq!(
        written().difference(&h).collect::<Vec<_>>(),
        [
            &("div".to_string(), String::new()),
            &("div".into(), "class".into())
        ],
        "every element the report writes is there"
    );

    // The hostile strings are there, as text: in the title, the heading, the note, the
    // chart titles and the changes list.
    let doc = Parsed::parse_document(&hostile);
    let text_of = |sel: &str| -> Vec<String> {
        doc.select(&Selector::parse(sel).unwrap())
            .map(|e| e.text().collect::<String>())
            .collect()
    };
    assert_eq!(text_of("head > title"), [HOSTILE]);
    assert_eq!(text_of("h1"), [HOSTILE]);
    assert_eq!(text_of("p.note"), [HOSTILE]);
    assert!(text_of("svg.burn-down > title")[0].starts_with(HOSTILE));
    assert!(text_of("ul.changes > li")
        .iter()
        .all(|li| li.contains(&format!("{HOSTILE} {HOSTILE}"))));
    // The hostile-severity message opened no incident; the real one did (a page).
    assert_eq!(
        doc.select(&Selector::parse("svg.burn-down rect").unwrap())
            .count(),
        1
    );
    assert!(text_of("svg.burn-down circle > title")
        .iter()
        .any(|t| t.contains(&format!("{HOSTILE}: opened"))));
    // Only the console link is a link; the `javascript:` one stays text.
    let links: Vec<&str> = doc
        .select(&Selector::parse("ul.changes a").unwrap())
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(
        links[0].starts_with("https://eu-west-1.console.aws.amazon.com/cloudformation/"),
        "{links:?}"
    );
}

#[test]
fn the_report_forbids_every_script_and_allows_only_its_own_style() {
    let html = page("report", &[view("checkout")], (T0, T0 + 23 * H), T0, &[]).into_string();
    let doc = Parsed::parse_document(&html);
    assert_eq!(doc.select(&Selector::parse("script").unwrap()).count(), 0);
    let csp: Vec<&str> = doc
        .select(&Selector::parse(r#"head > meta[http-equiv="Content-Security-Policy"]"#).unwrap())
        .filter_map(|m| m.value().attr("content"))
        .collect();
    assert_eq!(csp.len(), 1, "one policy, in the head");
    let directives: Vec<&str> = csp[0].split(';').map(str::trim).collect();
    assert!(directives.contains(&"default-src 'none'"), "{csp:?}");
    assert!(
        !csp[0].contains("script-src") && !csp[0].contains("unsafe"),
        "{csp:?}"
    );
    // The style the policy allows is the page's own sheet, as the browser reads it.
    let style: String = doc
        .select(&Selector::parse("head > style").unwrap())
        .flat_map(|s| s.text())
        .collect();
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&style));
    assert!(
        directives.contains(&format!("style-src 'sha256-{hash}'").as_str()),
        "{csp:?}"
    );
}

#[test]
fn widget_answers_and_panels_of_hostile_history_hold_only_what_the_writer_writes() {
    let range = (T0, T0 + 23 * H);
    let notes = [HOSTILE.to_string()];
    for html in [
        widget(&[view(HOSTILE)], range, (600.0, 400.0), Theme::Dark, &notes),
        widget(
            &[view(HOSTILE), view("b")],
            range,
            (600.0, 400.0),
            Theme::Light,
            &notes,
        ),
        info_panel(HOSTILE, Theme::System),
    ] {
        let html = html.into_string();
        assert_only_what_the_writer_writes(&html);
        let doc = Parsed::parse_document(&html);
        assert!(doc.root_element().text().any(|t| t.contains(HOSTILE)));
    }
    let panel = error_panel(HOSTILE).into_string();
    let doc = Parsed::parse_document(&panel);
    let found = shape(&doc);
    let expected: BTreeSet<(String, String)> = [
        ("html", ""),
        ("head", ""),
        ("body", ""),
        ("div", ""),
        ("div", "style"),
        ("b", ""),
    ]
    .into_iter()
    .map(|(e, a)| (e.to_string(), a.to_string()))
    .collect();
    assert_eq!(found, expected);
    assert!(doc.root_element().text().any(|t| t.contains(HOSTILE)));
}
