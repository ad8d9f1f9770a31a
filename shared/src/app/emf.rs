//! CloudWatch embedded metric format: metrics written as log lines, so the
//! evaluator publishes its health and every SLO's budget with no extra API call.

use serde_json::{json, Map, Value};

use super::cycle::CycleReport;

/// Namespace of every sloguard metric.
pub const NAMESPACE: &str = "sloguard";

fn envelope(timestamp_ms: i64, dimension: &str, metrics: &[(&str, &str)]) -> Value {
    json!({"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{
        "Namespace": NAMESPACE,
        "Dimensions": [[dimension]],
        "Metrics": metrics.iter().map(|(n, u)| json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
    }]}})
}

/// EMF lines for one completed cycle: the health line (feeds the dead man's switch)
/// and one line per evaluated SLO (budget, attainment, burn rate per window).
pub fn cycle_lines(function: &str, report: &CycleReport, timestamp_ms: i64) -> Vec<String> {
    let mut health = envelope(
        timestamp_ms,
        "Function",
        &[
            ("CyclesCompleted", "Count"),
            ("SlosEvaluated", "Count"),
            ("SlosFailed", "Count"),
            ("NotificationsSent", "Count"),
        ],
    );
    health["Function"] = json!(function);
    health["CyclesCompleted"] = json!(1);
    health["SlosEvaluated"] = json!(report.evaluated);
    health["SlosFailed"] = json!(report.failed);
    health["NotificationsSent"] = json!(report.notifications_sent);
    let mut lines = vec![health.to_string()];
    for o in &report.slos {
        let Some(s) = &o.snapshot else { continue };
        let mut values: Vec<(String, f64)> = Vec::new();
        if let Some(b) = s.budget_remaining {
            values.push(("BudgetRemaining".into(), b));
        }
        if let Some(a) = s.attainment {
            values.push(("Attainment".into(), a));
        }
        for (label, rate) in &s.burn_rates {
            if let Some(r) = rate {
                values.push((format!("BurnRate{label}"), *r));
            }
        }
        if values.is_empty() {
            continue;
        }
        let names: Vec<(&str, &str)> = values.iter().map(|(n, _)| (n.as_str(), "None")).collect();
        let mut line = envelope(timestamp_ms, "SLO", &names);
        let obj: &mut Map<String, Value> = line.as_object_mut().expect("envelope is an object");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cycle::SloOutcome;
    use crate::app::Snapshot;

    #[test]
    fn health_and_slo_lines_are_valid_emf() {
        let snap: Snapshot = serde_json::from_value(json!({
            "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
            "evaluated_at": "2026-11-25T12:00:00Z", "status": "breaching", "attainment": 0.998,
            "budget_remaining": 0.4, "burn_rates": {"1h": 20.0, "5m": null}, "exhausts_at": null,
            "good": 998.0, "total": 1000.0, "conditions": []
        }))
        .unwrap();
        let report = CycleReport {
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
        };
        let lines = cycle_lines("slo-evaluator", &report, 1_795_608_000_000);
        assert_eq!(lines.len(), 2);
        let health: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(health["CyclesCompleted"], 1);
        assert_eq!(
            health["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "sloguard"
        );
        assert_eq!(
            health["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Function"
        );
        let slo: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(slo["SLO"], "checkout");
        assert_eq!(slo["BudgetRemaining"], 0.4);
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
        // every declared metric has a value in the line
        for n in names {
            assert!(slo.get(n).is_some(), "{n}");
        }
    }
}
