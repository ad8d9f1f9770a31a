//! What the loader refuses in composites (at its line) and how stored parts are resolved.

use std::collections::HashMap;

use super::composite::{resolve, ResolveError};
use super::load::{load, Loaded, SourceFile};
use super::model::*;

fn files(text: &str) -> Loaded {
    load(&[SourceFile {
        name: "journey.yaml".into(),
        text: text.into(),
    }])
}

/// A plain SLO `name` on metric `metric`.
fn part(name: &str, metric: &str, method: &str) -> String {
    let slice = if method == "Occurrences" {
        ""
    } else {
        "\n      timeSliceWindow: 5m"
    };
    format!(
        "---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
spec:
  service: {name}-service
  indicator:
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: CloudWatch
            spec: {{region: eu-west-1, namespace: Shop, metricName: {metric}Ok, stat: Sum}}
        total:
          metricSource:
            type: CloudWatch
            spec: {{region: eu-west-1, namespace: Shop, metricName: {metric}, stat: Sum}}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: {method}
  objectives:
    - target: 0.99{slice}
"
    )
}

/// A composite `name` of `parts` (the annotation's value).
fn composite(name: &str, parts: &str, extra: &str) -> String {
    format!(
        "---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
  annotations:
    sloguard.dev/composite-of: \"{parts}\"{extra}
spec:
  service: journeys
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.98
"
    )
}

fn problems(l: &Loaded) -> Vec<String> {
    l.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn composite_of_loads_named_parts_with_weights_and_policy() {
    let text = [
        part("checkout", "Checkout", "Occurrences"),
        part("payments", "Payments", "Occurrences"),
        composite(
            "journey",
            "checkout:2, payments",
            "\n    sloguard.dev/composite-missing: count-as-bad",
        ),
    ]
    .concat();
    let l = files(&text);
    assert!(l.problems.is_empty(), "{:#?}", l.problems);
    let j = l.slos.iter().find(|s| s.name == "journey").unwrap();
    let Indicator::Composite(c) = &j.indicator else {
        panic!("{:?}", j.indicator)
    };
    let parts: Vec<(&str, f64)> = c
        .parts
        .iter()
        .map(|p| (p.name.as_str(), p.weight))
        .collect();
    assert_eq!(parts, [("checkout", 2.0), ("payments", 1.0)]);
    assert_eq!(c.missing, MissingPolicy::CountAsBad);
    assert_eq!(j.objective.target, 0.98);
    // Stored and read back bit for bit.
    assert_eq!(&SloDefinition::from_stored(&j.to_stored()).unwrap(), j);

    // Resolved against the stored SLOs: each part brings its indicator and objective.
    let all: HashMap<&str, &SloDefinition> = l.slos.iter().map(|s| (s.name.as_str(), s)).collect();
    let r = resolve(j, &all).unwrap();
    assert_eq!(r.metric_specs().len(), 4);
    let Indicator::Composite(c) = &r.indicator else {
        panic!()
    };
    assert!(
        matches!(&c.parts[0].source, PartSource::Own { objective, .. } if objective.target == 0.99)
    );
}

#[test]
fn a_cycle_is_refused_at_the_annotation_that_closes_it() {
    let text = [
        composite("journey", "checkout-flow", ""),
        composite("checkout-flow", "journey:0.5", ""),
    ]
    .concat();
    let l = files(&text);
    // journey's annotation is on line 7, checkout-flow's on line 22 (second document): the
    // later one closes the cycle.
    assert_eq!(
        problems(&l),
        ["journey.yaml:22: metadata.annotations.sloguard.dev/composite-of: cycle: journey -> checkout-flow -> journey; a composite cannot contain itself"]
    );
    let own = files(&composite("journey", "journey", ""));
    assert_eq!(
        problems(&own),
        ["journey.yaml:7: metadata.annotations.sloguard.dev/composite-of: cycle: journey -> journey; a composite cannot contain itself"]
    );
}

#[test]
fn a_cycle_through_stored_slos_fails_that_composite_when_resolved() {
    let l = files(&composite("a", "b", ""));
    let b = files(&composite("b", "a", ""));
    let (a, b) = (&l.slos[0], &b.slos[0]);
    let all: HashMap<&str, &SloDefinition> = [("a", a), ("b", b)].into_iter().collect();
    assert_eq!(
        resolve(a, &all),
        Err(ResolveError::Cycle("a -> b -> a".into()))
    );
    let none = HashMap::new();
    assert_eq!(resolve(a, &none), Err(ResolveError::Unknown("b".into())));
}

#[test]
fn parts_must_share_the_composites_budgeting_method() {
    let text = [
        part("chat", "Chat", "Timeslices")
            .replace("target: 0.99", "target: 0.99\n      timeSliceTarget: 0.9"),
        composite("journey", "chat", ""),
    ]
    .concat();
    let l = files(&text);
    assert!(l.problems.is_empty(), "{:#?}", l.problems);
    let all: HashMap<&str, &SloDefinition> = l.slos.iter().map(|s| (s.name.as_str(), s)).collect();
    let err = resolve(all["journey"], &all).unwrap_err();
    assert!(
        matches!(err, ResolveError::Method { ref part, .. } if part == "chat"),
        "{err}"
    );
}

#[test]
fn more_than_twenty_parts_are_refused() {
    let parts: Vec<String> = (1..=21).map(|i| format!("p{i}")).collect();
    let l = files(&composite("journey", &parts.join(","), ""));
    assert_eq!(
        problems(&l),
        ["journey.yaml:7: metadata.annotations.sloguard.dev/composite-of: 21 parts; a composite may have at most 20 (compose composites for more)"]
    );
    // Twenty are fine.
    assert!(files(&composite("journey", &parts[..20].join(","), ""))
        .problems
        .is_empty());
}

#[test]
fn bad_weights_policies_and_stray_indicators_are_refused_at_their_line() {
    let l = files(&composite("journey", "a:0, b", ""));
    assert_eq!(
        problems(&l),
        ["journey.yaml:7: metadata.annotations.sloguard.dev/composite-of: `0` is not a weight: a number above 0, e.g. 2 or 0.5"]
    );
    let l = files(&composite(
        "journey",
        "a, b",
        "\n    sloguard.dev/composite-missing: count-as-maybe",
    ));
    assert_eq!(
        problems(&l),
        ["journey.yaml:8: metadata.annotations.sloguard.dev/composite-missing: `count-as-maybe` is not count-as-good, count-as-bad or ignore"]
    );
    let l = files(&composite("journey", "a, a", ""));
    assert_eq!(
        problems(&l),
        ["journey.yaml:7: metadata.annotations.sloguard.dev/composite-of: part `a` is listed twice"]
    );
    // The policy on an SLO that is no composite.
    let stray = part("checkout", "Checkout", "Occurrences").replace(
        "  name: checkout\n",
        "  name: checkout\n  annotations:\n    sloguard.dev/composite-missing: ignore\n",
    );
    assert_eq!(
        problems(&files(&stray)),
        ["journey.yaml:7: metadata.annotations.sloguard.dev/composite-missing: applies to composite SLOs only (objectives with their own indicators, or sloguard.dev/composite-of)"]
    );
}

#[test]
fn openslo_composites_refuse_a_zero_weight_and_a_spec_level_indicator() {
    let base = part("journey", "Api", "Occurrences");
    // Move the indicator into an objective with a weight of 0.
    let objective_form = base.replace(
        "    - target: 0.99\n",
        "    - target: 0.99\n      compositeWeight: 0\n      indicatorRef: api\n",
    );
    let l = files(&objective_form);
    let p = problems(&l);
    assert!(
        p.iter()
            .any(|m| m
                .contains(":9: spec.indicator: a composite SLO's indicators go in its objectives")),
        "{p:#?}"
    );
    let without = objective_form.replace(
        &objective_form[objective_form.find("  indicator:").unwrap()
            ..objective_form.find("  timeWindow:").unwrap()],
        "",
    );
    let p = problems(&files(&without));
    assert!(
        p.iter().any(|m| m.ends_with(
            "spec.objectives[0].compositeWeight: 0 is out of range: a weight is above 0"
        )),
        "{p:#?}"
    );
}

#[test]
fn openslo_composite_targets_must_leave_a_budget() {
    // Two objectives at 0.5 with weights 1: 1 - (0.5 + 0.5) = 0, no target left.
    let obj = |m: &str| {
        format!(
            "    - target: 0.5
      indicator:
        spec:
          thresholdMetric:
            metricSource:
              type: CloudWatch
              spec: {{region: eu-west-1, namespace: Shop, metricName: {m}, stat: Average}}
      op: lte
      value: 300
      timeSliceWindow: 5m
"
        )
    };
    let text = format!(
        "apiVersion: openslo/v1
kind: SLO
metadata:
  name: journey
spec:
  service: shop
  timeWindow:
    - duration: 1d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
{}{}",
        obj("A"),
        obj("B")
    );
    assert_eq!(
        problems(&files(&text)),
        ["journey.yaml:12: spec.objectives: the composite's target, 1 - sum(compositeWeight x (1 - target)), is 0.0000; it must be above 0: raise the targets or lower the weights"]
    );
}

#[test]
fn nested_composites_add_up_level_by_level() {
    let text = [
        part("a", "A", "Occurrences"),
        part("b", "B", "Occurrences"),
        part("c", "C", "Occurrences"),
        composite("checkout-flow", "a, b:0.5", ""),
        composite("journey", "checkout-flow:2, c", ""),
    ]
    .concat();
    let l = files(&text);
    assert!(l.problems.is_empty(), "{:#?}", l.problems);
    let all: HashMap<&str, &SloDefinition> = l.slos.iter().map(|s| (s.name.as_str(), s)).collect();
    let journey = resolve(all["journey"], &all).unwrap();
    // Per minute: 100 events on each part; a fails 1, b 4, c 2 (the parts count good ones).
    let e = super::composite_tests::run(&journey, |m, _, period| {
        let minutes = (period / 60) as f64;
        let bad = match m {
            "A" | "B" | "C" => return Some(100.0 * minutes),
            "AOk" => 1.0,
            "BOk" => 4.0,
            "COk" => 2.0,
            _ => return None,
        };
        Some((100.0 - bad) * minutes)
    });
    // checkout-flow: m = 1 x 0.01 + 0.5 x 0.04 = 0.03, r = 0.97.
    // journey: m = 2 x 0.03 + 1 x 0.02 = 0.08, attainment 0.92; burn 0.08 / 0.02 = 4.
    assert!(
        (e.attainment.unwrap() - 0.92).abs() < 1e-9,
        "{:?}",
        e.attainment
    );
    assert!((e.burn_rate("1h").unwrap() - 4.0).abs() < 1e-9);
    // checkout-flow adds 0.06 of the 0.08: it burns most, at 0.03 / (1 - 0.98) = 1.5x its own.
    let (p, w) = e.burning_most("1h").unwrap();
    assert_eq!(p.name, "checkout-flow");
    assert!((w.burn_rate.unwrap() - 1.5).abs() < 1e-9);
}

#[test]
fn an_openslo_composite_part_on_occurrences_must_count_events() {
    let text = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: journey
spec:
  service: shop
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
      indicator:
        spec:
          ratioMetric:
            counter: true
            good:
              metricSource:
                type: CloudWatch
                spec: {region: eu-west-1, namespace: Shop, metricName: Ok, stat: Average}
            total:
              metricSource:
                type: CloudWatch
                spec: {region: eu-west-1, namespace: Shop, metricName: All, stat: Sum}
";
    assert_eq!(
        problems(&files(text)),
        ["journey.yaml:13: spec.objectives[0].indicator: Occurrences counts events, so the stat must be Sum or SampleCount, not Average"]
    );
}
