//! AWS API calls per SLO per cycle, counted at the SDK (every attempt counts),
//! for the cost figures in README "Deploy" and BENCHMARKS.md.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use sloguard::app::{App, Config};
use sloguard::aws::{CloudWatchSource, DynamoStore, SnsNotifier};
use sloguard_e2e::{checkout_slo, Env, REGION};

#[derive(Debug, Clone, Default)]
struct Calls(Arc<Mutex<BTreeMap<String, usize>>>);

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "call-counter"
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
        *self.0.lock().unwrap().entry(op).or_default() += 1;
        Ok(())
    }
}

impl Calls {
    fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[tokio::test]
async fn api_calls_per_slo_per_cycle() -> Result<()> {
    const SLOS: usize = 20;
    let env = Env::new().await?;
    let names: Vec<String> = (0..SLOS).map(|i| format!("checkout-{i:02}")).collect();
    env.apply(
        &names
            .iter()
            .map(|n| checkout_slo(n))
            .collect::<Vec<_>>()
            .join("---\n"),
    )
    .await?;
    env.checkout_traffic(|_| 0.0).await?;

    let calls = Calls::default();
    let cw = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&env.sdk)
            .interceptor(calls.clone())
            .build(),
    );
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&env.sdk)
            .interceptor(calls.clone())
            .build(),
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&env.sdk)
            .interceptor(calls.clone())
            .build(),
    );
    let app = App {
        metrics: CloudWatchSource::with_client(env.sdk.clone(), REGION, cw),
        store: DynamoStore::new(ddb, env.settings.table.clone()),
        notifier: SnsNotifier::new(sns, env.settings.topic_arn.clone().unwrap(), None),
        config: Config {
            lag_seconds: 0,
            ..Config::default()
        },
    };
    env.scheduled(&app, env.end - 600).await?; // first cycle creates the states
    calls.take();
    let report = env.scheduled(&app, env.end).await?;
    assert_eq!(report.evaluated, SLOS);
    let counted = calls.take();
    let get = |k: &str| counted.get(k).copied().unwrap_or(0);
    println!("steady-state cycle of {SLOS} SLOs: {counted:?}");
    // one listing of definitions and one of states, then per SLO a snapshot and a state commit
    assert_eq!(get("DynamoDB:Query"), 2);
    assert_eq!(get("DynamoDB:PutItem"), SLOS);
    assert_eq!(get("DynamoDB:TransactWriteItems"), SLOS);
    // all 20 SLOs share one request per time range: the calls do not grow with the fleet
    assert_eq!(get("CloudWatch:GetMetricData"), report.metric_requests);
    assert!(report.metric_requests <= 6, "{report:?}");
    assert_eq!(get("SNS:Publish"), 0, "steady state publishes nothing");
    Ok(())
}
