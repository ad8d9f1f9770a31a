//! EventBridge notifier: each incident transition and budget event as an event on the
//! SLO event bus (`source: sloguard`, a `detail-type` per kind, the JSON document as
//! `detail`), so rules can stop a deployment or call a webhook.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

use sloguard_core::app::ports::{AccessProblem, NotifyError};
use sloguard_core::slo::message::Notification;

use super::{classify, Failure};

/// The `source` of every event sloguard puts on the bus; rules match on it.
pub const EVENT_SOURCE: &str = "sloguard";

/// Puts notifications on one event bus (a name or an ARN; `default` is the account's).
pub struct EventBridgeNotifier {
    client: Client,
    bus: String,
}

impl EventBridgeNotifier {
    /// `bus`: SLO_EVENT_BUS.
    pub fn new(client: Client, bus: String) -> Self {
        EventBridgeNotifier { client, bus }
    }

    /// The bus events go to.
    pub fn bus(&self) -> &str {
        &self.bus
    }

    /// Put one notification; kinds that are only for people (silence ended, an alarm
    /// without a burn) are not put and count as delivered.
    pub async fn put(&self, n: &Notification) -> Result<(), NotifyError> {
        let Some(detail_type) = n.detail_type() else {
            return Ok(());
        };
        let bus_error = |message: String, access: Option<AccessProblem>| NotifyError::Bus {
            bus: self.bus.clone(),
            message,
            access,
        };
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(detail_type)
            .detail(n.document.to_string())
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| match classify(&e) {
                Failure::Missing(m) => bus_error(format!("does not exist: {m}"), None),
                Failure::Credentials(m) => bus_error(m, Some(AccessProblem::Credentials)),
                Failure::Unavailable(m) => bus_error(m, Some(AccessProblem::Unreachable)),
                Failure::TimedOut(t, m) => bus_error(m, Some(AccessProblem::TimedOut(t))),
                Failure::Throttled(m) | Failure::Conditional(m) | Failure::Other(m) => {
                    bus_error(m, None)
                }
            })?;
        // PutEvents answers 200 with per-entry failures: one failed entry is a failed put.
        if out.failed_entry_count() > 0 {
            let why = out
                .entries()
                .iter()
                .find_map(|e| {
                    e.error_code()
                        .map(|c| format!("{c}: {}", e.error_message().unwrap_or_default()))
                })
                .unwrap_or_else(|| "the entry failed".into());
            return Err(bus_error(why, None));
        }
        Ok(())
    }
}
