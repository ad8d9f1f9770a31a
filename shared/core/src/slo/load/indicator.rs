//! Indicators: an SLI's threshold or ratio metric and its CloudWatch metric source, given as
//! namespace/metricName/stat or as metric math (`json`).

use std::collections::HashMap;

use crate::slo::model::{Indicator, MetricSpec, QuerySpec};
use crate::slo::yaml::{Node, Value};

use super::datasource::DataSource;
use super::document::resolve;
use super::metric_math::{check_stat, node_to_json, parse_queries_json, parse_queries_value};

use super::diag::{
    check_fields, each_map, expect_bool, expect_list, expect_map, expect_str, field, join, one_of,
    opt, parsed, req, truncate, At, Blame, Ctx,
    Need::{Optional, Required},
    OneOf,
};

/// Most dimensions a CloudWatch metric has.
pub(super) const MAX_DIMENSIONS: usize = 30;

/// DataSources by name, for `metricSourceRef`.
pub(super) type Sources = HashMap<String, Option<DataSource>>;

/// An SLI `spec` at `path`: exactly one of thresholdMetric and ratioMetric.
pub(super) fn read_sli_spec(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    path: &str,
    sources: &Sources,
) -> Option<Indicator> {
    let spec = expect_map(ctx, at, spec, path)?;
    super::diag::check_description(ctx, at, spec, path);
    check_fields(
        ctx,
        at,
        spec,
        path,
        &["description", "thresholdMetric", "ratioMetric"],
    );
    match one_of(
        ctx,
        at,
        spec,
        path,
        ["thresholdMetric", "ratioMetric"],
        Blame::Mapping,
        "missing indicator: set thresholdMetric or ratioMetric",
    )? {
        OneOf::First(t) => {
            let metric = read_metric(ctx, at, t, &join(path, "thresholdMetric"), sources)?;
            Some(Indicator::Threshold { metric })
        }
        OneOf::Second(r) => read_ratio(ctx, at, r, &join(path, "ratioMetric"), sources),
    }
}

/// A `ratioMetric`: good or bad events over total events, or a `raw` ratio series.
fn read_ratio(ctx: &mut Ctx, at: At, r: &Node, p: &str, sources: &Sources) -> Option<Indicator> {
    let r = expect_map(ctx, at, r, p)?;
    check_fields(
        ctx,
        at,
        r,
        p,
        &["counter", "good", "bad", "total", "rawType", "raw"],
    );
    if let Some(c) = opt(r, "counter") {
        // Sum per period is already an increment, so counter true/false read alike.
        expect_bool(ctx, at, c, &join(p, "counter"));
    }
    if let Some(raw) = opt(r, "raw") {
        for k in ["good", "bad", "total"] {
            if let Some(n) = opt(r, k) {
                ctx.report(
                    at.file,
                    n.line,
                    &join(p, k),
                    "not allowed together with raw: a raw metric is the ratio itself",
                );
            }
        }
        let success = field(
            ctx,
            at,
            r,
            p,
            "rawType",
            Required,
            parsed(|t| match t {
                "success" => Ok(true),
                "failure" => Ok(false),
                _ => Err(format!(
                    "unknown rawType `{}`; use success (the series is the good share) or failure",
                    truncate(t, 40)
                )),
            }),
        );
        let metric = read_metric(ctx, at, raw, &join(p, "raw"), sources);
        return Some(Indicator::Raw {
            success: success?,
            metric: metric?,
        });
    }
    if let Some(t) = opt(r, "rawType") {
        ctx.report(
            at.file,
            t.line,
            &join(p, "rawType"),
            "applies to a raw metric only; drop it or give raw",
        );
    }
    let (good, numerator) = match one_of(
        ctx,
        at,
        r,
        p,
        ["good", "bad"],
        Blame::Fields,
        "missing required field: set good or bad (or raw with rawType)",
    )? {
        OneOf::First(g) => (true, read_metric(ctx, at, g, &join(p, "good"), sources)),
        OneOf::Second(b) => (false, read_metric(ctx, at, b, &join(p, "bad"), sources)),
    };
    let total = req(ctx, at, r, p, "total")
        .and_then(|t| read_metric(ctx, at, t, &join(p, "total"), sources));
    Some(Indicator::Ratio {
        good,
        numerator: numerator?,
        total: total?,
    })
}

/// A metric: its `metricSource`, CloudWatch, inline or through a DataSource (`metricSourceRef`).
fn read_metric(
    ctx: &mut Ctx,
    at: At,
    node: &Node,
    path: &str,
    sources: &Sources,
) -> Option<MetricSpec> {
    if at.version == super::version::Version::V2alpha {
        return super::v2alpha::read_metric(ctx, at, node, path, sources);
    }
    let node = expect_map(ctx, at, node, path)?;
    check_fields(ctx, at, node, path, &["metricSource"]);
    let p = join(path, "metricSource");
    let src = field(ctx, at, node, path, "metricSource", Required, expect_map)?;
    check_fields(ctx, at, src, &p, &["metricSourceRef", "type", "spec"]);
    let source = match opt(src, "metricSourceRef") {
        None => None,
        Some(r) => Some(resolve(
            ctx,
            at,
            sources,
            "DataSource",
            r,
            &join(&p, "metricSourceRef"),
        )?),
    };
    // The type may be left out when the DataSource gives it (it is CloudWatch: checked there).
    let type_ok = match (opt(src, "type"), &source) {
        (None, Some(_)) => true,
        _ => field(
            ctx,
            at,
            src,
            &p,
            "type",
            Required,
            parsed(|ty| {
                if ty.eq_ignore_ascii_case("cloudwatch") {
                    Ok(())
                } else {
                    Err(format!(
                        "sloguard reads CloudWatch metrics only; type `{}` is not supported",
                        truncate(ty, 40)
                    ))
                }
            }),
        )
        .is_some(),
    };
    let sp = join(&p, "spec");
    let spec = field(ctx, at, src, &p, "spec", Required, expect_map)?;
    let metric = read_cloudwatch_spec(ctx, at, spec, &sp, source.as_ref())?;
    type_ok.then_some(metric)
}

/// The `spec` of a CloudWatch metric source at `sp`; a DataSource fills in region and account.
pub(super) fn read_cloudwatch_spec(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    sp: &str,
    source: Option<&DataSource>,
) -> Option<MetricSpec> {
    check_fields(
        ctx,
        at,
        spec,
        sp,
        &[
            "region",
            "namespace",
            "metricName",
            "stat",
            "dimensions",
            "accountId",
            "json",
            "sql",
        ],
    );
    let inherited = source.and_then(|s| s.region.clone());
    let region = match (opt(spec, "region"), inherited) {
        (None, Some(r)) => Some(r),
        _ => field(ctx, at, spec, sp, "region", Required, parsed(region)),
    };
    for (k, n) in ["sql", "json"]
        .iter()
        .filter_map(|k| opt(spec, k).map(|n| (*k, n)))
    {
        for other in ["namespace", "metricName", "stat", "dimensions"] {
            if let Some(o) = opt(spec, other) {
                ctx.report(
                    at.file,
                    o.line,
                    &join(sp, other),
                    format!("not allowed together with {k}; put it inside the {k} query"),
                );
            }
        }
        if k == "json" && opt(spec, "sql").is_some() {
            ctx.report(
                at.file,
                n.line,
                &join(sp, k),
                "set one of json and sql, not both",
            );
            return None;
        }
    }
    let account_of_source = source.and_then(|s| s.account_id.clone());
    if let Some(sql) = opt(spec, "sql") {
        let qp = join(sp, "sql");
        let text = expect_str(ctx, at, sql, &qp)?;
        let account_id = read_account_id(ctx, at, spec, sp).or(account_of_source);
        return match check_insights(text) {
            Ok(()) => Some(MetricSpec::Queries {
                region: region?,
                queries: vec![QuerySpec {
                    id: "q".to_string(),
                    return_data: true,
                    expression: Some(text.trim().to_string()),
                    metric: None,
                    account_id,
                }],
            }),
            Err(msg) => {
                ctx.report(at.file, sql.line, &qp, msg);
                None
            }
        };
    }
    if let Some(json) = opt(spec, "json") {
        if let Some(n) = opt(spec, "accountId") {
            ctx.report(
                at.file,
                n.line,
                &join(sp, "accountId"),
                "not allowed together with json; put AccountId inside the json queries",
            );
        }
        let jp = join(sp, "json");
        // Written as a JSON string (Nobl9's form), or as a YAML list of the same objects.
        let parsed = match &json.value {
            Value::Seq(_) => parse_queries_value(&node_to_json(json)),
            _ => parse_queries_json(expect_str(ctx, at, json, &jp)?),
        };
        let mut queries = match parsed {
            Ok(q) => q,
            Err(msg) => {
                ctx.report(at.file, json.line, &jp, msg);
                return None;
            }
        };
        if let Some(acct) = account_of_source {
            for q in queries.iter_mut().filter(|q| q.account_id.is_none()) {
                q.account_id = Some(acct.clone());
            }
        }
        return Some(MetricSpec::Queries {
            region: region?,
            queries,
        });
    }
    let namespace = field(ctx, at, spec, sp, "namespace", Required, expect_str).map(str::to_string);
    let metric_name =
        field(ctx, at, spec, sp, "metricName", Required, expect_str).map(str::to_string);
    let stat = field(
        ctx,
        at,
        spec,
        sp,
        "stat",
        Required,
        parsed(|s| check_stat(s).map(|()| s.to_string())),
    );
    let account_id = read_account_id(ctx, at, spec, sp).or(account_of_source);
    let dimensions = match opt(spec, "dimensions") {
        None => Some(Vec::new()),
        Some(d) => read_dimensions(ctx, at, d, &join(sp, "dimensions")),
    };
    Some(MetricSpec::Metric {
        region: region?,
        account_id,
        namespace: namespace?,
        metric_name: metric_name?,
        stat: stat?,
        dimensions: dimensions?,
    })
}

/// `accountId` of a metric spec; a bad one is reported, but does not stop the metric being read.
fn read_account_id(ctx: &mut Ctx, at: At, spec: &Node, sp: &str) -> Option<String> {
    field(ctx, at, spec, sp, "accountId", Optional, parsed(account_id))
}

/// `a` if it is an AWS account id; both metric specs and DataSources read one.
pub(super) fn account_id(a: &str) -> Result<String, String> {
    if valid_account_id(a) {
        Ok(a.to_string())
    } else {
        Err("must be a 12-digit AWS account id".to_string())
    }
}

/// `r` if it names an AWS region; both metric specs and DataSources read one.
pub(super) fn region(r: &str) -> Result<String, String> {
    if valid_region(r) {
        Ok(r.to_string())
    } else {
        Err(format!(
            "`{}` is not an AWS region like us-east-1",
            truncate(r, 40)
        ))
    }
}

/// A 12-digit AWS account id.
fn valid_account_id(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// A Metrics Insights query sloguard can evaluate: one SELECT of one aggregate, small enough.
fn check_insights(sql: &str) -> Result<(), String> {
    let upper = sql.trim().to_ascii_uppercase();
    if !upper.starts_with("SELECT ") || !upper.contains(" FROM ") {
        return Err("a Metrics Insights query starts with SELECT and has a FROM clause, e.g. SELECT SUM(Errors) FROM SCHEMA(\"AWS/Lambda\", FunctionName) WHERE FunctionName = 'checkout'".to_string());
    }
    if sql.len() > 2_000 {
        return Err(format!(
            "the query is {} characters; CloudWatch allows at most 2,000",
            sql.len()
        ));
    }
    Ok(())
}

/// A list of `{name, value}` dimensions, sorted by name, each name once.
fn read_dimensions(ctx: &mut Ctx, at: At, d: &Node, path: &str) -> Option<Vec<(String, String)>> {
    let items = expect_list(ctx, at, d, path, "a list of {name, value}")?;
    if items.len() > MAX_DIMENSIONS {
        ctx.report(
            at.file,
            d.line,
            path,
            format!(
                "{} dimensions; CloudWatch allows at most {MAX_DIMENSIONS}",
                items.len()
            ),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = each_map(ctx, at, items, path, |ctx, ip, item| {
        check_fields(ctx, at, item, ip, &["name", "value"]);
        match (
            field(ctx, at, item, ip, "name", Required, expect_str),
            field(ctx, at, item, ip, "value", Required, expect_str),
        ) {
            (Some(n), Some(v)) => {
                out.push((n.to_string(), v.to_string()));
                true
            }
            _ => false,
        }
    });
    out.sort();
    for w in out.windows(2) {
        if w[0].0 == w[1].0 {
            ctx.report(
                at.file,
                d.line,
                path,
                format!("dimension `{}` is given twice", w[0].0),
            );
            ok = false;
        }
    }
    ok.then_some(out)
}

/// An AWS region name like us-east-1.
fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}
