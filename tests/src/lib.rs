//! Test harness: each test gets its own moto server (a free loopback port, so
//! state never leaks between tests), a table, a topic and an SQS queue
//! subscribed to it to read exactly what on-call would receive.
//!
//! CloudWatch goes through the CBOR front (`sloguard_testing::cbor_front`): the SDK
//! speaks only RPC v2 CBOR to CloudWatch, moto only Query and awsJson1.0. The front
//! translates and answers nothing itself, so moto's limits are the tests' limits
//! (`tests/cloudwatch_front.rs` holds the ones below to moto's current behaviour):
//! - GetMetricData computes no metric math: an `Expression` query comes back empty,
//!   so SLOs on math expressions are covered by unit tests, not here.
//! - GetMetricData ignores `MaxDatapoints` and never pages (no `NextToken`) nor
//!   reports `PartialData`: paging is tested with aws-smithy-mocks
//!   (`shared/tests/faults.rs`), as are throttling and 5xx.
//! - GetMetricData ignores the `Namespace` (two namespaces with the same metric name
//!   and dimensions are summed together: keep scenarios apart by name or dimension)
//!   and aggregates in Python (a 1-minute query over 7 days takes about 15 s).
//! - Operations moto does not implement (GetMetricWidgetImage, say) fail with
//!   `InternalFailure` naming the operation; sloguard calls none of them.
//! - Signatures are not checked; the front forwards them as signed for itself.

pub mod proxy;

use anyhow::{Context, Result};
use serde_json::json;
use sloguard_aws::events::handle_scheduled_event;
use sloguard_aws::{build_app, AwsApp, Environment};
use sloguard_core::app::apply::{apply, ApplyOptions};
use sloguard_core::app::cycle::CycleReport;
use sloguard_core::app::{HistoryStore, Snapshot};
use sloguard_core::slo::load::SourceFile;
use sloguard_core::slo::message::rfc3339;
use sloguard_testing::emulator::{self, Moto, Point, Received};

pub const REGION: &str = "eu-west-1";
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// One isolated emulator with sloguard's table, topic and an inbox queue.
pub struct Env {
    pub moto: Moto,
    pub sdk: aws_config::SdkConfig,
    pub settings: Environment,
    pub app: AwsApp,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub queue: String,
    /// The minute all synthetic data ends at; tests evaluate around it.
    pub end: i64,
}

impl Env {
    /// Start moto (a missing moto is an error, never a skip) and create everything.
    pub async fn new() -> Result<Env> {
        let binary = emulator::find_moto(None)
            .context("the end-to-end tests need moto: run `make venv` or `make test`")?;
        let moto = Moto::start(&binary)?;
        let sdk = moto.sdk_config(REGION).await;
        let sns = aws_sdk_sns::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let topic = emulator::create_topic(&sns, "sloguard").await?;
        let queue = emulator::subscribe_queue(&sqs, &sns, &topic, "inbox").await?;
        let settings = Environment {
            table: "sloguard-test".into(),
            topic_arn: Some(topic),
            events_topic_arn: None,
            lag_seconds: 0,
            history_days: 400,
            schedule_minutes: 5,
            dashboard_url: None,
            stack_name: "sloguard-test".into(),
            slo_metrics: Default::default(),
            event_bus: None,
            changes_days: 90,
            reconcile_hours: 24,
            allowed_topics: None,
            copy_all_to_stack_topic: false,
        };
        let app = build_app(&settings, &sdk);
        app.store.create_table_if_missing().await?;
        let now = chrono::Utc::now().timestamp();
        Ok(Env {
            moto,
            sdk,
            settings,
            app,
            sqs,
            sns,
            queue,
            end: now - now % HOUR - 2 * HOUR,
        })
    }

    /// Another sloguard process (its own clients and claimant) over the same emulator.
    pub fn second_app(&self, settings: &Environment) -> AwsApp {
        build_app(settings, &self.sdk)
    }

    /// Apply SLO YAML.
    pub async fn apply(&self, yaml: &str) -> Result<()> {
        let files = [SourceFile {
            name: "test.yaml".into(),
            text: yaml.into(),
        }];
        apply(&self.app.store, &files, ApplyOptions::default()).await?;
        Ok(())
    }

    /// Write checkout traffic: 100 requests a minute for 30 days (hourly totals before
    /// the last 4 hours, per minute after), with `errors(minute)` errors per minute.
    pub async fn checkout_traffic(&self, errors: impl Fn(i64) -> f64) -> Result<()> {
        let mut pts = Vec::new();
        let recent = self.end - 4 * HOUR;
        let mut t = self.end - 30 * DAY;
        while t < recent {
            pts.push(point("Requests", t, 6000.0));
            t += HOUR;
        }
        while t < self.end {
            pts.push(point("Requests", t, 100.0));
            let e = errors(t);
            if e > 0.0 {
                pts.push(point("Errors", t, e));
            }
            t += 60;
        }
        emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&self.sdk), &pts).await?;
        Ok(())
    }

    /// Apply `slo_yaml` and write checkout traffic with the standard incident:
    /// 10 errors a minute (10%) from 90 to 60 minutes before the end of the data.
    pub async fn incident(&self, slo_yaml: &str) -> Result<()> {
        self.apply(slo_yaml).await?;
        let end = self.end;
        self.checkout_traffic(|t| {
            if t >= end - 90 * 60 && t < end - 60 * 60 {
                10.0
            } else {
                0.0
            }
        })
        .await
    }

    /// Deliver a scheduled event for `time` to the evaluator's handler.
    pub async fn scheduled(&self, app: &AwsApp, time: i64) -> Result<CycleReport> {
        let event = json!({"version": "0", "id": format!("ev-{time}"), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": rfc3339(time), "region": REGION,
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/sloguard"], "detail": {}});
        // The clock stands at the scheduled time, as it does for the deployed schedule.
        Ok(handle_scheduled_event(app, &event, time).await?)
    }

    /// Everything published since the last call.
    pub async fn inbox(&self) -> Result<Vec<Received>> {
        emulator::drain(&self.sqs, &self.queue).await
    }

    /// Deliver an alarm payload to the alarm handler.
    pub async fn alarm(
        &self,
        app: &AwsApp,
        payload: &serde_json::Value,
    ) -> Result<sloguard_core::app::alarm::AlarmReport> {
        Ok(
            sloguard_aws::events::handle_alarm_event(app, payload, chrono::Utc::now().timestamp())
                .await?,
        )
    }

    /// Deliver an alarm payload to the alarm handler with the clock at `now` (a live alarm:
    /// its info message goes out only within a schedule period of its time).
    pub async fn alarm_at(
        &self,
        app: &AwsApp,
        payload: &serde_json::Value,
        now: i64,
    ) -> Result<sloguard_core::app::alarm::AlarmReport> {
        Ok(sloguard_aws::events::handle_alarm_event(app, payload, now).await?)
    }

    /// Stored history of one SLO over the last two days.
    pub async fn history(&self, slo: &str) -> Result<Vec<Snapshot>> {
        Ok(self
            .app
            .store
            .history(slo, self.end - 2 * DAY, self.end + DAY)
            .await?)
    }
}

fn point(metric: &str, t: i64, v: f64) -> Point {
    Point {
        namespace: "Test".into(),
        metric: metric.into(),
        dimensions: vec![("Endpoint".into(), "checkout".into())],
        timestamp: t,
        value: v,
    }
}

/// A 99.9% / 30-day checkout SLO (bad/total) over the test metrics, default alerting.
pub fn checkout_slo(name: &str) -> String {
    checkout_slo_with_alarms(name, "")
}

/// The checkout SLO naming change targets in `sloguard.dev/changes`.
pub fn checkout_slo_with_changes(name: &str, targets: &str) -> String {
    checkout_slo(name).replace(
        "  annotations:\n",
        &format!("  annotations:\n    sloguard.dev/changes: {targets}\n"),
    )
}

/// A deployment-event fixture from `examples/events`, moved to time `t` (its `time` and
/// any CloudTrail `eventTime`/ECS `updatedAt`) and, if given, to another stack name.
pub fn change_fixture(name: &str, t: i64, stack: Option<&str>) -> Result<serde_json::Value> {
    let path = format!("{}/../examples/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    v["time"] = rfc3339(t).into();
    for k in ["eventTime", "updatedAt"] {
        if v["detail"].get(k).is_some() {
            v["detail"][k] = rfc3339(t).into();
        }
    }
    let text = v.to_string();
    let text = match stack {
        Some(s) => text.replace("stack/shop-api/", &format!("stack/{s}/")),
        None => text,
    };
    Ok(serde_json::from_str(&text)?)
}

/// The checkout SLO with a `sloguard.dev/alarms` annotation (empty: none).
pub fn checkout_slo_with_alarms(name: &str, alarms: &str) -> String {
    let alarms = if alarms.is_empty() {
        String::new()
    } else {
        format!("\n    sloguard.dev/alarms: {alarms}")
    };
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
  annotations:
    sloguard.dev/runbook: https://runbooks.example.com/{name}{alarms}
spec:
  service: webshop
  indicator:
    metadata:
      name: {name}-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec: {{region: eu-west-1, namespace: Test, metricName: Errors, stat: Sum, dimensions: [{{name: Endpoint, value: checkout}}]}}
        total:
          metricSource:
            type: CloudWatch
            spec: {{region: eu-west-1, namespace: Test, metricName: Requests, stat: Sum, dimensions: [{{name: Endpoint, value: checkout}}]}}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"#
    )
}

/// An alarm fixture from `examples/events`, moved to time `t` and onto the test metrics
/// (namespace Test, metric Errors, dimension Endpoint=checkout).
pub fn alarm_fixture(name: &str, t: i64) -> Result<serde_json::Value> {
    let path = format!("{}/../examples/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)?;
    let stamp = chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S.000+0000")
        .to_string();
    let text = text
        .replace("2026-11-25T10:04:40.989+0000", &stamp)
        .replace("2026-11-25T10:06:12.132+0000", &stamp)
        .replace("Shop", "Test")
        .replace("CheckoutErrors", "Errors");
    Ok(serde_json::from_str(&text)?)
}
