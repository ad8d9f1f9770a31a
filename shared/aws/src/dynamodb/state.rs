//! States: one item per SLO under `STATE`, what decisions need (`state`), its `version`
//! (the optimistic lock of `commit`), the outbox keys still `pending` and a `silence`
//! (outside the lock). A commit with notifications is one transaction with their outbox items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use sloguard_core::app::ports::{
    outbox_items, Destination, Silence, StateStore, StoreError, StoredState,
};
use sloguard_core::slo::incident::IncidentRecord;
use sloguard_core::slo::message::Notification;
use sloguard_core::slo::shard::NameRange;
use sloguard_core::slo::status::SloState;

use super::incidents::incident_put;
use super::outbox::{outbox_item_key, outbox_sort_key, parse_outbox_key, OUTBOX_DAYS};
use super::{
    classify, get_n, get_s, json, key, n, s, to_json, DynamoStore, Failure, Item, SK, TTL_ATTRIBUTE,
};

/// How a transaction failed: a cancelled one by its cancellation reasons' codes (a lost
/// race is `ConditionalCheckFailed`; throttling and conflicts are worth a retry), never by
/// its message text; any other error as `classify` sees it.
fn transaction_failure(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Failure {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    let Some(E::TransactionCanceledException(cancelled)) = e.as_service_error() else {
        return classify(e);
    };
    let text = aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string();
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .collect();
    if codes.contains(&"ConditionalCheckFailed") {
        Failure::Conditional(text)
    } else if codes.iter().any(|c| {
        matches!(
            *c,
            "ThrottlingError" | "ProvisionedThroughputExceeded" | "TransactionConflict"
        )
    }) {
        Failure::Throttled(text)
    } else {
        Failure::Other(text)
    }
}

/// The state item as a commit without notifications leaves it: what decisions need and
/// its version (what the cost model prices; `commit` writes the same two attributes).
pub(super) fn state_item(slo: &str, state: &SloState, version: u64) -> Item {
    let mut item = key("STATE", slo);
    item.insert("state".into(), s(to_json(state)));
    item.insert("version".into(), n(version));
    item
}

impl DynamoStore {
    fn stored_state(item: &Item) -> Result<StoredState, StoreError> {
        // Only keys (or only a silence) so far: no state yet. A writer mid-way, as an
        // emulator can show, makes the commit fail its version check and re-read.
        let silence = match get_s(item, "silence") {
            Some(_) => Some(json(item, "silence")?),
            None => None,
        };
        if get_s(item, "state").is_none() && get_n(item, "version").is_none() {
            return Ok(StoredState {
                silence,
                ..StoredState::default()
            });
        }
        Ok(StoredState {
            silence,
            state: json(item, "state")?,
            version: get_n(item, "version").unwrap_or(0) as u64,
            pending: item
                .get("pending")
                .and_then(|v| v.as_ss().ok())
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|k| {
                    let parsed = parse_outbox_key(k);
                    if parsed.is_none() {
                        tracing::warn!(key = %k, "pending outbox key of an unknown channel; left alone");
                    }
                    parsed
                })
                .collect(),
            // An older item's `latest` copy is ignored: history holds the snapshot.
            latest: None,
        })
    }
}

impl StateStore for DynamoStore {
    async fn states(&self) -> Result<HashMap<String, StoredState>, StoreError> {
        self.states_in(&NameRange::all()).await
    }

    async fn states_in(
        &self,
        range: &NameRange,
    ) -> Result<HashMap<String, StoredState>, StoreError> {
        let items = self.names_in("STATE", range, None).await?;
        // One unreadable state must not stop the cycle: that SLO is re-read on its own
        // (its commit fails on the version check) and fails alone if it is really corrupt.
        Ok(items
            .iter()
            .filter_map(|item| match Self::stored_state(item) {
                Ok(s) => Some((get_s(item, SK).unwrap_or_default().to_string(), s)),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping unreadable state item");
                    None
                }
            })
            .collect())
    }

    async fn state(&self, slo: &str) -> Result<Option<StoredState>, StoreError> {
        self.item("STATE", slo)
            .await?
            .as_ref()
            .map(Self::stored_state)
            .transpose()
    }

    async fn commit(
        &self,
        slo: &str,
        expected_version: u64,
        state: &SloState,
        notifications: &[Notification],
        destinations: &[Destination],
        incidents: &[IncidentRecord],
    ) -> Result<bool, StoreError> {
        let outbox = outbox_items(notifications, destinations);
        let keys: Vec<String> = outbox.iter().map(|(k, _)| outbox_sort_key(k)).collect();
        // `latest` was a copy of the newest snapshot (history has it): dropped on the
        // first write, so the item stays small.
        let mut expr = "SET #state = :state, version = :next REMOVE latest".to_string();
        let mut values: Item = HashMap::from([
            (":state".to_string(), s(to_json(state))),
            (":next".to_string(), n(expected_version + 1)),
        ]);
        if !keys.is_empty() {
            expr.push_str(" ADD pending :keys");
            values.insert(":keys".into(), AttributeValue::Ss(keys.clone()));
        }
        let condition = if expected_version == 0 {
            // A silence may have created the item before any evaluation: no version yet.
            "attribute_not_exists(version)"
        } else {
            values.insert(":expected".into(), n(expected_version));
            "version = :expected"
        };
        if outbox.is_empty() && incidents.is_empty() {
            // Nothing to deliver: one conditional write (1 unit per KB), not a transaction (2).
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key("STATE", slo)))
                .update_expression(expr)
                .condition_expression(condition)
                .expression_attribute_names("#state", "state")
                .set_expression_attribute_values(Some(values))
                .send()
                .await;
            return match res {
                Ok(_) => Ok(true),
                Err(e) => match classify(&e) {
                    Failure::Conditional(_) => Ok(false),
                    _ => Err(self.err(e)),
                },
            };
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key("STATE", slo)))
            .update_expression(expr)
            .condition_expression(condition)
            .expression_attribute_names("#state", "state")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        for (k, note) in &outbox {
            let mut item = outbox_item_key(slo, k);
            item.insert("notification".into(), s(to_json(note)));
            item.insert("delivery".into(), s("pending"));
            item.insert(
                TTL_ATTRIBUTE.into(),
                n(chrono::Utc::now().timestamp() + OUTBOX_DAYS * 86_400),
            );
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| StoreError::Rejected(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        for r in incidents {
            items.push(incident_put(&self.table, r)?);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match transaction_failure(&e) {
                Failure::Conditional(_) => Ok(false),
                other => Err(self.error_of(other)),
            },
        }
    }

    async fn set_silence(&self, slo: &str, silence: Option<&Silence>) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key("STATE", slo)));
        // Not part of the evaluator's optimistic lock: the version is left alone.
        update = match silence {
            Some(x) => update
                .update_expression("SET silence = :s")
                .expression_attribute_values(":s", s(to_json(x))),
            None => update.update_expression("REMOVE silence"),
        };
        update.send().await.map_err(|e| self.err(e))?;
        Ok(())
    }
}
