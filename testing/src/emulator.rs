//! The local AWS emulator (moto server) on a free loopback port, with the CBOR front
//! for CloudWatch beside it, and the few calls the demo and the tests make around
//! sloguard: topics, an SQS queue subscribed to read what was published, and
//! synthetic metrics.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_smithy_types::DateTime;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use crate::cbor_front::{self, CborFront};

/// The launcher that serves moto one request at a time, like DynamoDB's atomic item writes.
const SERIAL_SERVER: &str = include_str!("moto_serial.py");

/// A running moto server and its CBOR front, stopped when dropped.
pub struct Moto {
    child: Child,
    /// moto itself: every service but CloudWatch.
    pub endpoint: String,
    pub port: u16,
    /// The CBOR front before moto: CloudWatch (the SDK speaks only RPC v2 CBOR to it).
    pub cloudwatch_endpoint: String,
    /// Stopped after moto (fields drop after `Drop::drop`).
    _front: CborFront,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where moto_server is: `explicit`, else $SLOGUARD_MOTO_SERVER, else `.venv/bin/moto_server`
/// in this directory or a parent (the Makefile's virtualenv).
pub fn find_moto(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            bail!("moto server not found at {}", p.display())
        };
    }
    if let Ok(p) = std::env::var("SLOGUARD_MOTO_SERVER") {
        let p = PathBuf::from(p);
        if p.exists() {
            return Ok(p);
        }
    }
    let mut dir = std::env::current_dir()?;
    loop {
        let candidate = dir.join(".venv/bin/moto_server");
        if candidate.exists() {
            return Ok(candidate);
        }
        if !dir.pop() {
            bail!("moto_server not found: run `make venv` (it installs the pinned moto[server] into .venv) or set SLOGUARD_MOTO_SERVER");
        }
    }
}

impl Moto {
    /// Start moto on a free loopback port, wait until it answers, and put the CBOR front
    /// before it on a port of its own.
    pub fn start(binary: &Path) -> Result<Moto> {
        let (mut child, port) = start_moto(binary)?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let front = cbor_front::cloudwatch().and_then(|model| CborFront::start(model, &endpoint));
        match front {
            Ok(front) => Ok(Moto {
                child,
                endpoint,
                port,
                cloudwatch_endpoint: front.endpoint.clone(),
                _front: front,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e).context("cannot start the CBOR front for CloudWatch")
            }
        }
    }

    /// The endpoint variables for a process that should use this emulator (the CLI under test):
    /// `AWS_ENDPOINT_URL` for every service and `AWS_ENDPOINT_URL_CLOUDWATCH` for the front.
    pub fn endpoint_env(&self) -> [(&'static str, String); 2] {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            (
                "AWS_ENDPOINT_URL_CLOUDWATCH",
                self.cloudwatch_endpoint.clone(),
            ),
        ]
    }

    /// SDK configuration pointing every client at this emulator (CloudWatch at its
    /// front), with dummy credentials.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        sdk_config_for(&self.endpoint, &self.cloudwatch_endpoint, region).await
    }
}

/// moto on a free loopback port, answering: the process and its port.
fn start_moto(binary: &Path) -> Result<(Child, u16)> {
    let mut last_err = None;
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        // moto_server's own python runs moto serially (see moto_serial.py for why).
        let python = binary.with_file_name("python");
        if !python.exists() {
            bail!(
                "{} not found beside {}: moto must be installed in a virtualenv (make venv)",
                python.display(),
                binary.display()
            );
        }
        let mut child = Command::new(&python)
            .args(["-c", SERIAL_SERVER, "127.0.0.1", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start moto with {}", python.display()))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                last_err = Some(format!("moto exited with {status}"));
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok((child, port));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        last_err.get_or_insert_with(|| "moto did not open its port within 30 s".into());
    }
    bail!("{}", last_err.unwrap_or_default())
}

/// SDK configuration for an emulator (or a proxy in front of it) at `endpoint`, with
/// CloudWatch at `cloudwatch_endpoint` (a CBOR front), and dummy credentials.
pub async fn sdk_config_for(endpoint: &str, cloudwatch_endpoint: &str, region: &str) -> SdkConfig {
    let endpoints = EmulatorEndpoints {
        all: endpoint.to_string(),
        cloudwatch: cloudwatch_endpoint.to_string(),
    };
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
        .into_builder()
        // Not `endpoint_url`: set in code, it would outrank every service's own endpoint.
        .service_config(endpoints)
        .build()
}

/// The service endpoints the SDK would read from `AWS_ENDPOINT_URL_CLOUDWATCH` and
/// `AWS_ENDPOINT_URL`, and nothing from the environment: CloudWatch at the front, the
/// other services at moto.
#[derive(Debug)]
struct EmulatorEndpoints {
    all: String,
    cloudwatch: String,
}

impl LoadServiceConfig for EmulatorEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        match (key.profile(), key.service_id()) {
            ("endpoint_url", "CloudWatch") => Some(self.cloudwatch.clone()),
            ("endpoint_url", _) => Some(self.all.clone()),
            _ => None,
        }
    }
}

/// Create (or find) a topic; returns its ARN.
pub async fn create_topic(sns: &aws_sdk_sns::Client, name: &str) -> Result<String> {
    let out = sns
        .create_topic()
        .name(name)
        .send()
        .await
        .context("CreateTopic")?;
    out.topic_arn()
        .map(str::to_string)
        .context("CreateTopic returned no ARN")
}

/// A new SQS queue: its URL and ARN.
async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String)> {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .context("CreateQueue")?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .context("GetQueueAttributes")?
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .context("queue has no ARN")?;
    Ok((url, arn))
}

/// An SQS queue subscribed to `topic_arn`: the way tests and the demo read what on-call receives.
pub async fn subscribe_queue(
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    name: &str,
) -> Result<String> {
    let (url, arn) = queue(sqs, name).await?;
    sns.subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .context("Subscribe")?;
    Ok(url)
}

/// One message as a subscriber receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub subject: String,
    pub message: String,
    pub attributes: BTreeMap<String, String>,
}

/// Read and delete everything in the queue.
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Vec<Received>> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .context("ReceiveMessage")?;
        let msgs = got.messages();
        if msgs.is_empty() {
            return Ok(out);
        }
        for m in msgs {
            let envelope: serde_json::Value = serde_json::from_str(m.body().unwrap_or("{}"))
                .context("SNS envelope is not JSON")?;
            let attributes = envelope["MessageAttributes"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v["Value"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(Received {
                subject: envelope["Subject"].as_str().unwrap_or_default().to_string(),
                message: envelope["Message"].as_str().unwrap_or_default().to_string(),
                attributes,
            });
            if let Some(h) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(h)
                    .send()
                    .await
                    .context("DeleteMessage")?;
            }
        }
    }
}

/// One synthetic datapoint.
#[derive(Debug, Clone)]
pub struct Point {
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub timestamp: i64,
    pub value: f64,
}

/// PutMetricData in batches of what the API takes, grouped by namespace.
pub async fn put_metrics(cw: &aws_sdk_cloudwatch::Client, points: &[Point]) -> Result<usize> {
    let mut by_ns: BTreeMap<&str, Vec<&Point>> = BTreeMap::new();
    for p in points {
        by_ns.entry(&p.namespace).or_default().push(p);
    }
    let mut calls = 0;
    for (ns, pts) in by_ns {
        for chunk in pts.chunks(500) {
            let data = chunk
                .iter()
                .map(|p| {
                    MetricDatum::builder()
                        .metric_name(&p.metric)
                        .set_dimensions(Some(
                            p.dimensions
                                .iter()
                                .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                                .collect(),
                        ))
                        .timestamp(DateTime::from_secs(p.timestamp))
                        .value(p.value)
                        .unit(StandardUnit::Count)
                        .build()
                })
                .collect();
            cw.put_metric_data()
                .namespace(ns)
                .set_metric_data(Some(data))
                .send()
                .await
                .context("PutMetricData")?;
            calls += 1;
        }
    }
    Ok(calls)
}

/// An EventBridge rule on `bus` matching `pattern` that forwards to a new SQS queue: the way
/// tests and the demo see the SLO events a user's rule would get. Returns the queue URL.
pub async fn rule_to_queue(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    bus: &str,
    name: &str,
    pattern: &serde_json::Value,
) -> Result<String> {
    let (url, arn) = queue(sqs, name).await?;
    events
        .put_rule()
        .name(name)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .context("PutRule")?;
    events
        .put_targets()
        .rule(name)
        .event_bus_name(bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .context("target")?,
        )
        .send()
        .await
        .context("PutTargets")?;
    Ok(url)
}

/// Read and delete every EventBridge event waiting in a rule's queue.
pub async fn drain_events(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .context("ReceiveMessage")?;
        if got.messages().is_empty() {
            return Ok(out);
        }
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap_or("{}")).context("event is not JSON")?);
            if let Some(h) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(h)
                    .send()
                    .await
                    .context("DeleteMessage")?;
            }
        }
    }
}
