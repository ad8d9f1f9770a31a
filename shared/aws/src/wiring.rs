//! The production wiring: every client built once per cold start over one SDK config and
//! handed to the use cases, with the notifier that fans out to SNS and the bus.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;

use sloguard_core::app::ports::{Channel, Notifier, NotifyError};
use sloguard_core::app::{App, Config};
use sloguard_core::slo::message::Notification;

use crate::environment::Environment;
use crate::sdk::MAX_ATTEMPTS;
use crate::timeouts::Timeouts;
use crate::{
    CloudWatchSource, DynamoStore, EventBridgeNotifier, LambdaWorkers, SnsNotifier, SqsShardQueue,
};

/// The production notifier: SNS for people (and the JSON topic), and the EventBridge bus
/// when one is set; each is a channel of its own in the outbox, delivered once each.
pub struct AwsNotifier {
    /// People (plain text) and, when set, the JSON events topic.
    pub sns: SnsNotifier,
    /// SLO_EVENT_BUS, when set: the channel `Channel::Bus`.
    pub bus: Option<EventBridgeNotifier>,
}

impl Notifier for AwsNotifier {
    fn channels(&self) -> Vec<Channel> {
        let mut c = self.sns.channels();
        if self.bus.is_some() {
            c.push(Channel::Bus);
        }
        c
    }

    async fn publish(&self, channel: Channel, n: &Notification) -> Result<(), NotifyError> {
        match (channel, &self.bus) {
            (Channel::Bus, Some(bus)) => bus.put(n).await,
            // Queued while a bus was set, and it no longer is: nothing to deliver.
            (Channel::Bus, None) => Ok(()),
            (c, _) => self.sns.publish(c, n).await,
        }
    }

    async fn publish_to(&self, topic: &str, n: &Notification) -> Result<(), NotifyError> {
        self.sns.publish_to(topic, n).await
    }
}

/// The shortest outbox claim lease: the publish's budget at the default timeouts
/// (4 attempts of at most 20 s, and the backoff between them).
pub const MIN_CLAIM_LEASE_SECONDS: i64 = 90;

/// How long an outbox claim must hold so that a live publisher is never overtaken (and a
/// page never sent twice): every attempt of the publish running to its timeout, plus the
/// longest backoff between them (`initial` doubling per retry, at most `max_backoff`);
/// never below `MIN_CLAIM_LEASE_SECONDS`.
pub fn claim_lease_seconds(
    attempts: u32,
    attempt_timeout: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
) -> i64 {
    let attempts = attempts.max(1);
    let backoff: Duration = (0..attempts - 1)
        .map(|retry| {
            initial_backoff
                .saturating_mul(2u32.saturating_pow(retry))
                .min(max_backoff)
        })
        .sum();
    let budget = attempt_timeout
        .saturating_mul(attempts)
        .saturating_add(backoff);
    // Whole seconds, rounded up.
    let seconds = budget.as_secs() + u64::from(budget.subsec_nanos() > 0);
    i64::try_from(seconds)
        .unwrap_or(i64::MAX)
        .max(MIN_CLAIM_LEASE_SECONDS)
}

/// The claim lease for calls made with `sdk`: from its retry and timeout settings (those
/// `load_config` sets from `Timeouts`); an attempt without a timeout counts as the default 20 s.
fn claim_lease_for(sdk: &SdkConfig) -> i64 {
    let standard = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS);
    let retry = sdk.retry_config().unwrap_or(&standard);
    let attempt_timeout = sdk
        .timeout_config()
        .and_then(|t| t.operation_attempt_timeout())
        .unwrap_or(Duration::from_secs(Timeouts::default().attempt_seconds));
    claim_lease_seconds(
        retry.max_attempts(),
        attempt_timeout,
        retry.initial_backoff(),
        retry.max_backoff(),
    )
}

/// The production wiring: the three adapters over one SDK config.
pub type AwsApp = App<CloudWatchSource, DynamoStore, AwsNotifier>;

/// Only the store, for the read-only dashboard widget.
pub fn build_store(env: &Environment, sdk: &SdkConfig) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.table.clone())
}

/// The workers the dispatcher starts (SLO_EVALUATOR_FUNCTION), on the cold start's SDK config.
pub fn build_workers(settings: &Environment, sdk: &SdkConfig) -> Option<LambdaWorkers> {
    settings
        .evaluator_function
        .clone()
        .map(|f| LambdaWorkers::new(aws_sdk_lambda::Client::new(sdk), f))
}

/// The shard queue the stack names (SLO_SHARD_QUEUE_URL), on the cold start's SDK config.
pub fn build_shard_queue(settings: &Environment, sdk: &SdkConfig) -> Option<SqsShardQueue> {
    settings
        .shard_queue_url
        .clone()
        .map(|url| SqsShardQueue::new(aws_sdk_sqs::Client::new(sdk), url))
}

/// Build every client once (per cold start) and wire them into the use cases.
pub fn build_app(settings: &Environment, sdk: &SdkConfig) -> AwsApp {
    App {
        metrics: CloudWatchSource::new(sdk.clone()),
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), settings.table.clone()),
        notifier: AwsNotifier {
            sns: SnsNotifier::new(
                aws_sdk_sns::Client::new(sdk),
                settings.topic_arn.clone().unwrap_or_default(),
                settings.events_topic_arn.clone(),
            ),
            bus: settings.event_bus.as_ref().map(|b| {
                EventBridgeNotifier::new(aws_sdk_eventbridge::Client::new(sdk), b.clone())
            }),
        },
        config: Config {
            // Sized to the publish's time budget at these timeouts: a raised
            // SLO_AWS_ATTEMPT_TIMEOUT_SECONDS lengthens it, so no live publisher is overtaken.
            claim_lease_seconds: claim_lease_for(sdk),
            ..Config::from_settings(settings)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::defaults;

    #[test]
    fn the_claim_lease_covers_every_attempt_of_the_publish_and_never_drops_below_90_s() {
        let s = Duration::from_secs;
        // The defaults: 4 x 20 s + 1 + 2 + 4 s of backoff = 87 s, so the floor of 90 s.
        assert_eq!(claim_lease_seconds(4, s(20), s(1), s(20)), 90);
        // A raised attempt timeout lengthens the lease past the whole publish.
        assert_eq!(claim_lease_seconds(4, s(900), s(1), s(20)), 4 * 900 + 7);
        // Backoff is capped per retry; fractions of a second round up.
        assert_eq!(
            claim_lease_seconds(10, s(30), s(1), s(20)),
            300 + 1 + 2 + 4 + 8 + 16 + 4 * 20
        );
        assert_eq!(
            claim_lease_seconds(4, Duration::from_millis(30_500), s(1), s(20)),
            129
        );
        assert_eq!(
            claim_lease_seconds(0, s(1), s(1), s(20)),
            90,
            "at least one attempt"
        );
    }

    #[tokio::test]
    async fn build_app_derives_the_claim_lease_from_the_configured_timeouts() {
        let settings =
            Environment::from_lookup(|k| (k == "SLO_TABLE").then(|| "t".to_string())).unwrap();
        let lease = |timeouts: Timeouts| {
            let settings = settings.clone();
            async move {
                let sdk = defaults(timeouts)
                    .region(aws_config::Region::from_static("eu-west-1"))
                    .load()
                    .await;
                build_app(&settings, &sdk).config.claim_lease_seconds
            }
        };
        assert_eq!(lease(Timeouts::default()).await, 90);
        let slow = Timeouts::from_lookup(|k| {
            (k == "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS").then(|| "900".to_string())
        })
        .unwrap();
        let long = lease(slow).await;
        assert!(
            long > i64::from(MAX_ATTEMPTS) * 900,
            "a live publisher with 900 s attempts must keep its claim: {long}"
        );
    }
}
