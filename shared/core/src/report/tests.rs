//! The renderer on hand-made histories.

use super::*;
use crate::slo::message::AlarmNote;
use crate::slo::snapshot::Snapshot;
use crate::slo::snapshot::{ConditionView, StoredTime};
use std::collections::BTreeMap;

const T0: i64 = 1_800_000_000;
const H: i64 = 3600;

fn snap(t: i64, budget: f64, status: Status) -> Snapshot {
    Snapshot {
        slo: "checkout".into(),
        service: "webshop".into(),
        objective: 0.999,
        window: "30d".into(),
        evaluated_at: rfc3339(t),
        status,
        attainment: Some(0.9995),
        budget_remaining: Some(budget),
        burn_rates: BTreeMap::from([("1h".to_string(), Some(2.0)), ("5m".to_string(), Some(0.0))]),
        exhausts_at: None,
        good: 999_500.0,
        total: 1_000_000.0,
        conditions: vec![ConditionView {
            name: "page-1h".into(),
            severity: Severity::Page,
            long_window: "1h".into(),
            short_window: "5m".into(),
            long_burn_rate: Some(2.0),
            short_burn_rate: Some(0.0),
            threshold: 14.4,
            op: crate::slo::model::Op::Gt,
            met: false,
        }],
        change: None,
        alarm: None,
        notifications: vec![],
    }
}

/// 24 hourly points going from 100% to -20%, an incident from hour 10 to 14.
fn falling() -> Vec<Snapshot> {
    (0..24)
        .map(|i| {
            let mut s = snap(T0 + i * H, 1.0 - 1.2 * i as f64 / 23.0, Status::Ok);
            if i == 10 {
                s.notifications = vec!["page: opened".into()];
            }
            if i == 14 {
                s.notifications = vec!["info: resolved".into()];
            }
            s
        })
        .collect()
}

fn polyline(svg: &str, class: &str) -> Vec<(f64, f64)> {
    let at = svg
        .find(&format!(r#"class="{class}""#))
        .expect("the line is drawn");
    let rest = &svg[at..];
    let p = rest.find("points=\"").unwrap() + 8;
    let end = rest[p..].find('"').unwrap();
    rest[p..p + end]
        .split(' ')
        .map(|xy| {
            let (x, y) = xy.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

const SIZE: Size = Size {
    width: 600.0,
    height: 200.0,
};

#[test]
fn the_burn_down_passes_through_its_points_and_crosses_zero() {
    let h = falling();
    let svg = svg::burn_down("checkout", &h, (T0, T0 + 23 * H), SIZE);
    assert!(svg.contains(r#"data-points="24""#));
    let line = polyline(&svg, "budget");
    assert_eq!(line.len(), 24);
    // first point at the left edge and top of the scale (100%), last at the right edge
    assert!((line[0].0 - 56.0).abs() < 0.11, "{:?}", line[0]);
    assert!((line[23].0 - (600.0 - 12.0)).abs() < 0.11, "{:?}", line[23]);
    // the zero line lies between the first and last point: the line crosses it
    let zero_at = svg.find(r#"class="zero""#).unwrap();
    let y_attr = &svg[zero_at..];
    let y1 = y_attr.find("y1=\"").unwrap() + 4;
    let zero_y: f64 = y_attr[y1..y1 + y_attr[y1..].find('"').unwrap()]
        .parse()
        .unwrap();
    assert!(
        line[0].1 < zero_y && line[23].1 > zero_y,
        "{zero_y} {line:?}"
    );
    // y is monotone with the budget: a falling budget draws a falling line
    assert!(line.windows(2).all(|w| w[1].1 > w[0].1));
    // the incident is shaded
    assert!(svg.contains(r#"class="incident page""#));
}

#[test]
fn an_empty_history_says_so() {
    let svg = svg::burn_down("checkout", &[], (T0, T0 + H), SIZE);
    assert!(svg.contains("no history in this range"));
    assert!(svg.contains(r#"data-points="0""#));
    let svg = svg::burn_rates("checkout", &[], (T0, T0 + H), SIZE);
    assert!(svg.contains("no history in this range"));
}

#[test]
fn burn_rates_are_on_a_log_scale_with_thresholds() {
    let h = falling();
    let svg = svg::burn_rates("checkout", &h, (T0, T0 + 23 * H), SIZE);
    assert!(svg.contains(r#"class="threshold page""#));
    assert!(svg.contains("burn &gt; 14.4x over 1h and 5m"));
    for tick in ["0.1x", "1x", "10x", "100x"] {
        assert!(svg.contains(&format!(">{tick}<")), "{tick}");
    }
    // a rate of 0 sits on the floor instead of breaking the log scale
    let five = polyline(&svg, "rate s0");
    assert_eq!(five.len(), 24);
    assert!(five.iter().all(|p| p.1.is_finite()));
}

#[test]
fn the_fleet_is_sorted_by_budget_left_with_separators() {
    let view = |name: &str, budget: f64| SloView {
        name: name.into(),
        service: "s".into(),
        objective: 0.99,
        window: "30d".into(),
        time_zone: None,
        history: vec![snap(T0, budget, Status::Ok)],
        changes: vec![],
        changes_lookback: 7200,
        corrected: Vec::new(),
    };
    let html = fleet_overview(&[view("a", 0.9), view("b", -0.1), view("c", 0.5)]);
    let order: Vec<usize> = ["\"b\"", "\"c\"", "\"a\""]
        .iter()
        .map(|n| html.find(&format!("data-slo={n}")).unwrap())
        .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "{html}");
    assert!(html.contains("1,000,000"));
}

#[test]
fn the_page_is_self_contained() {
    let v = SloView {
        name: "checkout".into(),
        service: "webshop".into(),
        objective: 0.999,
        window: "calendar month".into(),
        time_zone: Some("Europe/Berlin".into()),
        history: falling(),
        changes: [
            (T0 + 10 * H - 1800, "stack/shop-api"),
            (T0 + 5 * H, "stack/old-api"),
        ]
        .into_iter()
        .map(|(at, target)| crate::slo::change::Change {
            target: target.into(),
            kind: crate::slo::change::ChangeKind::Stack,
            at,
            what: "UPDATE_COMPLETE".into(),
            region: "eu-west-1".into(),
            account: None,
            link: crate::slo::change::stack_link("eu-west-1", target),
            id: "UPDATE_COMPLETE".into(),
        })
        .collect(),
        changes_lookback: 7200,
        corrected: Vec::new(),
    };
    let html = page("SLO report", &[v], (T0, T0 + 23 * H), T0 + 24 * H, &[]).into_string();
    // The incident opened at T0+10h: the stack updated 30 minutes before is listed with its
    // console link; the one five hours before is not.
    assert!(
        html.contains("30 min before: <b>stack/shop-api</b> UPDATE_COMPLETE"),
        "{html}"
    );
    assert!(html.contains(r#"<a href="https://eu-west-1.console.aws.amazon.com/cloudformation/"#));
    assert!(!html.contains("old-api"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("@import"));
    assert!(html.contains("prefers-color-scheme: dark"));
    assert!(html.contains("Europe/Berlin"));
    assert_eq!(html.matches(r#"class="chart burn-down""#).count(), 1);
}

#[test]
fn history_aggregates_by_period() {
    let mut h = falling();
    h[3].status = Status::Breaching;
    h[3].burn_rates.insert("1h".into(), Some(30.0));
    // T0 is 08:00 UTC: four-hour periods hold four hourly points each
    let periods = aggregate(&h, 4 * H);
    assert_eq!(periods.len(), 6);
    assert_eq!(
        periods[0].status,
        Status::Breaching,
        "worst status of the period"
    );
    assert_eq!(periods[1].status, Status::Ok);
    assert_eq!(periods[0].burn_rates["1h"], Some(30.0), "highest burn");
    assert_eq!(
        periods[0].budget_remaining, h[3].budget_remaining,
        "last budget"
    );
    assert_eq!(periods[0].evaluated_at, rfc3339(T0));
}

/// The checkout-5xx alarm going from OK to ALARM at `t`.
fn checkout_alarm(t: i64) -> AlarmNote {
    AlarmNote {
        name: "checkout-5xx".into(),
        arn: None,
        state: "ALARM".into(),
        previous_state: Some("OK".into()),
        reason: "r".into(),
        timestamp: t,
        touched: vec![],
    }
}

#[test]
fn the_review_names_the_noisy_alarm_and_the_exhausted_slo() {
    let mut noisy = falling();
    for s in noisy.iter_mut() {
        s.budget_remaining = Some(0.99);
    }
    noisy[5].alarm = Some(checkout_alarm(T0 + 5 * H));
    let exhausted: Vec<Snapshot> = (0..10)
        .map(|i| snap(T0 + i * H, -0.2, Status::Exhausted))
        .collect();
    let views = [
        SloView {
            name: "quiet".into(),
            service: "s".into(),
            objective: 0.99,
            window: "30d".into(),
            time_zone: None,
            history: noisy,
            changes: vec![],
            changes_lookback: 7200,
            corrected: Vec::new(),
        },
        SloView {
            name: "overspent".into(),
            service: "s".into(),
            objective: 0.999,
            window: "30d".into(),
            time_zone: None,
            history: exhausted,
            changes: vec![],
            changes_lookback: 7200,
            corrected: Vec::new(),
        },
    ];
    let reviews = review::review(&views, T0, T0 + 24 * H);
    assert!(reviews[0]
        .hints
        .iter()
        .any(|h| h == "noisy alarm: checkout-5xx fired 1 time with no burn-rate condition met"));
    assert!(reviews[0]
        .hints
        .iter()
        .any(|h| h.contains("objective never tested")));
    // ten hours of one exhausted window is an incident, not yet a too-tight objective
    assert!(!reviews[1].hints.iter().any(|h| h.contains("too tight")));
    let (subject, body) = review::digest(&reviews, 28);
    assert!(subject.contains("1 exhausted"), "{subject}");
    assert!(subject.len() <= 99);
    assert!(body.contains("noisy alarm: checkout-5xx"));
    assert!(body.contains("overspent"));
}

#[test]
fn incidents_are_read_from_history_messages() {
    let spans = incidents(&falling(), T0);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].start, T0 + 10 * H);
    assert_eq!(spans[0].end, Some(T0 + 14 * H));
    assert_eq!(spans[0].severity, Severity::Page);
}

/// The y a budget value gets in SIZE with the scale running from `lo` to `hi`.
fn budget_y(v: f64, lo: f64, hi: f64) -> f64 {
    12.0 + (1.0 - (v - lo) / (hi - lo)) * (200.0 - 12.0 - 26.0)
}

/// The x a time gets in SIZE over `range`.
fn time_x(t: i64, range: (i64, i64)) -> f64 {
    56.0 + (t - range.0) as f64 / (range.1 - range.0) as f64 * (600.0 - 56.0 - 12.0)
}

/// The numeric attribute `name` of the first element of `class`.
fn attr(svg: &str, class: &str, name: &str) -> f64 {
    let at = svg.find(&format!(r#"class="{class}""#)).expect(class);
    let rest = &svg[at..];
    let p = rest.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
    rest[p..p + rest[p..].find('"').unwrap()].parse().unwrap()
}

#[test]
fn every_burn_down_point_sits_at_its_budget() {
    let h = falling();
    let range = (T0, T0 + 23 * H);
    let line = polyline(&svg::burn_down("checkout", &h, range, SIZE), "budget");
    for (i, (p, s)) in line.iter().zip(&h).enumerate() {
        let b = s.budget_remaining.unwrap();
        // the scale runs from the lowest budget (-20%) to 100%; coordinates have one decimal
        assert!(
            (p.1 - budget_y(b, -0.2, 1.0)).abs() < 0.06,
            "point {i}: {p:?} for {b}"
        );
        assert!(
            (p.0 - time_x(T0 + i as i64 * H, range)).abs() < 0.06,
            "point {i}: {p:?}"
        );
    }
}

#[test]
fn the_projection_reaches_zero_when_the_budget_runs_out() {
    // Ten hours from 100% to 40%, exhaustion forecast at hour 20, inside the range.
    let mut h: Vec<Snapshot> = (0..=10)
        .map(|i| snap(T0 + i * H, 1.0 - 0.06 * i as f64, Status::Warning))
        .collect();
    h[10].exhausts_at = Some(StoredTime(T0 + 20 * H));
    let range = (T0, T0 + 30 * H);
    let svg = svg::burn_down("checkout", &h, range, SIZE);
    let zero_y = attr(&svg, "zero", "y1");
    assert!((zero_y - budget_y(0.0, 0.0, 1.0)).abs() < 0.06);
    assert!((attr(&svg, "projection", "x1") - time_x(T0 + 10 * H, range)).abs() < 0.06);
    assert!((attr(&svg, "projection", "y1") - budget_y(0.4, 0.0, 1.0)).abs() < 0.06);
    assert!((attr(&svg, "projection", "x2") - time_x(T0 + 20 * H, range)).abs() < 0.06);
    assert_eq!(attr(&svg, "projection", "y2"), zero_y, "reaches zero");

    // Forecast past the range: the line stops at the range's end, halfway down.
    h[10].exhausts_at = Some(StoredTime(T0 + 50 * H));
    let svg = svg::burn_down("checkout", &h, range, SIZE);
    assert!((attr(&svg, "projection", "x2") - time_x(T0 + 30 * H, range)).abs() < 0.06);
    assert!((attr(&svg, "projection", "y2") - budget_y(0.2, 0.0, 1.0)).abs() < 0.06);
}

#[test]
fn alarms_and_messages_are_marked_and_the_sparkline_has_every_point() {
    let mut h = falling();
    h[5].alarm = Some(checkout_alarm(T0 + 5 * H));
    let range = (T0, T0 + 23 * H);
    for svg in [
        svg::burn_down("checkout", &h, range, SIZE),
        svg::burn_rates("checkout", &h, range, SIZE),
    ] {
        assert_eq!(svg.matches(r#"class="alarm-mark""#).count(), 1);
        assert!(svg.contains(&format!(
            "alarm checkout-5xx ALARM at {}",
            rfc3339(T0 + 5 * H)
        )));
        // a triangle whose tip is at the alarm's time
        let tip = &svg[svg.find(r#"class="alarm-mark" d="M"#).unwrap() + 23..];
        let x: f64 = tip[..tip.find(',').unwrap()].parse().unwrap();
        assert!((x - time_x(T0 + 5 * H, range)).abs() < 0.06, "{x}");
        // the two messages: opened at hour 10, resolved at hour 14, each a dot at its time
        assert_eq!(svg.matches(r#"class="message-mark""#).count(), 2);
        assert!((attr(&svg, "message-mark", "cx") - time_x(T0 + 10 * H, range)).abs() < 0.06);
        assert!(svg.contains("page: opened") && svg.contains("info: resolved"));
    }
    let spark = svg::sparkline(
        &h,
        Size {
            width: 160.0,
            height: 28.0,
        },
    );
    assert!(spark.contains(r#"data-points="24""#));
    assert_eq!(polyline(&spark, "budget").len(), 24);
}

#[test]
fn an_incident_that_began_before_the_range_is_shaded_from_its_start() {
    // The range starts during a page incident: its first message in range is RESOLVED.
    let mut h: Vec<Snapshot> = (0..8)
        .map(|i| snap(T0 + i * H, 0.8 - 0.01 * i as f64, Status::Ok))
        .collect();
    h[0].conditions[0].met = true;
    h[3].notifications = vec!["info: resolved".into()];
    h[6].notifications = vec!["ticket: opened".into()];
    let spans = incidents(&h, T0 - H);
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_eq!((spans[0].start, spans[0].end), (T0 - H, Some(T0 + 3 * H)));
    assert_eq!(spans[0].severity, Severity::Page);
    assert_eq!(spans[1].start, T0 + 6 * H);
    let range = (T0 - H, T0 + 7 * H);
    let svg = svg::burn_down("checkout", &h, range, SIZE);
    assert!(
        (attr(&svg, "incident page", "x") - 56.0).abs() < 0.06,
        "{svg}"
    );
    assert!(
        (attr(&svg, "incident page", "width") - (time_x(T0 + 3 * H, range) - 56.0)).abs() < 0.11
    );

    // Still open and de-escalated to a ticket in range: one open span from the range start.
    let mut h2: Vec<Snapshot> = (0..4)
        .map(|i| snap(T0 + i * H, 0.5, Status::Warning))
        .collect();
    h2[2].notifications = vec!["ticket: de-escalated".into()];
    let spans = incidents(&h2, T0);
    assert_eq!(spans.len(), 1);
    assert_eq!((spans[0].start, spans[0].end), (T0, None));
    assert_eq!(spans[0].severity, Severity::Ticket);
    // counted words, not "(s)"
    let v = view_of("checkout", "30d", h);
    let html = slo_section(&v, range, SIZE);
    assert!(html.contains("2 incidents in range"), "{html}");
    assert!(!html.contains("(s)"));
}

fn view_of(name: &str, window: &str, history: Vec<Snapshot>) -> SloView {
    SloView {
        name: name.into(),
        service: "s".into(),
        objective: 0.999,
        window: window.into(),
        time_zone: None,
        history,
        changes: vec![],
        changes_lookback: 7200,
        corrected: Vec::new(),
    }
}

const D: i64 = 86_400;

#[test]
fn never_tested_looks_at_ninety_days_whatever_the_range() {
    let now = T0 + 90 * D;
    // 50% of the budget used 60 days ago, 1% since: tested, though not in the last 28 days.
    let h: Vec<Snapshot> = (0..=90)
        .map(|d| snap(T0 + d * D, if d == 30 { 0.5 } else { 0.99 }, Status::Ok))
        .collect();
    let r = review::review(&[view_of("a", "30d", h.clone())], now - 28 * D, now);
    assert!(
        !r[0].hints.iter().any(|h| h.contains("never tested")),
        "{:?}",
        r[0].hints
    );
    // the same without the dip: never tested, over the 90 days
    let flat: Vec<Snapshot> = h
        .into_iter()
        .map(|mut s| {
            s.budget_remaining = Some(0.99);
            s
        })
        .collect();
    let r = review::review(&[view_of("a", "30d", flat)], now - 28 * D, now);
    assert!(
        r[0].hints
            .iter()
            .any(|h| h.contains("less than 10% of the budget used in 90 days")),
        "{:?}",
        r[0].hints
    );
}

#[test]
fn last_week_is_counted_from_the_differences_of_a_calendar_window() {
    let now = T0 + 10 * D;
    let counted = |d: i64, good: f64, total: f64| {
        let mut s = snap(T0 + d * D, 0.5, Status::Ok);
        s.good = good;
        s.total = total;
        s.attainment = Some(good / total);
        s
    };
    // one period: 1,000 events all good a week ago, 2,000 with 100 bad now: the week is 90%
    let h = vec![
        counted(2, 1000.0, 1000.0),
        counted(3, 1000.0, 1000.0),
        counted(10, 1900.0, 2000.0),
    ];
    let r = review::review(&[view_of("cal", "calendar month", h)], now - 28 * D, now);
    assert_eq!(r[0].attainment_now, Some(0.95));
    assert_eq!(r[0].attainment_week_ago, Some(1.0));
    assert!((r[0].attainment_last_week.unwrap() - 0.9).abs() < 1e-12);
    assert!(!r[0].last_week_estimated);
    // a new period began mid-week: the old one's last counts join the new one's
    let h = vec![
        counted(3, 1000.0, 1000.0),
        counted(6, 1500.0, 1600.0),
        counted(7, 10.0, 10.0),
        counted(10, 390.0, 400.0),
    ];
    let r = review::review(&[view_of("cal", "calendar month", h)], now - 28 * D, now);
    // (1500-1000 + 390) good of (1600-1000 + 400) events
    assert!((r[0].attainment_last_week.unwrap() - 890.0 / 1000.0).abs() < 1e-12);
    let (_, body) = review::digest(&r, 28);
    assert!(
        body.contains("attainment 97.500% over the window, 89.000% over the last week"),
        "{body}"
    );
}

#[test]
fn last_week_of_a_rolling_window_is_estimated_from_hourly_burn_rates() {
    let now = T0 + 10 * D;
    // every hour burns at 2x: 0.2% of events bad with a 99.9% objective
    let h: Vec<Snapshot> = (0..=240)
        .map(|i| snap(T0 + i * H, 0.5, Status::Ok))
        .collect();
    let r = review::review(&[view_of("r", "30d", h)], now - 28 * D, now);
    assert!((r[0].attainment_last_week.unwrap() - 0.998).abs() < 1e-9);
    assert!(r[0].last_week_estimated);
    let (_, body) = review::digest(&r, 28);
    assert!(body.contains("~99.800% over the last week"), "{body}");
}

#[test]
fn too_tight_means_exhausted_at_the_end_of_most_recent_windows() {
    let now = T0 + 90 * D;
    let daily = |budget_at: &dyn Fn(i64) -> f64| -> Vec<Snapshot> {
        (0..=90)
            .map(|d| snap(T0 + d * D, budget_at(T0 + d * D), Status::Ok))
            .collect()
    };
    // 30-day windows end now, 30 and 60 days ago: exhausted at two of those three ends
    let ends_exhausted = |t: i64| {
        if t == now || t == now - 30 * D {
            -0.1
        } else {
            0.4
        }
    };
    let r = review::review(
        &[view_of("t", "30d", daily(&ends_exhausted))],
        now - 28 * D,
        now,
    );
    assert!(
        r[0].hints.iter().any(|h| h == "objective too tight? the budget was exhausted at the end of 2 of the last 3 windows"),
        "{:?}",
        r[0].hints
    );
    // exhausted now only: one window, an incident rather than the objective
    let only_now = |t: i64| if t == now { -0.1 } else { 0.4 };
    let r = review::review(&[view_of("t", "30d", daily(&only_now))], now - 28 * D, now);
    assert!(
        !r[0].hints.iter().any(|h| h.contains("too tight")),
        "{:?}",
        r[0].hints
    );
    // exhausted through the middle of each window but not at its ends: not too tight either
    let mid = |t: i64| if (now - t) % (30 * D) == 0 { 0.3 } else { -0.5 };
    let r = review::review(&[view_of("t", "30d", daily(&mid))], now - 28 * D, now);
    assert!(
        !r[0].hints.iter().any(|h| h.contains("too tight")),
        "{:?}",
        r[0].hints
    );
}

#[test]
fn the_dashboard_theme_overrides_the_os_setting_both_ways() {
    // The rules exist, set the palette and paint the widget's own background.
    let rule = |sel: &str| {
        let at = STYLE
            .find(&format!("\n{sel} {{"))
            .unwrap_or_else(|| panic!("{sel} rule"));
        &STYLE[at..at + STYLE[at..].find('}').unwrap()]
    };
    assert!(rule(".dark").contains("--bg:#0d1117") && rule(".dark").contains("color-scheme: dark"));
    assert!(
        rule(".light").contains("--bg:#ffffff") && rule(".light").contains("color-scheme: light")
    );
    assert!(STYLE.contains(".dark, .light { color: var(--fg); background: var(--bg);"));
    assert!(
        !STYLE.contains("body.dark"),
        "the widget has no body of its own"
    );
    let v = [view_of("checkout", "30d", falling())];
    let range = (T0, T0 + 23 * H);
    assert!(widget(&v, range, (600.0, 400.0), Theme::Dark, &[]).contains(r#"<div class="dark">"#));
    assert!(widget(&v, range, (600.0, 400.0), Theme::Light, &[]).contains(r#"<div class="light">"#));
    let system = widget(&v, range, (600.0, 400.0), Theme::System, &[]);
    assert!(!system.contains(r#"class="dark""#) && !system.contains(r#"class="light""#));
}

#[test]
fn the_widget_sizes_its_charts_to_the_widget() {
    let v = [view_of("checkout", "30d", falling())];
    let range = (T0, T0 + 23 * H);
    let tall = widget(&v, range, (588.0, 600.0), Theme::Light, &[]);
    // (600 - 110) / 2 - 20 = 225 px per chart, 548 wide
    assert_eq!(
        tall.matches(r#"width="548" height="225""#).count(),
        2,
        "{tall}"
    );
    let short = widget(&v, range, (588.0, 200.0), Theme::Light, &[]);
    assert_eq!(
        short.matches(r#"height="120""#).count(),
        2,
        "never below 120 px"
    );
}

#[test]
fn a_sparkline_of_a_long_history_keeps_a_bounded_number_of_points_and_the_newest() {
    let history: Vec<Snapshot> = (0..2_016)
        .map(|k| {
            serde_json::from_value(serde_json::json!({
                "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
                "evaluated_at": crate::slo::message::rfc3339(1_800_000_000 + k * 300), "status": "ok",
                "attainment": 0.9995, "budget_remaining": 1.0 - k as f64 / 4_032.0, "burn_rates": {},
                "exhausts_at": null, "good": 999.5, "total": 1000.0, "conditions": []
            }))
            .unwrap()
        })
        .collect();
    let svg = svg::sparkline(
        &history,
        Size {
            width: 120.0,
            height: 24.0,
        },
    );
    let points: usize = svg
        .split("data-points=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(points <= svg::SPARKLINE_POINTS + 1, "{points} points");
    assert!(points >= svg::SPARKLINE_POINTS / 2, "{points} points");
    assert!(svg.len() < 8_000, "{} bytes", svg.len());
}
