//! Delivering the outbox: claim an item, publish it to its destination (a channel, or a
//! team's topic), mark it sent. A team topic that refuses the stack (IAM or its KMS key)
//! gets its message to the stack topic as a ticket instead: never a silent loss.

use crate::slo::message::denied_ticket;

use super::cycle::DeliveryError;
use super::ports::{BudgetStore, Channel, Claim, Notifier, NotifyError, OutboxKey};
use super::App;

/// The keys in order, each once.
pub(super) fn dedup(mut v: Vec<OutboxKey>) -> Vec<OutboxKey> {
    v.sort();
    v.dedup();
    v
}

/// Publish `n` to the item's destination; a denied team topic's message goes to the stack
/// topic as a ticket naming the SLO and the topic (the denial is logged).
async fn publish<N: Notifier>(
    notifier: &N,
    slo: &str,
    key: &OutboxKey,
    n: &crate::slo::message::Notification,
) -> Result<(), NotifyError> {
    let Some(topic) = &key.topic else {
        return notifier.publish(key.channel, n).await;
    };
    match notifier.publish_to(topic, n).await {
        Err(NotifyError::Denied { topic, message }) => {
            tracing::warn!(slo, topic = %topic, error = %message, "publish to the team topic denied; a ticket goes to the stack topic");
            notifier
                .publish(Channel::People, &denied_ticket(n, &topic, &message))
                .await
        }
        other => other,
    }
}

/// Claim, publish, mark sent: at most one process publishes each outbox item.
pub(super) async fn deliver<M, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    slo: &str,
    key: &OutboxKey,
    now: i64,
) -> Result<bool, DeliveryError> {
    let channel = key.channel;
    let claimant = &app.config.claimant;
    match app
        .store
        .claim(slo, key, claimant, now, app.config.claim_lease_seconds)
        .await?
    {
        Claim::Claimed(n) => match publish(&app.notifier, slo, key, &n).await {
            Ok(()) => {
                app.store.mark_sent(slo, key, claimant, now).await?;
                tracing::info!(
                    slo,
                    notification = %key.notification,
                    channel = channel.as_str(),
                    topic = key.topic.as_deref().unwrap_or("stack"),
                    severity = n.severity.as_str(),
                    status = n.status.as_str(),
                    "notification sent"
                );
                Ok(true)
            }
            Err(e) => {
                if let Err(r) = app.store.release(slo, key, claimant).await {
                    tracing::warn!(slo, notification = %key.notification, channel = channel.as_str(), error = %r, "could not release claim; it expires on its own");
                }
                Err(e.into())
            }
        },
        Claim::AlreadySent | Claim::Missing => {
            app.store.forget_pending(slo, key).await?;
            Ok(false)
        }
        Claim::Busy => Ok(false),
    }
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
