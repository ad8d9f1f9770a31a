//! Alerting: AlertConditions (burn-rate conditions), AlertPolicies that group them, and an
//! SLO's `alertPolicies`, whether referenced by name or written inline.

use std::collections::HashMap;

use crate::slo::model::{BurnRateCondition, Severity};
use crate::slo::yaml::Node;

use super::diag::{
    check_description, check_fields, each_map, expect_bool, expect_f64, expect_list, expect_map,
    expect_minutes, expect_str, field, join, line_of, opt, parse_op, parsed, req, truncate, At,
    Ctx,
    Need::{Optional, Required},
};
use super::document::{read_metadata_name, resolve, Refs};
use super::service::{read_target, Targets};
use super::settings::read_condition_settings;

/// An AlertCondition document, or an inline condition, at `path`.
pub(super) fn read_condition(
    ctx: &mut Ctx,
    at: At,
    doc: &Node,
    path: &str,
) -> Option<BurnRateCondition> {
    let name = header_name(ctx, at, doc, path)?;
    let meta = doc.get("metadata").expect("name was read");
    let (short_override, severity_override) = read_condition_settings(ctx, at, meta, path);
    let (spec, sp) = read_spec(
        ctx,
        at,
        doc,
        path,
        &["description", "severity", "condition"],
    )?;
    let label = field(ctx, at, spec, &sp, "severity", Required, expect_str).map(str::to_string);
    let severity = label
        .as_deref()
        .map(|l| severity_override.unwrap_or_else(|| severity_of(l)));
    let cp = join(&sp, "condition");
    let cond = field(ctx, at, spec, &sp, "condition", Required, expect_map)?;
    check_fields(
        ctx,
        at,
        cond,
        &cp,
        &["kind", "op", "threshold", "lookbackWindow", "alertAfter"],
    );
    let kind_ok = field(
        ctx,
        at,
        cond,
        &cp,
        "kind",
        Required,
        parsed(|k| {
            if k == "burnrate" {
                Ok(())
            } else {
                Err(format!(
                    "unknown condition kind `{}`; sloguard evaluates `burnrate`",
                    truncate(k, 40)
                ))
            }
        }),
    )
    .is_some();
    let op = field(ctx, at, cond, &cp, "op", Required, parsed(parse_op));
    let threshold = req(ctx, at, cond, &cp, "threshold").and_then(|n| {
        let v = expect_f64(ctx, at, n, &join(&cp, "threshold"))?;
        if v > 0.0 {
            Some(v)
        } else {
            ctx.report(
                at.file,
                n.line,
                &join(&cp, "threshold"),
                "a burn-rate threshold must be greater than 0",
            );
            None
        }
    });
    let long = req(ctx, at, cond, &cp, "lookbackWindow")
        .and_then(|n| expect_minutes(ctx, at, n, &join(&cp, "lookbackWindow")));
    let alert_after = match opt(cond, "alertAfter") {
        None => Some(0),
        Some(n)
            if n.as_scalar().is_some_and(|s| {
                s.trim_end_matches(['s', 'm', 'h'])
                    .bytes()
                    .all(|b| b == b'0')
            }) =>
        {
            Some(0)
        }
        Some(n) => expect_minutes(ctx, at, n, &join(&cp, "alertAfter")),
    };
    let long = long?;
    let short = short_override.unwrap_or_else(|| (long / 12 / 60).max(1) * 60);
    if short > long {
        ctx.report(
            at.file,
            meta.line,
            &join(path, "metadata.annotations"),
            "sloguard.dev/short-window must not be longer than lookbackWindow",
        );
        return None;
    }
    if !kind_ok {
        return None;
    }
    let label = label.filter(|l| !matches!(l.as_str(), "page" | "ticket"));
    Some(BurnRateCondition {
        name,
        severity: severity?,
        severity_label: label,
        op: op?,
        threshold: threshold?,
        long_seconds: long,
        short_seconds: short,
        alert_after_seconds: alert_after?,
    })
}

/// Words of severities that mean "look at it today", not "wake someone up".
const TICKET_WORDS: [&str; 12] = [
    "ticket", "warn", "low", "minor", "medium", "moderate", "info", "notice", "sev3", "sev4",
    "sev5", "p3",
];

/// The page-or-ticket reading of any severity word (`sev1`, `critical`, `High`, `warning`):
/// a page unless it reads like a ticket, a warning or a low severity (`sloguard.dev/severity`
/// on the AlertCondition overrides it).
pub fn severity_of(word: &str) -> Severity {
    let w = word.to_ascii_lowercase().replace([' ', '-', '_'], "");
    let ticket = TICKET_WORDS.iter().any(|t| w.contains(t))
        || matches!(w.as_str(), "p4" | "p5" | "3" | "4" | "5");
    if ticket {
        Severity::Ticket
    } else {
        Severity::Page
    }
}

/// What an AlertPolicy brings an SLO: its conditions, and the SNS topics its
/// notification targets route to.
#[derive(Debug, Clone, Default)]
pub(super) struct Policy {
    pub(super) conditions: Vec<BurnRateCondition>,
    pub(super) topics: Vec<String>,
}

/// An AlertPolicy document, or an inline policy, at `path`: its conditions, by reference or
/// inline, and the topics of its notification targets.
pub(super) fn read_policy(
    ctx: &mut Ctx,
    at: At,
    doc: &Node,
    path: &str,
    conditions: &HashMap<String, Option<BurnRateCondition>>,
    targets: &Targets,
) -> Option<Policy> {
    header_name(ctx, at, doc, path)?;
    let allowed = [
        "description",
        "alertWhenNoData",
        "alertWhenResolved",
        "alertWhenBreaching",
        "conditions",
        "notificationTargets",
    ];
    let (spec, sp) = read_spec(ctx, at, doc, path, &allowed)?;
    for k in ["alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"] {
        if let Some(n) = opt(spec, k) {
            expect_bool(ctx, at, n, &join(&sp, k));
        }
    }
    let topics = match opt(spec, "notificationTargets") {
        Some(list) => read_targets(ctx, at, list, &join(&sp, "notificationTargets"), targets),
        None => Vec::new(),
    };
    let cp = join(&sp, "conditions");
    let list = req(ctx, at, spec, &sp, "conditions")?;
    let items = expect_list(ctx, at, list, &cp, "a list")?;
    if items.is_empty() {
        ctx.report(
            at.file,
            list.line,
            &cp,
            "an alert policy needs at least one condition",
        );
        return None;
    }
    let mut out = Vec::new();
    let ok = each_map(ctx, at, items, &cp, |ctx, ip, item| {
        let inline = |ctx: &mut Ctx| {
            if let Some(k) = field(ctx, at, item, ip, "kind", Optional, expect_str) {
                if k != "AlertCondition" {
                    ctx.report(
                        at.file,
                        line_of(item, "kind"),
                        &join(ip, "kind"),
                        "an inline condition must have kind AlertCondition",
                    );
                    return None;
                }
            }
            read_condition(ctx, at, item, ip)
        };
        let entry = Entry {
            item,
            ip,
            ref_key: "conditionRef",
            kind: "AlertCondition",
        };
        let condition = ref_or_inline(ctx, at, entry, conditions, inline);
        condition.map(|c| out.push(c)).is_some()
    });
    ok.then_some(Policy {
        conditions: out,
        topics,
    })
}

/// A policy's `notificationTargets`: each a `targetRef` to an AlertNotificationTarget, or one
/// inline. Returns the SNS topics among them, each once; other targets are documentation.
fn read_targets(ctx: &mut Ctx, at: At, list: &Node, path: &str, targets: &Targets) -> Vec<String> {
    let mut topics: Vec<String> = Vec::new();
    let Some(items) = expect_list(ctx, at, list, path, "a list") else {
        return topics;
    };
    each_map(ctx, at, items, path, |ctx, ip, item| {
        let inline = |ctx: &mut Ctx| {
            let named = read_metadata_name(ctx, at, item, ip).is_some();
            let spec = field(ctx, at, item, ip, "spec", Required, expect_map);
            let target = spec.and_then(|s| read_target(ctx, at, s, &join(ip, "spec")));
            target.filter(|_| named)
        };
        let entry = Entry {
            item,
            ip,
            ref_key: "targetRef",
            kind: "AlertNotificationTarget",
        };
        match ref_or_inline(ctx, at, entry, targets, inline) {
            Some(Some(topic)) => {
                if !topics.contains(&topic) {
                    topics.push(topic);
                }
                true
            }
            Some(None) => true,
            None => false,
        }
    });
    topics
}

/// The `spec` of a condition or policy at `path`, with its path, its fields checked against
/// `allowed` and its description checked.
fn read_spec<'n>(
    ctx: &mut Ctx,
    at: At,
    doc: &'n Node,
    path: &str,
    allowed: &[&str],
) -> Option<(&'n Node, String)> {
    let sp = join(path, "spec");
    let spec = field(ctx, at, doc, path, "spec", Required, expect_map)?;
    check_fields(ctx, at, spec, &sp, allowed);
    check_description(ctx, at, spec, &sp);
    Some((spec, sp))
}

/// An entry of a list of conditions, policies or targets, at `ip`: a reference by name under
/// `ref_key` to a document of `kind`, or the document inline.
#[derive(Clone, Copy)]
struct Entry<'a> {
    item: &'a Node,
    ip: &'a str,
    ref_key: &'a str,
    kind: &'a str,
}

/// The value of `entry`: its reference resolved in `table`, or its inline document read by
/// `inline`; the fields are checked for whichever of the two it is.
fn ref_or_inline<T: Clone>(
    ctx: &mut Ctx,
    at: At,
    entry: Entry,
    table: &HashMap<String, Option<T>>,
    inline: impl FnOnce(&mut Ctx) -> Option<T>,
) -> Option<T> {
    let Entry {
        item,
        ip,
        ref_key,
        kind,
    } = entry;
    if let Some(r) = item.get(ref_key) {
        check_fields(ctx, at, item, ip, &[ref_key]);
        resolve(ctx, at, table, kind, r, &join(ip, ref_key))
    } else {
        check_fields(
            ctx,
            at,
            item,
            ip,
            &["kind", "metadata", "spec", "apiVersion"],
        );
        inline(ctx)
    }
}

/// The name of a condition or policy: a document's header already checked it (so it is not
/// reported twice), an inline one is checked here.
fn header_name(ctx: &mut Ctx, at: At, doc: &Node, path: &str) -> Option<String> {
    if path.is_empty() {
        doc.get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::as_scalar)
            .map(str::to_string)
    } else {
        read_metadata_name(ctx, at, doc, path)
    }
}

/// An SLO's `alertPolicies` list: the conditions of all its policies, each name once, and
/// the topics of all their notification targets, each once.
pub(super) fn read_slo_policies(ctx: &mut Ctx, at: At, list: &Node, refs: &Refs) -> Option<Policy> {
    let p = "spec.alertPolicies";
    let items = expect_list(ctx, at, list, p, "a list")?;
    let mut out: Vec<BurnRateCondition> = Vec::new();
    let mut topics: Vec<String> = Vec::new();
    let ok = each_map(ctx, at, items, p, |ctx, ip, item| {
        let entry = Entry {
            item,
            ip,
            ref_key: "alertPolicyRef",
            kind: "AlertPolicy",
        };
        let policy = ref_or_inline(ctx, at, entry, &refs.policies, |ctx| {
            read_policy(ctx, at, item, ip, &refs.conditions, &refs.targets)
        });
        let Some(Policy {
            conditions,
            topics: policy_topics,
        }) = policy
        else {
            return false;
        };
        for t in policy_topics {
            if !topics.contains(&t) {
                topics.push(t);
            }
        }
        let mut ok = true;
        for c in conditions {
            if out.iter().any(|o| o.name == c.name) {
                ctx.report(
                    at.file,
                    item.line,
                    ip,
                    format!("condition `{}` is used twice", c.name),
                );
                ok = false;
            }
            out.push(c);
        }
        ok
    });
    if out.is_empty() && ok {
        ctx.report(
            at.file,
            list.line,
            p,
            "empty list; omit alertPolicies to use the default multiwindow policy",
        );
        return None;
    }
    ok.then_some(Policy {
        conditions: out,
        topics,
    })
}
