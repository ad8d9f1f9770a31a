//! Inputs of the scheduled evaluator: EventBridge scheduled events and
//! EventBridge Scheduler JSON, read tolerantly, rejected with a clear reason.

use chrono::DateTime;
use serde_json::Value;
use sloguard_core::app::events::{EventError, ScheduleInput};
use sloguard_core::app::report::ReviewRequest;

/// Largest event accepted: real schedule events are a few hundred bytes.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// The review the weekly schedule asks for: `{"review": {"days": 28}}` (days default 28);
/// None when the input is not a review request (a scheduled cycle).
pub fn review_request(payload: &Value) -> Option<ReviewRequest> {
    let r = payload.get("review")?;
    Some(ReviewRequest::over(r.get("days").and_then(Value::as_i64)))
}

/// Read an EventBridge scheduled event or a Scheduler input object.
pub fn parse_schedule(v: &Value) -> Result<ScheduleInput, EventError> {
    let size = v.to_string().len();
    if size > MAX_EVENT_BYTES {
        return Err(EventError(format!(
            "payload is {size} bytes; a schedule event is at most {MAX_EVENT_BYTES}"
        )));
    }
    let obj = match v {
        Value::Object(o) => o,
        Value::Null => return Ok(ScheduleInput::default()),
        other => {
            return Err(EventError(format!(
                "expected a JSON object, found {}",
                kind(other)
            )))
        }
    };
    if let Some(dt) = obj.get("detail-type") {
        if dt.as_str() != Some("Scheduled Event") {
            return Err(EventError(format!(
                "detail-type {dt} is not `Scheduled Event`; alarm events go to slo-alarm-handler"
            )));
        }
    }
    let time = match obj.get("time") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| {
                    EventError(format!(
                        "time `{}` is not RFC 3339 (e.g. 2026-11-25T12:00:00Z)",
                        short(s)
                    ))
                })?
                .timestamp(),
        ),
        Some(other) => {
            return Err(EventError(format!(
                "time must be an RFC 3339 string, found {}",
                kind(other)
            )))
        }
    };
    let field = |name: &str| {
        obj.get(name)
            .or_else(|| obj.get("detail").and_then(|d| d.get(name)))
    };
    if let Some(name) = ["shard", "shards"].into_iter().find(|n| field(n).is_some()) {
        return Err(EventError(format!(
            "`{name}`: schedules no longer name shards; the stack's dispatcher (slo-dispatcher) cuts the fleet and queues each shard (see docs/deploying.md, \"How the stack scales\")"
        )));
    }
    let slo = match field("slo") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(EventError(format!(
                "slo must be a string, found {}",
                kind(other)
            )))
        }
    };
    Ok(ScheduleInput { time, slo })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_review_schedule_input_is_recognised() {
        let days = |v: Value| review_request(&v).map(|r| r.days);
        assert_eq!(days(json!({"review": {"days": 7}})), Some(7));
        assert_eq!(days(json!({"review": {}})), Some(28));
        assert_eq!(days(json!({"review": {"days": "many"}})), Some(28));
        assert_eq!(days(json!({"time": "2026-01-01T00:00:00Z"})), None);
    }

    #[test]
    fn reads_eventbridge_and_scheduler_inputs() {
        let eb = json!({"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
            "source":"aws.events","account":"123456789012","time":"2026-11-25T12:00:00Z","region":"eu-west-1",
            "resources":["arn:aws:events:eu-west-1:123456789012:rule/slo-evaluator"],"detail":{}});
        let s = parse_schedule(&eb).unwrap();
        assert_eq!(s.time, Some(1_795_608_000));
        assert_eq!(
            parse_schedule(&json!({})).unwrap(),
            ScheduleInput::default()
        );
        // An old stack's per-shard schedule is told where sharding went, not run whole.
        assert!(parse_schedule(&json!({"shard": 1, "shards": 4}))
            .unwrap_err()
            .0
            .contains("slo-dispatcher"));
        assert!(parse_schedule(&json!({"time": "yesterday"}))
            .unwrap_err()
            .0
            .contains("RFC 3339"));
        assert!(parse_schedule(&json!([1]))
            .unwrap_err()
            .0
            .contains("an array"));
        assert!(parse_schedule(&json!({"detail-type": "CloudWatch Alarm State Change"})).is_err());
        let big = json!({"time": null, "pad": "x".repeat(70_000)});
        assert!(parse_schedule(&big)
            .unwrap_err()
            .0
            .contains("a schedule event is at most 65536"));
    }
}
