//! Hand-computed expectations for loading the examples, budget math, alerting and status rules.

use super::evaluate::{evaluate, Evaluation};
use super::load::{load, SourceFile};
use super::model::*;
use super::plan::{EvalTime, QueryPlan};
use super::policy::default_conditions;
use super::series::{Series, StreamData};
use super::status::{classify, Status};

const EXAMPLES: [(&str, &str); 5] = [
    (
        "premium-support.yaml",
        include_str!("../../../../examples/slos/premium-support.yaml"),
    ),
    (
        "alerting.yaml",
        include_str!("../../../../examples/slos/alerting.yaml"),
    ),
    (
        "checkout-availability.yaml",
        include_str!("../../../../examples/slos/checkout-availability.yaml"),
    ),
    (
        "chat-wait-time.yaml",
        include_str!("../../../../examples/slos/chat-wait-time.yaml"),
    ),
    (
        "help-center-monthly.yaml",
        include_str!("../../../../examples/slos/help-center-monthly.yaml"),
    ),
];

fn examples() -> Vec<SloDefinition> {
    let files: Vec<SourceFile> = EXAMPLES
        .iter()
        .map(|(n, t)| SourceFile {
            name: n.to_string(),
            text: t.to_string(),
        })
        .collect();
    let loaded = load(&files);
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    loaded.slos
}

fn example(name: &str) -> SloDefinition {
    examples().into_iter().find(|s| s.name == name).unwrap()
}

fn ts(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// Fill every planned segment of every stream from a per-bucket function.
fn fetch(plan: &QueryPlan, f: impl Fn(usize, i64, i64) -> Option<f64>) -> Vec<StreamData> {
    plan.segments
        .iter()
        .enumerate()
        .map(|(i, segs)| {
            StreamData::new(
                segs.iter()
                    .map(|g| {
                        let mut s = Series::empty(g.start, g.end, g.period);
                        let mut x = g.start;
                        while x < g.end {
                            if let Some(v) = f(i, x, g.period) {
                                s.set(x, v);
                            }
                            x += g.period;
                        }
                        s
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Sum a per-minute function over a bucket; None when every minute is missing.
fn per_minute(x: i64, period: i64, f: impl Fn(i64) -> Option<f64>) -> Option<f64> {
    let vals: Vec<f64> = (0..period / 60).filter_map(|m| f(x + m * 60)).collect();
    (!vals.is_empty()).then(|| vals.iter().sum())
}

fn run(slo: &SloDefinition, t: EvalTime, f: impl Fn(usize, i64, i64) -> Option<f64>) -> Evaluation {
    let plan = QueryPlan::build(&[slo], t);
    let data = fetch(&plan, f);
    let streams: Vec<&StreamData> = plan.slo_streams[0].iter().map(|i| &data[*i]).collect();
    evaluate(slo, t, &streams).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

const T: &str = "2026-03-10T12:05:00Z";

/// Checkout: 100 requests a minute for 30 days, 10 errors a minute in the last hour.
fn checkout_incident(slo: &SloDefinition, t: i64) -> Evaluation {
    run(slo, EvalTime { at: t, now: t }, |stream, x, p| {
        per_minute(x, p, |m| {
            Some(if stream == 0 {
                if m >= t - 3600 {
                    10.0
                } else {
                    0.0
                }
            } else {
                100.0
            })
        })
    })
}

#[test]
fn examples_validate() {
    let slos = examples();
    let names: Vec<&str> = slos.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let premium = example("premium-first-response");
    assert_eq!(premium.objective.target, 0.95);
    assert_eq!(premium.conditions.len(), 2);
    assert_eq!(
        premium.conditions[1].short_seconds, 3600,
        "short-window annotation applies"
    );
    assert_eq!(premium.conditions[1].alert_after_seconds, 600);
    assert_eq!(premium.settings.min_events, 20);
    assert_eq!(
        premium.annotations.get("team").map(String::as_str),
        Some("support-engineering")
    );
    let checkout = example("checkout-availability");
    assert_eq!(checkout.settings.alarms.len(), 2);
    assert!(matches!(
        checkout.indicator,
        Indicator::Ratio { good: false, .. }
    ));
    assert_eq!(checkout.window_label(), "30d");
    assert_eq!(
        example("help-center-monthly").window_label(),
        "calendar month"
    );
}

#[test]
fn occurrences_budget_burn_rates_and_forecast() {
    let slo = example("checkout-availability");
    let t = ts(T);
    let e = checkout_incident(&slo, t);
    let total = 30.0 * 1440.0 * 100.0;
    assert_eq!(e.total, total);
    assert_eq!(e.total - e.good, 600.0);
    assert!(close(e.attainment.unwrap(), 1.0 - 600.0 / total));
    // budget = 0.1% of 4,320,000 = 4,320 events; 600 consumed
    assert!(close(e.budget_remaining.unwrap(), 1.0 - 600.0 / 4320.0));
    assert!(close(e.burn_rate("5m").unwrap(), 100.0));
    assert!(close(e.burn_rate("1h").unwrap(), 100.0));
    assert!(close(e.burn_rate("6h").unwrap(), 600.0 / 36_000.0 / 0.001));
    assert!(close(e.burn_rate("3d").unwrap(), 600.0 / 432_000.0 / 0.001));
    assert!(e.conditions.iter().all(|c| c.met), "{:?}", e.conditions);
    // straight line: 0.8611 of a 30-day budget at 100x lasts 0.8611 * 30d / 100
    let expected = t + ((1.0_f64 - 600.0 / 4320.0) * 2_592_000.0 / 100.0).round() as i64;
    assert_eq!(e.exhausts_at, Some(expected));
    assert_eq!(classify(&e, |_| true), Status::Breaching);
}

#[test]
fn old_window_edges_round_to_what_cloudwatch_keeps() {
    let slo = example("checkout-availability");
    // 12:03: the 30-day edge is older than 15 days, where CloudWatch keeps 5-minute data only
    let t = ts("2026-03-10T12:03:00Z");
    let e = checkout_incident(&slo, t);
    assert_eq!(e.window_start, t - 30 * 86_400 - 180);
    assert_eq!(e.total, 30.0 * 1440.0 * 100.0 + 300.0);
    // recent edges stay minute-exact
    assert!(close(e.burn_rate("5m").unwrap(), 100.0));
    assert_eq!(
        e.windows.iter().find(|w| w.label == "6h").unwrap().total,
        36_000.0
    );
}

#[test]
fn missing_datapoints_are_no_data_not_good_events() {
    let slo = example("checkout-availability");
    let t = ts(T);
    // requests only during the last 2 hours; before that no datapoints at all
    let e = run(&slo, EvalTime { at: t, now: t }, |stream, x, p| {
        per_minute(x, p, |m| {
            (m >= t - 7200).then_some(if stream == 0 { 1.0 } else { 100.0 })
        })
    });
    assert_eq!(e.total, 120.0 * 100.0);
    assert!(close(e.attainment.unwrap(), 0.99));
    // and no data at all is no_data, with no budget figure
    let none = run(&slo, EvalTime { at: t, now: t }, |_, _, _| None);
    assert_eq!(none.total, 0.0);
    assert_eq!(none.budget_remaining, None);
    assert_eq!(none.exhausts_at, None);
    assert_eq!(classify(&none, |_| false), Status::NoData);
}

#[test]
fn exclusions_are_removed_before_counting() {
    let mut slo = example("checkout-availability");
    let t = ts(T);
    slo.settings.exclusions = vec![(t - 3600 - 90, t + 3600)];
    let e = checkout_incident(&slo, t);
    // the excluded range starts mid-minute: that minute is dropped whole (62 minutes in all)
    assert_eq!(e.total - e.good, 0.0);
    assert_eq!(e.total, 30.0 * 1440.0 * 100.0 - 62.0 * 100.0);
    assert_eq!(e.budget_remaining, Some(1.0));
    assert_eq!(
        e.burn_rate("5m"),
        None,
        "the whole short window is excluded"
    );
}

#[test]
fn timeslices_count_good_slices_against_a_whole_window_budget() {
    let slo = example("chat-wait-time");
    let t = ts(T);
    let e = run(&slo, EvalTime { at: t, now: t }, |_, x, p| {
        assert_eq!(p, 300);
        let end = t - t % 300;
        if x >= end - 3600 {
            Some(120.0)
        } else if x >= end - 86_400 && x < end - 86_400 + 3600 {
            None
        } else {
            Some(30.0)
        }
    });
    assert_eq!(e.total, 2016.0 - 12.0);
    assert_eq!(e.good, 2016.0 - 24.0);
    // budget: 1% of the 2016 slices of 7 days = 20.16 bad slices
    assert!(close(e.budget_remaining.unwrap(), 1.0 - 12.0 / 20.16));
    assert!(close(e.burn_rate("1h").unwrap(), 100.0));
    // the 5m short window is one slice
    assert!(close(e.burn_rate("5m").unwrap(), 100.0));
}

/// Two days into March in Berlin (it starts 2026-02-28T23:00Z): 100 page loads a 5-minute
/// slice; the first 10 slices 90% good, the next 5 96%, the rest all good.
fn help_center_march(slo: &SloDefinition) -> Evaluation {
    let t = ts("2026-03-02T23:00:00Z");
    let start = ts("2026-02-28T23:00:00Z");
    run(slo, EvalTime { at: t, now: t }, |stream, x, _| {
        let k = (x - start) / 300;
        Some(if stream == 1 {
            100.0
        } else if k < 10 {
            90.0
        } else if k < 15 {
            96.0
        } else {
            100.0
        })
    })
}

#[test]
fn ratio_timeslices_average_the_slices_ratios() {
    let mut slo = example("help-center-monthly");
    slo.method = BudgetingMethod::RatioTimeslices;
    let e = help_center_march(&slo);
    // 10 slices at 0.90, 5 at 0.96, 561 at 1: the average, not a count of slices over 0.95.
    assert_eq!(e.total, 576.0);
    assert!(close(e.good, 9.0 + 4.8 + 561.0), "{}", e.good);
    assert!(close(e.budget_remaining.unwrap(), 1.0 - 1.2 / 178.32));
}

#[test]
fn timeslices_over_a_ratio_on_a_calendar_month_across_dst() {
    let slo = example("help-center-monthly");
    let e = help_center_march(&slo);
    let start = ts("2026-02-28T23:00:00Z");
    assert_eq!(e.window_start, start);
    assert_eq!(e.total, 576.0);
    assert_eq!(e.good, 566.0);
    // March in Berlin is 31 days less an hour: 8916 slices, 2% of them = 178.32
    assert_eq!(e.window_length, 31 * 86_400 - 3600);
    assert!(close(e.budget_remaining.unwrap(), 1.0 - 10.0 / 178.32));
}

#[test]
fn default_thresholds_scale_with_the_window() {
    let thresholds = |w| {
        default_conditions(&w)
            .iter()
            .map(|c| c.threshold)
            .collect::<Vec<_>>()
    };
    let t30 = thresholds(TimeWindow::Rolling {
        seconds: 30 * 86_400,
    });
    assert!(
        close(t30[0], 14.4) && close(t30[1], 6.0) && close(t30[2], 1.0),
        "{t30:?}"
    );
    let t7 = thresholds(TimeWindow::Rolling {
        seconds: 7 * 86_400,
    });
    assert!(
        // 10% in 3 days of a 7-day window would be 0.23x: a rate that cannot spend the
        // budget, so the ticket threshold stays at 1.
        close(t7[0], 3.36) && close(t7[1], 1.4) && close(t7[2], 1.0),
        "{t7:?}"
    );
    let c = default_conditions(&TimeWindow::Rolling {
        seconds: 30 * 86_400,
    });
    assert_eq!((c[0].long_seconds, c[0].short_seconds), (3600, 300));
    assert_eq!((c[1].long_seconds, c[1].short_seconds), (21_600, 1800));
    assert_eq!((c[2].long_seconds, c[2].short_seconds), (259_200, 21_600));
}

#[test]
fn both_windows_must_exceed_the_threshold() {
    let slo = example("checkout-availability");
    let t = ts(T);
    // errors stopped 10 minutes ago: the 1h window still burns, the 5m window does not
    let e = run(&slo, EvalTime { at: t, now: t }, |stream, x, p| {
        per_minute(x, p, |m| {
            Some(if stream == 0 {
                if m >= t - 3600 && m < t - 600 {
                    10.0
                } else {
                    0.0
                }
            } else {
                100.0
            })
        })
    });
    let page_1h = &e.conditions[0];
    assert!(page_1h.long_rate.unwrap() > 14.4);
    assert_eq!(page_1h.short_rate, Some(0.0));
    assert!(!page_1h.met);
    // the 6h/30m pair still fires: 30m window saw 20 minutes of errors
    assert!(e.conditions[1].met);
}

#[test]
fn low_traffic_guard_keeps_conditions_quiet() {
    let mut slo = example("checkout-availability");
    let t = ts(T);
    slo.settings.min_events = 1000; // the 5m window holds only 500 requests
    let e = checkout_incident(&slo, t);
    assert!(
        !e.conditions[0].met,
        "page-1h needs 1000 events in its 5m window"
    );
    assert!(e.conditions[1].met, "the 30m window has 3000 events");
}

/// (name, severity, met) of a condition, for status tests.
type Cond<'a> = (&'a str, Severity, bool);

fn eval_with(status_inputs: (f64, Option<f64>, &[Cond]), at: i64) -> Evaluation {
    let (total, budget, conds) = status_inputs;
    Evaluation {
        slo: "x".into(),
        evaluated_at: at,
        window_start: at - 100,
        window_length: 100,
        good: total,
        total,
        attainment: Some(1.0),
        budget_remaining: budget,
        windows: vec![],
        conditions: conds
            .iter()
            .map(|(n, s, met)| super::evaluate::ConditionResult {
                name: n.to_string(),
                severity: *s,
                op: Op::Gt,
                threshold: 1.0,
                long: "1h".into(),
                short: "5m".into(),
                long_rate: None,
                short_rate: None,
                met: *met,
            })
            .collect(),
        exhausts_at: None,
        slice_seconds: None,
        parts: Vec::new(),
    }
}

#[test]
fn status_precedence() {
    let all = [("p", Severity::Page, true), ("t", Severity::Ticket, true)];
    assert_eq!(
        classify(&eval_with((10.0, Some(-0.1), &all), 0), |_| true),
        Status::Exhausted
    );
    assert_eq!(
        classify(&eval_with((10.0, Some(0.0), &[]), 0), |_| true),
        Status::Exhausted
    );
    assert_eq!(
        classify(&eval_with((10.0, Some(0.5), &all), 0), |_| true),
        Status::Breaching
    );
    assert_eq!(
        classify(&eval_with((10.0, Some(0.5), &all[1..]), 0), |_| true),
        Status::Warning
    );
    assert_eq!(
        classify(&eval_with((10.0, Some(0.5), &all), 0), |_| false),
        Status::Ok
    );
    assert_eq!(
        classify(&eval_with((0.0, None, &all), 0), |_| true),
        Status::NoData
    );
}

// Validation messages are tested table-driven: see shared/core/testdata/load/ and load/tests.rs.

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Arbitrary text never panics the loader.
        #[test]
        fn loader_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
            let _ = load(&[SourceFile { name: "p.yaml".into(), text }]);
        }

        /// Mutated real SLO files never panic, and every problem names a line inside the file.
        #[test]
        fn loader_never_panics_on_mutated_slos(
            which in 0usize..5,
            cuts in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..8, "[ :\\-\\[\\]{}a-z0-9\"'\n]{0,6}"), 1..6),
        ) {
            let mut text = EXAMPLES[which].1.to_string();
            for (at, del, ins) in cuts {
                let mut i = at.index(text.len().max(1)).min(text.len());
                while !text.is_char_boundary(i) { i -= 1; }
                let mut j = (i + del).min(text.len());
                while !text.is_char_boundary(j) { j -= 1; }
                text.replace_range(i..j, &ins);
            }
            let lines = text.lines().count().max(1) + 1;
            let loaded = load(&[SourceFile { name: "m.yaml".into(), text }]);
            for p in &loaded.problems {
                prop_assert!(p.line >= 1 && p.line <= lines, "{p}");
            }
        }
    }
}

#[test]
fn application_signals_examples_plan_percentiles_and_their_dimensions() {
    let loaded = load(&[SourceFile {
        name: "checkout-api.yaml".into(),
        text: include_str!("../../../../examples/application-signals/checkout-api.yaml").into(),
    }]);
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let latency = loaded
        .slos
        .iter()
        .find(|s| s.name == "checkout-api-latency")
        .unwrap();
    let refs: Vec<&SloDefinition> = loaded.slos.iter().collect();
    let plan = QueryPlan::build(&refs, EvalTime::from_trigger(ts(T), 0, ts(T)));
    let p99 = plan
        .streams
        .iter()
        .find(|s| matches!(s, MetricSpec::Metric { stat, .. } if stat == "p99"))
        .expect("the p99 stream is planned as it is written");
    let MetricSpec::Metric {
        dimensions,
        namespace,
        ..
    } = p99
    else {
        unreachable!()
    };
    assert_eq!(namespace, "ApplicationSignals");
    assert_eq!(
        dimensions
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        vec!["Environment", "Operation", "Service"]
    );
    assert!(matches!(latency.indicator, Indicator::Threshold { .. }));
    // the availability SLO reads Fault twice: Sum (bad) and SampleCount (total), two streams
    let faults = plan
        .streams
        .iter()
        .filter(|s| matches!(s, MetricSpec::Metric { metric_name, .. } if metric_name == "Fault"))
        .count();
    assert_eq!(faults, 2);
}
