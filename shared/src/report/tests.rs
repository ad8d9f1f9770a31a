//! The renderer on hand-made histories.

use super::*;
use crate::app::snapshot::ConditionView;
use crate::app::Snapshot;
use crate::slo::message::AlarmNote;
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
            severity: "page".into(),
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
    };
    let html = page("SLO report", &[v], (T0, T0 + 23 * H), T0 + 24 * H);
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

#[test]
fn the_review_names_the_noisy_alarm_and_the_exhausted_slo() {
    let mut noisy = falling();
    for s in noisy.iter_mut() {
        s.budget_remaining = Some(0.99);
    }
    noisy[5].alarm = Some(AlarmNote {
        name: "checkout-5xx".into(),
        arn: None,
        state: "ALARM".into(),
        previous_state: Some("OK".into()),
        reason: "r".into(),
        timestamp: T0 + 5 * H,
        touched: vec![],
    });
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
        },
    ];
    let reviews = review::review(&views, T0 + 24 * H);
    assert!(reviews[0]
        .hints
        .iter()
        .any(|h| h.contains("noisy alarm: checkout-5xx fired 1 time")));
    assert!(reviews[0]
        .hints
        .iter()
        .any(|h| h.contains("objective never tested")));
    assert!(reviews[1]
        .hints
        .iter()
        .any(|h| h.contains("objective too tight?")));
    let (subject, body) = review::digest(&reviews, 28);
    assert!(subject.contains("1 exhausted"), "{subject}");
    assert!(subject.len() <= 99);
    assert!(body.contains("noisy alarm: checkout-5xx"));
    assert!(body.contains("overspent"));
}

#[test]
fn incidents_are_read_from_history_messages() {
    let spans = incidents(&falling());
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].start, T0 + 10 * H);
    assert_eq!(spans[0].end, Some(T0 + 14 * H));
    assert_eq!(spans[0].severity, "page");
}
