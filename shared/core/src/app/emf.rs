//! CloudWatch embedded metric format: metrics written as log lines, so the
//! evaluator publishes its health (and, when asked, per-SLO metrics) with no extra
//! API call.
//!
//! Health metrics carry the stack as a dimension, so two stacks in one account never keep
//! each other's dead man's switch green; shards are fields, not dimensions, so a fleet of
//! any size bills the same few health metrics. Every line says `"level": "FATAL"`: Lambda's log-level filtering drops JSON
//! lines below the configured level and reads a missing level as INFO, so a function
//! whose log level is raised to WARN or ERROR would otherwise stop its own metrics.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::cost::{CycleLog, LogFigures};
use crate::slo::snapshot::Snapshot;

use super::cycle::{CycleReport, SloOutcome};
use super::fanout::DispatchReport;

/// Namespace of every sloguard metric.
pub const NAMESPACE: &str = "sloguard";

/// Which per-SLO metrics to emit: a deployment setting the cost model prices too.
pub use crate::cost::SloMetrics;

/// Where the metrics come from: the stack becomes a dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub stack: String,
    pub slo_metrics: SloMetrics,
}

fn envelope(timestamp_ms: i64, dimensions: Value, metrics: &[(&str, &str)]) -> Value {
    json!({"level": "FATAL", "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive(dimensions, metrics)]}})
}

fn directive(dimensions: Value, metrics: &[(&str, &str)]) -> Value {
    json!({
        "Namespace": NAMESPACE,
        "Dimensions": dimensions,
        "Metrics": metrics.iter().map(|(n, u)| json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
    })
}

/// EMF lines for one completed cycle (or shard): the health line and, when asked, one line
/// per evaluated SLO. Health metrics are only what the template's alarms read (each distinct
/// metric is billed): SlosFailed per stack; the line also carries the shard and the
/// evaluated and notified counts as plain fields, for Logs Insights.
pub fn cycle_lines(source: &Source, report: &CycleReport, timestamp_ms: i64) -> Vec<String> {
    let mut health = envelope(timestamp_ms, json!([["Stack"]]), &[("SlosFailed", "Count")]);
    health["Stack"] = json!(source.stack);
    health["CyclesCompleted"] = json!(1);
    health["SlosEvaluated"] = json!(report.evaluated);
    health["SlosFailed"] = json!(report.failed);
    health["NotificationsSent"] = json!(report.notifications_sent);
    let mut lines = vec![health.to_string()];
    if source.slo_metrics == SloMetrics::None {
        return lines;
    }
    for o in &report.slos {
        let Some(s) = &o.snapshot else { continue };
        let mut values: Vec<(String, f64)> = Vec::new();
        if let Some(b) = s.budget_remaining {
            values.push(("BudgetRemaining".into(), b));
        }
        if source.slo_metrics == SloMetrics::All {
            if let Some(a) = s.attainment {
                values.push(("Attainment".into(), a));
            }
            for (label, rate) in &s.burn_rates {
                if let Some(r) = rate {
                    values.push((format!("BurnRate{label}"), *r));
                }
            }
        }
        if values.is_empty() {
            continue;
        }
        let names: Vec<(&str, &str)> = values.iter().map(|(n, _)| (n.as_str(), "None")).collect();
        let mut line = envelope(timestamp_ms, json!([["Stack", "SLO"]]), &names);
        let obj: &mut Map<String, Value> = line.as_object_mut().expect("envelope is an object");
        obj.insert("Stack".into(), json!(source.stack));
        obj.insert("SLO".into(), json!(s.slo));
        obj.insert("Service".into(), json!(s.service));
        obj.insert("Status".into(), json!(s.status));
        for (n, v) in values {
            obj.insert(n, json!(v));
        }
        lines.push(line.to_string());
    }
    lines
}

/// The dispatcher's EMF line, once per schedule: ShardsMissing per stack (the dead man's
/// switch: shards the previous cycle dispatched and never completed; the only metric, as
/// each is billed), with the shards dispatched, the cycle, a skipped cycle and a repeated
/// delivery as plain fields.
pub fn dispatch_lines(stack: &str, report: &DispatchReport, timestamp_ms: i64) -> Vec<String> {
    let mut line = envelope(
        timestamp_ms,
        json!([["Stack"]]),
        &[("ShardsMissing", "Count")],
    );
    line["Stack"] = json!(stack);
    line["ShardsMissing"] = json!(report.previous_missing);
    line["ShardsDispatched"] = json!(report.dispatched);
    line["Cycle"] = json!(report.cycle);
    line["Slos"] = json!(report.slos);
    line["CycleSkipped"] = json!(u8::from(report.skipped.is_some()));
    line["Repeated"] = json!(u8::from(report.repeated));
    vec![line.to_string()]
}

/// One custom metric as CloudWatch bills it: namespace, name, dimension names and values.
pub type CustomMetric = (String, String, Vec<(String, String)>);

/// Distinct custom metrics (namespace, name, dimension names and values) in EMF lines.
pub fn distinct_emf_metrics<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<CustomMetric> {
    let mut out = BTreeSet::new();
    for line in lines {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let directives = v["_aws"]["CloudWatchMetrics"].as_array().cloned();
        for d in directives.unwrap_or_default() {
            let ns = d["Namespace"].as_str().unwrap_or_default().to_string();
            for set in d["Dimensions"].as_array().cloned().unwrap_or_default() {
                let dims: Vec<(String, String)> = set
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|n| n.as_str())
                    .map(|n| (n.to_string(), v[n].as_str().unwrap_or_default().to_string()))
                    .collect();
                for m in d["Metrics"].as_array().cloned().unwrap_or_default() {
                    let name = m["Name"].as_str().unwrap_or_default().to_string();
                    out.insert((ns.clone(), name, dims.clone()));
                }
            }
        }
    }
    out
}

/// The evaluator's EMF lines as the cost model counts them: one cycle of one shard.
pub struct EmfLog;

impl CycleLog for EmfLog {
    fn measure(
        &self,
        snapshots: &[Snapshot],
        slo_metrics: SloMetrics,
        timestamp_ms: i64,
    ) -> LogFigures {
        let report = CycleReport {
            evaluated_at: String::new(),
            slos: snapshots
                .iter()
                .map(|snap| SloOutcome {
                    slo: snap.slo.clone(),
                    status: Some(snap.status),
                    change: None,
                    notifications_sent: 0,
                    error: None,
                    notify_errors: Vec::new(),
                    snapshot: Some(snap.clone()),
                })
                .collect(),
            evaluated: snapshots.len(),
            failed: 0,
            notifications_sent: 0,
            metric_requests: 0,
        };
        let source = Source {
            stack: "sloguard".into(),
            slo_metrics,
        };
        let lines = cycle_lines(&source, &report, timestamp_ms);
        LogFigures {
            custom_metrics: distinct_emf_metrics(lines.iter().map(String::as_str)).len(),
            bytes: lines.iter().map(|l| l.len() + 1).sum(),
        }
    }

    fn dispatch(&self, timestamp_ms: i64) -> LogFigures {
        let report = DispatchReport {
            cycle: timestamp_ms / 1000,
            ..DispatchReport::default()
        };
        let lines = dispatch_lines("sloguard", &report, timestamp_ms);
        LogFigures {
            custom_metrics: distinct_emf_metrics(lines.iter().map(String::as_str)).len(),
            bytes: lines.iter().map(|l| l.len() + 1).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cycle::SloOutcome;
    use crate::slo::snapshot::Snapshot;

    fn report() -> CycleReport {
        let snap: Snapshot = serde_json::from_value(json!({
            "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
            "evaluated_at": "2026-11-25T12:00:00Z", "status": "breaching", "attainment": 0.998,
            "budget_remaining": 0.4, "burn_rates": {"1h": 20.0, "5m": null}, "exhausts_at": null,
            "good": 998.0, "total": 1000.0, "conditions": []
        }))
        .unwrap();
        CycleReport {
            evaluated_at: "2026-11-25T12:00:00Z".into(),
            slos: vec![SloOutcome {
                slo: "checkout".into(),
                status: Some(crate::slo::status::Status::Breaching),
                change: None,
                notifications_sent: 0,
                error: None,
                notify_errors: Vec::new(),
                snapshot: Some(snap),
            }],
            evaluated: 1,
            failed: 0,
            notifications_sent: 0,
            metric_requests: 2,
        }
    }

    fn source(slo_metrics: SloMetrics) -> Source {
        Source {
            stack: "prod-slos".into(),
            slo_metrics,
        }
    }

    #[test]
    fn health_lines_name_the_stack_and_survive_any_log_level() {
        let lines = cycle_lines(&source(SloMetrics::None), &report(), 1_795_608_000_000);
        assert_eq!(lines.len(), 1, "no per-SLO metrics by default");
        let health: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(
            health["level"], "FATAL",
            "never filtered by the function's log level"
        );
        assert_eq!(health["CyclesCompleted"], 1);
        assert_eq!(
            health["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "sloguard"
        );
        // only what the alarms read: failures per stack (the switch is the dispatcher's)
        let directives = &health["_aws"]["CloudWatchMetrics"];
        assert_eq!(directives.as_array().unwrap().len(), 1);
        assert_eq!(directives[0]["Dimensions"], json!([["Stack"]]));
        assert_eq!(directives[0]["Metrics"][0]["Name"], "SlosFailed");
        assert_eq!(
            distinct_emf_metrics(lines.iter().map(String::as_str)).len(),
            1
        );
        assert_eq!(health["Stack"], "prod-slos");
        // another stack's line differs in its dimension values
        let other = Source {
            stack: "staging-slos".into(),
            ..source(SloMetrics::None)
        };
        let theirs: Value = serde_json::from_str(&cycle_lines(&other, &report(), 0)[0]).unwrap();
        assert_ne!(theirs["Stack"], health["Stack"]);
    }

    #[test]
    fn the_dispatch_line_carries_the_switch_whatever_the_fleet_size() {
        let small = DispatchReport {
            cycle: 1_795_608_000,
            slos: 10,
            dispatched: 4,
            previous_missing: 1,
            ..DispatchReport::default()
        };
        let big = DispatchReport {
            slos: 100_000,
            dispatched: 100,
            previous_missing: 0,
            ..small.clone()
        };
        let metrics = |r: &DispatchReport| {
            let lines = dispatch_lines("prod-slos", r, 0);
            let v: Value = serde_json::from_str(&lines[0]).unwrap();
            (v, distinct_emf_metrics(lines.iter().map(String::as_str)))
        };
        let (line, names) = metrics(&small);
        assert_eq!(line["ShardsMissing"], 1);
        assert_eq!(line["ShardsDispatched"], 4);
        assert_eq!(line["level"], "FATAL");
        assert_eq!(
            names,
            metrics(&big).1,
            "100 shards bill the same metrics as 4"
        );
        assert_eq!(names.len(), 1);
        assert!(names.iter().all(
            |(ns, _, dims)| ns == "sloguard" && dims == &[("Stack".into(), "prod-slos".into())]
        ));
    }

    #[test]
    fn per_slo_metrics_only_when_asked() {
        let lines = cycle_lines(&source(SloMetrics::Budget), &report(), 0);
        assert_eq!(lines.len(), 2);
        let slo: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(slo["BudgetRemaining"], 0.4);
        assert!(slo.get("BurnRate1h").is_none());
        let lines = cycle_lines(&source(SloMetrics::All), &report(), 0);
        let slo: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(slo["SLO"], "checkout");
        assert_eq!(slo["BurnRate1h"], 20.0);
        assert!(
            slo.get("BurnRate5m").is_none(),
            "no data is no metric, not zero"
        );
        let names: Vec<&str> = slo["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for n in names {
            assert!(slo.get(n).is_some(), "{n}");
        }
        assert_eq!(SloMetrics::parse("budget"), Some(SloMetrics::Budget));
        assert_eq!(SloMetrics::parse("lots"), None);
    }

    #[test]
    fn emf_metrics_are_counted_by_name_and_dimensions() {
        let line = |slo: &str| {
            format!(
                r#"{{"_aws":{{"CloudWatchMetrics":[{{"Namespace":"sloguard","Dimensions":[["SLO"]],"Metrics":[{{"Name":"A"}},{{"Name":"B"}}]}}]}},"SLO":"{slo}","A":1,"B":2}}"#
            )
        };
        let (a, b) = (line("x"), line("y"));
        let lines = [a.as_str(), b.as_str(), a.as_str()];
        assert_eq!(distinct_emf_metrics(lines).len(), 4);
    }

    #[test]
    fn the_cost_model_counts_the_lines_a_cycle_prints() {
        let snapshots: Vec<Snapshot> = report()
            .slos
            .into_iter()
            .filter_map(|o| o.snapshot)
            .collect();
        let none = EmfLog.measure(&snapshots, SloMetrics::None, 0);
        let lines = cycle_lines(&source(SloMetrics::None), &report(), 0);
        assert_eq!(none.custom_metrics, 1, "failures per stack");
        // the same line but for the stack name ("sloguard" against "prod-slos")
        assert_eq!(
            none.bytes,
            lines[0].len() + 1 - "prod-slos".len() + "sloguard".len()
        );
        // SloMetrics=all: budget, attainment and the one burn rate with data, per SLO
        let all = EmfLog.measure(&snapshots, SloMetrics::All, 0);
        assert_eq!(all.custom_metrics, 1 + 3);
        assert!(all.bytes > none.bytes);
    }
}
