//! SNS notifier: a plain string message with filterable attributes (`slo`, `service`,
//! `team`, `severity`, `status`) for people, on the stack topic or a team's topic, and the
//! JSON document on an optional second topic for machines.

use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use sloguard_core::app::ports::{Channel, Notifier, NotifyError};
use sloguard_core::slo::message::Notification;

use super::{classify, Failure};

/// Publishes to the people topic and, when set, the events topic.
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
    events_topic_arn: Option<String>,
}

impl SnsNotifier {
    /// `events_topic_arn`: SLO_EVENTS_TOPIC_ARN, for JSON consumers.
    pub fn new(client: Client, topic_arn: String, events_topic_arn: Option<String>) -> Self {
        SnsNotifier {
            client,
            topic_arn,
            events_topic_arn: events_topic_arn.filter(|s| !s.is_empty()),
        }
    }
}

fn attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .expect("data_type is set")
}

/// SNS error codes that say the stack may not publish to the topic (its IAM policy, or the
/// topic's KMS key): a retry cannot help.
const DENIED_CODES: [&str; 6] = [
    "AuthorizationError",
    "KMSAccessDenied",
    "KMSDisabled",
    "KMSInvalidState",
    "KMSNotFound",
    "KMSOptInRequired",
];

impl SnsNotifier {
    /// Publish `message` to `topic` as a plain string with the filterable attributes.
    async fn send(
        &self,
        topic: &str,
        message: String,
        n: &Notification,
    ) -> Result<(), NotifyError> {
        use aws_sdk_sns::error::ProvideErrorMetadata;
        // Attributes only reach subscribers of plain string messages (not MessageStructure=json).
        let mut publish = self
            .client
            .publish()
            .topic_arn(topic)
            .subject(&n.subject)
            .message(message)
            .message_attributes("slo", attr(&n.slo))
            .message_attributes("service", attr(&n.service))
            .message_attributes("severity", attr(n.severity.as_str()))
            .message_attributes("status", attr(n.status.as_str()));
        if let Some(team) = n.team.as_deref().filter(|t| !t.is_empty()) {
            publish = publish.message_attributes("team", attr(team));
        }
        publish.send().await.map(|_| ()).map_err(|e| {
            let code = e.as_service_error().and_then(|se| se.code());
            if code.is_some_and(|c| DENIED_CODES.contains(&c)) {
                return NotifyError::Denied {
                    topic: topic.to_string(),
                    message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
                };
            }
            match classify(&e) {
                Failure::Missing(_) => NotifyError::TopicMissing(topic.to_string()),
                Failure::Credentials(m) => NotifyError::Credentials(m),
                Failure::Unavailable(m) | Failure::Throttled(m) => NotifyError::Unavailable(m),
                Failure::TimedOut(t, m) => NotifyError::TimedOut(t, m),
                Failure::Conditional(m) | Failure::Other(m) => NotifyError::Rejected(m),
            }
        })
    }
}

impl Notifier for SnsNotifier {
    fn channels(&self) -> Vec<Channel> {
        let mut c = vec![Channel::People];
        if self.events_topic_arn.is_some() {
            c.push(Channel::Events);
        }
        c
    }

    async fn publish(&self, channel: Channel, n: &Notification) -> Result<(), NotifyError> {
        let (topic, message) = match (channel, &self.events_topic_arn) {
            (Channel::People, _) => (&self.topic_arn, n.body.clone()),
            (Channel::Events, Some(t)) => (t, n.document.to_string()),
            // The bus is EventBridge's (`AwsNotifier`); SNS has nothing to send on it.
            (Channel::Events, None) | (Channel::Bus, _) => return Ok(()),
        };
        self.send(topic, message, n).await
    }

    async fn publish_to(&self, topic: &str, n: &Notification) -> Result<(), NotifyError> {
        self.send(topic, n.body.clone(), n).await
    }
}
