//! Faults the emulator cannot make, injected with aws-smithy-mocks into the
//! adapters: throttling and 5xx (retried, then reported), GetMetricData paging
//! with PartialData, failed conditions and cancelled transactions, failed publishes.

use aws_config::retry::RetryConfig;
use aws_sdk_cloudwatch::types::{MetricDataResult, StatusCode};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_runtime_api::http::{Response, StatusCode as HttpStatus};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::DateTime;
use sloguard_aws::{CloudWatchSource, DynamoStore, SnsNotifier};
use sloguard_core::app::ports::{
    Channel, DefinitionStore, HistoryStore, MetricSource, Notifier, NotifyError, SourceError,
    StateStore, StoreError,
};
use sloguard_core::slo::model::MetricSpec;
use sloguard_core::slo::plan::{MetricRequest, PlannedQuery};
use sloguard_core::slo::snapshot::Snapshot;
use sloguard_core::slo::status::SloState;

fn query_error(status: u16, code: &str) -> Response {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    );
    Response::new(HttpStatus::try_from(status).unwrap(), SdkBody::from(body))
}

/// A CloudWatch error as the service sends it since the SDK speaks RPC v2 CBOR: a CBOR
/// map with `__type` and `message`, and (CloudWatch being query-compatible) the
/// `x-amzn-query-error` header with the Query protocol's code.
fn cbor_error(status: u16, code: &str, fault: &str) -> Response {
    let mut body = minicbor::Encoder::new(Vec::new());
    body.map(2)
        .and_then(|e| e.str("__type"))
        .and_then(|e| e.str(&format!("com.amazonaws.cloudwatch#{code}")))
        .and_then(|e| e.str("message"))
        .and_then(|e| e.str("injected"))
        .expect("writing to a Vec cannot fail");
    let mut response = Response::new(
        HttpStatus::try_from(status).unwrap(),
        SdkBody::from(body.into_writer()),
    );
    let headers = response.headers_mut();
    headers.insert("smithy-protocol", "rpc-v2-cbor");
    headers.insert("content-type", "application/cbor");
    headers.insert("x-amzn-query-error", format!("{code};{fault}"));
    response
}

fn json_error(status: u16, code: &str) -> Response {
    let body = format!(
        "{{\"__type\":\"com.amazonaws.dynamodb.v20120810#{code}\",\"message\":\"injected\"}}"
    );
    Response::new(HttpStatus::try_from(status).unwrap(), SdkBody::from(body))
}

fn request() -> (MetricRequest, Vec<MetricSpec>) {
    let spec = MetricSpec::Metric {
        region: "eu-west-1".into(),
        account_id: None,
        namespace: "Shop".into(),
        metric_name: "CheckoutRequests".into(),
        stat: "Sum".into(),
        dimensions: vec![],
    };
    let req = MetricRequest {
        region: "eu-west-1".into(),
        start: 1_800_000_000,
        end: 1_800_000_600,
        queries: vec![PlannedQuery {
            id: "m0_60".into(),
            stream: 0,
            period: 60,
        }],
    };
    (req, vec![spec])
}

async fn source(client: aws_sdk_cloudwatch::Client) -> CloudWatchSource {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    CloudWatchSource::with_client(sdk, "eu-west-1", client)
}

fn result(id: &str, status: StatusCode, points: &[(i64, f64)]) -> MetricDataResult {
    MetricDataResult::builder()
        .id(id)
        .status_code(status)
        .set_timestamps(Some(
            points.iter().map(|p| DateTime::from_secs(p.0)).collect(),
        ))
        .set_values(Some(points.iter().map(|p| p.1).collect()))
        .build()
}

#[tokio::test]
async fn cloudwatch_throttling_and_5xx_are_retried() {
    let throttled = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_response(|| cbor_error(400, "Throttling", "Sender"))
        .http_response(|| cbor_error(503, "ServiceUnavailable", "Receiver"))
        .output(|| {
            aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput::builder()
                .metric_data_results(result(
                    "m0_60",
                    StatusCode::Complete,
                    &[(1_800_000_000, 5.0)],
                ))
                .build()
        })
        .build();
    let client = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::Sequential,
        [&throttled],
        |c| c.retry_config(RetryConfig::standard().with_max_attempts(3))
    );
    let (req, streams) = request();
    let got = source(client)
        .await
        .get_metric_data(&req, &streams)
        .await
        .unwrap();
    assert_eq!(got[0].points, vec![(1_800_000_000, 5.0)]);
    assert_eq!(
        throttled.num_calls(),
        3,
        "two failures retried, then success"
    );
}

#[tokio::test]
async fn cloudwatch_throttling_past_the_retries_is_reported() {
    let throttled = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_response(|| cbor_error(400, "Throttling", "Sender"))
        .times(5)
        .build();
    let client = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::Sequential,
        [&throttled],
        |c| c.retry_config(RetryConfig::standard().with_max_attempts(3))
    );
    let (req, streams) = request();
    let err = source(client)
        .await
        .get_metric_data(&req, &streams)
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Throttled(_)), "{err:?}");
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn partial_data_pages_are_followed_and_joined() {
    let pages = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .output(|| {
            aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput::builder()
                .metric_data_results(result(
                    "m0_60",
                    StatusCode::PartialData,
                    &[(1_800_000_000, 1.0), (1_800_000_060, 2.0)],
                ))
                .next_token("page-2")
                .build()
        })
        .output(|| {
            aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput::builder()
                .metric_data_results(result(
                    "m0_60",
                    StatusCode::Complete,
                    &[(1_800_000_120, 3.0)],
                ))
                .build()
        })
        .build();
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::Sequential, [&pages]);
    let (req, streams) = request();
    let got = source(client)
        .await
        .get_metric_data(&req, &streams)
        .await
        .unwrap();
    assert_eq!(got[0].points.len(), 3);
    assert_eq!(pages.num_calls(), 2);

    // PartialData with no token to follow is incomplete data: an error, never a silent gap.
    let truncated = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(|| {
        aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput::builder()
            .metric_data_results(result(
                "m0_60",
                StatusCode::PartialData,
                &[(1_800_000_000, 1.0)],
            ))
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::Sequential, [&truncated]);
    let err = source(client)
        .await
        .get_metric_data(&req, &streams)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("PartialData without a NextToken"),
        "{err}"
    );

    let internal = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(|| {
        aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput::builder()
            .metric_data_results(result("m0_60", StatusCode::InternalError, &[]))
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::Sequential, [&internal]);
    let err = source(client)
        .await
        .get_metric_data(&req, &streams)
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Unavailable(_)), "{err:?}");
}

fn snapshot() -> Snapshot {
    serde_json::from_value(serde_json::json!({
        "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
        "evaluated_at": "2027-01-15T08:00:00Z", "status": "ok", "attainment": 1.0,
        "budget_remaining": 1.0, "burn_rates": {}, "exhausts_at": null, "good": 1.0, "total": 1.0, "conditions": []
    }))
    .unwrap()
}

fn notification() -> sloguard_core::slo::message::Notification {
    sloguard_core::slo::message::Notification {
        id: "x".into(),
        slo: "checkout".into(),
        service: "webshop".into(),
        team: None,
        severity: sloguard_core::slo::model::Severity::Page,
        status: sloguard_core::slo::status::Status::Breaching,
        subject: "s".into(),
        body: "b".into(),
        document: serde_json::json!({}),
    }
}

#[tokio::test]
async fn dynamodb_lost_races_and_throttling() {
    // A cancelled transaction whose reason is a failed condition: another writer won.
    let cancelled = mock!(aws_sdk_dynamodb::Client::transact_write_items).then_http_response(|| {
        Response::new(
            HttpStatus::try_from(400).unwrap(),
            SdkBody::from(
                "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\",\"message\":\"Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]\",\"CancellationReasons\":[{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional request failed\"}]}",
            ),
        )
    });
    // A state alone is one conditional UpdateItem, not a transaction: its failed condition too.
    let lost = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_http_response(|| json_error(400, "ConditionalCheckFailedException"));
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&cancelled, &lost]);
    let store = DynamoStore::new(client, "t");
    let won = store
        .commit(
            "checkout",
            3,
            &SloState::default(),
            &[notification()],
            &[Channel::People.into()],
            &[],
        )
        .await
        .unwrap();
    assert!(!won, "a lost race is reported as such, not as an error");
    assert_eq!(
        cancelled.num_calls(),
        1,
        "with an outbox item: one transaction"
    );
    let won = store
        .commit(
            "checkout",
            3,
            &SloState::default(),
            &[],
            &[Channel::People.into()],
            &[],
        )
        .await
        .unwrap();
    assert!(
        !won,
        "a lost race without notifications is reported the same way"
    );
    assert_eq!(lost.num_calls(), 1, "without outbox items: one UpdateItem");

    // ProvisionedThroughputExceeded is retried by the SDK, then reported as throttling.
    let throttled = mock!(aws_sdk_dynamodb::Client::put_item)
        .sequence()
        .http_response(|| json_error(400, "ProvisionedThroughputExceededException"))
        .times(3)
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&throttled], |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)));
    let store = DynamoStore::new(client, "t");
    let err = store.put_snapshot(&snapshot(), 0).await.unwrap_err();
    assert!(matches!(err, StoreError::Throttled(_)), "{err:?}");
    assert_eq!(throttled.num_calls(), 3);

    // A missing table says so.
    let missing = mock!(aws_sdk_dynamodb::Client::query)
        .then_http_response(|| json_error(400, "ResourceNotFoundException"));
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&missing]);
    let err = DynamoStore::new(client, "nope")
        .definitions()
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::TableMissing("nope".into()));
}

#[tokio::test]
async fn sns_publish_failures_are_reported_for_a_later_retry() {
    let failing = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_response(|| query_error(500, "InternalError"))
        .times(3)
        .build();
    let client = mock_client!(aws_sdk_sns, RuleMode::Sequential, [&failing], |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)));
    let notifier = SnsNotifier::new(client, "arn:aws:sns:eu-west-1:1:t".into(), None);
    let n = notification();
    let err = notifier.publish(Channel::People, &n).await.unwrap_err();
    assert!(
        matches!(err, NotifyError::Unavailable(_) | NotifyError::Rejected(_)),
        "{err:?}"
    );
    assert_eq!(failing.num_calls(), 3, "5xx is retried before giving up");
}

#[tokio::test]
async fn a_publish_denied_by_iam_or_the_topics_kms_key_is_denied_and_not_retried() {
    use sloguard_core::app::ports::Notifier;
    let team = "arn:aws:sns:eu-west-1:123456789012:team-a-pages";
    let denied = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_response(|| query_error(403, "AuthorizationError"))
        .http_response(|| query_error(400, "KMSAccessDenied"))
        .build();
    let client = mock_client!(aws_sdk_sns, RuleMode::Sequential, [&denied], |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)));
    let notifier = SnsNotifier::new(client, "arn:aws:sns:eu-west-1:1:t".into(), None);
    let n = notification();
    for _ in 0..2 {
        let err = notifier.publish_to(team, &n).await.unwrap_err();
        assert!(
            matches!(&err, NotifyError::Denied { topic, .. } if topic == team),
            "{err:?}"
        );
    }
    assert_eq!(denied.num_calls(), 2, "a denial is not retried by the SDK");
}

/// A deployed stack whose role may not publish to a team's topic: the page reaches the stack
/// topic as a ticket naming the SLO and the topic, once, and nothing stays pending.
#[tokio::test]
async fn a_denied_team_topic_becomes_one_ticket_on_the_stack_topic() {
    use sloguard_core::app::cycle::{run_cycle, CycleRequest};
    use sloguard_core::app::memory::{app_with, FakeMetrics, MemoryStore};
    use sloguard_core::app::{App, DefinitionStore};
    let team = "arn:aws:sns:eu-west-1:123456789012:team-a-pages";
    let stack = "arn:aws:sns:eu-west-1:123456789012:sloguard";
    // The team topic refuses; the stack topic takes the ticket.
    let publishes = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_response(|| query_error(403, "AuthorizationError"))
        .output(|| {
            aws_sdk_sns::operation::publish::PublishOutput::builder()
                .message_id("m")
                .build()
        })
        .build();
    let client = mock_client!(aws_sdk_sns, RuleMode::Sequential, [&publishes]);
    let fake = app_with(|t| if t >= 1_800_000_000 { 10.0 } else { 0.0 }).await;
    let mut def = fake
        .store
        .definitions()
        .await
        .unwrap()
        .remove(0)
        .definition
        .unwrap();
    def.topics = vec![team.to_string()];
    let store = MemoryStore::default();
    store.put_definition(&def).await.unwrap();
    let app: App<FakeMetrics, MemoryStore, SnsNotifier> = App {
        metrics: fake.metrics,
        store,
        notifier: SnsNotifier::new(client, stack.into(), None),
        config: fake.config,
    };
    let t = 1_800_000_000 + 600;
    let r = run_cycle(
        &app,
        CycleRequest {
            trigger: t,
            now: t,
            ..CycleRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(r.notifications_sent, 1, "{r:?}");
    assert!(r.slos[0].notify_errors.is_empty(), "{r:?}");
    assert_eq!(publishes.num_calls(), 2, "the team topic, then the ticket");
    assert_eq!(app.store.unsent(), 0, "nothing left to retry");
}

#[tokio::test]
async fn an_eventbridge_entry_that_failed_is_a_failed_put_and_people_only_kinds_are_not_put() {
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    use sloguard_aws::EventBridgeNotifier;
    // PutEvents answers 200 and reports the failure per entry.
    let partial = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
        PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("InternalFailure")
                    .error_message("try again")
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_eventbridge, RuleMode::Sequential, [&partial]);
    let bus = EventBridgeNotifier::new(client, "slo-events".into());
    let mut n = sloguard_core::slo::message::Notification {
        id: "x".into(),
        slo: "checkout".into(),
        service: "webshop".into(),
        team: None,
        severity: sloguard_core::slo::model::Severity::Page,
        status: sloguard_core::slo::status::Status::Breaching,
        subject: "s".into(),
        body: "b".into(),
        document: serde_json::json!({"event": "opened", "slo": "checkout"}),
    };
    let err = bus.put(&n).await.unwrap_err();
    assert!(
        matches!(&err, NotifyError::Bus { bus, message, access: None } if bus == "slo-events" && message.contains("InternalFailure")),
        "{err:?}"
    );
    assert_eq!(partial.num_calls(), 1);
    // A silence that ended is for people only: nothing is put, and it counts as delivered.
    n.document = serde_json::json!({"event": "silence-ended"});
    bus.put(&n).await.unwrap();
    assert_eq!(partial.num_calls(), 1, "no call for a people-only kind");
}

#[tokio::test]
async fn a_cancelled_transaction_is_read_by_its_reasons_codes_not_its_message() {
    // The message names a failed condition; the reasons say it was a conflict: worth a retry.
    let conflict = mock!(aws_sdk_dynamodb::Client::transact_write_items).then_http_response(|| {
        Response::new(
            HttpStatus::try_from(400).unwrap(),
            SdkBody::from(
                "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\",\"message\":\"Transaction cancelled [ConditionalCheckFailed]\",\"CancellationReasons\":[{\"Code\":\"None\"},{\"Code\":\"TransactionConflict\",\"Message\":\"Transaction is ongoing for the item\"}]}",
            ),
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&conflict]);
    let err = DynamoStore::new(client, "t")
        .commit(
            "checkout",
            3,
            &SloState::default(),
            &[notification()],
            &[Channel::People.into()],
            &[],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Throttled(_)), "{err:?}");
}
