//! Delivering the outbox: claim an item, publish it, mark it sent, so at most one process
//! publishes each notification, however often a cycle repeats or fails half-way.

use crate::app::ports::{BudgetStore, Claim, Notifier, OutboxKey};
use crate::app::App;

use super::DeliveryError;

pub(super) fn dedup(mut v: Vec<OutboxKey>) -> Vec<OutboxKey> {
    v.sort();
    v.dedup();
    v
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
        Claim::Claimed(n) => match app.notifier.publish(channel, &n).await {
            Ok(()) => {
                app.store.mark_sent(slo, key, claimant, now).await?;
                tracing::info!(
                    slo,
                    notification = %key.notification,
                    channel = channel.as_str(),
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
