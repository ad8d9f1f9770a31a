//! SLO documents: indicator, time window, budgeting method, objective and alert policies, then
//! the rules across them (which method fits which indicator, what CloudWatch still keeps).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::slo::duration::{self, CalendarUnit, Duration};
use std::collections::BTreeMap;

use crate::slo::model::{
    BudgetingMethod, BurnRateCondition, Indicator, Objective, Settings, SloDefinition, TimeWindow,
};
use crate::slo::plan::retention_seconds;
use crate::slo::policy::default_conditions;
use crate::slo::window::max_length;
use crate::slo::yaml::{Node, Value};

use super::alerting::read_slo_policies;
use super::diag::{
    check_description, check_fields, expect_bool, expect_duration, expect_list, expect_map,
    expect_text, field, join, line_of, one_of, opt, parsed, req, truncate, At, Blame, Ctx,
    Need::{Optional, Required},
    OneOf,
};
use super::document::{check_name, read_metadata_name, resolve, Doc, Refs};
use super::indicator::read_sli_spec;
use super::labels::read_owner;
use super::objective::{check_method, objective_node, objective_path, read_objectives};
use super::settings::read_settings;
use super::version::{Version, DISPLAY_NAME_ANNOTATION};

/// An SLO document whose header was read: one SloDefinition per objective (an SLO with several
/// objectives loads as several, named `NAME-OBJECTIVE`); empty when it has problems (all reported).
pub(super) fn read_slo(ctx: &mut Ctx, d: &Doc, refs: &Refs) -> Vec<SloDefinition> {
    let at = d.at();
    let node = d.node;
    let meta = node.get("metadata").expect("header was read");
    let (display_name, settings, annotations) = read_title_and_settings(ctx, at, meta);
    let owner = read_owner(ctx, at, meta);
    let spec = node.get("spec").expect("header was read");
    let [sli, sli_ref] = at.version.sli_keys();
    let service_keys: &[&str] = match at.version {
        Version::V1 => &["service"],
        // The document writes `service`; the OpenSLO go-sdk writes `serviceRef`.
        Version::V2alpha => &["service", "serviceRef"],
    };
    let mut allowed = vec!["description"];
    allowed.extend_from_slice(service_keys);
    allowed.extend([
        sli,
        sli_ref,
        "timeWindow",
        "budgetingMethod",
        "objectives",
        "alertPolicies",
    ]);
    check_fields(ctx, at, spec, "spec", &allowed);
    let description = check_description(ctx, at, spec, "spec").map(str::to_string);
    let service = read_service(ctx, at, spec);
    let composite = super::composite::mode(meta, spec);
    if composite.is_none() {
        super::composite::check_stray(ctx, at, meta);
    }
    let indicator = match composite {
        None => read_indicator(ctx, at, spec, "spec", refs),
        Some(_) => None,
    };
    let window = read_window(ctx, at, spec);
    let method = field(
        ctx,
        at,
        spec,
        "spec",
        "budgetingMethod",
        Required,
        parsed(|m| match m {
            "Occurrences" => Ok(BudgetingMethod::Occurrences),
            "Timeslices" | "TimeSlices" => Ok(BudgetingMethod::Timeslices),
            "RatioTimeslices" | "RatioTimeSlices" => Ok(BudgetingMethod::RatioTimeslices),
            _ => Err(format!(
                "unknown budgeting method `{}`; use Occurrences, Timeslices or RatioTimeslices",
                truncate(m, 40)
            )),
        }),
    );
    let objectives = read_objectives(ctx, at, spec, &d.name);

    let conds = match opt(spec, "alertPolicies") {
        None => Some(None),
        Some(list) => read_slo_policies(ctx, at, list, refs).map(Some),
    };

    if let Some(mode) = composite {
        let (Some(window), Some(method), Some(objectives), Some(conds), Some(service)) =
            (window, method, objectives, conds, service)
        else {
            return Vec::new();
        };
        let (conditions, topics) = match conds {
            Some(policy) => (policy.conditions, policy.topics),
            None => (default_conditions(&window), Vec::new()),
        };
        let base = super::composite::Base {
            name: &d.name,
            method,
            window: &window,
            conditions: &conditions,
            objectives,
        };
        let read = super::composite::read(ctx, at, meta, spec, refs, mode, base);
        let (Some((indicator, objective)), Some(settings), Some(owner)) = (read, settings, owner)
        else {
            return Vec::new();
        };
        return vec![SloDefinition {
            name: d.name.clone(),
            display_name,
            service,
            description,
            indicator,
            window,
            method,
            objective,
            conditions,
            settings,
            annotations,
            owner,
            parent: None,
            topics,
            file: d.file.to_string(),
            line: node.line,
        }];
    }
    let (Some(indicator), Some(window), Some(method), Some(objectives), Some(conds), Some(service)) =
        (indicator, window, method, objectives, conds, service)
    else {
        return Vec::new();
    };
    let (conditions, topics) = match conds {
        Some(policy) => (policy.conditions, policy.topics),
        None => (default_conditions(&window), Vec::new()),
    };
    let several = objectives.len() > 1;
    let mut out = Vec::new();
    let mut ok = true;
    for (i, (key, objective)) in objectives.into_iter().enumerate() {
        let checked = check_method(ctx, at, spec, i, &indicator, method, objective)
            .map(|o| with_datapoint_period(&indicator, method, &window, &conditions, o))
            .and_then(|o| {
                check_retention(
                    ctx,
                    at,
                    spec,
                    i,
                    &window,
                    &indicator,
                    method,
                    &o,
                    &conditions,
                )
                .map(|()| o)
            });
        let Some(objective) = checked else {
            ok = false;
            continue;
        };
        let title = display_name.as_deref().unwrap_or(&d.name);
        let (name, parent, shown) = match &key {
            Some(k) if several => (
                format!("{}-{k}", d.name),
                Some(d.name.clone()),
                Some(format!(
                    "{title}: {}",
                    objective
                        .display_name
                        .clone()
                        .unwrap_or_else(|| format!("objective {}", i + 1))
                )),
            ),
            _ => (d.name.clone(), None, display_name.clone()),
        };
        out.push(SloDefinition {
            name,
            display_name: shown,
            service: service.clone(),
            description: description.clone(),
            indicator: indicator.clone(),
            window: window.clone(),
            method,
            objective,
            conditions: conditions.clone(),
            // Bad settings are reported; the objectives are still checked, then dropped.
            settings: settings.clone().unwrap_or_default(),
            annotations: annotations.clone(),
            owner: owner.clone().flatten(),
            parent,
            topics: topics.clone(),
            file: d.file.to_string(),
            line: node.line,
        });
    }
    if !ok || settings.is_none() || owner.is_none() {
        return Vec::new();
    }
    out
}

/// The indicator at `path` (`spec`, or an objective of a composite): inline (`indicator`,
/// v2alpha `sli`) or an SLI defined elsewhere (`indicatorRef`, v2alpha `sliRef`).
pub(super) fn read_indicator(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    path: &str,
    refs: &Refs,
) -> Option<Indicator> {
    let [inline, by_ref] = at.version.sli_keys();
    match one_of(
        ctx,
        at,
        spec,
        path,
        [inline, by_ref],
        Blame::Fields,
        &format!("missing required field: set {inline} or {by_ref}"),
    )? {
        OneOf::First(ind) => {
            let p = join(path, inline);
            let ind = expect_map(ctx, at, ind, &p)?;
            check_fields(
                ctx,
                at,
                ind,
                &p,
                &["metadata", "spec", "kind", "apiVersion"],
            );
            if ind.get("metadata").is_some() {
                read_metadata_name(ctx, at, ind, &p);
            }
            let s = req(ctx, at, ind, &p, "spec")?;
            read_sli_spec(ctx, at, s, &join(&p, "spec"), &refs.sources)
        }
        OneOf::Second(r) => resolve(ctx, at, &refs.slis, "SLI", r, &join(path, by_ref)),
    }
}

/// `spec.service` (v2alpha also `spec.serviceRef`, as the OpenSLO go-sdk writes it).
fn read_service(ctx: &mut Ctx, at: At, spec: &Node) -> Option<String> {
    let key = match (at.version, opt(spec, "serviceRef")) {
        (Version::V2alpha, Some(_)) if opt(spec, "service").is_some() => {
            ctx.report(
                at.file,
                line_of(spec, "serviceRef"),
                "spec.serviceRef",
                "set exactly one of service and serviceRef, not both",
            );
            return None;
        }
        (Version::V2alpha, Some(_)) => "serviceRef",
        _ => "service",
    };
    field(
        ctx,
        at,
        spec,
        "spec",
        key,
        Required,
        parsed(|s| check_name(s).map(|()| s.to_string())),
    )
}

/// The SLO's title (v1 `metadata.displayName`, v2alpha the annotation
/// `sloguard.dev/display-name`), its settings and its other annotations.
fn read_title_and_settings(
    ctx: &mut Ctx,
    at: At,
    meta: &Node,
) -> (Option<String>, Option<Settings>, BTreeMap<String, String>) {
    if at.version == Version::V1 {
        let title = field(
            ctx,
            at,
            meta,
            "metadata",
            "displayName",
            Optional,
            expect_text,
        )
        .map(str::to_string);
        let (settings, annotations) = read_settings(ctx, at, meta);
        return (title, settings, annotations);
    }
    let title = opt(meta, "annotations")
        .and_then(|a| a.get(DISPLAY_NAME_ANNOTATION))
        .and_then(|n| {
            let path = format!("metadata.annotations.{DISPLAY_NAME_ANNOTATION}");
            expect_text(ctx, at, n, &path)
        })
        .map(str::to_string);
    // The title is not a setting: the settings are read without it.
    let mut rest = meta.clone();
    if let Some(Value::Map(entries)) = rest_annotations(&mut rest) {
        entries.retain(|(k, _)| k.as_scalar() != Some(DISPLAY_NAME_ANNOTATION));
    }
    let (settings, annotations) = read_settings(ctx, at, &rest);
    (title, settings, annotations)
}

/// The value of `annotations` in the metadata `meta`, to edit.
fn rest_annotations(meta: &mut Node) -> Option<&mut Value> {
    let Value::Map(entries) = &mut meta.value else {
        return None;
    };
    entries
        .iter_mut()
        .find(|(k, _)| k.as_scalar() == Some("annotations"))
        .map(|(_, v)| &mut v.value)
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

// ---------- time window ----------

fn read_window(ctx: &mut Ctx, at: At, spec: &Node) -> Option<TimeWindow> {
    if spec.get("timeWindow").is_none() {
        ctx.report(
            at.file,
            spec.line,
            "spec.timeWindow",
            "missing: sloguard needs the window the objective holds over, e.g. timeWindow: [{duration: 28d, isRolling: true}]",
        );
        return None;
    }
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
    let (unit, count) = match dur {
        Duration::Seconds(s) if s > 0 && s % 604_800 == 0 => (CalendarUnit::Week, s / 604_800),
        Duration::Seconds(s) if s > 0 && s % 86_400 == 0 => (CalendarUnit::Day, s / 86_400),
        Duration::Calendar(n, u) if n > 0 => (u, i64::from(n)),
        _ => {
            let msg = match at.version {
                Version::V1 => "a calendar window is a whole number of days, weeks, months, quarters or years (1d, 2w, 1M, 1Q, 1y)",
                Version::V2alpha => "a calendar window is a whole number of days or weeks (1d, 2w); in openslo.com/v2alpha `m` is minutes",
            };
            ctx.report(at.file, dn.line, &join(p, "duration"), msg);
            return None;
        }
    };
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    let too_long = max_length(&TimeWindow::Calendar {
        unit,
        count,
        start: DateTime::<Utc>::UNIX_EPOCH,
        tz: Tz::UTC,
    }) > 455 * 86_400 + 3600;
    if too_long {
        ctx.report(
            at.file,
            dn.line,
            &join(p, "duration"),
            "CloudWatch keeps data for 455 days; the window must not be longer",
        );
        return None;
    }
    let cp = join(p, "calendar");
    let cal = field(ctx, at, w, p, "calendar", Required, expect_map)?;
    check_fields(ctx, at, cal, &cp, &["startTime", "timeZone"]);
    let start = field(
        ctx,
        at,
        cal,
        &cp,
        "startTime",
        Required,
        parsed(|s| {
            parse_start_time(s).ok_or_else(|| {
                format!(
                    "`{}` is not a time like 2026-01-05 00:00:00",
                    truncate(s, 40)
                )
            })
        }),
    );
    let tz = field(
        ctx,
        at,
        cal,
        &cp,
        "timeZone",
        Required,
        parsed(|z| {
            z.parse::<Tz>().map_err(|_| {
                format!(
                    "`{}` is not an IANA time zone like Europe/Berlin or UTC",
                    truncate(z, 40)
                )
            })
        }),
    );
    Some(TimeWindow::Calendar {
        unit,
        count,
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

// ---------- rules across fields ----------

/// Occurrences over a threshold or raw metric count datapoints: at the finest period CloudWatch
/// keeps for the whole lookback (1 minute up to 15 days, 5 minutes up to 63, then 1 hour).
pub(super) fn with_datapoint_period(
    ind: &Indicator,
    method: BudgetingMethod,
    window: &TimeWindow,
    conditions: &[BurnRateCondition],
    mut obj: Objective,
) -> Objective {
    if method == BudgetingMethod::Occurrences && !matches!(ind, Indicator::Ratio { .. }) {
        let lookback = lookback(window, conditions);
        obj.time_slice_seconds = [60, 300, 3600]
            .into_iter()
            .find(|p| lookback <= retention_seconds(*p))
            .or(Some(3600));
    }
    obj
}

/// How far back an SLO reads: its window or its longest alert window.
fn lookback(window: &TimeWindow, conditions: &[BurnRateCondition]) -> i64 {
    conditions
        .iter()
        .map(|c| c.long_seconds)
        .chain(std::iter::once(max_length(window)))
        .max()
        .unwrap_or(0)
}

/// Windows CloudWatch cannot serve: data older than its retention at that resolution, or
/// older than the two weeks Metrics Insights queries reach.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_retention(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    i: usize,
    window: &TimeWindow,
    ind: &Indicator,
    method: BudgetingMethod,
    obj: &Objective,
    conditions: &[BurnRateCondition],
) -> Option<()> {
    let lookback = lookback(window, conditions);
    let first = i == 0;
    if lookback > 455 * 86_400 {
        if first {
            ctx.report(
                at.file,
                line_of(spec, "alertPolicies"),
                "spec.alertPolicies",
                "an alert lookbackWindow goes back further than the 455 days CloudWatch keeps data",
            );
        }
        return None;
    }
    const INSIGHTS_DAYS: i64 = 14;
    if ind_insights(ind) && lookback > INSIGHTS_DAYS * 86_400 {
        if first {
            ctx.report(
                at.file,
                line_of(spec, "timeWindow"),
                "spec.timeWindow",
                format!(
                    "Metrics Insights (sql) queries reach back {INSIGHTS_DAYS} days, but this SLO reads {} back; use a window (and alert windows) of at most {INSIGHTS_DAYS}d, or namespace/metricName/stat",
                    duration::label(lookback)
                ),
            );
        }
        return None;
    }
    if method == BudgetingMethod::Occurrences {
        return Some(());
    }
    let slice = obj.time_slice_seconds.expect("checked by check_method");
    let o = objective_node(spec, i);
    let line = line_of(o, "timeSliceWindow");
    if lookback > retention_seconds(slice) {
        let fits = [300, 3600]
            .into_iter()
            .find(|s| lookback <= retention_seconds(*s))
            .map_or("none fits".to_string(), duration::label);
        ctx.report(
            at.file,
            line,
            &join(&objective_path(i), "timeSliceWindow"),
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

/// Whether the indicator reads a Metrics Insights query.
fn ind_insights(ind: &Indicator) -> bool {
    match ind {
        Indicator::Ratio {
            numerator, total, ..
        } => numerator.is_insights() || total.is_insights(),
        Indicator::Threshold { metric } | Indicator::Raw { metric, .. } => metric.is_insights(),
        Indicator::Composite(_) => ind.metric_specs().iter().any(|m| m.is_insights()),
    }
}
