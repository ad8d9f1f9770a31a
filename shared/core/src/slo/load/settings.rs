//! sloguard's own settings, given as `sloguard.dev/` annotations on SLOs and AlertConditions.
//! Other annotations are kept as they are and passed on with the SLO.

use std::collections::BTreeMap;

use chrono::DateTime;

use crate::slo::duration::{self, Duration};
use crate::slo::model::{Settings, Severity};
use crate::slo::yaml::Node;

use super::diag::{join, opt, truncate, unsafe_text, At, Ctx};
use super::ANNOTATION_PREFIX;

const SLO_ANNOTATIONS: [&str; 8] = [
    "alarms",
    "runbook",
    "min-events",
    "exclusions",
    "budget-alerts",
    "exhaustion-severity",
    "changes",
    "changes-lookback",
];
const CONDITION_ANNOTATIONS: [&str; 2] = ["short-window", "severity"];

/// The settings among the annotations of an SLO's `metadata`, and the other annotations.
pub(super) fn read_settings(
    ctx: &mut Ctx,
    at: At,
    meta: &Node,
) -> (Option<Settings>, BTreeMap<String, String>) {
    let mut settings = Settings::default();
    let mut others = BTreeMap::new();
    let mut ok = true;
    for (key, value, line) in annotations(ctx, at, meta, "metadata.annotations") {
        let path = format!("metadata.annotations.{key}");
        let Some(k) = key.strip_prefix(ANNOTATION_PREFIX) else {
            others.insert(key, value);
            continue;
        };
        let mut bad = |ctx: &mut Ctx, msg: String| {
            ctx.report(at.file, line, &path, msg);
            ok = false;
        };
        match k {
            "alarms" => {
                for a in value.split(',').map(str::trim) {
                    if a.is_empty() || a.len() > 255 || a.chars().any(|c| c.is_control()) {
                        bad(ctx, format!("`{}` is not an alarm name or ARN (1 to 255 printable characters, comma-separated)", truncate(a, 60)));
                    } else if a.starts_with("arn:") && !a.starts_with("arn:aws") {
                        bad(
                            ctx,
                            format!("`{}` is not a CloudWatch alarm ARN", truncate(a, 60)),
                        );
                    } else {
                        settings.alarms.push(a.to_string());
                    }
                }
            }
            "runbook" => match check_url(&value) {
                Ok(()) => settings.runbook = Some(value),
                Err(m) => bad(ctx, m),
            },
            "min-events" => match value.trim().parse::<u64>() {
                Ok(n) => settings.min_events = n,
                Err(_) => bad(
                    ctx,
                    format!("`{}` is not a whole number of events", truncate(&value, 40)),
                ),
            },
            "exclusions" => match parse_exclusions(&value) {
                Ok(x) => settings.exclusions = x,
                Err(m) => bad(ctx, m),
            },
            "budget-alerts" => match parse_budget_alerts(&value) {
                Ok(x) => settings.budget_alerts = x,
                Err(m) => bad(ctx, m),
            },
            "exhaustion-severity" => match value.trim() {
                "page" => settings.exhaustion_severity = Severity::Page,
                "ticket" => settings.exhaustion_severity = Severity::Ticket,
                other => bad(
                    ctx,
                    format!("`{}` is not `page` or `ticket`", truncate(other, 40)),
                ),
            },
            "changes" => {
                for t in value.split(',').filter(|t| !t.trim().is_empty()) {
                    match crate::slo::change::parse_target(t) {
                        Ok(t) if !settings.changes.contains(&t) => settings.changes.push(t),
                        Ok(_) => {}
                        Err(m) => bad(ctx, m),
                    }
                }
            }
            "changes-lookback" => match duration::parse(&value) {
                Ok(Duration::Seconds(s)) if (60..=7 * 86_400).contains(&s) => {
                    settings.changes_lookback = s
                }
                _ => bad(
                    ctx,
                    format!(
                        "`{}` is not a duration from 1m to 7d like 2h",
                        truncate(&value, 40)
                    ),
                ),
            },
            _ => bad(
                ctx,
                format!(
                    "unknown sloguard setting; SLOs accept: {}",
                    prefixed(&SLO_ANNOTATIONS)
                ),
            ),
        }
    }
    (ok.then_some(settings), others)
}

/// The short window an AlertCondition's `sloguard.dev/short-window` sets, in seconds, and the
/// severity `sloguard.dev/severity` forces, if any. A bad value is reported and leaves the default.
pub(super) fn read_condition_settings(
    ctx: &mut Ctx,
    at: At,
    meta: &Node,
    path: &str,
) -> (Option<i64>, Option<Severity>) {
    let mut short = None;
    let mut severity = None;
    let annotations_path = join(path, "metadata.annotations");
    for (key, value, line) in annotations(ctx, at, meta, &annotations_path) {
        let ap = join(&annotations_path, &key);
        let Some(k) = key.strip_prefix(ANNOTATION_PREFIX) else {
            continue;
        };
        if k == "severity" {
            match value.as_str() {
                "page" => severity = Some(Severity::Page),
                "ticket" => severity = Some(Severity::Ticket),
                _ => ctx.report(
                    at.file,
                    line,
                    &ap,
                    format!("`{}` is not page or ticket", truncate(&value, 40)),
                ),
            }
        } else if CONDITION_ANNOTATIONS.contains(&k) {
            match duration::parse(&value) {
                Ok(Duration::Seconds(s)) if s % 60 == 0 => short = Some(s),
                _ => ctx.report(
                    at.file,
                    line,
                    &ap,
                    format!(
                        "`{}` is not a whole-minute duration like 5m",
                        truncate(&value, 40)
                    ),
                ),
            }
        } else {
            ctx.report(
                at.file,
                line,
                &ap,
                format!(
                    "unknown sloguard setting; AlertConditions accept: {}",
                    prefixed(&CONDITION_ANNOTATIONS)
                ),
            );
        }
    }
    (short, severity)
}

/// `sloguard.dev/`-prefixed keys, for messages.
fn prefixed(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{ANNOTATION_PREFIX}{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `annotations` of `meta` as (key, value, line of the value).
fn annotations(ctx: &mut Ctx, at: At, meta: &Node, path: &str) -> Vec<(String, String, usize)> {
    let Some(a) = opt(meta, "annotations") else {
        return Vec::new();
    };
    let Some(entries) = a.as_map() else {
        ctx.report(
            at.file,
            a.line,
            path,
            format!("expected a mapping of strings, found {}", a.kind_name()),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let (Some(key), Some(text)) = (k.as_scalar(), v.as_scalar()) else {
            ctx.report(
                at.file,
                k.line,
                path,
                "annotation keys and values must be strings",
            );
            continue;
        };
        out.push((key.to_string(), text.to_string(), v.line));
    }
    out
}

/// Parse `50,75,100`: percentages of the error budget consumed, each announced once a period.
pub fn parse_budget_alerts(v: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.trim_end_matches('%').parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => out.push(n),
            _ => {
                return Err(format!(
                    "`{}` is not a percentage of the budget consumed (1 to 100, e.g. 50,75,100)",
                    truncate(part, 40)
                ))
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A runbook link: `https://HOST...`, one line of visible characters without quotes, angle
/// brackets or spaces, so that what a message prints under RUNBOOK is a link and nothing else.
fn check_url(u: &str) -> Result<(), String> {
    if let Some(why) = unsafe_text(u) {
        return Err(format!(
            "{why}; a runbook URL is one line of visible characters"
        ));
    }
    let shown = truncate(u, 60);
    let rest = u.strip_prefix("https://");
    if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) || u.len() > 2048 {
        return Err(format!("`{shown}` is not an https URL"));
    }
    match u
        .chars()
        .find(|&c| matches!(c, '"' | '\'' | '`' | '<' | '>') || c.is_whitespace())
    {
        Some(c) => Err(format!(
            "`{shown}` holds `{c}`; a runbook URL has no quotes, angle brackets or spaces (percent-encode them)"
        )),
        None => Ok(()),
    }
}

/// Parse `start/end,start/end` RFC 3339 ranges into sorted [start, end) epoch seconds.
pub fn parse_exclusions(v: &str) -> Result<Vec<(i64, i64)>, String> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('/').ok_or_else(|| {
            format!(
                "`{}` is not a range `start/end` of RFC 3339 times",
                truncate(part, 60)
            )
        })?;
        let parse = |s: &str| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.timestamp())
                .map_err(|_| {
                    format!(
                        "`{}` is not an RFC 3339 time like 2026-01-31T22:00:00Z",
                        truncate(s, 40)
                    )
                })
        };
        let (a, b) = (parse(a)?, parse(b)?);
        if a >= b {
            return Err(format!(
                "`{}`: the start must be before the end",
                truncate(part, 60)
            ));
        }
        out.push((a, b));
    }
    out.sort();
    Ok(out)
}

/// The SLO's team, `metadata.labels.team` (OpenSLO labels: a string, or a list of one):
/// Some(None) when there is none, None when it is invalid (reported). It becomes the SNS
/// `team` attribute, so it is a name like the SLO's.
pub(super) fn read_team(ctx: &mut Ctx, at: At, meta: &Node) -> Option<Option<String>> {
    let Some(labels) = opt(meta, "labels") else {
        return Some(None);
    };
    if labels.as_map().is_none() {
        ctx.report(
            at.file,
            labels.line,
            "metadata.labels",
            "must be a mapping of label names to values",
        );
        return None;
    }
    let Some(team) = opt(labels, "team") else {
        return Some(None);
    };
    let path = "metadata.labels.team";
    let value = match (team.as_scalar(), team.as_seq()) {
        (Some(v), _) => Some(v),
        (None, Some([one])) => one.as_scalar(),
        _ => None,
    };
    let checked = value
        .ok_or_else(|| "must be one team name".to_string())
        .and_then(|v| super::check_name(v.trim()).map(|()| v.trim().to_string()));
    match checked {
        Ok(v) => Some(Some(v)),
        Err(m) => {
            ctx.report(at.file, team.line, path, m);
            None
        }
    }
}
