//! SNS notifier: a plain string message with filterable attributes for people,
//! and the JSON document on an optional second topic for machines.

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
        // Attributes only reach subscribers of plain string messages (not MessageStructure=json).
        self.client
            .publish()
            .topic_arn(topic)
            .subject(&n.subject)
            .message(message)
            .message_attributes("slo", attr(&n.slo))
            .message_attributes("service", attr(&n.service))
            .message_attributes("severity", attr(n.severity.as_str()))
            .message_attributes("status", attr(n.status.as_str()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match classify(&e) {
                Failure::Missing(_) => NotifyError::TopicMissing(topic.clone()),
                Failure::Credentials(m) => NotifyError::Credentials(m),
                Failure::Unavailable(m) | Failure::Throttled(m) => NotifyError::Unavailable(m),
                Failure::TimedOut(t, m) => NotifyError::TimedOut(t, m),
                Failure::Conditional(m) | Failure::Other(m) => NotifyError::Rejected(m),
            })
    }
}
