//! The fan-out end to end on the emulator: the dispatcher's orders go through a real SQS
//! queue (with a dead-letter queue, maxReceiveCount 2, as the template sets it), the
//! evaluator's handler takes them as Lambda's event source mapping delivers them (the
//! recorded SQS event shape, deleting what succeeded), and DynamoDB keeps the cycle
//! records. Ten SLOs in shards of three: every SLO is evaluated once per cycle, a failed
//! shard is retried and then evaluated once, and a shard that never completes (dead-
//! lettered) trips the dead man's switch for two schedule periods in a row.

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use sloguard_aws::events::dispatch::handle_dispatch_event;
use sloguard_aws::events::shard::{handle_shard_event, ShardBatch};
use sloguard_aws::{build_app, AwsApp, Environment, SqsShardQueue};
use sloguard_core::app::alarm::HandlerContext;
use sloguard_core::app::emf;
use sloguard_core::app::fanout::{CycleStore, DispatchReport, Skip};
use sloguard_core::app::HistoryStore;
use sloguard_core::slo::message::rfc3339;
use sloguard_e2e::{checkout_slo, Env, REGION};
use sloguard_testing::cbor_front::{self, CborFront};
use sloguard_testing::emulator;

const PERIOD: i64 = 300;
/// The evaluator's own ARN: its account (moto's) and region are the ones orders must come from.
const FUNCTION_ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:sloguard-test-evaluator";

fn names() -> Vec<String> {
    (0..10).map(|i| format!("slo-{i:02}")).collect()
}

/// The shard queue and its dead-letter queue, as the template makes them.
struct Queues {
    queue: SqsShardQueue,
    arn: String,
    dead_letters: String,
    /// Receipt handles by message id, to delete what succeeded.
    handles: std::sync::Mutex<Vec<(String, String)>>,
}

async fn queues(env: &Env) -> Result<Queues> {
    let dlq = env
        .sqs
        .create_queue()
        .queue_name("shards-dlq")
        .send()
        .await?
        .queue_url
        .context("dead-letter queue url")?;
    let dlq_arn = queue_arn(env, &dlq).await?;
    let url = env
        .sqs
        .create_queue()
        .queue_name("shards")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}).to_string(),
        )
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "60",
        )
        .send()
        .await?
        .queue_url
        .context("queue url")?;
    Ok(Queues {
        arn: queue_arn(env, &url).await?,
        queue: SqsShardQueue::new(aws_sdk_sqs::Client::new(&env.sdk), url).retrying_after(1),
        dead_letters: dlq,
        handles: Default::default(),
    })
}

async fn queue_arn(env: &Env, url: &str) -> Result<String> {
    let attrs = env
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await?;
    attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .context("queue ARN")
}

async fn fleet(env: &Env) -> Result<Environment> {
    for n in names() {
        env.apply(&checkout_slo(&n)).await?;
    }
    env.checkout_traffic(|_| 0.0).await?;
    Ok(Environment {
        shard_size: 3,
        ..env.settings.clone()
    })
}

async fn dispatch_at(
    env: &Env,
    q: &Queues,
    settings: &Environment,
    cycle: i64,
    now: i64,
) -> Result<DispatchReport> {
    let event = json!({"version": "0", "id": format!("ev-{cycle}"), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": rfc3339(cycle), "region": REGION,
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/sloguard-test"], "detail": {}});
    Ok(handle_dispatch_event(&env.app.store, &q.queue, settings, &event, now).await?)
}

/// Receive up to `max` messages (waiting for them) as Lambda's event source mapping does,
/// as the SQS event it delivers.
async fn receive(env: &Env, q: &Queues, max: i32) -> Result<(Value, Vec<String>)> {
    let mut records = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..10 {
        let got = env
            .sqs
            .receive_message()
            .queue_url(q.queue.url())
            .max_number_of_messages(max - i32::try_from(records.len())?)
            .wait_time_seconds(1)
            .send()
            .await?;
        for m in got.messages() {
            records.push(json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": q.arn,
                "awsRegion": REGION,
            }));
            handles.push((
                m.message_id().unwrap_or_default().to_string(),
                m.receipt_handle().unwrap_or_default().to_string(),
            ));
        }
        if records.len() >= usize::try_from(max)? {
            break;
        }
    }
    let ids = handles.iter().map(|(id, _)| id.clone()).collect();
    q.handles.lock().unwrap().extend(handles);
    Ok((json!({ "Records": records }), ids))
}

/// Hand one SQS event to the evaluator's handler, then delete what succeeded (as the event
/// source mapping does with a partial batch response).
async fn deliver(
    env: &Env,
    q: &Queues,
    app: &AwsApp,
    event: &Value,
    now: i64,
) -> Result<ShardBatch> {
    let ctx = HandlerContext::from_function_arn(FUNCTION_ARN, None)?;
    let batch = handle_shard_event(app, Some(&q.queue), event, now, &ctx).await?;
    let failed: Vec<&str> = batch
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let handles = q.handles.lock().unwrap().clone();
    for r in event["Records"].as_array().into_iter().flatten() {
        let id = r["messageId"].as_str().unwrap_or_default();
        if failed.contains(&id) {
            continue;
        }
        if let Some((_, handle)) = handles.iter().find(|(m, _)| m == id) {
            env.sqs
                .delete_message()
                .queue_url(q.queue.url())
                .receipt_handle(handle)
                .send()
                .await?;
        }
    }
    Ok(batch)
}

/// Snapshots of each SLO at the cycle's evaluation time: exactly one each is "once per cycle".
async fn snapshots_at(env: &Env, at: i64) -> Result<Vec<usize>> {
    let mut counts = Vec::new();
    for n in names() {
        let h = env.app.store.history(&n, at - 1, at + 1).await?;
        counts.push(h.len());
    }
    Ok(counts)
}

/// An app whose CloudWatch is unreachable (its front forwards to a port nobody listens
/// on) and whose table is the emulator's: its shards fail on every metric read.
async fn cloudwatch_down(env: &Env) -> Result<(AwsApp, CborFront)> {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let front = CborFront::start(
        cbor_front::cloudwatch()?,
        &format!("http://127.0.0.1:{dead}"),
    )?;
    let sdk = emulator::sdk_config_for(&env.moto.endpoint, &front.endpoint, REGION).await;
    Ok((build_app(&env.settings, &sdk), front))
}

#[tokio::test]
async fn ten_slos_in_shards_of_three_are_each_evaluated_once_per_cycle() -> Result<()> {
    let env = Env::new().await?;
    let q = queues(&env).await?;
    let settings = fleet(&env).await?;
    let (cycle, now) = (env.end, env.end + 30);
    let r = dispatch_at(&env, &q, &settings, cycle, now).await?;
    ensure!((r.slos, r.shards, r.dispatched) == (10, 4, 4), "{r:?}");
    let (event, ids) = receive(&env, &q, 10).await?;
    ensure!(ids.len() == 4, "one message per shard: {ids:?}");
    let batch = deliver(&env, &q, &env.app, &event, now + 5).await?;
    ensure!(
        batch.response.batch_item_failures.is_empty(),
        "{:?}",
        batch.results
    );
    let evaluated: usize = batch.results.iter().map(|r| r.evaluated).sum();
    ensure!(evaluated == 10, "{:?}", batch.results);
    ensure!(snapshots_at(&env, cycle).await? == vec![1; 10]);
    // A repeated schedule event queues nothing, and the queue is empty: nothing runs twice.
    let again = dispatch_at(&env, &q, &settings, cycle, now + 40).await?;
    ensure!(again.repeated && again.dispatched == 0, "{again:?}");
    let (left, ids) = receive(&env, &q, 10).await?;
    ensure!(ids.is_empty(), "nothing left: {left}");
    let record = env.app.store.cycle(cycle).await?.context("cycle record")?;
    ensure!(record.missing() == 0 && record.dispatched, "{record:?}");
    // The next schedule judges the cycle complete: the switch reads 0.
    let next = dispatch_at(&env, &q, &settings, cycle + PERIOD, now + PERIOD).await?;
    ensure!(
        (next.previous, next.previous_missing) == (Some(cycle), 0),
        "{next:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_failed_shard_is_retried_within_the_cycle_and_evaluated_once() -> Result<()> {
    let env = Env::new().await?;
    let q = queues(&env).await?;
    let settings = fleet(&env).await?;
    let (cycle, now) = (env.end, env.end + 30);
    dispatch_at(&env, &q, &settings, cycle, now).await?;
    let (down, _front) = cloudwatch_down(&env).await?;
    // The first shard lands on an evaluator that cannot reach CloudWatch; the rest run.
    let (first, ids) = receive(&env, &q, 1).await?;
    ensure!(ids.len() == 1);
    let failed = deliver(&env, &q, &down, &first, now + 5).await?;
    ensure!(
        failed.response.batch_item_failures.len() == 1,
        "reported to SQS: {:?}",
        failed.results
    );
    ensure!(
        failed.results[0].error_type == Some("NothingEvaluated"),
        "{:?}",
        failed.results
    );
    let (rest, ids) = receive(&env, &q, 3).await?;
    ensure!(ids.len() == 3, "{rest}");
    deliver(&env, &q, &env.app, &rest, now + 6).await?;
    ensure!(
        env.app
            .store
            .cycle(cycle)
            .await?
            .context("record")?
            .missing()
            == 1
    );
    // Made visible again after 1 s (not the 60 s visibility timeout): the retry runs.
    let (retry, ids) = receive(&env, &q, 1).await?;
    ensure!(ids.len() == 1, "the failed shard comes back: {retry}");
    ensure!(retry["Records"][0]["body"] == first["Records"][0]["body"]);
    let ok = deliver(&env, &q, &env.app, &retry, now + 9).await?;
    ensure!(
        ok.response.batch_item_failures.is_empty(),
        "{:?}",
        ok.results
    );
    ensure!(
        snapshots_at(&env, cycle).await? == vec![1; 10],
        "every SLO once"
    );
    ensure!(
        env.app
            .store
            .cycle(cycle)
            .await?
            .context("record")?
            .missing()
            == 0
    );
    Ok(())
}

#[tokio::test]
async fn a_shard_that_never_completes_trips_the_switch_for_two_periods() -> Result<()> {
    let env = Env::new().await?;
    let q = queues(&env).await?;
    let settings = fleet(&env).await?;
    let (cycle, now) = (env.end, env.end + 30);
    dispatch_at(&env, &q, &settings, cycle, now).await?;
    let (down, _front) = cloudwatch_down(&env).await?;
    let (first, _) = receive(&env, &q, 1).await?;
    let (rest, _) = receive(&env, &q, 3).await?;
    deliver(&env, &q, &env.app, &rest, now + 5).await?;
    // The shard fails on its first delivery and on its retry: SQS moves it to the
    // dead-letter queue (maxReceiveCount 2) instead of delivering it a third time.
    deliver(&env, &q, &down, &first, now + 5).await?;
    let (retry, ids) = receive(&env, &q, 1).await?;
    ensure!(ids.len() == 1, "one retry: {retry}");
    deliver(&env, &q, &down, &retry, now + 8).await?;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (third, ids) = receive(&env, &q, 1).await?;
    ensure!(ids.is_empty(), "not delivered a third time: {third}");
    let dead = env
        .sqs
        .receive_message()
        .queue_url(&q.dead_letters)
        .max_number_of_messages(10)
        .send()
        .await?;
    ensure!(dead.messages().len() == 1, "dead-lettered: {dead:?}");
    ensure!(dead.messages()[0].body() == first["Records"][0]["body"].as_str());
    ensure!(snapshots_at(&env, cycle).await?.iter().sum::<usize>() == 7);

    // The next schedule finds the cycle unfinished: it holds back and counts the shard.
    let next = dispatch_at(&env, &q, &settings, cycle + PERIOD, now + PERIOD).await?;
    ensure!(next.previous_missing == 1, "{next:?}");
    ensure!(
        matches!(
            next.skipped,
            Some(Skip::StillRunning {
                done: 3,
                shards: 4,
                ..
            })
        ),
        "{next:?}"
    );
    // The one after still counts it, and dispatches: two periods in a row above 0 is what
    // the template's DeadMansSwitchAlarm (2 of 2, > 0) fires on.
    let after = dispatch_at(&env, &q, &settings, cycle + 2 * PERIOD, now + 2 * PERIOD).await?;
    ensure!(
        after.previous_missing == 1 && after.dispatched == 4,
        "{after:?}"
    );
    let switch: Vec<i64> = [&next, &after]
        .iter()
        .map(|r| {
            let line: Value =
                serde_json::from_str(&emf::dispatch_lines("sloguard-test", r, 0)[0]).unwrap();
            line["ShardsMissing"].as_i64().unwrap_or(-1)
        })
        .collect();
    ensure!(switch == vec![1, 1], "{switch:?}");
    // Once the fleet is whole again the switch reads 0.
    let (all, ids) = receive(&env, &q, 10).await?;
    ensure!(ids.len() == 4);
    deliver(&env, &q, &env.app, &all, now + 2 * PERIOD + 5).await?;
    let healed = dispatch_at(&env, &q, &settings, cycle + 3 * PERIOD, now + 3 * PERIOD).await?;
    ensure!(healed.previous_missing == 0, "{healed:?}");
    Ok(())
}
