//! Composite SLOs as written: the OpenSLO form (objectives with their own `indicator` or
//! `indicatorRef` and `compositeWeight`) and sloguard's `sloguard.dev/composite-of`, which
//! composes other SLOs by name; `sloguard.dev/composite-missing` and the cycle check.

use std::collections::{BTreeSet, HashMap};

use crate::slo::model::{
    BudgetingMethod, BurnRateCondition, Composite, CompositePart, Indicator, MetricSpec,
    MissingPolicy, Objective, PartSource, SloDefinition, TimeWindow, MAX_COMPOSITE_PARTS,
};
use crate::slo::yaml::Node;

use super::diag::{expect_f64, join, line_of, truncate, At, Ctx};
use super::document::{check_name, Doc, Refs};
use super::objective::{check_method, objective_node, objective_path};
use super::slo::{check_retention, read_indicator, with_datapoint_period};

/// The annotation that composes other SLOs: `name:weight,...` (weight optional, default 1).
pub const COMPOSITE_OF: &str = "sloguard.dev/composite-of";
/// The annotation that says what a part without data counts as.
pub const COMPOSITE_MISSING: &str = "sloguard.dev/composite-missing";

/// Which composite form an SLO document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `sloguard.dev/composite-of`: other SLOs by name.
    Of,
    /// OpenSLO: objectives with their own indicators.
    Inline,
}

fn annotation<'n>(meta: &'n Node, key: &str) -> Option<&'n Node> {
    meta.get("annotations").and_then(|a| a.get(key))
}

/// The line of the key `key` itself (a mapping value starts on the line after it).
fn key_line(node: &Node, key: &str) -> usize {
    node.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_scalar() == Some(key)))
        .map_or_else(|| line_of(node, key), |(k, _)| k.line)
}

fn annotation_path(key: &str) -> String {
    format!("metadata.annotations.{key}")
}

/// The composite form of this SLO document, if it is one.
pub(super) fn mode(meta: &Node, spec: &Node) -> Option<Mode> {
    if annotation(meta, COMPOSITE_OF).is_some() {
        return Some(Mode::Of);
    }
    let objectives = spec.get("objectives").and_then(Node::as_seq)?;
    objectives
        .iter()
        .any(|o| {
            ["indicator", "indicatorRef", "compositeWeight"]
                .iter()
                .any(|k| o.get(k).is_some())
        })
        .then_some(Mode::Inline)
}

/// `sloguard.dev/composite-missing` on an SLO that is no composite.
pub(super) fn check_stray(ctx: &mut Ctx, at: At, meta: &Node) {
    if let Some(n) = annotation(meta, COMPOSITE_MISSING) {
        ctx.report(
            at.file,
            n.line,
            &annotation_path(COMPOSITE_MISSING),
            "applies to composite SLOs only (objectives with their own indicators, or sloguard.dev/composite-of)",
        );
    }
}

/// The missing-data policy (default `ignore`); None when the value is wrong (reported).
fn read_missing(ctx: &mut Ctx, at: At, meta: &Node) -> Option<MissingPolicy> {
    let Some(n) = annotation(meta, COMPOSITE_MISSING) else {
        return Some(MissingPolicy::Ignore);
    };
    match n.as_scalar().map(str::trim) {
        Some("ignore") => Some(MissingPolicy::Ignore),
        Some("count-as-good") => Some(MissingPolicy::CountAsGood),
        Some("count-as-bad") => Some(MissingPolicy::CountAsBad),
        v => {
            ctx.report(
                at.file,
                n.line,
                &annotation_path(COMPOSITE_MISSING),
                format!(
                    "`{}` is not count-as-good, count-as-bad or ignore",
                    truncate(v.unwrap_or(""), 40)
                ),
            );
            None
        }
    }
}

/// The parts `name:weight,...` of `sloguard.dev/composite-of`, checked: names of SLOs, weights
/// above 0, no part twice, not the SLO itself, at most [`MAX_COMPOSITE_PARTS`].
pub fn parse_composite_of(value: &str, own: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for item in value.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(
                "an empty part; write `name:weight,...` (weight optional, default 1)".into(),
            );
        }
        let (name, weight) = match item.split_once(':') {
            Some((n, w)) => {
                let w = w.trim();
                match w.parse::<f64>() {
                    Ok(x) if x.is_finite() && x > 0.0 => (n.trim(), x),
                    _ => {
                        return Err(format!(
                            "`{}` is not a weight: a number above 0, e.g. 2 or 0.5",
                            truncate(w, 40)
                        ))
                    }
                }
            }
            None => (item, 1.0),
        };
        check_name(name).map_err(|m| format!("part {m}"))?;
        if name == own {
            return Err(format!(
                "cycle: {own} -> {own}; a composite cannot contain itself"
            ));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("part `{name}` is listed twice"));
        }
        out.push((name.to_string(), weight));
    }
    if out.len() > MAX_COMPOSITE_PARTS {
        return Err(format!(
            "{} parts; a composite may have at most {MAX_COMPOSITE_PARTS} (compose composites for more)",
            out.len()
        ));
    }
    Ok(out)
}

/// What the rest of the SLO gave the composite.
pub(super) struct Base<'a> {
    pub(super) name: &'a str,
    pub(super) method: BudgetingMethod,
    pub(super) window: &'a TimeWindow,
    pub(super) conditions: &'a [BurnRateCondition],
    pub(super) objectives: Vec<(Option<String>, Objective)>,
}

/// The composite's indicator and objective; None when something is wrong (all reported).
pub(super) fn read(
    ctx: &mut Ctx,
    at: At,
    meta: &Node,
    spec: &Node,
    refs: &Refs,
    mode: Mode,
    base: Base,
) -> Option<(Indicator, Objective)> {
    let missing = read_missing(ctx, at, meta);
    for k in ["indicator", "indicatorRef"] {
        if let Some(n) = spec.get(k) {
            let msg = match mode {
                Mode::Of => "a composite (sloguard.dev/composite-of) reads its parts' indicators; remove this one",
                Mode::Inline => "a composite SLO's indicators go in its objectives (OpenSLO); remove this one",
            };
            ctx.report(at.file, n.line, &join("spec", k), msg);
            return None;
        }
    }
    let (parts, objective) = match mode {
        Mode::Of => of(ctx, at, meta, spec, &base)?,
        Mode::Inline => inline(ctx, at, spec, refs, &base)?,
    };
    Some((
        Indicator::Composite(Composite {
            parts,
            missing: missing?,
        }),
        objective,
    ))
}

/// `sloguard.dev/composite-of`: one objective (the composite's own target) and the named parts.
fn of(
    ctx: &mut Ctx,
    at: At,
    meta: &Node,
    spec: &Node,
    base: &Base,
) -> Option<(Vec<CompositePart>, Objective)> {
    let node = annotation(meta, COMPOSITE_OF).expect("mode Of");
    let path = annotation_path(COMPOSITE_OF);
    let parts = match node.as_scalar().map(|v| parse_composite_of(v, base.name)) {
        Some(Ok(p)) => Some(p),
        Some(Err(m)) => {
            ctx.report(at.file, node.line, &path, m);
            None
        }
        None => {
            ctx.report(at.file, node.line, &path, "must be text: `name:weight,...`");
            None
        }
    };
    if base.objectives.len() != 1 {
        ctx.report(
            at.file,
            line_of(spec, "objectives"),
            "spec.objectives",
            "a composite (sloguard.dev/composite-of) has one objective: its own target",
        );
        return None;
    }
    let objective = base.objectives[0].1.clone();
    let o = objective_node(spec, 0);
    let p = objective_path(0);
    let mut ok = true;
    for k in ["op", "value", "timeSliceTarget"] {
        if o.get(k).is_some() {
            ctx.report(
                at.file,
                line_of(o, k),
                &join(&p, k),
                "a composite's parts judge their own slices and values; remove it",
            );
            ok = false;
        }
    }
    ok &= slice_rule(ctx, at, o, &p, base.method, objective.time_slice_seconds);
    let parts = parts?
        .into_iter()
        .map(|(name, weight)| CompositePart {
            name,
            weight,
            source: PartSource::Slo,
        })
        .collect();
    ok.then_some((parts, objective))
}

/// Timeslice composites need a slice length; Occurrences ones have none.
fn slice_rule(
    ctx: &mut Ctx,
    at: At,
    o: &Node,
    p: &str,
    method: BudgetingMethod,
    slice: Option<i64>,
) -> bool {
    match (method, slice) {
        (BudgetingMethod::Occurrences, Some(_)) => {
            ctx.report(
                at.file,
                line_of(o, "timeSliceWindow"),
                &join(p, "timeSliceWindow"),
                "applies to Timeslices and RatioTimeslices only",
            );
            false
        }
        (BudgetingMethod::Occurrences, None) | (_, Some(_)) => true,
        (_, None) => {
            if o.get("timeSliceWindow").is_none() {
                ctx.report(
                    at.file,
                    o.line,
                    &join(p, "timeSliceWindow"),
                    "missing required field for timeslices: the slice length, e.g. 5m",
                );
            }
            false
        }
    }
}

/// The OpenSLO form: every objective is a part with its own indicator and weight; the
/// composite's target is `1 - sum w_i (1 - target_i)` (its budget is the parts' budgets, weighted).
fn inline(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    refs: &Refs,
    base: &Base,
) -> Option<(Vec<CompositePart>, Objective)> {
    let list_line = line_of(spec, "objectives");
    if base.objectives.len() > MAX_COMPOSITE_PARTS {
        ctx.report(
            at.file,
            list_line,
            "spec.objectives",
            format!(
                "{} objectives; a composite may have at most {MAX_COMPOSITE_PARTS} (compose composites with sloguard.dev/composite-of for more)",
                base.objectives.len()
            ),
        );
        return None;
    }
    let mut parts = Vec::new();
    let mut ok = true;
    let mut slice: Option<(i64, usize)> = None;
    for (i, (key, obj)) in base.objectives.iter().enumerate() {
        let o = objective_node(spec, i);
        let p = objective_path(i);
        let weight = match o.get("compositeWeight") {
            None => Some(1.0),
            Some(n) => expect_f64(ctx, at, n, &join(&p, "compositeWeight")).and_then(|w| {
                if w > 0.0 {
                    Some(w)
                } else {
                    ctx.report(
                        at.file,
                        n.line,
                        &join(&p, "compositeWeight"),
                        format!("{w} is out of range: a weight is above 0"),
                    );
                    None
                }
            }),
        };
        let ind = read_indicator(ctx, at, o, &p, refs);
        let (Some(weight), Some(ind)) = (weight, ind) else {
            ok = false;
            continue;
        };
        if let (
            BudgetingMethod::Occurrences,
            Indicator::Ratio {
                numerator, total, ..
            },
        ) = (base.method, &ind)
        {
            let key = if o.get("indicator").is_some() {
                "indicator"
            } else {
                "indicatorRef"
            };
            for m in [numerator, total] {
                if let MetricSpec::Metric { stat, .. } = m {
                    if stat != "Sum" && stat != "SampleCount" {
                        ctx.report(
                            at.file,
                            key_line(o, key),
                            &join(&p, key),
                            format!("Occurrences counts events, so the stat must be Sum or SampleCount, not {}", truncate(stat, 40)),
                        );
                        ok = false;
                    }
                }
            }
        }
        let checked = check_method(ctx, at, spec, i, &ind, base.method, obj.clone())
            .map(|o| with_datapoint_period(&ind, base.method, base.window, base.conditions, o))
            .and_then(|o| {
                check_retention(
                    ctx,
                    at,
                    spec,
                    i,
                    base.window,
                    &ind,
                    base.method,
                    &o,
                    base.conditions,
                )
                .map(|()| o)
            });
        let Some(objective) = checked else {
            ok = false;
            continue;
        };
        if base.method != BudgetingMethod::Occurrences {
            let s = objective.time_slice_seconds.unwrap_or(0);
            match slice {
                None => slice = Some((s, i)),
                Some((first, j)) if first != s => {
                    ctx.report(
                        at.file,
                        line_of(o, "timeSliceWindow"),
                        &join(&p, "timeSliceWindow"),
                        format!(
                            "the objectives of a composite share one slice length; {} has {}",
                            objective_path(j),
                            crate::slo::duration::label(first)
                        ),
                    );
                    ok = false;
                }
                Some(_) => {}
            }
        }
        parts.push(CompositePart {
            name: key.clone().unwrap_or_else(|| format!("o{}", i + 1)),
            weight,
            source: PartSource::Own {
                indicator: Box::new(ind),
                objective,
            },
        });
    }
    if !ok {
        return None;
    }
    let allowed: f64 = parts
        .iter()
        .map(|p| match &p.source {
            PartSource::Own { objective, .. } => p.weight * (1.0 - objective.target),
            PartSource::Slo => 0.0,
        })
        .sum();
    let target = 1.0 - allowed;
    if !(target > 0.0 && target < 1.0) {
        ctx.report(
            at.file,
            list_line,
            "spec.objectives",
            format!("the composite's target, 1 - sum(compositeWeight x (1 - target)), is {target:.4}; it must be above 0: raise the targets or lower the weights"),
        );
        return None;
    }
    let objective = Objective {
        display_name: None,
        target,
        op: None,
        value: None,
        time_slice_target: None,
        time_slice_seconds: slice.map(|(s, _)| s),
    };
    Some((parts, objective))
}

/// Composites that contain themselves through other SLOs of these files: each cycle is
/// reported once, at the `sloguard.dev/composite-of` line of the SLO that closes it.
pub(super) fn check_cycles(ctx: &mut Ctx, docs: &[Doc], slos: &[SloDefinition]) {
    let graph: HashMap<&str, Vec<&str>> = slos
        .iter()
        .filter_map(|s| match &s.indicator {
            Indicator::Composite(c) => Some((
                s.name.as_str(),
                c.parts
                    .iter()
                    .filter(|p| p.source == PartSource::Slo)
                    .map(|p| p.name.as_str())
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    // In file order, so the cycle is reported where it closes: at the later SLO.
    let names: Vec<&str> = slos
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| graph.contains_key(n))
        .collect();
    let mut seen: BTreeSet<Vec<&str>> = BTreeSet::new();
    for start in names {
        let mut path = vec![start];
        walk(&graph, &mut path, &mut |cycle| {
            let mut key = cycle[..cycle.len() - 1].to_vec();
            key.sort_unstable();
            if !seen.insert(key) {
                return;
            }
            let closer = cycle[cycle.len() - 2];
            let Some(def) = slos.iter().find(|s| s.name == closer) else {
                return;
            };
            let line = docs
                .iter()
                .find(|d| d.name == def.name && d.file == def.file && !d.duplicate)
                .and_then(|d| d.node.get("metadata"))
                .and_then(|m| annotation(m, COMPOSITE_OF))
                .map_or(def.line, |n| n.line);
            ctx.report(
                &def.file,
                line,
                &annotation_path(COMPOSITE_OF),
                format!(
                    "cycle: {}; a composite cannot contain itself",
                    cycle.join(" -> ")
                ),
            );
        });
    }
}

/// Depth-first from the last name of `path`; `found` gets each path that comes back on itself.
fn walk<'a>(
    graph: &HashMap<&'a str, Vec<&'a str>>,
    path: &mut Vec<&'a str>,
    found: &mut dyn FnMut(&[&'a str]),
) {
    let here = *path.last().expect("not empty");
    for next in graph.get(here).into_iter().flatten() {
        if let Some(pos) = path.iter().position(|p| p == next) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(next);
            found(&cycle);
        } else {
            path.push(next);
            walk(graph, path, found);
            path.pop();
        }
    }
}
