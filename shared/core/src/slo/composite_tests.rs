//! Composite SLOs against hand-worked examples (docs/composites.md works the same numbers),
//! the one-part proptest, and what the loader refuses.

use proptest::prelude::*;

use super::composite::{combine, Share};
use super::evaluate::{evaluate, Evaluation};
use super::load::{load, Loaded, SourceFile};
use super::model::*;
use super::plan::{EvalTime, QueryPlan};
use super::series::{Series, StreamData};

/// 2026-03-10T00:00:00Z: a day boundary, so 5-minute slices of the last day are k = 0..288.
const T: i64 = 1_773_100_800;

fn files(text: &str) -> Loaded {
    load(&[SourceFile {
        name: "journey.yaml".into(),
        text: text.into(),
    }])
}

fn one(text: &str) -> SloDefinition {
    let l = files(text);
    assert!(l.problems.is_empty(), "{:#?}", l.problems);
    l.slos.into_iter().last().unwrap()
}

/// Evaluate with every planned bucket from `f(metric name, bucket start, period)`.
pub(super) fn run(slo: &SloDefinition, f: impl Fn(&str, i64, i64) -> Option<f64>) -> Evaluation {
    let t = EvalTime { at: T, now: T };
    let plan = QueryPlan::build(&[slo], t);
    let data: Vec<StreamData> = plan
        .segments
        .iter()
        .zip(&plan.streams)
        .map(|(segs, spec)| {
            let MetricSpec::Metric { metric_name, .. } = spec else {
                panic!("plain metrics only")
            };
            StreamData::new(
                segs.iter()
                    .map(|g| {
                        let mut s = Series::empty(g.start, g.end, g.period);
                        for x in (g.start..g.end).step_by(g.period as usize) {
                            if let Some(v) = f(metric_name, x, g.period) {
                                s.set(x, v);
                            }
                        }
                        s
                    })
                    .collect(),
            )
        })
        .collect();
    let streams: Vec<&StreamData> = plan.slo_streams[0].iter().map(|i| &data[*i]).collect();
    evaluate(slo, t, &streams).unwrap()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn ratio(bad: &str, total: &str) -> String {
    format!(
        "ratioMetric:
              counter: true
              bad:
                metricSource:
                  type: CloudWatch
                  spec: {{region: eu-west-1, namespace: Shop, metricName: {bad}, stat: Sum}}
              total:
                metricSource:
                  type: CloudWatch
                  spec: {{region: eu-west-1, namespace: Shop, metricName: {total}, stat: Sum}}"
    )
}

fn latency(metric: &str) -> String {
    format!(
        "thresholdMetric:
              metricSource:
                type: CloudWatch
                spec: {{region: eu-west-1, namespace: Shop, metricName: {metric}, stat: Average}}"
    )
}

/// An OpenSLO composite: `objectives` is the YAML of each objective after `- `.
fn inline(method: &str, objectives: &[String]) -> String {
    let mut s = format!(
        "apiVersion: openslo/v1
kind: SLO
metadata:
  name: journey
  annotations:
    sloguard.dev/composite-missing: ignore
spec:
  service: shop
  timeWindow:
    - duration: 1d
      isRolling: true
  budgetingMethod: {method}
  objectives:
"
    );
    for o in objectives {
        s.push_str("    - ");
        s.push_str(o);
        s.push('\n');
    }
    s
}

fn objective(name: &str, extra: &str, sli: &str) -> String {
    format!(
        "displayName: {name}
      {extra}
      indicator:
        spec:
            {sli}"
    )
}

// ---------- the formula, by hand ----------

#[test]
fn combine_adds_weighted_bad_parts_under_each_missing_policy() {
    let s = |weight, good| Share { weight, good };
    // Two parts with data: api 99% good (w 1), payments 96% good (w 0.5).
    // m = 1 x 0.01 + 0.5 x 0.04 = 0.03, r = 0.97 under every policy.
    let both = [s(1.0, Some(0.99)), s(0.5, Some(0.96))];
    for p in [
        MissingPolicy::Ignore,
        MissingPolicy::CountAsGood,
        MissingPolicy::CountAsBad,
    ] {
        assert!(close(combine(&both, p), 0.97), "{p:?}");
    }
    // payments without data (W = 1.5, W_D = 1):
    let api_only = [s(1.0, Some(0.99)), s(0.5, None)];
    // count-as-good: m = 0.01, r = 0.99
    assert!(close(combine(&api_only, MissingPolicy::CountAsGood), 0.99));
    // count-as-bad: m = 0.01 + 0.5 = 0.51, r = 0.49
    assert!(close(combine(&api_only, MissingPolicy::CountAsBad), 0.49));
    // ignore: m = 0.01 x 1.5 / 1 = 0.015, r = 0.985
    assert!(close(combine(&api_only, MissingPolicy::Ignore), 0.985));
    // No part with data: no data, whatever the policy.
    assert_eq!(combine(&[s(1.0, None)], MissingPolicy::CountAsBad), None);
    // Bad parts beyond the whole: clamped to 0 (timeslices: both parts bad, weights 1).
    assert_eq!(
        combine(
            &[s(1.0, Some(0.0)), s(1.0, Some(0.0))],
            MissingPolicy::Ignore
        ),
        Some(0.0)
    );
}

// ---------- Occurrences ----------

fn occurrences_journey() -> SloDefinition {
    one(&inline(
        "Occurrences",
        &[
            objective("api", "target: 0.99", &ratio("ApiErrors", "ApiRequests")),
            objective(
                "payments",
                "target: 0.95\n      compositeWeight: 0.5",
                &ratio("PayErrors", "PayRequests"),
            ),
        ],
    ))
}

/// Per minute: api 100 requests, 1 failing; payments 50 requests, 2 failing (`pay` false: none).
fn shop(pay: bool) -> impl Fn(&str, i64, i64) -> Option<f64> {
    move |m, _, period| {
        let minutes = (period / 60) as f64;
        let per_minute = match m {
            "ApiRequests" => 100.0,
            "ApiErrors" => 1.0,
            "PayRequests" if pay => 50.0,
            "PayErrors" if pay => 2.0,
            _ => return None,
        };
        Some(per_minute * minutes)
    }
}

#[test]
fn occurrences_weights_scale_each_parts_bad_fraction() {
    let slo = occurrences_journey();
    // Composite target: 1 - (1 x (1 - 0.99) + 0.5 x (1 - 0.95)) = 1 - 0.035 = 0.965.
    assert!(close(Some(slo.objective.target), 0.965));
    let e = run(&slo, shop(true));
    // api bad 1/100 = 0.01, payments 2/50 = 0.04: m = 0.01 + 0.5 x 0.04 = 0.03.
    assert!(close(e.attainment, 0.97));
    // burn = 0.03 / 0.035 = 0.857142..., budget left 1 - 0.857142... = 0.142857...
    assert!(close(e.burn_rate("1h"), 0.03 / 0.035));
    assert!(close(e.budget_remaining, 1.0 - 0.03 / 0.035));
    // Events: 150 a minute over the day.
    assert_eq!(e.total, 150.0 * 1440.0);
    // Each part's own burn: api 0.01 / 0.01 = 1, payments 0.04 / 0.05 = 0.8; weighted bad
    // parts 0.01 and 0.02: payments burns most.
    let (p, w) = e.burning_most("1h").unwrap();
    assert_eq!(p.name, "payments");
    assert!(close(w.burn_rate, 0.8));
    assert!(close(w.weighted_bad, 0.02));
    let api = &e.parts[0].windows[0];
    assert!(close(api.burn_rate, 1.0));
}

#[test]
fn occurrences_missing_part_is_ignored_by_default() {
    let e = run(&occurrences_journey(), shop(false));
    // ignore: m = 0.01 x 1.5 / 1 = 0.015.
    assert!(close(e.attainment, 0.985));
    assert_eq!(e.total, 100.0 * 1440.0);
    let bad = occurrences_journey_with("count-as-bad");
    let e = run(&bad, shop(false));
    // count-as-bad: m = 0.01 + 0.5 = 0.51.
    assert!(close(e.attainment, 0.49));
    let good = occurrences_journey_with("count-as-good");
    assert!(close(run(&good, shop(false)).attainment, 0.99));
}

fn occurrences_journey_with(policy: &str) -> SloDefinition {
    let text = inline(
        "Occurrences",
        &[
            objective("api", "target: 0.99", &ratio("ApiErrors", "ApiRequests")),
            objective(
                "payments",
                "target: 0.95\n      compositeWeight: 0.5",
                &ratio("PayErrors", "PayRequests"),
            ),
        ],
    )
    .replace(
        "composite-missing: ignore",
        &format!("composite-missing: {policy}"),
    );
    let slo = one(&text);
    let Indicator::Composite(c) = &slo.indicator else {
        panic!()
    };
    assert_eq!(c.missing.as_str(), policy);
    slo
}

// ---------- Timeslices ----------

/// Latency per 5-minute slice k (from the epoch): search is slow when k % 4 == 0, cart when
/// k % 6 == 0, so of every 12 slices search fails 3, cart 2 and both 1.
fn slow(m: &str, x: i64, _: i64) -> Option<f64> {
    let k = x / 300;
    let bad = match m {
        "SearchLatency" => k % 4 == 0,
        "CartLatency" => k % 6 == 0,
        _ => return None,
    };
    Some(if bad { 900.0 } else { 100.0 })
}

fn timeslices(cart_weight: &str) -> SloDefinition {
    let each = |name: &str, metric: &str, w: &str| {
        objective(
            name,
            &format!("op: lte\n      value: 300\n      target: 0.8\n      timeSliceWindow: 5m{w}"),
            &latency(metric),
        )
    };
    one(&inline(
        "Timeslices",
        &[
            each("search", "SearchLatency", ""),
            each("cart", "CartLatency", cart_weight),
        ],
    ))
}

#[test]
fn timeslices_a_slice_is_bad_when_any_part_is() {
    let slo = timeslices("");
    // Composite target 1 - (0.2 + 0.2) = 0.6.
    assert!(close(Some(slo.objective.target), 0.6));
    let e = run(&slo, slow);
    // Bad in any: 3 + 2 - 1 = 4 of every 12 slices; the day has 288 slices, 96 of them bad.
    assert_eq!((e.good, e.total), (192.0, 288.0));
    assert!(close(e.attainment, 2.0 / 3.0));
    // Budget: 0.4 x 288 = 115.2 bad slices; 96 used: 1 - 96 / 115.2 = 1/6 left.
    assert!(close(e.budget_remaining, 1.0 / 6.0));
    // Search burns most: 3/12 bad slices against cart's 2/12.
    assert_eq!(e.burning_most("6h").unwrap().0.name, "search");
}

#[test]
fn timeslices_weights_below_one_make_a_slice_partly_bad() {
    let e = run(&timeslices("\n      compositeWeight: 0.5"), slow);
    // Per 12 slices: search bad (3, one with cart): score 0; cart alone (1): 1 - 0.5 = 0.5;
    // the other 8: 1. Good = 8.5 of 12, so 8.5 x 24 = 204 of 288.
    assert_eq!((e.good, e.total), (204.0, 288.0));
    assert!(close(e.attainment, 8.5 / 12.0));
}

// ---------- RatioTimeslices ----------

#[test]
fn ratio_timeslices_the_weighted_missing_parts_add_up() {
    let each = |name: &str, bad: &str, total: &str| {
        objective(
            name,
            "target: 0.97\n      timeSliceWindow: 5m",
            &ratio(bad, total),
        )
    };
    let slo = one(&inline(
        "RatioTimeslices",
        &[
            each("search", "SearchErrors", "SearchRequests"),
            each("cart", "CartErrors", "CartRequests"),
        ],
    ));
    // The spec's example: two parts at 95% make a composite at 90%.
    let e = run(&slo, |m, _, period| {
        let minutes = (period / 60) as f64;
        Some(minutes * if m.ends_with("Errors") { 5.0 } else { 100.0 })
    });
    assert!(close(e.attainment, 0.90));
    // Target 1 - (0.03 + 0.03) = 0.94; each slice scores 0.9: 288 x 0.1 = 28.8 bad of the
    // 288 x 0.06 = 17.28 allowed: 1 - 28.8 / 17.28 = -2/3 left.
    assert!(close(Some(slo.objective.target), 0.94));
    assert!(close(e.budget_remaining, 1.0 - 28.8 / 17.28));
    assert!(close(e.burn_rate("1h"), 0.1 / 0.06));
}

// ---------- one part is the part ----------

fn plain_and_composite(method: &str, target: f64) -> (SloDefinition, SloDefinition) {
    let slice = if method == "Occurrences" {
        String::new()
    } else {
        "\n      timeSliceWindow: 5m\n      timeSliceTarget: 0.9".to_string()
    };
    let slice_ratio = if method == "RatioTimeslices" {
        slice.replace("\n      timeSliceTarget: 0.9", "")
    } else {
        slice
    };
    let composite = one(&inline(
        method,
        &[objective(
            "only",
            &format!("target: {target}{slice_ratio}"),
            &ratio("Errors", "Requests"),
        )],
    ));
    let plain = one(&format!(
        "apiVersion: openslo/v1
kind: SLO
metadata:
  name: plain
spec:
  service: shop
  indicator:
    spec:
      {}
  timeWindow:
    - duration: 1d
      isRolling: true
  budgetingMethod: {method}
  objectives:
    - target: {target}{}
",
        ratio("Errors", "Requests").replace("\n      ", "\n"),
        slice_ratio
    ));
    (plain, composite)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn a_composite_of_one_part_is_the_part(
        method in prop::sample::select(vec!["Occurrences", "Timeslices", "RatioTimeslices"]),
        target in 0.5f64..0.9999,
        total in 1u32..500,
        bad_every in 1i64..40,
        bad in 0u32..50,
        gap_every in 2i64..60,
    ) {
        let (plain, composite) = plain_and_composite(method, (target * 10_000.0).round() / 10_000.0);
        let data = |m: &str, x: i64, period: i64| {
            let k = x / period;
            if k % gap_every == 0 {
                return None;
            }
            let minutes = (period / 60) as f64;
            let total = f64::from(total) * minutes;
            Some(match m {
                "Requests" => total,
                _ if k % bad_every == 0 => (f64::from(bad) * minutes).min(total),
                _ => 0.0,
            })
        };
        let (a, b) = (run(&plain, data), run(&composite, data));
        let same = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
            (x, y) => x == y,
        };
        prop_assert!(same(a.attainment, b.attainment), "{:?} {:?}", a.attainment, b.attainment);
        prop_assert!(same(a.budget_remaining, b.budget_remaining), "{:?} {:?}", a.budget_remaining, b.budget_remaining);
        prop_assert_eq!(a.windows.len(), b.windows.len());
        for (x, y) in a.windows.iter().zip(&b.windows) {
            prop_assert_eq!(&x.label, &y.label);
            prop_assert!(same(x.burn_rate, y.burn_rate), "{} {:?} {:?}", x.label, x.burn_rate, y.burn_rate);
        }
        let fired = |e: &Evaluation| e.conditions.iter().map(|c| c.met).collect::<Vec<_>>();
        prop_assert_eq!(fired(&a), fired(&b));
    }
}
