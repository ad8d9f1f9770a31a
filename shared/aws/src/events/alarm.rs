//! CloudWatch alarm state changes, in all three ways they reach Lambda: an
//! EventBridge event, the payload of a direct alarm action, or an SNS event
//! carrying a classic alarm notification. The envelopes are `aws_lambda_events`
//! types (the EventBridge event generic over its detail, the SNS records, the
//! alarm action with its configuration and reason data left as JSON). The alarm
//! inside (an EventBridge `detail`, an action's `alarmData`, an SNS `Message`) is
//! read by one tolerant reader of our own: there is no typed struct for the
//! classic SNS notification, and the configuration of metric-math, anomaly and
//! composite alarms differs too much for one. Metric, metric-math,
//! anomaly-detection and composite alarms all parse.

use aws_lambda_events::event::cloudwatch_alarms::CloudWatchAlarm;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEvent;
use chrono::DateTime;
use serde_json::{Map, Value};

use sloguard_core::app::events::{name_from_arn, AlarmEvent, AlarmMetric, EventError};
use sloguard_core::app::provenance::Claims;

/// Most SNS records one invocation handles (SNS delivers one; more is not an alarm topic).
pub const MAX_RECORDS: usize = 10;

/// Largest payload accepted: Lambda's async limit is 256 KB.
pub const MAX_ALARM_PAYLOAD_BYTES: usize = 256 * 1024;

fn bad(msg: impl Into<String>) -> EventError {
    EventError(msg.into())
}

/// Parse AWS alarm timestamps: RFC 3339 or `2019-10-02T17:04:40.989+0000`; stray spaces tolerated.
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    DateTime::parse_from_rfc3339(&compact)
        .or_else(|_| DateTime::parse_from_str(&compact, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(&compact, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()
        .map(|t| t.timestamp_millis())
}

fn text<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

fn required<'a>(o: &'a Value, key: &str, at: &str) -> Result<&'a str, EventError> {
    text(o, key).ok_or_else(|| bad(format!("{at}.{key} is missing or not a string")))
}

/// Most characters in a CloudWatch alarm name.
pub const MAX_ALARM_NAME_CHARS: usize = 255;

/// Most UTF-8 bytes in an alarm name. CloudWatch counts a name's length in UTF-16 code
/// units (255 at most), each at most 3 UTF-8 bytes; a count of characters alone would let
/// 255 four-byte characters (1,020 bytes, 510 code units) through into a DynamoDB key.
pub const MAX_ALARM_NAME_BYTES: usize = 3 * MAX_ALARM_NAME_CHARS;

/// CloudWatch alarm names are 1 to 255 characters and at most 765 bytes: the name becomes
/// part of a DynamoDB key (`ALARM#<alarm>`), so it is bounded in bytes, not only characters.
fn check_name<'a>(name: &'a str, at: &str) -> Result<&'a str, EventError> {
    if name.is_empty()
        || name.chars().count() > MAX_ALARM_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(bad(format!(
            "{at} is not an alarm name (1 to {MAX_ALARM_NAME_CHARS} printable characters)"
        )));
    }
    if name.len() > MAX_ALARM_NAME_BYTES {
        return Err(bad(format!(
            "{at} is {} bytes; an alarm name is at most {MAX_ALARM_NAME_BYTES} bytes",
            name.len()
        )));
    }
    Ok(name)
}

fn check_state(v: &str, at: &str) -> Result<String, EventError> {
    match v {
        "ALARM" | "OK" | "INSUFFICIENT_DATA" => Ok(v.to_string()),
        other => Err(bad(format!(
            "{at} is `{}`; expected ALARM, OK or INSUFFICIENT_DATA",
            short(other)
        ))),
    }
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

fn dims_from_object(d: Option<&Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = match d {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        // Classic notifications list dimensions as [{name, value}] (lowercase) or [{Name, Value}].
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| {
                let n = text(i, "name").or_else(|| text(i, "Name"))?;
                let v = text(i, "value").or_else(|| text(i, "Value"))?;
                Some((n.to_string(), v.to_string()))
            })
            .collect(),
        _ => Vec::new(),
    };
    out.sort();
    out
}

/// Child alarms named in `reasonData.triggeringAlarms`, or else in the `ALARM(name)` terms of the rule.
fn children(reason_data: Option<&str>, rule: Option<&str>, listed: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    fn push(out: &mut Vec<String>, arn_or_name: &str) {
        let n = name_from_arn(arn_or_name)
            .unwrap_or(arn_or_name)
            .trim()
            .to_string();
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
        }
    }
    if let Some(rd) = reason_data.and_then(|r| serde_json::from_str::<Value>(r).ok()) {
        for t in rd
            .get("triggeringAlarms")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(a) = text(t, "arn") {
                push(&mut out, a);
            }
        }
    }
    for c in listed.and_then(Value::as_array).into_iter().flatten() {
        if let Some(a) = text(c, "Arn").or_else(|| text(c, "arn")) {
            push(&mut out, a);
        }
    }
    if out.is_empty() {
        if let Some(rule) = rule {
            let mut rest = rule;
            while let Some(i) = rest.find("ALARM(") {
                rest = &rest[i + 6..];
                let Some(j) = rest.find(')') else { break };
                push(
                    &mut out,
                    rest[..j].trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace()),
                );
                rest = &rest[j..];
            }
        }
    }
    out
}

/// The `detail` of an EventBridge event or the `alarmData` of an alarm action.
fn parse_modern(
    d: &Value,
    arn: Option<&str>,
    shape: &'static str,
    at: &str,
) -> Result<AlarmEvent, EventError> {
    if !d.is_object() {
        return Err(bad(format!("{at} must be an object")));
    }
    let name = check_name(required(d, "alarmName", at)?, &format!("{at}.alarmName"))?;
    let state = d
        .get("state")
        .ok_or_else(|| bad(format!("{at}.state is missing")))?;
    let value = check_state(
        required(state, "value", &format!("{at}.state"))?,
        &format!("{at}.state.value"),
    )?;
    let ts = required(state, "timestamp", &format!("{at}.state"))?;
    let timestamp_ms = parse_timestamp_ms(ts).ok_or_else(|| {
        bad(format!(
            "{at}.state.timestamp `{}` is not a time",
            short(ts)
        ))
    })?;
    let config = d.get("configuration");
    let metrics = config
        .and_then(|c| c.get("metrics"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let metric = m.get("metricStat")?.get("metric")?;
            Some(AlarmMetric {
                namespace: text(metric, "namespace")?.to_string(),
                name: text(metric, "name")?.to_string(),
                dimensions: dims_from_object(metric.get("dimensions")),
            })
        })
        .collect();
    let rule = config.and_then(|c| text(c, "alarmRule"));
    let reason_data = text(state, "reasonData");
    let kids = children(reason_data, rule, None);
    Ok(AlarmEvent {
        name: name.to_string(),
        arn: arn.map(|a| a.split_whitespace().collect()),
        state: value,
        previous_state: d
            .get("previousState")
            .and_then(|p| text(p, "value"))
            .map(str::to_string),
        reason: text(state, "reason").unwrap_or_default().to_string(),
        timestamp_ms,
        metrics,
        composite: rule.is_some() || !kids.is_empty(),
        children: kids,
        shape,
        claims: Claims::default(),
    })
}

/// A classic alarm notification (the JSON string inside an SNS message).
fn parse_classic(m: &Value, at: &str) -> Result<AlarmEvent, EventError> {
    let name = check_name(required(m, "AlarmName", at)?, &format!("{at}.AlarmName"))?;
    let state = check_state(
        required(m, "NewStateValue", at)?,
        &format!("{at}.NewStateValue"),
    )?;
    let ts = required(m, "StateChangeTime", at)?;
    let timestamp_ms = parse_timestamp_ms(ts).ok_or_else(|| {
        bad(format!(
            "{at}.StateChangeTime `{}` is not a time",
            short(ts)
        ))
    })?;
    let mut metrics = Vec::new();
    if let Some(t) = m.get("Trigger").filter(|t| t.is_object()) {
        if let (Some(ns), Some(n)) = (text(t, "Namespace"), text(t, "MetricName")) {
            metrics.push(AlarmMetric {
                namespace: ns.to_string(),
                name: n.to_string(),
                dimensions: dims_from_object(t.get("Dimensions")),
            });
        }
        for q in t
            .get("Metrics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(metric) = q.get("MetricStat").and_then(|s| s.get("Metric")) else {
                continue;
            };
            if let (Some(ns), Some(n)) = (text(metric, "Namespace"), text(metric, "MetricName")) {
                metrics.push(AlarmMetric {
                    namespace: ns.to_string(),
                    name: n.to_string(),
                    dimensions: dims_from_object(metric.get("Dimensions")),
                });
            }
        }
    }
    let rule = text(m, "AlarmRule");
    let kids = children(None, rule, m.get("TriggeringChildren"));
    Ok(AlarmEvent {
        name: name.to_string(),
        arn: text(m, "AlarmArn").map(str::to_string),
        state,
        previous_state: text(m, "OldStateValue").map(str::to_string),
        reason: text(m, "NewStateReason").unwrap_or_default().to_string(),
        timestamp_ms,
        metrics,
        composite: rule.is_some() || !kids.is_empty(),
        children: kids,
        shape: "sns",
        claims: Claims::default(),
    })
}

fn keys(o: &Map<String, Value>) -> String {
    let mut k: Vec<&str> = o.keys().map(String::as_str).take(12).collect();
    k.sort_unstable();
    k.join(", ")
}

/// Recognise the payload by its shape and read every alarm transition in it.
pub fn parse_alarm_payload(v: &Value) -> Result<Vec<AlarmEvent>, EventError> {
    let size = v.to_string().len();
    if size > MAX_ALARM_PAYLOAD_BYTES {
        return Err(bad(format!(
            "payload is {size} bytes; at most {MAX_ALARM_PAYLOAD_BYTES} are accepted"
        )));
    }
    let Value::Object(o) = v else {
        return Err(bad(
            "expected a JSON object (an alarm event), found something else",
        ));
    };
    if o.contains_key("detail-type") {
        let ev: EventBridgeEvent<Value> = serde_json::from_value(v.clone())
            .map_err(|e| bad(format!("not an EventBridge event: {e}")))?;
        if ev.detail_type != "CloudWatch Alarm State Change" {
            return Err(bad(format!(
                "EventBridge detail-type `{}` is not `CloudWatch Alarm State Change`",
                short(&ev.detail_type)
            )));
        }
        if ev.source != "aws.cloudwatch" {
            return Err(bad(
                "EventBridge alarm event whose source is not aws.cloudwatch",
            ));
        }
        let arn = ev
            .resources
            .as_ref()
            .and_then(|r| r.first())
            .map(String::as_str);
        let mut alarm = parse_modern(&ev.detail, arn, "eventbridge", "detail")?;
        alarm
            .claims
            .account("account", ev.account.as_deref())
            .region("region", ev.region.as_deref());
        for (i, r) in ev.resources.iter().flatten().enumerate() {
            let r: String = r.split_whitespace().collect();
            alarm
                .claims
                .arn(&format!("resources[{i}]"), Some(&r), "cloudwatch");
        }
        return Ok(vec![alarm]);
    }
    if o.contains_key("alarmData") {
        // The typed alarm action, its configuration and reason data left as JSON.
        let action: CloudWatchAlarm<Value, Value> = serde_json::from_value(v.clone())
            .map_err(|e| bad(format!("not a CloudWatch alarm action payload: {e}")))?;
        let data = &o["alarmData"];
        let mut alarm = parse_modern(
            data,
            action.alarm_arn.as_deref(),
            "alarm-action",
            "alarmData",
        )?;
        let arn = alarm.arn.clone();
        alarm
            .claims
            .account("accountId", action.account_id.as_deref())
            .region("region", action.region.as_deref())
            .arn("alarmArn", arn.as_deref(), "cloudwatch");
        return Ok(vec![alarm]);
    }
    if o.contains_key("Records") {
        let event: SnsEvent = serde_json::from_value(v.clone())
            .map_err(|e| bad(format!("not an SNS event (Records[].Sns): {e}")))?;
        if event.records.is_empty() {
            return Err(bad("SNS event with no Records"));
        }
        if event.records.len() > MAX_RECORDS {
            return Err(bad(format!(
                "SNS event with {} records; at most {MAX_RECORDS} are accepted",
                event.records.len()
            )));
        }
        let mut out = Vec::new();
        for (i, r) in event.records.iter().enumerate() {
            let at = format!("Records[{i}].Sns");
            let m: Value = serde_json::from_str(&r.sns.message).map_err(|e| {
                bad(format!(
                    "{at}.Message is not a CloudWatch alarm notification (not JSON: {e})"
                ))
            })?;
            let at = format!("{at}.Message");
            let mut alarm = parse_classic(&m, &at)?;
            // Its `Region` is a display name ("EU (Ireland)"): the ARN's region is the claim.
            alarm
                .claims
                .account(&format!("{at}.AWSAccountId"), text(&m, "AWSAccountId"))
                .arn(
                    &format!("{at}.AlarmArn"),
                    text(&m, "AlarmArn"),
                    "cloudwatch",
                );
            out.push(alarm);
        }
        return Ok(out);
    }
    Err(bad(format!(
        "unrecognised payload (keys: {}): expected an EventBridge `CloudWatch Alarm State Change` event, \
         a CloudWatch alarm action payload (alarmArn, alarmData) or an SNS event with an alarm notification",
        keys(o)
    )))
}

#[cfg(test)]
#[path = "alarm_tests.rs"]
mod tests;
