//! The alarm reader over every shape an alarm reaches Lambda in: the fixtures of
//! `examples/events`, the same transition in each shape, and payloads that are not alarms.

use super::*;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../examples/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn eventbridge_metric_alarm() {
    let a = &parse_alarm_payload(&fixture("alarm-eventbridge-metric.json")).unwrap()[0];
    assert_eq!(a.name, "checkout-5xx-high");
    assert_eq!(a.state, "ALARM");
    assert_eq!(a.previous_state.as_deref(), Some("OK"));
    assert_eq!(a.shape, "eventbridge");
    assert_eq!(
        a.arn.as_deref(),
        Some("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx-high")
    );
    assert_eq!(a.metrics[0].namespace, "Shop");
    assert_eq!(
        a.timestamp_ms,
        parse_timestamp_ms("2026-11-25T10:04:40.989Z").unwrap()
    );
    assert!(!a.composite);
}

#[test]
fn eventbridge_metric_math_and_anomaly_detection() {
    let a = &parse_alarm_payload(&fixture("alarm-eventbridge-metric-math.json")).unwrap()[0];
    assert_eq!(a.metrics.len(), 2, "two metric helpers, expression skipped");
    let b = &parse_alarm_payload(&fixture("alarm-eventbridge-anomaly.json")).unwrap()[0];
    assert_eq!(b.metrics.len(), 1);
    assert_eq!(b.state, "ALARM");
}

#[test]
fn eventbridge_composite_with_suppressor() {
    let a = &parse_alarm_payload(&fixture("alarm-eventbridge-composite.json")).unwrap()[0];
    assert!(a.composite);
    assert_eq!(a.children, vec!["checkout-5xx-high".to_string()]);
}

#[test]
fn direct_alarm_action_metric_and_composite() {
    let a = &parse_alarm_payload(&fixture("alarm-action-metric.json")).unwrap()[0];
    assert_eq!(a.shape, "alarm-action");
    assert_eq!(
        a.metrics[0].dimensions,
        vec![("Endpoint".to_string(), "checkout".to_string())]
    );
    let c = &parse_alarm_payload(&fixture("alarm-action-composite.json")).unwrap()[0];
    assert!(c.composite);
    assert_eq!(c.children, vec!["checkout-5xx-high".to_string()]);
}

#[test]
fn sns_classic_metric_and_math_notifications() {
    let a = &parse_alarm_payload(&fixture("alarm-sns-metric.json")).unwrap()[0];
    assert_eq!(a.shape, "sns");
    assert_eq!(a.name, "checkout-5xx-high");
    assert_eq!(a.metrics[0].name, "CheckoutErrors");
    let m = &parse_alarm_payload(&fixture("alarm-sns-metric-math.json")).unwrap()[0];
    assert_eq!(m.metrics.len(), 2);
}

#[test]
fn the_same_transition_has_the_same_identity_in_every_shape() {
    let ids: Vec<(String, i64, String)> = [
        "alarm-eventbridge-metric.json",
        "alarm-action-metric.json",
        "alarm-sns-metric.json",
    ]
    .iter()
    .map(|f| {
        let a = parse_alarm_payload(&fixture(f)).unwrap().remove(0);
        (a.name, a.timestamp_ms, a.state)
    })
    .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[0], ids[2]);
}

#[test]
fn the_envelopes_are_the_aws_lambda_events_types() {
    for f in [
        "alarm-eventbridge-metric.json",
        "alarm-eventbridge-metric-math.json",
        "alarm-eventbridge-anomaly.json",
        "alarm-eventbridge-composite.json",
    ] {
        let ev: EventBridgeEvent<Value> = serde_json::from_value(fixture(f)).unwrap();
        assert_eq!(ev.detail_type, "CloudWatch Alarm State Change", "{f}");
    }
    for f in ["alarm-sns-metric.json", "alarm-sns-metric-math.json"] {
        let ev: SnsEvent = serde_json::from_value(fixture(f)).unwrap();
        assert_eq!(ev.records.len(), 1, "{f}");
    }
    // The typed alarm action takes the real metric and composite payloads whole.
    for f in ["alarm-action-metric.json", "alarm-action-composite.json"] {
        let a: CloudWatchAlarm<Value, Value> = serde_json::from_value(fixture(f)).unwrap();
        assert!(a.alarm_arn.is_some(), "{f}");
    }
}

#[test]
fn bad_payloads_say_what_is_wrong() {
    let e = parse_alarm_payload(&serde_json::json!({"hello": 1})).unwrap_err();
    assert!(e.0.contains("unrecognised payload (keys: hello)"), "{e}");
    let e = parse_alarm_payload(&serde_json::json!({"time": "2026-01-01T00:00:00Z", "alarmData": {"alarmName": "x", "state": {"value": "RED", "timestamp": "2026-01-01T00:00:00Z"}}})).unwrap_err();
    assert!(
        e.0.contains("unknown variant `RED`, expected one of `OK`, `ALARM`"),
        "{e}"
    );
    let mut sns = fixture("alarm-sns-metric.json");
    sns["Records"][0]["Sns"]["Message"] = Value::from("hi");
    let e = parse_alarm_payload(&sns).unwrap_err();
    let e2 = parse_alarm_payload(&serde_json::json!({"Records": [{"Sns": {"Message": "hi"}}]}))
        .unwrap_err();
    assert!(e2.0.contains("not an SNS event (Records[].Sns)"), "{e2}");
    let e3 =
        parse_alarm_payload(&serde_json::json!({"alarmData": {"alarmName": "x"}})).unwrap_err();
    assert!(
        e3.0.contains("not a CloudWatch alarm action payload: missing field"),
        "{e3}"
    );
    assert!(
        e.0.contains("Records[0].Sns.Message is not a CloudWatch alarm notification"),
        "{e}"
    );
    let e = parse_alarm_payload(&serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}))
        .unwrap_err();
    assert!(e.0.contains("not `CloudWatch Alarm State Change`"), "{e}");
    let e =
        parse_alarm_payload(&serde_json::json!({"detail-type": "CloudWatch Alarm State Change"}))
            .unwrap_err();
    assert!(
        e.0.contains("not an EventBridge event: missing field"),
        "{e}"
    );
    assert!(parse_alarm_payload(&serde_json::json!([])).is_err());
    let long = "x".repeat(300);
    let e = parse_alarm_payload(&serde_json::json!({"time": "2026-01-01T00:00:00Z", "alarmData": {"alarmName": long, "configuration": {}, "state": {"value": "OK", "reason": "r", "timestamp": "2026-01-01T00:00:00Z"}}})).unwrap_err();
    assert!(
        e.0.contains("alarmData.alarmName is not an alarm name"),
        "{e}"
    );
    // 255 characters, but 1,020 bytes: the byte bound refuses it before it becomes a key.
    let wide = "\u{1F525}".repeat(255);
    assert_eq!((wide.chars().count(), wide.len()), (255, 1020));
    let e = parse_alarm_payload(&serde_json::json!({"time": "2026-01-01T00:00:00Z", "alarmData": {"alarmName": wide, "configuration": {}, "state": {"value": "OK", "reason": "r", "timestamp": "2026-01-01T00:00:00Z"}}})).unwrap_err();
    assert!(
        e.0.contains("alarmData.alarmName is 1020 bytes; an alarm name is at most 765 bytes"),
        "{e}"
    );
    // 255 three-byte characters (765 bytes) are still a name.
    let ok = parse_alarm_payload(&serde_json::json!({"time": "2026-01-01T00:00:00Z", "alarmData": {"alarmName": "\u{20AC}".repeat(255), "configuration": {}, "state": {"value": "OK", "reason": "r", "timestamp": "2026-01-01T00:00:00Z"}}})).unwrap();
    assert_eq!(ok[0].name.len(), 765);
    // An SNS batch of more than MAX_RECORDS records is refused whole, with the count.
    let one = fixture("alarm-sns-metric.json")["Records"][0].clone();
    let batch = |n: usize| serde_json::json!({"Records": vec![one.clone(); n]});
    assert_eq!(parse_alarm_payload(&batch(MAX_RECORDS)).unwrap().len(), 10);
    let e = parse_alarm_payload(&batch(MAX_RECORDS + 1)).unwrap_err();
    assert_eq!(
        e.0, "SNS event with 11 records; at most 10 are accepted",
        "{e}"
    );
    let big = serde_json::json!({"alarmData": {"alarmName": "x", "pad": "y".repeat(300 * 1024)}});
    assert!(parse_alarm_payload(&big)
        .unwrap_err()
        .0
        .contains("at most 262144 are accepted"));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                "[a-zA-Z0-9 :.+\\-]{0,30}",
                Just("ALARM".to_string()),
                Just("2026-11-25T10:04:40.989+0000".to_string()),
                Just(
                    "{\"triggeringAlarms\":[{\"arn\":\"arn:aws:cloudwatch:r:1:alarm:x\"}]}"
                        .to_string()
                ),
            ]
            .prop_map(Value::String),
        ];
        let keys = prop_oneof![
            Just("alarmData"),
            Just("alarmName"),
            Just("state"),
            Just("value"),
            Just("timestamp"),
            Just("reasonData"),
            Just("configuration"),
            Just("metrics"),
            Just("metricStat"),
            Just("metric"),
            Just("dimensions"),
            Just("Records"),
            Just("Sns"),
            Just("Message"),
            Just("detail"),
            Just("detail-type"),
            Just("source"),
            Just("alarmRule"),
            Just("x"),
        ];
        leaf.prop_recursive(5, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Arbitrary JSON never panics the parser; it parses or names a reason.
        #[test]
        fn parser_never_panics(v in json()) {
            match parse_alarm_payload(&v) {
                Ok(alarms) => prop_assert!(!alarms.is_empty()),
                Err(e) => prop_assert!(!e.0.is_empty()),
            }
        }
    }
}
