//! Objectives: one or several per SLO (each loads as an SLO of its own), their fields, and the
//! rules between the objective, the indicator and the budgeting method.

use crate::slo::model::{BudgetingMethod, Indicator, MetricSpec, Objective};
use crate::slo::yaml::Node;

use super::diag::{
    check_fields, expect_f64, expect_list, expect_map, expect_minutes, expect_text, field, join,
    line_of, one_of, opt, parse_op, parsed, req, At, Blame, Ctx, Need::Optional, OneOf,
};
use super::document::check_name;
use super::version::{check_labels, Version};

/// Objective `i`'s node, once [`read_objectives`] has accepted it.
pub(super) fn objective_node(spec: &Node, i: usize) -> &Node {
    spec.get("objectives")
        .and_then(|l| l.as_seq())
        .and_then(|s| s.get(i))
        .expect("objective was read")
}

/// The path of objective `i`.
pub(super) fn objective_path(i: usize) -> String {
    format!("spec.objectives[{i}]")
}

/// Every objective, each with the key that names it when there are several (from its
/// displayName, else its position).
pub(super) fn read_objectives(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    slo: &str,
) -> Option<Vec<(Option<String>, Objective)>> {
    let list = req(ctx, at, spec, "spec", "objectives")?;
    let items = expect_list(ctx, at, list, "spec.objectives", "a list of objectives")?;
    if items.is_empty() {
        ctx.report(
            at.file,
            list.line,
            "spec.objectives",
            "empty list; give at least one objective with a target",
        );
        return None;
    }
    // v2alpha composites (objectives with their own `sli` and weights) are not read yet.
    let [sli, sli_ref] = at.version.sli_keys();
    let composite = items.iter().enumerate().find_map(|(i, o)| {
        let keys = [sli, sli_ref, "compositeWeight"];
        (at.version == Version::V2alpha).then_some(())?;
        keys.into_iter()
            .find_map(|k| o.get(k).map(|n| (join(&objective_path(i), k), n.line)))
    });
    if let Some((path, line)) = composite {
        ctx.report(
            at.file,
            line,
            &path,
            "composite SLOs are read in openslo/v1 only (objectives with their own indicator and compositeWeight); write this one in v1",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let p = objective_path(i);
        let Some(o) = expect_map(ctx, at, item, &p) else {
            ok = false;
            continue;
        };
        let Some(obj) = read_objective(ctx, at, o, &p) else {
            ok = false;
            continue;
        };
        let key = obj
            .display_name
            .as_deref()
            .map(slug)
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| format!("o{}", i + 1));
        if items.len() > 1 {
            let name = format!("{slo}-{key}");
            if let Err(msg) = check_name(&name) {
                ctx.report(at.file, o.line, &p, format!("this objective is stored as {msg}; shorten the SLO name or the objective's displayName"));
                ok = false;
            } else if out
                .iter()
                .any(|(k, _): &(Option<String>, Objective)| k.as_deref() == Some(key.as_str()))
            {
                ctx.report(
                    at.file,
                    line_of(o, "displayName"),
                    &join(&p, "displayName"),
                    format!("two objectives are both named `{key}`; give each its own displayName"),
                );
                ok = false;
            }
        }
        out.push((Some(key), obj));
    }
    ok.then_some(out)
}

/// An objective's displayName as a name part: `p95 under 300 ms` -> `p95-under-300-ms`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-')
        .chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// One objective at `p`.
pub(super) fn read_objective(ctx: &mut Ctx, at: At, o: &Node, p: &str) -> Option<Objective> {
    let [sli, sli_ref] = at.version.sli_keys();
    let mut allowed = vec![
        "displayName",
        "op",
        "value",
        "target",
        "targetPercent",
        "timeSliceTarget",
        "timeSliceWindow",
        sli,
        sli_ref,
        "compositeWeight",
    ];
    if at.version == Version::V2alpha {
        // v2alpha objectives have labels; sloguard keeps none, but checks them.
        allowed.push("labels");
        if let Some(l) = opt(o, "labels") {
            check_labels(ctx, at, l, &join(p, "labels"));
        }
    }
    check_fields(ctx, at, o, p, &allowed);
    let display_name =
        field(ctx, at, o, p, "displayName", Optional, expect_text).map(str::to_string);
    let target = one_of(
        ctx,
        at,
        o,
        p,
        ["target", "targetPercent"],
        Blame::Fields,
        "missing required field: set target (0..1) or targetPercent (0..100)",
    )
    .and_then(|choice| match choice {
        OneOf::First(n) => expect_f64(ctx, at, n, &join(p, "target")).and_then(|t| {
            if t > 0.0 && t < 1.0 {
                Some(t)
            } else {
                ctx.report(at.file, n.line, &join(p, "target"), format!("{t} is out of range: a target is a fraction strictly between 0 and 1 (e.g. 0.999)"));
                None
            }
        }),
        OneOf::Second(n) => expect_f64(ctx, at, n, &join(p, "targetPercent")).and_then(|t| {
            if t > 0.0 && t < 100.0 {
                Some(t / 100.0)
            } else {
                ctx.report(at.file, n.line, &join(p, "targetPercent"), format!("{t} is out of range: targetPercent is strictly between 0 and 100"));
                None
            }
        }),
    });
    let op = field(ctx, at, o, p, "op", Optional, parsed(parse_op));
    let value = opt(o, "value").and_then(|n| expect_f64(ctx, at, n, &join(p, "value")));
    let time_slice_target = opt(o, "timeSliceTarget").and_then(|n| {
        let v = expect_f64(ctx, at, n, &join(p, "timeSliceTarget"))?;
        if v > 0.0 && v <= 1.0 {
            Some(v)
        } else {
            ctx.report(
                at.file,
                n.line,
                &join(p, "timeSliceTarget"),
                format!("{v} is out of range: a fraction in (0, 1]"),
            );
            None
        }
    });
    let time_slice_seconds = opt(o, "timeSliceWindow")
        .and_then(|n| expect_minutes(ctx, at, n, &join(p, "timeSliceWindow")));
    Some(Objective {
        display_name,
        target: target?,
        op,
        value,
        time_slice_target,
        time_slice_seconds,
    })
}

/// Cross-field rules between indicator, budgeting method and objective `i`.
pub(super) fn check_method(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    i: usize,
    ind: &Indicator,
    method: BudgetingMethod,
    obj: Objective,
) -> Option<Objective> {
    let o = objective_node(spec, i);
    let p = &objective_path(i);
    let method_line = line_of(spec, "budgetingMethod");
    let mut ok = true;
    let mut report = |ctx: &mut Ctx, line: usize, path: &str, msg: &str| {
        ctx.report(at.file, line, path, msg);
        ok = false;
    };
    let threshold = matches!(ind, Indicator::Threshold { .. });
    // Only the first objective reports what is wrong with the SLO as a whole.
    let first = i == 0;
    match method {
        BudgetingMethod::Occurrences => {
            if let (Indicator::Ratio { .. }, true) = (ind, first) {
                for (line, path, stat) in stats_not_counting(at, spec, ind) {
                    report(ctx, line, &path, &format!("Occurrences counts events, so the stat must be Sum or SampleCount, not {stat}"));
                }
            }
        }
        BudgetingMethod::Timeslices => {
            if !threshold && obj.time_slice_target.is_none() {
                report(ctx, o.line, &join(p, "timeSliceTarget"), "missing required field for Timeslices over a ratio: the ratio a slice must reach to be good, e.g. 0.95");
            }
        }
        BudgetingMethod::RatioTimeslices => {
            if threshold && first {
                report(
                    ctx,
                    method_line,
                    "spec.budgetingMethod",
                    "RatioTimeslices averages the ratios of the slices and needs a ratioMetric; a thresholdMetric needs Timeslices or Occurrences",
                );
            }
            if let (Some(_), false) = (obj.time_slice_target, threshold) {
                ctx.warn(at.file, line_of(o, "timeSliceTarget"), &join(p, "timeSliceTarget"), "RatioTimeslices averages the slices' ratios and ignores timeSliceTarget; to count the slices that reach it, use budgetingMethod: Timeslices");
            }
        }
    }
    if threshold {
        if obj.op.is_none() {
            report(
                ctx,
                o.line,
                &join(p, "op"),
                "missing required field for a thresholdMetric: lt, lte, gt or gte",
            );
        }
        if obj.value.is_none() {
            report(
                ctx,
                o.line,
                &join(p, "value"),
                "missing required field for a thresholdMetric: the threshold a good value meets",
            );
        }
    } else if o.get("value").is_some() {
        for k in ["op", "value"] {
            if o.get(k).is_some() {
                report(
                    ctx,
                    line_of(o, k),
                    &join(p, k),
                    "op and value apply to thresholdMetric indicators only",
                );
            }
        }
    } else if o.get("op").is_some() {
        ctx.warn(
            at.file,
            line_of(o, "op"),
            &join(p, "op"),
            "has no effect on a ratio (op and value compare a thresholdMetric); remove it",
        );
    }
    if method == BudgetingMethod::Occurrences {
        for k in ["timeSliceTarget", "timeSliceWindow"] {
            if o.get(k).is_some() {
                report(
                    ctx,
                    line_of(o, k),
                    &join(p, k),
                    "applies to Timeslices and RatioTimeslices only",
                );
            }
        }
    } else if obj.time_slice_seconds.is_none() && o.get("timeSliceWindow").is_none() {
        report(
            ctx,
            o.line,
            &join(p, "timeSliceWindow"),
            "missing required field for timeslices: the slice length, e.g. 5m",
        );
    } else if obj.time_slice_seconds.is_none() {
        ok = false;
    }
    ok.then_some(obj)
}

/// Inline metrics of a ratio whose stat does not count events: (line of `stat:`, its path,
/// the stat). A metric of an SLI defined elsewhere is reported at the `indicatorRef`.
fn stats_not_counting(at: At, spec: &Node, ind: &Indicator) -> Vec<(usize, String, String)> {
    let counting = |s: &str| s == "Sum" || s == "SampleCount";
    let mut out = Vec::new();
    let [inline, by_ref] = at.version.sli_keys();
    if let (
        Some(r),
        Indicator::Ratio {
            good,
            numerator,
            total,
        },
    ) = (spec.get(by_ref), ind)
    {
        let first = if *good { "good" } else { "bad" };
        for (role, m) in [(first, numerator), ("total", total)] {
            if let MetricSpec::Metric { stat, .. } = m {
                if !counting(stat) {
                    out.push((
                        r.line,
                        join("spec", by_ref),
                        format!("{stat} (the SLI's {role} metric)"),
                    ));
                }
            }
        }
        return out;
    }
    let Some(ratio) = spec
        .get(inline)
        .and_then(|i| i.get("spec"))
        .and_then(|s| s.get("ratioMetric"))
    else {
        return out;
    };
    // v1 nests a metric's spec in metricSource; v2alpha writes it beside dataSourceRef.
    for role in ["good", "bad", "total"] {
        let metric = ratio.get(role);
        let ms = match at.version {
            Version::V1 => metric
                .and_then(|m| m.get("metricSource"))
                .and_then(|m| m.get("spec")),
            Version::V2alpha => metric.and_then(|m| m.get("spec")),
        };
        let Some(ms) = ms else {
            continue;
        };
        let path = match at.version {
            Version::V1 => format!("spec.indicator.spec.ratioMetric.{role}.metricSource.spec"),
            Version::V2alpha => format!("spec.sli.spec.ratioMetric.{role}.spec"),
        };
        if let Some(stat) = ms.get("stat").and_then(Node::as_scalar) {
            if !counting(stat) {
                out.push((line_of(ms, "stat"), join(&path, "stat"), stat.to_string()));
            }
        }
    }
    out
}
