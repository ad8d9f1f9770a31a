//! What AWS bills per SLO per cycle, counted at the SDK over an hour of 5-minute
//! cycles on moto: API calls (every attempt), metrics requested per GetMetricData
//! (from each request's MetricDataQueries), DynamoDB write and read units (from the
//! sizes of the items written and read), and custom metrics (distinct EMF name and
//! dimensions). Then `sloguard cost`'s model must give the same per-cycle figures:
//! the model is checked against what the code really does. Streams are read on their
//! caches (the tail each cycle), so after the first cycle the hour costs about one metric
//! per stream per cycle; a day's far edges and reconciliation are in the model's tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataInput;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use sloguard_aws::{AwsNotifier, CloudWatchSource, DynamoStore, SnsNotifier};
use sloguard_core::app::{emf, App, Config, DefinitionStore};
use sloguard_core::cost::{estimate, prices, reads, Deployment, FleetSlo};
use sloguard_core::slo::plan::EvalTime;
use sloguard_e2e::{checkout_slo, Env, HOUR, REGION};

#[derive(Debug, Default)]
struct Counted {
    /// Request attempts by "Service:Operation".
    calls: BTreeMap<String, usize>,
    /// Metrics requested: each MetricStat query of each GetMetricData call.
    metrics_requested: usize,
    /// Write units of the PutItems of snapshots (1 per KB of the item).
    put_write_units: usize,
    /// Stream-cache items written, and their write units.
    cache_writes: usize,
    cache_write_units: usize,
    /// Stream-cache keys asked for.
    cache_keys: usize,
    /// The state items (SLO names) updated with UpdateItem.
    updated_states: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Meter(Arc<Mutex<Counted>>);

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "billing-meter"
    }

    fn read_before_execution(
        &self,
        ctx: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut c = self.0.lock().unwrap();
        if let Some(gmd) = ctx.input().downcast_ref::<GetMetricDataInput>() {
            c.metrics_requested += gmd
                .metric_data_queries()
                .iter()
                .filter(|q| q.metric_stat().is_some())
                .count();
        }
        if let Some(put) = ctx.input().downcast_ref::<PutItemInput>() {
            let item = put.item().unwrap();
            let units = size(item).div_ceil(1024);
            if item["pk"].as_s().unwrap().starts_with("STREAM#") {
                c.cache_writes += 1;
                c.cache_write_units += units;
            } else {
                c.put_write_units += units;
            }
        }
        if let Some(get) = ctx.input().downcast_ref::<BatchGetItemInput>() {
            c.cache_keys += get
                .request_items()
                .unwrap()
                .values()
                .map(|k| k.keys().len())
                .sum::<usize>();
        }
        if let Some(update) = ctx.input().downcast_ref::<UpdateItemInput>() {
            let key = update.key().unwrap();
            if key["pk"].as_s().unwrap() == "STATE" {
                c.updated_states.push(key["sk"].as_s().unwrap().clone());
            }
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", m.service(), m.name()))
            .unwrap_or_default();
        *self.0.lock().unwrap().calls.entry(op).or_default() += 1;
        Ok(())
    }
}

impl Meter {
    fn take(&self) -> Counted {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// An item's size as DynamoDB's documentation defines it: names plus values, a number
/// taking 1 byte per two significant digits plus 1. Written here, apart from the adapter.
fn size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(n) => {
                        let d: String = n.chars().filter(char::is_ascii_digit).collect();
                        d.trim_matches('0').len().div_ceil(2) + 1
                    }
                    AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
                    AttributeValue::B(b) => b.as_ref().len(),
                    other => panic!("unexpected attribute {other:?}"),
                }
        })
        .sum()
}

/// Each item of one partition with its size, read around the meter.
async fn partition(env: &Env, pk: &str) -> Result<BTreeMap<String, usize>> {
    let out = aws_sdk_dynamodb::Client::new(&env.sdk)
        .query()
        .table_name(&env.settings.table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .send()
        .await?;
    assert!(out.last_evaluated_key().is_none(), "one page");
    Ok(out
        .items()
        .iter()
        .map(|i| (i["sk"].as_s().unwrap().clone(), size(i)))
        .collect())
}

/// The size of each stream-cache item, read around the meter.
async fn stream_caches(env: &Env) -> Result<Vec<usize>> {
    let out = aws_sdk_dynamodb::Client::new(&env.sdk)
        .scan()
        .table_name(&env.settings.table)
        .filter_expression("begins_with(pk, :p)")
        .expression_attribute_values(":p", AttributeValue::S("STREAM#".into()))
        .send()
        .await?;
    assert!(out.last_evaluated_key().is_none(), "one page");
    Ok(out.items().iter().map(size).collect())
}

/// Distinct custom metrics in EMF lines: (namespace, metric name, dimension values).
fn custom_metrics(lines: &[String], into: &mut BTreeSet<String>) {
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for d in v["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for dims in d["Dimensions"].as_array().unwrap() {
                let dims: Vec<String> = dims
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| format!("{}={}", n.as_str().unwrap(), v[n.as_str().unwrap()]))
                    .collect();
                for m in d["Metrics"].as_array().unwrap() {
                    into.insert(format!("{} {} {:?}", d["Namespace"], m["Name"], dims));
                }
            }
        }
    }
}

#[tokio::test]
async fn billing_units_per_slo_per_cycle_match_the_cost_model() -> Result<()> {
    const SLOS: usize = 20;
    const CYCLES: usize = 12; // an hour of 5-minute cycles
    let env = Env::new().await?;
    // Each SLO counts its own bad events (no data: nothing went wrong) over the shared
    // checkout requests: 21 streams, as a team's SLOs over one service look.
    let names: Vec<String> = (0..SLOS).map(|i| format!("checkout-{i:02}")).collect();
    let yaml: Vec<String> = names
        .iter()
        .map(|n| checkout_slo(n).replacen("value: checkout}", &format!("value: {n}}}"), 1))
        .collect();
    env.apply(&yaml.join("---\n")).await?;
    env.checkout_traffic(|_| 0.0).await?;

    let meter = Meter::default();
    let cw = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&env.sdk)
            .interceptor(meter.clone())
            .build(),
    );
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&env.sdk)
            .interceptor(meter.clone())
            .build(),
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&env.sdk)
            .interceptor(meter.clone())
            .build(),
    );
    let app = App {
        metrics: CloudWatchSource::with_client(env.sdk.clone(), REGION, cw),
        store: DynamoStore::new(ddb, env.settings.table.clone()),
        notifier: AwsNotifier {
            sns: SnsNotifier::new(sns, env.settings.topic_arn.clone().unwrap(), None),
            bus: None,
        },
        config: Config {
            lag_seconds: 0,
            ..Config::default()
        },
    };
    let hour = env.end - HOUR;
    // The first cycle creates the states and reads every stream whole (a cold table).
    env.scheduled(&app, hour - 300).await?;
    let cold = meter.take();
    assert_eq!(cold.cache_writes, SLOS + 1, "a cache per stream");

    let mut total = Counted::default();
    let (mut write_units, mut read_units) = (0usize, 0usize);
    let mut cache_read_halves = 0usize;
    let mut metrics = BTreeSet::new();
    let mut plans = 0;
    let mut state_updates = 0;
    let mut states = partition(&env, "STATE").await?;
    let definitions = partition(&env, "DEF").await?;
    for k in 0..CYCLES {
        let at = hour + 300 * k as i64;
        let caches = stream_caches(&env).await?;
        let report = env.scheduled(&app, at).await?;
        assert_eq!(report.evaluated, SLOS);
        plans += report.metric_requests;
        let c = meter.take();
        let get = |op: &str| c.calls.get(op).copied().unwrap_or(0);
        // one listing of definitions, one of states and one of corrections, one read of
        // the 21 stream caches,
        // then per SLO a snapshot; the state item only at the hour's checkpoint (once per
        // SLO in the hour), never a transaction; the caches at the first cycle of the hour
        // (new closed hours) and at the second (the far edges, read twelve hours ahead; the
        // cold cycle read only what its own window needed)
        assert_eq!(get("DynamoDB:Query"), 3, "{:?}", c.calls);
        assert_eq!(get("DynamoDB:BatchGetItem"), 1);
        assert_eq!(c.cache_keys, SLOS + 1);
        assert_eq!(
            c.cache_writes,
            if k < 2 { SLOS + 1 } else { 0 },
            "cycle {k}"
        );
        assert_eq!(get("DynamoDB:PutItem"), SLOS + c.cache_writes);
        assert_eq!(get("DynamoDB:TransactWriteItems"), 0);
        let updates = get("DynamoDB:UpdateItem");
        assert!(updates == 0 || updates == SLOS, "{updates}");
        state_updates += updates;
        assert_eq!(get("CloudWatch:GetMetricData"), report.metric_requests);
        assert_eq!(get("SNS:Publish"), 0, "steady state publishes nothing");
        assert_eq!(
            c.calls.values().sum::<usize>(),
            4 + SLOS + c.cache_writes + updates + get("CloudWatch:GetMetricData")
        );
        // Queries are consistent reads: 1 unit per 4 KB of all items returned; the
        // caches are read eventually consistent: half a unit per 4 KB of each item.
        read_units += definitions.values().sum::<usize>().div_ceil(4096)
            + states.values().sum::<usize>().div_ceil(4096);
        cache_read_halves += caches
            .iter()
            .map(|b| b.div_ceil(4096).max(1))
            .sum::<usize>();
        // An update writes 1 unit per KB of the larger of the item before and after.
        let after = partition(&env, "STATE").await?;
        write_units += c.put_write_units
            + c.cache_write_units
            + c.updated_states
                .iter()
                .map(|slo| after[slo].max(states[slo]).div_ceil(1024))
                .sum::<usize>();
        states = after;
        custom_metrics(
            // what the deployed evaluator prints: health per stack, no per-SLO metrics
            &emf::cycle_lines(
                &emf::Source {
                    stack: "sloguard".into(),
                    slo_metrics: emf::SloMetrics::None,
                },
                &report,
                at * 1000,
            ),
            &mut metrics,
        );
        total.metrics_requested += c.metrics_requested;
        total.cache_writes += c.cache_writes;
        total.cache_write_units += c.cache_write_units;
        for (op, n) in c.calls {
            *total.calls.entry(op).or_default() += n;
        }
    }
    let per_cycle = |v: usize| v as f64 / CYCLES as f64;
    let per_slo = |v: usize| per_cycle(v) / SLOS as f64;
    println!(
        "{SLOS} SLOs over {CYCLES} cycles: {:?}\nper SLO per cycle: {:.2} metrics requested (goal <= 2.5), \
         {:.2} write units (goal <= 2), {:.2} read units ({:.2} of them stream caches); custom metrics {} ({:.1} per SLO; goal 0)",
        total.calls,
        per_slo(total.metrics_requested),
        per_slo(write_units),
        (read_units as f64 + cache_read_halves as f64 * 0.5) / (CYCLES * SLOS) as f64,
        cache_read_halves as f64 * 0.5 / (CYCLES * SLOS) as f64,
        metrics.len(),
        metrics.len() as f64 / SLOS as f64,
    );
    // Metrics: the goal. Each of the 21 streams' tail once a cycle, and once the 3-day and
    // 30-day edges (for the next twelve hours): 21 x 14 metrics for 20 SLOs in 12 cycles.
    let m = per_slo(total.metrics_requested);
    assert!(m <= 2.5, "{m} metrics per SLO per cycle (goal <= 2.5)");
    assert!(
        (m - 21.0 * 14.0 / 240.0).abs() < 1e-9,
        "{m} metrics per SLO per cycle"
    );
    // Writes: the goal. A snapshot (one unit) a cycle, the state once an hour.
    assert_eq!(state_updates, SLOS, "one state update per SLO in the hour");
    // History sized to its use: of each SLO's 12 snapshots of the hour, one (the hourly
    // checkpoint) is kept the full retention (400 days), the others 15 days.
    for name in &names {
        let out = aws_sdk_dynamodb::Client::new(&env.sdk)
            .query()
            .table_name(&env.settings.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("SNAP#{name}")))
            .send()
            .await?;
        let mut days: Vec<i64> = out
            .items()
            .iter()
            .filter(|i| {
                i["sk"].as_s().unwrap().as_str()
                    >= sloguard_core::slo::message::rfc3339(hour).as_str()
            })
            .map(|i| {
                let at = chrono::DateTime::parse_from_rfc3339(i["sk"].as_s().unwrap())
                    .unwrap()
                    .timestamp();
                let ttl: i64 = i["expires_at"].as_n().unwrap().parse().unwrap();
                (ttl - at) / 86_400
            })
            .collect();
        days.sort_unstable();
        let mut expected = vec![15; CYCLES - 1];
        expected.push(400);
        assert_eq!(days, expected, "{name}");
    }
    let w = per_slo(write_units);
    assert!(w <= 2.0, "{w} write units per SLO per cycle (goal <= 2)");
    // a snapshot (one unit) a cycle, the state once an hour, the 21 caches once an hour
    let cache_units = total.cache_write_units as f64 / (CYCLES * SLOS) as f64;
    assert!((w - (1.0 + 1.0 / 12.0 + cache_units)).abs() < 1e-9, "{w}");
    // the dispatcher's dead man's switch and the stack's failures; none per SLO by default
    custom_metrics(
        &emf::dispatch_lines(
            "sloguard",
            &sloguard_core::app::fanout::DispatchReport::default(),
            hour * 1000,
        ),
        &mut metrics,
    );
    assert_eq!(metrics.len(), 2, "no per-SLO custom metrics");

    // The model, fed what `sloguard cost` reads from the table, gives the same figures.
    let defs: Vec<_> = env
        .app
        .store
        .definitions()
        .await?
        .into_iter()
        .map(|d| d.definition.unwrap())
        .collect();
    let sizes = env.app.store.item_sizes().await?;
    let fleet: Vec<FleetSlo> = defs
        .iter()
        .map(|definition| FleetSlo {
            definition,
            sizes: Some(sizes[&definition.name]),
        })
        .collect();
    // The snapshot, state and listing units: the model with every stream read whole adds
    // nothing for caches, so it must give exactly what was measured without them.
    let deployment = Deployment {
        lag_seconds: 0,
        reconcile_hours: 0,
        ..Deployment::default()
    };
    let e = estimate(
        &fleet,
        &deployment,
        prices::for_region("us-east-1").unwrap(),
        hour,
        sloguard_aws::cost::LAYOUT,
    );
    let c = &e.per_cycle;
    println!(
        "model (no caches): {c:?}, custom metrics {}",
        e.custom_metrics
    );
    // The shard's own units (these cycles ran as one shard), then the fan-out's cycle record
    // and the dispatcher's reads, which `tests/fanout.rs` runs for real.
    let cache_units = per_cycle(total.cache_write_units);
    assert!(
        (c.dynamodb_write_units - c.fanout_write_units - (per_cycle(write_units) - cache_units))
            .abs()
            < 1e-9
    );
    assert!(
        (c.dynamodb_write_requests
            - c.fanout_write_requests
            - per_cycle(total.calls["DynamoDB:PutItem"] - total.cache_writes + state_updates))
        .abs()
            < 1e-9
    );
    assert_eq!(
        c.dynamodb_read_units - c.fanout_read_units,
        per_cycle(read_units)
    );
    assert_eq!(c.dynamodb_read_requests - c.fanout_read_requests, 3.0);
    assert_eq!(
        (c.fanout_write_requests, c.fanout_read_requests),
        (3.0, 4.0)
    );
    assert_eq!(e.custom_metrics, metrics.len());

    // The reads: the model's simulation of these very cycles (the cold one, then the hour)
    // requests the metrics and makes the calls and cache writes that were counted.
    let refs: Vec<&sloguard_core::slo::model::SloDefinition> = defs.iter().collect();
    let times: Vec<EvalTime> = std::iter::once(hour - 300)
        .chain((0..CYCLES).map(|k| hour + 300 * k as i64))
        .map(|t| EvalTime::from_trigger(t, 0, t))
        .collect();
    let simulated = reads::simulate(&refs, &times, 86_400, &sloguard_aws::dynamodb::DynamoLayout);
    let sim = &simulated[1..];
    let sum = |f: &dyn Fn(&reads::CycleReads) -> usize| sim.iter().map(f).sum::<usize>();
    assert_eq!(simulated[0].cache_writes, cold.cache_writes);
    assert_eq!(sum(&|r| r.metrics), total.metrics_requested);
    assert_eq!(sum(&|r| r.calls), plans);
    assert_eq!(sum(&|r| r.calls), total.calls["CloudWatch:GetMetricData"]);
    assert_eq!(sum(&|r| r.cache_writes), total.cache_writes);
    assert_eq!(sum(&|r| r.cache_read_requests), CYCLES);
    // Sizes: the model's counts are noisier than this test's steady traffic, so its cache
    // items are no smaller than the ones measured here.
    let modelled: f64 = sim.iter().map(|r| r.cache_write_units).sum();
    assert!(
        modelled >= total.cache_write_units as f64,
        "model {modelled}, measured {}",
        total.cache_write_units
    );
    let modelled_reads: f64 = sim.iter().map(|r| r.cache_read_units).sum();
    assert!(modelled_reads >= cache_read_halves as f64 * 0.5);
    Ok(())
}
