//! The evaluator's shard orders: SQS records from the shard queue (`aws_lambda_events`'
//! `SqsEvent`). Each record is checked on its own (it comes from this stack's queue, in
//! this stack's account and region) and its body read strictly; a bad record is refused
//! alone and the others run. An order that reads well is still checked against the
//! cycle's record by `app::fanout::run_shard`, so only a cut this stack's dispatcher
//! recorded is ever run.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sloguard_core::app::alarm::HandlerContext;
use sloguard_core::app::events::EventError;
use sloguard_core::app::fanout::{run_shard, CycleStore, ShardOrder, ShardOutcome};
use sloguard_core::app::ports::{BudgetStore, MetricSource, Notifier};
use sloguard_core::app::provenance::Claims;
use sloguard_core::app::App;
use sloguard_core::slo::shard::NameRange;

use crate::sqs::SqsShardQueue;

/// Largest order body read: a real one is under 1 KB (two SLO names and three numbers).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest SLO name an order may carry (definitions are far shorter).
const MAX_NAME_CHARS: usize = 1024;
/// Shards a cycle may have (100,000 SLOs in shards of 1 would be 100,000).
const MAX_SHARDS: u32 = 1_000_000;

/// An order as it travels on the queue.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    cycle: i64,
    shard: u32,
    of: u32,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
}

/// The message body of a shard order.
pub fn order_body(o: &ShardOrder) -> String {
    serde_json::to_string(&Body {
        cycle: o.cycle,
        shard: o.index,
        of: o.of,
        from: o.range.from.clone(),
        until: o.range.until.clone(),
    })
    .expect("an order serializes")
}

/// Read a shard order's body: every field checked, nothing else accepted.
pub fn parse_order(body: &str) -> Result<ShardOrder, EventError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EventError(format!(
            "order body is {} bytes; at most {MAX_BODY_BYTES}",
            body.len()
        )));
    }
    let b: Body = serde_json::from_str(body)
        .map_err(|e| EventError(format!("order body is not a shard order: {e}")))?;
    if !(1..100_000_000_000).contains(&b.cycle) {
        return Err(EventError(format!(
            "cycle {} is not a trigger time in epoch seconds",
            b.cycle
        )));
    }
    if b.of == 0 || b.of > MAX_SHARDS || b.shard >= b.of {
        return Err(EventError(format!(
            "shard {} of {} is not a shard (0 <= shard < of <= {MAX_SHARDS})",
            b.shard, b.of
        )));
    }
    for (field, v) in [("from", &b.from), ("until", &b.until)] {
        if let Some(v) = v {
            if v.is_empty() || v.chars().count() > MAX_NAME_CHARS {
                return Err(EventError(format!(
                    "{field} must be an SLO name of 1 to {MAX_NAME_CHARS} characters"
                )));
            }
        }
    }
    if let (Some(a), Some(z)) = (&b.from, &b.until) {
        if a >= z {
            return Err(EventError("from must sort before until".into()));
        }
    }
    Ok(ShardOrder {
        cycle: b.cycle,
        index: b.shard,
        of: b.of,
        range: NameRange {
            from: b.from,
            until: b.until,
        },
    })
}

/// Whether a payload is an SQS event (the shard queue's), not a schedule or a manual call.
pub fn is_shard_event(payload: &Value) -> bool {
    payload["Records"]
        .as_array()
        .and_then(|r| r.first())
        .is_some_and(|r| r["eventSource"] == "aws:sqs")
}

/// One record of the batch: its message id (to report a failure) and its order or why
/// it was refused.
#[derive(Debug)]
pub struct Delivery {
    pub message_id: String,
    pub receipt_handle: Option<String>,
    pub order: Result<ShardOrder, EventError>,
}

/// The queue's name and account from its URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`,
/// or an emulator's `http://HOST/ACCOUNT/NAME`).
fn queue_of_url(url: &str) -> Option<(&str, &str)> {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let name = parts.next()?;
    let account = parts.next()?;
    Some((account, name))
}

/// Read an SQS event's records, each checked: from the queue `queue_url` names (when set),
/// in the handler's account and region.
pub fn read_shard_event(
    payload: &Value,
    ctx: &HandlerContext,
    queue_url: Option<&str>,
) -> Result<Vec<Delivery>, EventError> {
    let event: SqsEvent = serde_json::from_value(payload.clone())
        .map_err(|e| EventError(format!("not an SQS event: {e}")))?;
    let ours = queue_url.and_then(queue_of_url);
    Ok(event
        .records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let message_id = r.message_id.clone().unwrap_or_default();
            let order = check_record(&r, ctx, ours)
                .and_then(|()| parse_order(r.body.as_deref().unwrap_or_default()));
            let order =
                order.map_err(|e| EventError(format!("record {i} ({message_id}): {}", e.0)));
            Delivery {
                message_id,
                receipt_handle: r.receipt_handle,
                order,
            }
        })
        .collect())
}

fn check_record(
    r: &aws_lambda_events::event::sqs::SqsMessage,
    ctx: &HandlerContext,
    ours: Option<(&str, &str)>,
) -> Result<(), EventError> {
    if r.event_source.as_deref() != Some("aws:sqs") {
        return Err(EventError("eventSource is not aws:sqs".into()));
    }
    let arn = r.event_source_arn.as_deref();
    let mut claims = Claims::default();
    claims
        .arn("eventSourceARN", arn, "sqs")
        .region("awsRegion", r.aws_region.as_deref());
    claims
        .check(ctx.account.as_ref(), ctx.region.as_ref())
        .map_err(|refusal| EventError(format!("a shard order {refusal}")))?;
    if let (Some((account, name)), Some(arn)) = (ours, arn) {
        let theirs = arn.rsplit(':').next().unwrap_or_default();
        let their_account = arn.split(':').nth(4).unwrap_or_default();
        if theirs != name || their_account != account {
            return Err(EventError(format!(
                "a shard order from queue {} of account {}; this evaluator reads {name} of {account}",
                theirs.chars().take(80).collect::<String>(),
                their_account.chars().take(12).collect::<String>()
            )));
        }
    }
    Ok(())
}

/// What one record came to, for the log and the tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardResult {
    pub message_id: String,
    /// The order's cycle and shard, when it could be read.
    pub cycle: Option<i64>,
    pub shard: Option<u32>,
    /// `ran`, `already_done`, `superseded` or `failed`.
    pub outcome: &'static str,
    pub evaluated: usize,
    pub failed_slos: usize,
    pub error: Option<String>,
    pub error_type: Option<&'static str>,
}

/// The batch handled: each record's result and the response SQS reads (the failed ids).
#[derive(Debug, Default)]
pub struct ShardBatch {
    pub results: Vec<ShardResult>,
    pub reports: Vec<sloguard_core::app::cycle::CycleReport>,
    pub response: SqsBatchResponse,
}

/// Run every order of an SQS event; a failed one is reported to SQS (and, when `queue` is
/// given and it could succeed again, made visible again soon: `sqs::RETRY_AFTER_SECONDS`), the
/// others are deleted by SQS as handled.
pub async fn handle_shard_event<M, S, N>(
    app: &App<M, S, N>,
    queue: Option<&SqsShardQueue>,
    payload: &Value,
    now: i64,
    ctx: &HandlerContext,
) -> Result<ShardBatch, EventError>
where
    M: MetricSource,
    S: BudgetStore + CycleStore,
    N: Notifier,
{
    let deliveries = read_shard_event(payload, ctx, queue.map(SqsShardQueue::url))?;
    let mut batch = ShardBatch::default();
    for d in deliveries {
        let mut result = ShardResult {
            message_id: d.message_id.clone(),
            cycle: d.order.as_ref().ok().map(|o| o.cycle),
            shard: d.order.as_ref().ok().map(|o| o.index),
            outcome: "failed",
            evaluated: 0,
            failed_slos: 0,
            error: None,
            error_type: None,
        };
        let retry = match d.order {
            Err(e) => {
                result.error = Some(e.0);
                result.error_type = Some("BadShardOrder");
                false
            }
            Ok(order) => match run_shard(app, &order, now, ctx.deadline_ms).await {
                Ok(ShardOutcome::Ran { report }) => {
                    result.outcome = "ran";
                    result.evaluated = report.evaluated;
                    result.failed_slos = report.failed;
                    batch.reports.push(report);
                    batch.results.push(result);
                    continue;
                }
                Ok(ShardOutcome::AlreadyDone) => {
                    result.outcome = "already_done";
                    batch.results.push(result);
                    continue;
                }
                Ok(ShardOutcome::Superseded { .. }) => {
                    result.outcome = "superseded";
                    batch.results.push(result);
                    continue;
                }
                Err(e) => {
                    result.error = Some(e.to_string());
                    result.error_type = Some(e.error_type());
                    e.is_retryable()
                }
            },
        };
        if let (true, Some(q), Some(handle)) = (retry, queue, d.receipt_handle.as_deref()) {
            if let Err(e) = q.retry_soon(handle).await {
                tracing::warn!(error = %e, "shard not made visible early; SQS retries it after the visibility timeout");
            }
        }
        if !d.message_id.is_empty() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = d.message_id;
            batch.response.batch_item_failures.push(failure);
        }
        batch.results.push(result);
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> ShardOrder {
        ShardOrder {
            cycle: 1_800_000_000,
            index: 1,
            of: 4,
            range: NameRange {
                from: Some("slo-03".into()),
                until: Some("slo-06".into()),
            },
        }
    }

    fn ctx() -> HandlerContext {
        HandlerContext::from_function_arn(
            "arn:aws:lambda:eu-west-1:123456789012:function:prod-evaluator",
            None,
        )
        .unwrap()
    }

    const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-shards";

    fn event_with(record: Value) -> Value {
        json!({"Records": [record]})
    }

    fn fixture() -> Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/events/shard-order-sqs.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn an_order_travels_as_a_body_and_back() {
        let o = order();
        assert_eq!(parse_order(&order_body(&o)).unwrap(), o);
        let open = ShardOrder {
            range: NameRange::all(),
            ..o
        };
        assert_eq!(parse_order(&order_body(&open)).unwrap(), open);
    }

    #[test]
    fn bodies_that_are_not_orders_are_refused_naming_what_is_wrong() {
        for (body, says) in [
            ("[]", "not a shard order"),
            (
                r#"{"cycle":1800000000,"shard":0,"of":1,"extra":1}"#,
                "unknown field",
            ),
            (r#"{"cycle":-5,"shard":0,"of":1}"#, "trigger time"),
            (r#"{"cycle":1800000000,"shard":4,"of":4}"#, "is not a shard"),
            (r#"{"cycle":1800000000,"shard":0,"of":0}"#, "is not a shard"),
            (
                r#"{"cycle":1800000000,"shard":0,"of":2,"from":""}"#,
                "from must be",
            ),
            (
                r#"{"cycle":1800000000,"shard":0,"of":2,"from":"b","until":"a"}"#,
                "sort before",
            ),
        ] {
            let err = parse_order(body).unwrap_err();
            assert!(err.0.contains(says), "{body}: {err}");
        }
        let huge = format!(
            r#"{{"cycle":1800000000,"shard":0,"of":2,"from":"{}"}}"#,
            "a".repeat(20_000)
        );
        assert!(parse_order(&huge).unwrap_err().0.contains("bytes"));
    }

    #[test]
    fn the_recorded_sqs_event_reads_as_one_order_from_our_queue() {
        let payload = fixture();
        assert!(is_shard_event(&payload));
        let d = read_shard_event(&payload, &ctx(), Some(QUEUE)).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].order.as_ref().unwrap(), &order());
        assert!(d[0].receipt_handle.is_some());
        assert!(!is_shard_event(&json!({"time": "2026-11-25T12:00:00Z"})));
    }

    #[test]
    fn records_of_another_account_region_or_queue_are_refused_one_by_one() {
        let good = fixture()["Records"][0].clone();
        let with = |field: &str, value: &str| {
            let mut r = good.clone();
            r[field] = json!(value);
            r
        };
        let cases = [
            (
                with(
                    "eventSourceARN",
                    "arn:aws:sqs:eu-west-1:999999999999:prod-shards",
                ),
                "of account 999999999999",
            ),
            (
                with(
                    "eventSourceARN",
                    "arn:aws:sqs:us-east-1:123456789012:prod-shards",
                ),
                "region",
            ),
            (with("awsRegion", "us-east-1"), "region"),
            (
                with(
                    "eventSourceARN",
                    "arn:aws:sqs:eu-west-1:123456789012:other-queue",
                ),
                "from queue other-queue",
            ),
            (with("eventSourceARN", "not-an-arn"), "not a sqs ARN"),
        ];
        for (record, says) in cases {
            let payload = json!({"Records": [good.clone(), record]});
            let d = read_shard_event(&payload, &ctx(), Some(QUEUE)).unwrap();
            assert!(d[0].order.is_ok(), "the good record still reads");
            let err = d[1].order.as_ref().unwrap_err();
            assert!(err.0.contains(says), "{says}: {err}");
            assert!(err.0.contains("record 1"), "{err}");
        }
        let none = event_with(
            json!({"messageId": "m", "eventSource": "aws:sqs", "body": order_body(&order())}),
        );
        let d = read_shard_event(&none, &ctx(), Some(QUEUE)).unwrap();
        assert!(d[0]
            .order
            .as_ref()
            .unwrap_err()
            .0
            .contains("names no account"));
    }

    #[test]
    fn an_envelope_that_is_not_sqs_is_one_clear_error() {
        let err = read_shard_event(&json!({"Records": "x"}), &ctx(), None).unwrap_err();
        assert!(err.0.contains("not an SQS event"), "{err}");
    }
}
