//! CloudWatch metric source: one planned request becomes one GetMetricData call
//! (all pages), with per-query status codes checked.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use aws_sdk_cloudwatch::Client;
use aws_smithy_types::DateTime;

use sloguard_core::app::events::AlarmMetric;
use sloguard_core::app::ports::{MetricSource, QueryResult, SourceError};
use sloguard_core::slo::model::{MetricSpec, MetricStatSpec, QuerySpec};
use sloguard_core::slo::plan::{expand_queries, MetricRequest};

use super::{classify, Failure};

/// Pages followed per call before giving up (a plan stays far below this).
const MAX_PAGES: usize = 100;

/// Reads metrics with GetMetricData; one client per region, built on first use.
pub struct CloudWatchSource {
    config: SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
}

impl CloudWatchSource {
    /// Wrap the shared SDK config; region clients are created lazily and kept.
    pub fn new(config: SdkConfig) -> Self {
        CloudWatchSource {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Use one prepared client for every region (tests with a mocked client).
    pub fn with_client(config: SdkConfig, region: &str, client: Client) -> Self {
        let s = Self::new(config);
        s.clients
            .lock()
            .expect("fresh mutex")
            .insert(region.to_string(), client);
        s
    }

    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_cloudwatch::config::Builder::from(&self.config)
                    .region(Region::new(region.to_string()))
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }
}

fn stat_query(
    id: &str,
    m: &MetricStatSpec,
    period: i64,
    return_data: bool,
    account: Option<&str>,
) -> Result<MetricDataQuery, SourceError> {
    let dims = m
        .dimensions
        .iter()
        .map(|(n, v)| Dimension::builder().name(n).value(v).build())
        .collect::<Vec<_>>();
    let metric = Metric::builder()
        .namespace(&m.namespace)
        .metric_name(&m.metric_name)
        .set_dimensions(Some(dims))
        .build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(period as i32)
        .stat(&m.stat)
        .build();
    Ok(MetricDataQuery::builder()
        .id(id)
        .metric_stat(stat)
        .return_data(return_data)
        .set_account_id(account.map(str::to_string))
        .build())
}

/// The SDK queries for one planned query.
pub fn build_queries(
    spec: &MetricSpec,
    id: &str,
    period: i64,
) -> Result<Vec<MetricDataQuery>, SourceError> {
    match spec {
        MetricSpec::Metric {
            account_id,
            namespace,
            metric_name,
            stat,
            dimensions,
            ..
        } => {
            let m = MetricStatSpec {
                namespace: namespace.clone(),
                metric_name: metric_name.clone(),
                stat: stat.clone(),
                dimensions: dimensions.clone(),
            };
            Ok(vec![stat_query(
                id,
                &m,
                period,
                true,
                account_id.as_deref(),
            )?])
        }
        MetricSpec::Queries { queries, .. } => expand_queries(queries, id)
            .iter()
            .map(|q: &QuerySpec| match (&q.metric, &q.expression) {
                (Some(m), _) => {
                    stat_query(&q.id, m, period, q.return_data, q.account_id.as_deref())
                }
                (None, Some(expr)) => Ok(MetricDataQuery::builder()
                    .id(&q.id)
                    .expression(expr)
                    .period(period as i32)
                    .return_data(q.return_data)
                    .build()),
                (None, None) => Err(SourceError::Rejected(format!(
                    "query {} has neither metric nor expression",
                    q.id
                ))),
            })
            .collect(),
    }
}

/// A failed CloudWatch call in the port's terms.
fn source_error(f: Failure) -> SourceError {
    match f {
        Failure::Throttled(m) => SourceError::Throttled(m),
        Failure::Credentials(m) => SourceError::Credentials(m),
        Failure::Unavailable(m) => SourceError::Unavailable(m),
        Failure::TimedOut(t, m) => SourceError::TimedOut(t, m),
        Failure::Missing(m) | Failure::Conditional(m) | Failure::Other(m) => {
            SourceError::Rejected(m)
        }
    }
}

impl MetricSource for CloudWatchSource {
    async fn alarm_metrics(
        &self,
        region: &str,
        alarm_names: &[String],
    ) -> Result<Vec<(String, Vec<AlarmMetric>)>, SourceError> {
        let client = self.client(region);
        let mut out = Vec::new();
        // DescribeAlarms takes at most 100 names per call.
        for chunk in alarm_names.chunks(100) {
            let res = client
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| source_error(classify(&e)))?;
            for a in res.metric_alarms() {
                let mut metrics = Vec::new();
                let mut push = |ns: Option<&str>, name: Option<&str>, dims: &[Dimension]| {
                    if let (Some(ns), Some(name)) = (ns, name) {
                        let mut dimensions: Vec<(String, String)> = dims
                            .iter()
                            .map(|d| {
                                (
                                    d.name().unwrap_or_default().to_string(),
                                    d.value().unwrap_or_default().to_string(),
                                )
                            })
                            .collect();
                        dimensions.sort();
                        metrics.push(AlarmMetric {
                            namespace: ns.to_string(),
                            name: name.to_string(),
                            dimensions,
                        });
                    }
                };
                push(a.namespace(), a.metric_name(), a.dimensions());
                for q in a.metrics() {
                    if let Some(m) = q.metric_stat().and_then(|s| s.metric()) {
                        push(m.namespace(), m.metric_name(), m.dimensions());
                    }
                }
                out.push((a.alarm_name().unwrap_or_default().to_string(), metrics));
            }
        }
        Ok(out)
    }

    async fn get_metric_data(
        &self,
        request: &MetricRequest,
        streams: &[MetricSpec],
    ) -> Result<Vec<QueryResult>, SourceError> {
        let mut queries = Vec::new();
        for q in &request.queries {
            queries.extend(build_queries(&streams[q.stream], &q.id, q.period)?);
        }
        let client = self.client(&request.region);
        let mut points: HashMap<String, Vec<(i64, f64)>> = HashMap::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let out = client
                .get_metric_data()
                .start_time(DateTime::from_secs(request.start))
                .end_time(DateTime::from_secs(request.end))
                .scan_by(ScanBy::TimestampAscending)
                .set_metric_data_queries(Some(queries.clone()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| source_error(classify(&e)))?;
            for r in out.metric_data_results() {
                let id = r.id().unwrap_or_default().to_string();
                match r.status_code() {
                    Some(StatusCode::InternalError) => {
                        return Err(SourceError::Unavailable(format!(
                            "query {id}: CloudWatch InternalError {:?}",
                            r.messages()
                        )));
                    }
                    Some(StatusCode::Forbidden) => {
                        return Err(SourceError::Rejected(format!(
                            "query {id}: access to the metric is forbidden {:?}",
                            r.messages()
                        )));
                    }
                    _ => {}
                }
                let entry = points.entry(id).or_default();
                entry.extend(
                    r.timestamps()
                        .iter()
                        .map(|t| t.secs())
                        .zip(r.values().iter().copied()),
                );
            }
            token = out.next_token().map(str::to_string);
            let partial = out
                .metric_data_results()
                .iter()
                .any(|r| r.status_code() == Some(&StatusCode::PartialData));
            match (&token, partial) {
                (Some(_), _) => continue,
                (None, true) => {
                    return Err(SourceError::Unavailable(
                        "CloudWatch returned PartialData without a NextToken".into(),
                    ));
                }
                (None, false) => {
                    return Ok(points
                        .into_iter()
                        .map(|(id, points)| QueryResult { id, points })
                        .collect());
                }
            }
        }
        Err(SourceError::Rejected(format!(
            "more than {MAX_PAGES} pages for one request"
        )))
    }
}
