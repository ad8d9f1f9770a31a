//! Indicators: an SLI's threshold or ratio metric and its CloudWatch metric source, given as
//! namespace/metricName/stat or as metric math (`json`).

use crate::slo::model::{Indicator, MetricSpec, MetricStatSpec, QuerySpec};
use crate::slo::yaml::Node;

use super::diag::{
    check_fields, each_map, expect_bool, expect_list, expect_map, expect_str, join, one_of, opt,
    opt_parse, req, req_map, req_parse, req_str, truncate, At, Blame, Ctx, OneOf,
};

const MAX_DIMENSIONS: usize = 30;

/// An SLI `spec` at `path`: exactly one of thresholdMetric and ratioMetric.
pub(super) fn read_sli_spec(ctx: &mut Ctx, at: At, spec: &Node, path: &str) -> Option<Indicator> {
    let spec = expect_map(ctx, at, spec, path)?;
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
            let metric = read_metric(ctx, at, t, &join(path, "thresholdMetric"))?;
            Some(Indicator::Threshold { metric })
        }
        OneOf::Second(r) => read_ratio(ctx, at, r, &join(path, "ratioMetric")),
    }
}

/// A `ratioMetric`: good or bad events over total events.
fn read_ratio(ctx: &mut Ctx, at: At, r: &Node, p: &str) -> Option<Indicator> {
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
        ctx.report(
            at.file,
            raw.line,
            &join(p, "raw"),
            "raw ratio metrics are not supported; use good or bad with total",
        );
        return None;
    }
    let (good, numerator) = match one_of(
        ctx,
        at,
        r,
        p,
        ["good", "bad"],
        Blame::Fields,
        "missing required field: set good or bad",
    )? {
        OneOf::First(g) => (true, read_metric(ctx, at, g, &join(p, "good"))),
        OneOf::Second(b) => (false, read_metric(ctx, at, b, &join(p, "bad"))),
    };
    let total =
        req(ctx, at, r, p, "total").and_then(|t| read_metric(ctx, at, t, &join(p, "total")));
    Some(Indicator::Ratio {
        good,
        numerator: numerator?,
        total: total?,
    })
}

/// A metric: its `metricSource`, which must be CloudWatch and given inline.
fn read_metric(ctx: &mut Ctx, at: At, node: &Node, path: &str) -> Option<MetricSpec> {
    let node = expect_map(ctx, at, node, path)?;
    check_fields(ctx, at, node, path, &["metricSource"]);
    let p = join(path, "metricSource");
    let src = req_map(ctx, at, node, path, "metricSource")?;
    check_fields(ctx, at, src, &p, &["metricSourceRef", "type", "spec"]);
    if let Some(r) = opt(src, "metricSourceRef") {
        ctx.report(
            at.file,
            r.line,
            &join(&p, "metricSourceRef"),
            "DataSource references are not supported; write `type: CloudWatch` and its spec inline",
        );
        return None;
    }
    req_parse(ctx, at, src, &p, "type", |ty| {
        if ty.eq_ignore_ascii_case("cloudwatch") {
            Ok(())
        } else {
            Err(format!(
                "sloguard reads CloudWatch metrics only; type `{}` is not supported",
                truncate(ty, 40)
            ))
        }
    })?;
    let sp = join(&p, "spec");
    let spec = req_map(ctx, at, src, &p, "spec")?;
    read_cloudwatch_spec(ctx, at, spec, &sp)
}

/// The `spec` of a CloudWatch metric source at `sp`.
fn read_cloudwatch_spec(ctx: &mut Ctx, at: At, spec: &Node, sp: &str) -> Option<MetricSpec> {
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
    let region = req_parse(ctx, at, spec, sp, "region", |r| {
        if valid_region(r) {
            Ok(r.to_string())
        } else {
            Err(format!(
                "`{}` is not an AWS region like us-east-1",
                truncate(r, 40)
            ))
        }
    });
    if let Some(sql) = opt(spec, "sql") {
        ctx.report(
            at.file,
            sql.line,
            &join(sp, "sql"),
            "CloudWatch Metrics Insights (sql) is not supported yet; use namespace/metricName/stat or json",
        );
        return None;
    }
    if let Some(json) = opt(spec, "json") {
        for k in ["namespace", "metricName", "stat", "dimensions", "accountId"] {
            if let Some(n) = opt(spec, k) {
                ctx.report(
                    at.file,
                    n.line,
                    &join(sp, k),
                    "not allowed together with json; put it inside the json queries",
                );
            }
        }
        let jp = join(sp, "json");
        let text = expect_str(ctx, at, json, &jp)?;
        let queries = match parse_queries_json(text) {
            Ok(q) => q,
            Err(msg) => {
                ctx.report(at.file, json.line, &jp, msg);
                return None;
            }
        };
        return Some(MetricSpec::Queries {
            region: region?,
            queries,
        });
    }
    let namespace = req_str(ctx, at, spec, sp, "namespace").map(str::to_string);
    let metric_name = req_str(ctx, at, spec, sp, "metricName").map(str::to_string);
    let stat = req_parse(ctx, at, spec, sp, "stat", |s| {
        check_stat(s).map(|()| s.to_string())
    });
    // A bad account id is reported, but does not stop the metric from being read.
    let account_id = opt_parse(ctx, at, spec, sp, "accountId", |a| {
        if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
            Ok(a.to_string())
        } else {
            Err("must be a 12-digit AWS account id".to_string())
        }
    });
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
            req_str(ctx, at, item, ip, "name"),
            req_str(ctx, at, item, ip, "value"),
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

fn check_stat(s: &str) -> Result<(), String> {
    const NAMED: [&str; 6] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"];
    let extended = [
        "p", "tm", "wm", "tc", "ts", "pr", "TM", "WM", "TC", "TS", "PR",
    ]
    .iter()
    .any(|pre| {
        s.strip_prefix(pre).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_digit() || b == b'(')
        })
    });
    if NAMED.contains(&s) || extended {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a CloudWatch statistic; use Sum, SampleCount, Average, Minimum, Maximum or a percentile like p99",
            truncate(s, 40)
        ))
    }
}

/// Parse the Nobl9 `json` spec: a list of MetricDataQuery objects, exactly one returning data.
pub fn parse_queries_json(text: &str) -> Result<Vec<QuerySpec>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("json is not valid JSON: {e}"))?;
    let items = v
        .as_array()
        .ok_or("json must be a list of MetricDataQuery objects")?;
    if items.is_empty() || items.len() > 50 {
        return Err(format!(
            "json must hold 1 to 50 queries, found {}",
            items.len()
        ));
    }
    let mut out = Vec::new();
    for (i, q) in items.iter().enumerate() {
        let obj = q
            .as_object()
            .ok_or(format!("json[{i}] must be an object"))?;
        for k in obj.keys() {
            if ![
                "Id",
                "Expression",
                "MetricStat",
                "ReturnData",
                "AccountId",
                "Label",
                "Period",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("json[{i}].{k}: unknown MetricDataQuery field"));
            }
        }
        let id = obj
            .get("Id")
            .and_then(|x| x.as_str())
            .ok_or(format!("json[{i}].Id: missing or not a string"))?;
        let id_ok = id.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && id.len() <= 255;
        if !id_ok {
            return Err(format!("json[{i}].Id: `{}` must start with a lowercase letter and hold only letters, digits and _", truncate(id, 40)));
        }
        if out.iter().any(|o: &QuerySpec| o.id == id) {
            return Err(format!("json[{i}].Id: `{id}` is used twice"));
        }
        let return_data = match obj.get("ReturnData") {
            None => true,
            Some(b) => b
                .as_bool()
                .ok_or(format!("json[{i}].ReturnData: expected true or false"))?,
        };
        let account_id = obj
            .get("AccountId")
            .and_then(|x| x.as_str())
            .map(str::to_string);
        let expression = obj
            .get("Expression")
            .map(|e| {
                e.as_str()
                    .map(str::to_string)
                    .ok_or(format!("json[{i}].Expression: expected a string"))
            })
            .transpose()?;
        let metric = match obj.get("MetricStat") {
            None => None,
            Some(ms) => Some(parse_metric_stat(i, ms)?),
        };
        match (&expression, &metric) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(format!(
                    "json[{i}]: set exactly one of Expression and MetricStat"
                ));
            }
            _ => {}
        }
        out.push(QuerySpec {
            id: id.to_string(),
            return_data,
            expression,
            metric,
            account_id,
        });
    }
    let returning = out.iter().filter(|q| q.return_data).count();
    if returning != 1 {
        return Err(format!(
            "exactly one query must return data (ReturnData true or absent); found {returning}: set \"ReturnData\": false on the helpers"
        ));
    }
    Ok(out)
}

/// The `MetricStat` of query `i` of a `json` spec.
fn parse_metric_stat(i: usize, ms: &serde_json::Value) -> Result<MetricStatSpec, String> {
    let m = ms
        .get("Metric")
        .ok_or(format!("json[{i}].MetricStat.Metric: missing"))?;
    let s = |o: &serde_json::Value, k: &str, p: &str| -> Result<String, String> {
        o.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or(format!("json[{i}].{p}{k}: missing or not a string"))
    };
    let namespace = s(m, "Namespace", "MetricStat.Metric.")?;
    let metric_name = s(m, "MetricName", "MetricStat.Metric.")?;
    let stat = s(ms, "Stat", "MetricStat.")?;
    check_stat(&stat).map_err(|e| format!("json[{i}].MetricStat.Stat: {e}"))?;
    let mut dimensions = Vec::new();
    if let Some(ds) = m.get("Dimensions") {
        let ds = ds.as_array().ok_or(format!(
            "json[{i}].MetricStat.Metric.Dimensions: expected a list"
        ))?;
        if ds.len() > MAX_DIMENSIONS {
            return Err(format!(
                "json[{i}].MetricStat.Metric.Dimensions: at most {MAX_DIMENSIONS}"
            ));
        }
        for d in ds {
            dimensions.push((
                s(d, "Name", "MetricStat.Metric.Dimensions[].")?,
                s(d, "Value", "MetricStat.Metric.Dimensions[].")?,
            ));
        }
    }
    dimensions.sort();
    Ok(MetricStatSpec {
        namespace,
        metric_name,
        stat,
        dimensions,
    })
}
