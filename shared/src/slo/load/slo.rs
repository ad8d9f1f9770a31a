//! SLO documents: indicator, time window, budgeting method, objective and alert policies, then
//! the rules across them (which method fits which indicator, what CloudWatch still keeps).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::slo::duration::{self, CalendarUnit, Duration};
use crate::slo::model::{
    BudgetingMethod, BurnRateCondition, Indicator, MetricSpec, Objective, SloDefinition, TimeWindow,
};
use crate::slo::plan::retention_seconds;
use crate::slo::policy::default_conditions;
use crate::slo::window::max_length;
use crate::slo::yaml::Node;

use super::alerting::read_slo_policies;
use super::diag::{
    check_fields, expect_bool, expect_duration, expect_f64, expect_list, expect_map,
    expect_minutes, join, line_of, one_of, opt, opt_parse, opt_str, parse_op, req, req_map,
    req_parse, truncate, At, Blame, Ctx, OneOf,
};
use super::document::{check_name, read_metadata_name, resolve, Doc, Refs};
use super::indicator::read_sli_spec;
use super::settings::read_settings;

/// The path of the one objective sloguard reads.
const OBJECTIVE: &str = "spec.objectives[0]";

/// An SLO document whose header was read; `None` when it has problems (all reported).
pub(super) fn read_slo(ctx: &mut Ctx, d: &Doc, refs: &Refs) -> Option<SloDefinition> {
    let at = d.at();
    let node = d.node;
    let meta = node.get("metadata").expect("header was read");
    let display_name = opt_str(ctx, at, meta, "metadata", "displayName").map(str::to_string);
    let (settings, annotations) = read_settings(ctx, at, meta);
    let spec = node.get("spec").expect("header was read");
    check_fields(
        ctx,
        at,
        spec,
        "spec",
        &[
            "description",
            "service",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        ],
    );
    let description = opt_str(ctx, at, spec, "spec", "description").map(str::to_string);
    let service = req_parse(ctx, at, spec, "spec", "service", |s| {
        check_name(s).map(|()| s.to_string())
    });
    let indicator = read_indicator(ctx, at, spec, &refs.slis);
    let window = read_window(ctx, at, spec);
    let method = req_parse(ctx, at, spec, "spec", "budgetingMethod", |m| match m {
        "Occurrences" => Ok(BudgetingMethod::Occurrences),
        "Timeslices" | "TimeSlices" => Ok(BudgetingMethod::Timeslices),
        "RatioTimeslices" | "RatioTimeSlices" => Ok(BudgetingMethod::RatioTimeslices),
        _ => Err(format!(
            "unknown budgeting method `{}`; use Occurrences, Timeslices or RatioTimeslices",
            truncate(m, 40)
        )),
    });
    let objective = read_objective(ctx, at, spec);

    let conds = match opt(spec, "alertPolicies") {
        None => Some(None),
        Some(list) => read_slo_policies(ctx, at, list, refs).map(Some),
    };

    let (indicator, window, method, objective, conds, service) =
        (indicator?, window?, method?, objective?, conds?, service?);
    let objective = check_method(ctx, at, spec, &indicator, method, objective)?;
    let conditions = conds.unwrap_or_else(|| default_conditions(&window));
    check_retention(ctx, at, spec, &window, method, &objective, &conditions)?;
    Some(SloDefinition {
        name: d.name.clone(),
        display_name,
        service,
        description,
        indicator,
        window,
        method,
        objective,
        conditions,
        settings: settings?,
        annotations,
        file: d.file.to_string(),
        line: node.line,
    })
}

/// The SLO's indicator: inline (`indicator`) or an SLI defined elsewhere (`indicatorRef`).
fn read_indicator(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    slis: &HashMap<String, Option<Indicator>>,
) -> Option<Indicator> {
    match one_of(
        ctx,
        at,
        spec,
        "spec",
        ["indicator", "indicatorRef"],
        Blame::Fields,
        "missing required field: set indicator or indicatorRef",
    )? {
        OneOf::First(ind) => {
            let ind = expect_map(ctx, at, ind, "spec.indicator")?;
            check_fields(
                ctx,
                at,
                ind,
                "spec.indicator",
                &["metadata", "spec", "kind", "apiVersion"],
            );
            if ind.get("metadata").is_some() {
                read_metadata_name(ctx, at, ind, "spec.indicator");
            }
            let s = req(ctx, at, ind, "spec.indicator", "spec")?;
            read_sli_spec(ctx, at, s, "spec.indicator.spec")
        }
        OneOf::Second(r) => resolve(ctx, at, slis, "SLI", r, "spec.indicatorRef"),
    }
}

/// The one mapping in the list `spec.<key>`; `many` words the problem when there are more or fewer.
fn single_entry<'n>(
    ctx: &mut Ctx,
    at: At,
    spec: &'n Node,
    key: &str,
    many: &dyn Fn(usize) -> String,
) -> Option<&'n Node> {
    let path = join("spec", key);
    let list = req(ctx, at, spec, "spec", key)?;
    let items = expect_list(ctx, at, list, &path, "a list with one entry")?;
    if items.len() != 1 {
        ctx.report(at.file, list.line, &path, many(items.len()));
        return None;
    }
    expect_map(ctx, at, &items[0], &format!("{path}[0]"))
}

/// The objective node, once [`read_objective`] has accepted it.
fn objective_node(spec: &Node) -> &Node {
    spec.get("objectives")
        .and_then(|l| l.as_seq())
        .and_then(|s| s.first())
        .expect("objective was read")
}

// ---------- time window ----------

fn read_window(ctx: &mut Ctx, at: At, spec: &Node) -> Option<TimeWindow> {
    let w = single_entry(ctx, at, spec, "timeWindow", &|n| {
        format!("must have exactly one entry, found {n}")
    })?;
    let p = "spec.timeWindow[0]";
    check_fields(ctx, at, w, p, &["duration", "isRolling", "calendar"]);
    let dn = req(ctx, at, w, p, "duration")?;
    let dur = expect_duration(ctx, at, dn, &join(p, "duration"))?;
    let rolling = match opt(w, "isRolling") {
        Some(n) => expect_bool(ctx, at, n, &join(p, "isRolling"))?,
        None => opt(w, "calendar").is_none(),
    };
    if rolling {
        if let Some(c) = opt(w, "calendar") {
            ctx.report(
                at.file,
                c.line,
                &join(p, "calendar"),
                "a rolling window has no calendar; drop it or set isRolling: false",
            );
            return None;
        }
        return match dur {
            Duration::Seconds(s) if s % 60 != 0 || s < 300 => {
                ctx.report(
                    at.file,
                    dn.line,
                    &join(p, "duration"),
                    "a rolling window must be whole minutes and at least 5m",
                );
                None
            }
            Duration::Seconds(s) if s > 455 * 86_400 => {
                ctx.report(
                    at.file,
                    dn.line,
                    &join(p, "duration"),
                    "CloudWatch keeps data for 455 days; the window must not be longer",
                );
                None
            }
            Duration::Seconds(seconds) => Some(TimeWindow::Rolling { seconds }),
            Duration::Calendar(..) => {
                ctx.report(at.file, dn.line, &join(p, "duration"), "a rolling window needs a fixed length (m, h, d, w); calendar months, quarters and years need isRolling: false and calendar");
                None
            }
        };
    }
    let unit = match dur {
        Duration::Seconds(86_400) => CalendarUnit::Day,
        Duration::Seconds(604_800) => CalendarUnit::Week,
        Duration::Calendar(1, u) => u,
        _ => {
            ctx.report(
                at.file,
                dn.line,
                &join(p, "duration"),
                "a calendar window is one of 1d, 1w, 1M, 1Q, 1y",
            );
            return None;
        }
    };
    let cp = join(p, "calendar");
    let cal = req_map(ctx, at, w, p, "calendar")?;
    check_fields(ctx, at, cal, &cp, &["startTime", "timeZone"]);
    let start = req_parse(ctx, at, cal, &cp, "startTime", |s| {
        parse_start_time(s).ok_or_else(|| {
            format!(
                "`{}` is not a time like 2026-01-05 00:00:00",
                truncate(s, 40)
            )
        })
    });
    let tz = req_parse(ctx, at, cal, &cp, "timeZone", |z| {
        z.parse::<Tz>().map_err(|_| {
            format!(
                "`{}` is not an IANA time zone like Europe/Berlin or UTC",
                truncate(z, 40)
            )
        })
    });
    Some(TimeWindow::Calendar {
        unit,
        start: start?,
        tz: tz?,
    })
}

/// A calendar's `startTime`: RFC 3339, `2026-01-05 00:00:00` or `2026-01-05`, taken as UTC.
fn parse_start_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        })
}

// ---------- objective ----------

fn read_objective(ctx: &mut Ctx, at: At, spec: &Node) -> Option<Objective> {
    let o = single_entry(ctx, at, spec, "objectives", &|n| {
        format!("sloguard evaluates exactly one objective per SLO, found {n}; split them into several SLOs")
    })?;
    let p = OBJECTIVE;
    check_fields(
        ctx,
        at,
        o,
        p,
        &[
            "displayName",
            "op",
            "value",
            "target",
            "targetPercent",
            "timeSliceTarget",
            "timeSliceWindow",
            "indicator",
            "indicatorRef",
            "compositeWeight",
        ],
    );
    for k in ["indicator", "indicatorRef", "compositeWeight"] {
        if let Some(n) = opt(o, k) {
            ctx.report(
                at.file,
                n.line,
                &join(p, k),
                "composite SLOs are not supported; give the indicator in spec.indicator",
            );
        }
    }
    let display_name = opt_str(ctx, at, o, p, "displayName").map(str::to_string);
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
    let op = opt_parse(ctx, at, o, p, "op", parse_op);
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

// ---------- rules across fields ----------

/// Cross-field rules between indicator, budgeting method and objective.
fn check_method(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    ind: &Indicator,
    method: BudgetingMethod,
    obj: Objective,
) -> Option<Objective> {
    let o = objective_node(spec);
    let p = OBJECTIVE;
    let mut ok = true;
    let mut report = |ctx: &mut Ctx, line: usize, path: &str, msg: &str| {
        ctx.report(at.file, line, path, msg);
        ok = false;
    };
    let threshold = matches!(ind, Indicator::Threshold { .. });
    match method {
        BudgetingMethod::Occurrences => {
            if threshold {
                report(ctx, line_of(o, "op"), "spec.budgetingMethod", "Occurrences counts events and needs a ratioMetric; a thresholdMetric needs Timeslices");
            }
            if let Indicator::Ratio {
                numerator, total, ..
            } = ind
            {
                for m in [numerator, total] {
                    if let MetricSpec::Metric { stat, .. } = m {
                        if stat != "Sum" && stat != "SampleCount" {
                            report(ctx, spec.get("indicator").or(spec.get("indicatorRef")).map_or(spec.line, |n| n.line), "spec.indicator", &format!("Occurrences counts events, so the stat must be Sum or SampleCount, not {stat}"));
                        }
                    }
                }
            }
        }
        BudgetingMethod::Timeslices => {
            if !threshold {
                report(ctx, line_of(o, "target"), "spec.budgetingMethod", "Timeslices compares one metric to op/value and needs a thresholdMetric; a ratioMetric needs Occurrences or RatioTimeslices");
            }
        }
        BudgetingMethod::RatioTimeslices => {
            if threshold {
                report(
                    ctx,
                    line_of(o, "target"),
                    "spec.budgetingMethod",
                    "RatioTimeslices needs a ratioMetric",
                );
            }
            if obj.time_slice_target.is_none() {
                report(ctx, o.line, &join(p, "timeSliceTarget"), "missing required field for RatioTimeslices: the ratio a slice must reach to be good");
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
    } else {
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

/// Windows CloudWatch cannot serve: data older than its retention at that resolution.
fn check_retention(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    window: &TimeWindow,
    method: BudgetingMethod,
    obj: &Objective,
    conditions: &[BurnRateCondition],
) -> Option<()> {
    let lookback = conditions
        .iter()
        .map(|c| c.long_seconds)
        .chain(std::iter::once(max_length(window)))
        .max()
        .unwrap_or(0);
    if lookback > 455 * 86_400 {
        ctx.report(
            at.file,
            spec.line,
            "spec.alertPolicies",
            "an alert lookbackWindow goes back further than the 455 days CloudWatch keeps data",
        );
        return None;
    }
    if method == BudgetingMethod::Occurrences {
        return Some(());
    }
    let slice = obj.time_slice_seconds.expect("checked by check_method");
    let line = line_of(objective_node(spec), "timeSliceWindow");
    if lookback > retention_seconds(slice) {
        let fits = [300, 3600]
            .into_iter()
            .find(|s| lookback <= retention_seconds(*s))
            .map_or("none fits".to_string(), duration::label);
        ctx.report(
            at.file,
            line,
            &join(OBJECTIVE, "timeSliceWindow"),
            format!(
                "{}-slices need data back {}, but CloudWatch keeps data at that resolution for {} only; use timeSliceWindow: {fits}",
                duration::label(slice),
                duration::label(lookback),
                duration::label(retention_seconds(slice)),
            ),
        );
        return None;
    }
    Some(())
}
