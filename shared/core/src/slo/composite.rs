//! Composite SLOs: parts judged on their own, whose weighted bad parts add up. The formulas
//! (docs/composites.md), with `r_i` a part's good fraction in a window (Occurrences) or a
//! slice (Timeslices: 1 or 0; RatioTimeslices: the slice's ratio), `w_i` its weight, `D` the
//! parts with data and `W` (`W_D`) the sum of the weights of all parts (of those in `D`):
//!
//! ```text
//! missing  m = sum_{i in D} w_i (1 - r_i)                 count-as-good
//!          m = sum_{i in D} w_i (1 - r_i) + (W - W_D)      count-as-bad
//!          m = sum_{i in D} w_i (1 - r_i) * W / W_D        ignore (the default)
//! composite r = max(0, 1 - m); no data when D is empty
//! ```
//!
//! Occurrences combines whole windows (`total = sum_{i in D} total_i`, `good = total * r`);
//! the timeslice methods combine slice by slice (Timeslices with weights of 1: a slice is bad
//! when any part's is). The composite is then an ordinary SLO over those counts.

use std::borrow::Cow;

use super::evaluate::{
    evaluate as evaluate_plain, finish, slice_score, EvaluateError, Evaluation, PartResult,
    PartWindow,
};
use super::model::{
    BudgetingMethod, Composite, Indicator, MetricSpec, MissingPolicy, Objective, PartSource,
    SloDefinition,
};
use super::plan::{spans, EvalTime, Spans};
use super::series::{Series, StreamData};

/// A part's good fraction `r` (None: no data) with its weight, for [`combine`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    /// The part's weight, above 0.
    pub weight: f64,
    /// Its good fraction in [0, 1]; None when it has no data there.
    pub good: Option<f64>,
}

/// The composite's good fraction from its parts' (module docs); None when no part has data.
pub fn combine(parts: &[Share], policy: MissingPolicy) -> Option<f64> {
    let all: f64 = parts.iter().map(|p| p.weight).sum();
    let with_data: f64 = parts
        .iter()
        .filter(|p| p.good.is_some())
        .map(|p| p.weight)
        .sum();
    if with_data <= 0.0 {
        return None;
    }
    let bad: f64 = parts
        .iter()
        .filter_map(|p| p.good.map(|r| p.weight * (1.0 - r.clamp(0.0, 1.0))))
        .sum();
    let missing = match policy {
        MissingPolicy::CountAsGood => bad,
        MissingPolicy::CountAsBad => bad + (all - with_data),
        MissingPolicy::Ignore => bad * all / with_data,
    };
    Some((1.0 - missing).clamp(0.0, 1.0))
}

/// The plain SLO a part is evaluated as: the composite's window, alerting and settings with
/// the part's indicator and objective.
pub fn leaf(slo: &SloDefinition, name: &str, ind: &Indicator, obj: &Objective) -> SloDefinition {
    SloDefinition {
        name: format!("{}/{name}", slo.name),
        indicator: ind.clone(),
        objective: obj.clone(),
        ..slo.clone()
    }
}

/// What the query plan fetches for: `slo` itself, or each leaf of a composite (nested ones
/// flattened) in `metric_specs()` order.
pub fn units(slo: &SloDefinition) -> Vec<Cow<'_, SloDefinition>> {
    match &slo.indicator {
        Indicator::Composite(c) => {
            let mut out = Vec::new();
            leaves(slo, c, &mut out);
            out
        }
        _ => vec![Cow::Borrowed(slo)],
    }
}

fn leaves(slo: &SloDefinition, c: &Composite, out: &mut Vec<Cow<'_, SloDefinition>>) {
    for p in &c.parts {
        if let PartSource::Own {
            indicator,
            objective,
        } = &p.source
        {
            match indicator.as_ref() {
                Indicator::Composite(inner) => leaves(slo, inner, out),
                ind => out.push(Cow::Owned(leaf(slo, &p.name, ind, objective))),
            }
        }
    }
}

/// Why a composite cannot be evaluated as it stands.
fn unresolved(name: &str) -> EvaluateError {
    EvaluateError::Composite(format!(
        "part `{name}` is another SLO that was not resolved (is it applied?)"
    ))
}

/// Evaluate a composite: each part on its own, then combined (module docs).
pub(super) fn evaluate(
    slo: &SloDefinition,
    c: &Composite,
    t: EvalTime,
    streams: &[&StreamData],
) -> Result<Evaluation, EvaluateError> {
    let sp = spans(slo, t);
    let mut rest = streams;
    match slo.method {
        BudgetingMethod::Occurrences => {
            let mut tops = Vec::new();
            let whole = windows_of(slo, c, t, &mut rest, Some(&mut tops))?;
            let counts: Vec<(f64, f64)> = whole.iter().map(|w| w.unwrap_or((0.0, 0.0))).collect();
            let mut eval = finish(slo, &sp, counts[0], &counts[1..]);
            eval.parts = tops
                .into_iter()
                .map(|(name, weight, target, counts)| PartResult {
                    windows: part_windows(&sp, weight, target, &counts[1..]),
                    name,
                    weight,
                })
                .collect();
            Ok(eval)
        }
        _ => {
            let slice = sp.slice.ok_or_else(|| {
                EvaluateError::Composite("a timeslice composite needs timeSliceWindow".into())
            })?;
            let grid = Grid::of(&sp, slice);
            let mut tops = Vec::new();
            let scores = slices_of(slo, c, &grid, &mut rest, Some(&mut tops))?;
            let mut eval = over_slices(slo, t, &grid, scores)?;
            for (name, weight, target, scores) in tops {
                let own = over_slices(slo, t, &grid, scores)?;
                let counts: Vec<(f64, f64)> =
                    own.windows.iter().map(|w| (w.good, w.total)).collect();
                let counts: Vec<Option<(f64, f64)>> = counts.into_iter().map(Some).collect();
                eval.parts.push(PartResult {
                    windows: part_windows(&sp, weight, target, &counts),
                    name,
                    weight,
                });
            }
            Ok(eval)
        }
    }
}

/// Each alert window's figures of one part, from its (good, total) there.
fn part_windows(
    sp: &Spans,
    weight: f64,
    target: f64,
    counts: &[Option<(f64, f64)>],
) -> Vec<PartWindow> {
    sp.alerts
        .iter()
        .zip(counts)
        .map(|((len, _), c)| {
            let r = c.filter(|(_, tot)| *tot > 0.0).map(|(g, tot)| g / tot);
            PartWindow {
                label: super::duration::label(*len),
                burn_rate: r.map(|r| (1.0 - r) / (1.0 - target)),
                weighted_bad: r.map(|r| weight * (1.0 - r)),
            }
        })
        .collect()
}

/// A top-level part as messages name it: name, weight, its own target, and its counts.
type Top<T> = (String, f64, f64, T);

/// (good, total) of the SLO window, then of each alert window; None without data.
type WindowCounts = Vec<Option<(f64, f64)>>;

/// Take the next `n` streams.
fn take<'s, 'a>(
    rest: &mut &'s [&'a StreamData],
    n: usize,
) -> Result<&'s [&'a StreamData], EvaluateError> {
    if rest.len() < n {
        return Err(EvaluateError::Streams {
            expected: n,
            got: rest.len(),
        });
    }
    let (now, later) = rest.split_at(n);
    *rest = later;
    Ok(now)
}

/// Occurrences: (good, total) of the SLO window, then of each alert window, for composite `c`.
fn windows_of(
    slo: &SloDefinition,
    c: &Composite,
    t: EvalTime,
    rest: &mut &[&StreamData],
    mut tops: Option<&mut Vec<Top<WindowCounts>>>,
) -> Result<WindowCounts, EvaluateError> {
    let mut parts: Vec<(f64, WindowCounts)> = Vec::new();
    for p in &c.parts {
        let PartSource::Own {
            indicator,
            objective,
        } = &p.source
        else {
            return Err(unresolved(&p.name));
        };
        let counts = match indicator.as_ref() {
            Indicator::Composite(inner) => windows_of(slo, inner, t, rest, None)?,
            ind => {
                let unit = leaf(slo, &p.name, ind, objective);
                let n = ind.metric_specs().len();
                let e = evaluate_plain(&unit, t, take(rest, n)?)?;
                std::iter::once((e.good, e.total))
                    .chain(e.windows.iter().map(|w| (w.good, w.total)))
                    .map(Some)
                    .collect()
            }
        };
        if let Some(tops) = tops.as_deref_mut() {
            tops.push((p.name.clone(), p.weight, objective.target, counts.clone()));
        }
        parts.push((p.weight, counts));
    }
    let n = parts.first().map_or(0, |(_, c)| c.len());
    Ok((0..n)
        .map(|k| {
            let with = |(w, c): &(f64, WindowCounts)| {
                let c = c.get(k).copied().flatten().filter(|(_, tot)| *tot > 0.0);
                (*w, c)
            };
            let shares: Vec<Share> = parts
                .iter()
                .map(with)
                .map(|(weight, c)| Share {
                    weight,
                    good: c.map(|(g, tot)| g / tot),
                })
                .collect();
            let total: f64 = parts
                .iter()
                .map(with)
                .filter_map(|(_, c)| c.map(|(_, tot)| tot))
                .sum();
            combine(&shares, c.missing).map(|r| (total * r, total))
        })
        .collect())
}

/// The slices a timeslice composite combines: `len` slices of `slice` seconds from `start`.
struct Grid {
    start: i64,
    slice: i64,
    len: usize,
}

impl Grid {
    fn of(sp: &Spans, slice: i64) -> Grid {
        let start = sp
            .alerts
            .iter()
            .map(|(_, e)| e.start)
            .chain(std::iter::once(sp.slo_start.start))
            .min()
            .unwrap_or(sp.end);
        Grid {
            start,
            slice,
            len: ((sp.end - start).max(0) / slice) as usize,
        }
    }
}

/// Timeslices: each slice's score (None: no data) for composite `c`.
fn slices_of(
    slo: &SloDefinition,
    c: &Composite,
    grid: &Grid,
    rest: &mut &[&StreamData],
    mut tops: Option<&mut Vec<Top<Vec<Option<f64>>>>>,
) -> Result<Vec<Option<f64>>, EvaluateError> {
    let mut parts: Vec<(f64, Vec<Option<f64>>)> = Vec::new();
    for p in &c.parts {
        let PartSource::Own {
            indicator,
            objective,
        } = &p.source
        else {
            return Err(unresolved(&p.name));
        };
        let scores = match indicator.as_ref() {
            Indicator::Composite(inner) => slices_of(slo, inner, grid, rest, None)?,
            ind => {
                let streams = take(rest, ind.metric_specs().len())?;
                let mut out = Vec::with_capacity(grid.len);
                let mut vals = vec![0.0; streams.len()];
                for k in 0..grid.len {
                    let x = grid.start + k as i64 * grid.slice;
                    for (v, s) in vals.iter_mut().zip(streams) {
                        *v = s
                            .value_at(grid.slice, x)
                            .ok_or(EvaluateError::Gap { at: x })?;
                    }
                    out.push(slice_score(ind, objective, slo.method, &vals));
                }
                out
            }
        };
        if let Some(tops) = tops.as_deref_mut() {
            tops.push((p.name.clone(), p.weight, objective.target, scores.clone()));
        }
        parts.push((p.weight, scores));
    }
    Ok((0..grid.len)
        .map(|k| {
            let shares: Vec<Share> = parts
                .iter()
                .map(|(weight, s)| Share {
                    weight: *weight,
                    good: s[k],
                })
                .collect();
            combine(&shares, c.missing)
        })
        .collect())
}

/// A timeslice composite as a plain SLO over its slices' scores: the slices averaged
/// (RatioTimeslices over one precomputed ratio), with the composite's window, exclusions
/// and conditions.
fn over_slices(
    slo: &SloDefinition,
    t: EvalTime,
    grid: &Grid,
    scores: Vec<Option<f64>>,
) -> Result<Evaluation, EvaluateError> {
    let series = Series {
        start: grid.start,
        period: grid.slice,
        values: scores.into_iter().map(|s| s.unwrap_or(f64::NAN)).collect(),
    };
    let data = StreamData::new(vec![series]);
    let plain = SloDefinition {
        indicator: Indicator::Raw {
            success: true,
            metric: MetricSpec::Metric {
                region: String::new(),
                account_id: None,
                namespace: String::new(),
                metric_name: String::new(),
                stat: String::new(),
                dimensions: Vec::new(),
            },
        },
        method: BudgetingMethod::RatioTimeslices,
        ..slo.clone()
    };
    evaluate_plain(&plain, t, &[&data])
}

/// Why a composite's parts cannot be resolved against the stored SLOs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("part `{0}` is not a stored SLO (apply it first)")]
    Unknown(String),
    #[error("cycle: {0}; a composite cannot contain itself")]
    Cycle(String),
    #[error("part `{part}` counts its budget by {got:?}, the composite by {want:?}; the parts of a composite share one budgeting method")]
    Method {
        part: String,
        got: BudgetingMethod,
        want: BudgetingMethod,
    },
    #[error("part `{part}` has {got}-slices, the composite {want}-slices; the parts share one slice length")]
    Slice {
        part: String,
        got: String,
        want: String,
    },
}

/// The stored SLOs `slo` names as composite parts (directly): what a shard must read
/// beyond its own range before it can resolve the composite.
pub fn slo_parts(slo: &SloDefinition) -> Vec<String> {
    match &slo.indicator {
        Indicator::Composite(c) => c
            .parts
            .iter()
            .filter(|p| p.source == PartSource::Slo)
            .map(|p| p.name.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// `slo` with every part that names another SLO (`sloguard.dev/composite-of`) replaced by that
/// SLO's indicator and objective, nested composites too; `all` holds the stored SLOs by name.
pub fn resolve(
    slo: &SloDefinition,
    all: &std::collections::HashMap<&str, &SloDefinition>,
) -> Result<SloDefinition, ResolveError> {
    let Indicator::Composite(c) = &slo.indicator else {
        return Ok(slo.clone());
    };
    let mut path = vec![slo.name.clone()];
    let resolved = resolve_parts(slo, c, all, &mut path)?;
    Ok(SloDefinition {
        indicator: Indicator::Composite(resolved),
        ..slo.clone()
    })
}

fn resolve_parts(
    top: &SloDefinition,
    c: &Composite,
    all: &std::collections::HashMap<&str, &SloDefinition>,
    path: &mut Vec<String>,
) -> Result<Composite, ResolveError> {
    let mut parts = Vec::with_capacity(c.parts.len());
    for p in &c.parts {
        let mut part = p.clone();
        if p.source == PartSource::Slo {
            if let Some(pos) = path.iter().position(|n| *n == p.name) {
                let mut cycle = path[pos..].to_vec();
                cycle.push(p.name.clone());
                return Err(ResolveError::Cycle(cycle.join(" -> ")));
            }
            let def = all
                .get(p.name.as_str())
                .ok_or_else(|| ResolveError::Unknown(p.name.clone()))?;
            if def.method != top.method {
                return Err(ResolveError::Method {
                    part: p.name.clone(),
                    got: def.method,
                    want: top.method,
                });
            }
            let (got, want) = (def.slice_seconds(), top.slice_seconds());
            if top.method != BudgetingMethod::Occurrences && got != want {
                let l = |s: Option<i64>| s.map_or("no".into(), super::duration::label);
                return Err(ResolveError::Slice {
                    part: p.name.clone(),
                    got: l(got),
                    want: l(want),
                });
            }
            let indicator = match &def.indicator {
                Indicator::Composite(inner) => {
                    path.push(p.name.clone());
                    let r = resolve_parts(top, inner, all, path);
                    path.pop();
                    Indicator::Composite(r?)
                }
                other => other.clone(),
            };
            part.source = PartSource::Own {
                indicator: Box::new(indicator),
                objective: def.objective.clone(),
            };
        } else if let PartSource::Own {
            indicator,
            objective,
        } = &p.source
        {
            if let Indicator::Composite(inner) = indicator.as_ref() {
                part.source = PartSource::Own {
                    indicator: Box::new(Indicator::Composite(resolve_parts(
                        top, inner, all, path,
                    )?)),
                    objective: objective.clone(),
                };
            }
        }
        parts.push(part);
    }
    Ok(Composite {
        parts,
        missing: c.missing,
    })
}
