//! Metric math: the `json` spec of an indicator (Nobl9's form), a list of CloudWatch
//! MetricDataQuery objects given as a JSON string or as YAML, read into `QuerySpec`s
//! with exactly one query returning data; and the statistics CloudWatch accepts.

use crate::slo::model::{MetricStatSpec, QuerySpec};
use crate::slo::yaml::{Node, Value};

use super::diag::truncate;
use super::indicator::MAX_DIMENSIONS;

/// A YAML node as JSON: the `json` queries written as YAML read like the JSON string form.
pub(super) fn node_to_json(n: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &n.value {
        Value::Null => J::Null,
        Value::Scalar { text, quoted: true } => J::String(text.clone()),
        Value::Scalar { text, .. } => match text.as_str() {
            "true" | "True" | "TRUE" => J::Bool(true),
            "false" | "False" | "FALSE" => J::Bool(false),
            t => t
                .parse::<i64>()
                .map(J::from)
                .ok()
                .or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .and_then(|f| serde_json::Number::from_f64(f).map(J::Number))
                })
                .unwrap_or_else(|| J::String(t.to_string())),
        },
        Value::Seq(items) => J::Array(items.iter().map(node_to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_scalar().unwrap_or_default().to_string(),
                        node_to_json(v),
                    )
                })
                .collect(),
        ),
    }
}

/// A CloudWatch statistic: a named one or an extended one like p99, tm(10%:90%).
pub(super) fn check_stat(s: &str) -> Result<(), String> {
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
    parse_queries_value(&v)
}

/// The `json` queries once parsed, from a JSON string or a YAML list.
pub(super) fn parse_queries_value(v: &serde_json::Value) -> Result<Vec<QuerySpec>, String> {
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
            "exactly one query must return data, found {returning}: set \"ReturnData\": false on the helper queries and keep exactly one returning data (ReturnData true or absent)"
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
