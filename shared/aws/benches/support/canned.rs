//! What the benches share: a fleet's table and CloudWatch answered by canned responses
//! (aws-smithy-mocks) through the real adapters and the SDK, and the process's own
//! figures (peak RSS, CPU). `measure_cycle` runs one cycle over such a fleet.

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataInput, GetMetricDataOutput};
use aws_sdk_cloudwatch::types::{MetricDataResult, StatusCode};
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::DateTime;
use sloguard_aws::{CloudWatchSource, DynamoStore, SnsNotifier};
use sloguard_core::app::cycle::{run_cycle, CycleRequest};
use sloguard_core::app::{App, Config};
use sloguard_core::cost::{representative, synthetic_fleet};
use sloguard_core::slo::plan::EvalTime;

const HOUR: i64 = 1_795_608_000; // 2026-11-25T12:00:00Z

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Definition and state items of a fleet evaluated once at the previous cycle.
fn table(n: usize) -> (Vec<Item>, Vec<Item>) {
    let fleet = synthetic_fleet(n);
    let refs: Vec<_> = fleet.iter().collect();
    let previous = EvalTime::from_trigger(HOUR, 120, HOUR);
    let reps = representative(&refs, previous);
    let mut defs = Vec::new();
    let mut states = Vec::new();
    for (slo, rep) in fleet.iter().zip(reps) {
        let (_, state) = rep.expect("the synthetic fleet evaluates");
        defs.push(HashMap::from([
            ("pk".to_string(), s("DEF")),
            ("sk".to_string(), s(&slo.name)),
            (
                "definition".to_string(),
                s(serde_json::to_string(slo).unwrap()),
            ),
            ("version".to_string(), AttributeValue::N("1".into())),
            ("service".to_string(), s(&slo.service)),
        ]));
        states.push(HashMap::from([
            ("pk".to_string(), s("STATE")),
            ("sk".to_string(), s(&slo.name)),
            (
                "state".to_string(),
                s(serde_json::to_string(&state).unwrap()),
            ),
            ("version".to_string(), AttributeValue::N("42".into())),
        ]));
    }
    (defs, states)
}

/// Every datapoint of every query: ~1,000 events a minute, a few bad ones.
fn metric_data(input: &GetMetricDataInput) -> GetMetricDataOutput {
    let start = input.start_time().map_or(0, |t| t.secs());
    let end = input.end_time().map_or(0, |t| t.secs());
    let results = input
        .metric_data_queries()
        .iter()
        .filter(|q| q.return_data().unwrap_or(true))
        .map(|q| {
            let period = q
                .metric_stat()
                .and_then(|m| m.period())
                .or(q.period())
                .unwrap_or(60) as i64;
            let bad = q
                .metric_stat()
                .and_then(|m| m.metric())
                .and_then(|m| m.metric_name())
                == Some("Errors");
            let stamps: Vec<i64> = (start..end).step_by(period as usize).collect();
            let values: Vec<f64> = stamps
                .iter()
                .map(|t| {
                    let minutes = (period / 60) as f64;
                    if bad {
                        ((t / 60) % 3) as f64 * minutes * 0.37
                    } else {
                        1000.0 * minutes + ((t / 60) % 13) as f64
                    }
                })
                .collect();
            MetricDataResult::builder()
                .id(q.id().unwrap_or_default())
                .status_code(StatusCode::Complete)
                .set_timestamps(Some(stamps.into_iter().map(DateTime::from_secs).collect()))
                .set_values(Some(values))
                .build()
        })
        .collect();
    GetMetricDataOutput::builder()
        .set_metric_data_results(Some(results))
        .build()
}

/// Peak resident set size of this process since the last reset, in MB (Linux VmHWM).
fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// Resident set size now, in MB (Linux VmRSS).
fn rss_mb() -> f64 {
    status_mb("VmRSS:")
}

/// Forget the peak so far (Linux: `5` to /proc/self/clear_refs), so setup does not count.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("Linux resets the peak RSS");
}

fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 (utime, stime) are the 12th and 13th after the command
    (ticks(11) + ticks(12)) / 100.0
}

/// What one cycle over `n` SLOs took, measured.
pub struct CycleFigures {
    pub slos: usize,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_mb: f64,
    pub rss_before_mb: f64,
    /// Requests by operation, as the canned answers counted them.
    pub requests: Vec<(&'static str, usize)>,
    /// Metrics GetMetricData was asked for (what it bills).
    pub metrics_requested: usize,
}

/// One cycle over `n` SLOs through the real adapters with canned AWS answers: the first
/// cycle of an hour on a cold table, the heaviest there is.
pub fn measure_cycle(n: usize) -> CycleFigures {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (defs, states) = table(n);
    let query =
        mock!(aws_sdk_dynamodb::Client::query).then_compute_output(move |q: &QueryInput| {
            let pk = q
                .expression_attribute_values()
                .and_then(|v| v.get(":pk"))
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let items = match pk.as_str() {
                "DEF" => defs.clone(),
                "STATE" => states.clone(),
                _ => Vec::new(),
            };
            QueryOutput::builder().set_items(Some(items)).build()
        });
    // A cold table: no stream cache yet, so every stream is read whole and its cache written.
    let caches = mock!(aws_sdk_dynamodb::Client::batch_get_item)
        .then_compute_output(|_| BatchGetItemOutput::builder().build());
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .then_compute_output(|_| PutItemOutput::builder().build());
    let transact = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .then_compute_output(|_| TransactWriteItemsOutput::builder().build());
    let update = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_compute_output(|_| UpdateItemOutput::builder().build());
    let metrics = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = metrics.clone();
    let gmd = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(
        move |input: &GetMetricDataInput| {
            counted.fetch_add(
                input.metric_data_queries().len(),
                std::sync::atomic::Ordering::Relaxed,
            );
            metric_data(input)
        },
    );
    let publish = mock!(aws_sdk_sns::Client::publish).then_compute_output(|_| {
        aws_sdk_sns::operation::publish::PublishOutput::builder()
            .message_id("m")
            .build()
    });
    let ddb = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&query, &caches, &put, &transact, &update]
    );
    let cw = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&gmd]);
    let sns = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&publish]);
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let app = App {
        metrics: CloudWatchSource::with_client(sdk, "us-east-1", cw),
        store: DynamoStore::new(ddb, "sloguard"),
        notifier: SnsNotifier::new(
            sns,
            "arn:aws:sns:us-east-1:123456789012:sloguard".into(),
            None,
        ),
        config: Config::default(),
    };
    // The first cycle of an hour on a cold table, the heaviest there is: every SLO writes
    // its snapshot and moves its state on (the other 11 write only their snapshots), and
    // every stream is read whole and its cache written (later cycles read only tails).
    let trigger = HOUR + 300;
    // Setup (the representative evaluation behind the canned states) is not the cycle's.
    reset_peak();
    let before = rss_mb();
    let (cpu0, wall) = (cpu_seconds(), Instant::now());
    let report = rt
        .block_on(run_cycle(
            &app,
            CycleRequest {
                trigger,
                now: trigger,
                ..CycleRequest::default()
            },
        ))
        .expect("the cycle runs");
    let wall_seconds = wall.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    assert_eq!(
        report.evaluated,
        n,
        "every SLO evaluated: {:?}",
        report.slos.first()
    );
    let rules: [(&'static str, &Rule); 7] = [
        ("DynamoDB Query", &query),
        ("DynamoDB BatchGetItem", &caches),
        ("DynamoDB PutItem", &put),
        ("DynamoDB UpdateItem", &update),
        ("DynamoDB TransactWriteItems", &transact),
        ("CloudWatch GetMetricData", &gmd),
        ("SNS Publish", &publish),
    ];
    CycleFigures {
        slos: n,
        wall_seconds,
        cpu_seconds: cpu,
        peak_rss_mb: peak_rss_mb(),
        rss_before_mb: before,
        requests: rules.iter().map(|(op, r)| (*op, r.num_calls())).collect(),
        metrics_requested: metrics.load(std::sync::atomic::Ordering::Relaxed),
    }
}
