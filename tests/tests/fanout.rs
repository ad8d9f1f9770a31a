//! The fan-out end to end on the emulator: the dispatcher's orders go through a real SQS
//! queue (with a dead-letter queue, maxReceiveCount 2, as the template sets it), the
//! evaluator's workers take them with the real SQS adapter (receive, delete, visibility),
//! and DynamoDB keeps the cycle records. The workers the dispatcher starts are counted
//! here and run by the test (moto cannot run a Lambda function). Ten SLOs in shards of
//! three: every SLO is evaluated once per cycle by two workers at once, a failed shard is
//! retried within the cycle and evaluated once, and a shard that never completes (dead-
//! lettered) trips the dead man's switch for two schedule periods in a row.

use std::sync::Mutex;

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use sloguard_aws::events::dispatch::handle_dispatch_event;
use sloguard_aws::{build_app, AwsApp, Environment, SqsShardQueue};
use sloguard_core::app::emf;
use sloguard_core::app::fanout::{
    run_shard, work, CycleStore, DispatchReport, QueueError, ShardQueue, Skip, WorkReport, Workers,
};
use sloguard_core::app::HistoryStore;
use sloguard_core::slo::message::rfc3339;
use sloguard_e2e::{checkout_slo, Env, REGION};
use sloguard_testing::cbor_front::{self, CborFront};
use sloguard_testing::emulator;

/// The workers the dispatcher asked for; the test runs them.
#[derive(Default)]
struct Started(Mutex<Vec<u32>>);

impl Workers for Started {
    async fn start(&self, n: u32, _cycle: i64) -> Result<(), QueueError> {
        self.0.lock().unwrap().push(n);
        Ok(())
    }
}

const PERIOD: i64 = 300;

fn names() -> Vec<String> {
    (0..10).map(|i| format!("slo-{i:02}")).collect()
}

/// The shard queue and its dead-letter queue, as the template makes them.
struct Queues {
    queue: SqsShardQueue,
    dead_letters: String,
    workers: Started,
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
        queue: SqsShardQueue::new(aws_sdk_sqs::Client::new(&env.sdk), url).retrying_after(1),
        dead_letters: dlq,
        workers: Started::default(),
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
        shard_concurrency: 2,
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
    Ok(handle_dispatch_event(&env.app.store, &q.queue, &q.workers, settings, &event, now).await?)
}

/// One worker of `app` draining the queue, with the clock at `now` (seconds).
async fn worker(app: &AwsApp, q: &Queues, now: i64) -> Result<WorkReport> {
    Ok(work(app, &q.queue, || now * 1000, None).await?)
}

/// Take one order and run it on `app`, settling it as a worker does: what a worker whose
/// CloudWatch is down does with the first order it takes. Returns the order's body.
async fn one_order(app: &AwsApp, q: &Queues, now: i64) -> Result<(u32, bool)> {
    let got = q.queue.receive(5).await?.context("an order")?;
    let order = got.order.map_err(anyhow::Error::msg)?;
    let ok = run_shard(app, &order, now, None).await.is_ok();
    if ok {
        q.queue.done(&got.receipt).await?;
    } else {
        q.queue.retry_soon(&got.receipt).await?;
    }
    Ok((order.index, ok))
}

fn evaluated(reports: &[&WorkReport]) -> Vec<String> {
    let mut names: Vec<String> = reports
        .iter()
        .flat_map(|r| &r.shards)
        .filter_map(|s| s.report.as_ref())
        .flat_map(|r| r.slos.iter().map(|o| o.slo.clone()))
        .collect();
    names.sort();
    names
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
    ensure!(
        (r.slos, r.shards, r.dispatched, r.workers) == (10, 4, 4, 2),
        "{r:?}"
    );
    ensure!(*q.workers.0.lock().unwrap() == vec![2]);
    // The two workers the dispatcher started, at once, on the one queue.
    let (a, b) = tokio::join!(worker(&env.app, &q, now + 5), worker(&env.app, &q, now + 5));
    let (a, b) = (a?, b?);
    ensure!(
        evaluated(&[&a, &b]) == names(),
        "every SLO once: {a:?} {b:?}"
    );
    ensure!(a.shards.len() + b.shards.len() == 4);
    ensure!(snapshots_at(&env, cycle).await? == vec![1; 10]);
    ensure!(q.queue.pending().await? == 0, "every order settled");
    // A repeated schedule event queues nothing and starts nobody.
    let again = dispatch_at(&env, &q, &settings, cycle, now + 40).await?;
    ensure!(
        again.repeated && again.dispatched == 0 && again.workers == 0,
        "{again:?}"
    );
    ensure!(q.queue.pending().await? == 0);
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
    // The first order lands on a worker that cannot reach CloudWatch: made visible again.
    let (failed, ok) = one_order(&down, &q, now + 5).await?;
    ensure!(!ok, "shard {failed} cannot be evaluated without CloudWatch");
    ensure!(
        env.app
            .store
            .cycle(cycle)
            .await?
            .context("record")?
            .missing()
            == 4
    );
    // A healthy worker takes the rest, then waits for the failed one (visible again after
    // 1 s, not the queue's 60 s) and runs it: the retry within the cycle.
    let healthy = worker(&env.app, &q, now + 6).await?;
    ensure!(healthy.shards.len() == 4, "{healthy:?}");
    ensure!(
        healthy
            .shards
            .iter()
            .any(|s| s.shard == Some(failed) && s.outcome == "ran"),
        "{healthy:?}"
    );
    ensure!(evaluated(&[&healthy]) == names(), "every SLO once");
    ensure!(snapshots_at(&env, cycle).await? == vec![1; 10]);
    ensure!(
        env.app
            .store
            .cycle(cycle)
            .await?
            .context("record")?
            .missing()
            == 0
    );
    ensure!(q.queue.pending().await? == 0);
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
    // One shard fails on its first delivery and on its retry ...
    let (stuck, ok) = one_order(&down, &q, now + 5).await?;
    ensure!(!ok);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (again, ok) = one_order(&down, &q, now + 7).await?;
    ensure!(
        again == stuck && !ok,
        "the same shard, retried: {again} {stuck}"
    );
    // ... so SQS dead-letters it instead of delivering it a third time; a healthy worker
    // runs the other three and stops once nothing is left.
    let healthy = worker(&env.app, &q, now + 9).await?;
    ensure!(healthy.shards.len() == 3, "{healthy:?}");
    ensure!(healthy.shards.iter().all(|s| s.shard != Some(stuck)));
    let dead = env
        .sqs
        .receive_message()
        .queue_url(&q.dead_letters)
        .max_number_of_messages(10)
        .send()
        .await?;
    ensure!(dead.messages().len() == 1, "dead-lettered: {dead:?}");
    ensure!(dead.messages()[0]
        .body()
        .is_some_and(|b| b.contains(&format!("\"shard\":{stuck},"))));
    ensure!(snapshots_at(&env, cycle).await?.iter().sum::<usize>() == 7);

    // The next schedule counts the lost shard; nothing of the cycle waits in the queue, so
    // it holds nothing back.
    let next = dispatch_at(&env, &q, &settings, cycle + PERIOD, now + PERIOD).await?;
    ensure!(next.previous_missing == 1, "{next:?}");
    ensure!(next.skipped.is_none() && next.dispatched == 4, "{next:?}");
    let whole = worker(&env.app, &q, now + PERIOD + 5).await?;
    ensure!(whole.shards.len() == 4, "{whole:?}");
    // The one after still counts it, though the cycle between was whole: two periods in a
    // row above 0 is what the template's DeadMansSwitchAlarm (2 of 2, > 0) fires on.
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
    let healed = worker(&env.app, &q, now + 2 * PERIOD + 5).await?;
    ensure!(healed.shards.len() == 4, "{healed:?}");
    let next = dispatch_at(&env, &q, &settings, cycle + 3 * PERIOD, now + 3 * PERIOD).await?;
    ensure!(next.previous_missing == 0, "{next:?}");
    // A cycle still running (its orders wait) holds the next one back, never doubled, and
    // gets workers for what waits.
    let held = dispatch_at(&env, &q, &settings, cycle + 4 * PERIOD, now + 4 * PERIOD).await?;
    ensure!(
        matches!(
            held.skipped,
            Some(Skip::StillRunning {
                done: 0,
                shards: 4,
                ..
            })
        ),
        "{held:?}"
    );
    ensure!(held.dispatched == 0 && held.workers == 2, "{held:?}");
    Ok(())
}
