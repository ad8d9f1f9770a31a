//! The outbox: one item per notification and channel under `OUTBOX#<slo>`, written by the
//! state's commit, then claimed (a lease), marked sent and dropped from the state's
//! `pending` set, so every message goes out once per channel.

use aws_sdk_dynamodb::types::AttributeValue;

use sloguard_core::app::ports::{Channel, Claim, Outbox, OutboxKey, StoreError};
use sloguard_core::slo::message::rfc3339;

use super::{classify, get_s, json, key, n, s, DynamoStore, Failure, Item};

/// How long a delivered outbox item is kept, for audit.
pub(super) const OUTBOX_DAYS: i64 = 30;

/// An outbox item's sort key, and its entry in the state's `pending` set:
/// `<notification id>#<channel>` for the stack's own topics (as every item stored before
/// routing), `<notification id>#<channel>@<topic ARN>` for a team's topic (an ARN holds no
/// `#` and no `@`, so the key reads back whole).
pub(super) fn outbox_sort_key(k: &OutboxKey) -> String {
    match &k.topic {
        None => format!("{}#{}", k.notification, k.channel.as_str()),
        Some(t) => format!("{}#{}@{t}", k.notification, k.channel.as_str()),
    }
}

/// An outbox key read back from `pending`; None for a channel this version does not know
/// (never guessed: delivering it on another channel would send it to the wrong audience).
/// A key without a topic (every key stored before routing) goes to the stack topic.
pub(super) fn parse_outbox_key(text: &str) -> Option<OutboxKey> {
    let (id, rest) = text.rsplit_once('#')?;
    let (channel, topic) = match rest.split_once('@') {
        Some((c, t)) if !t.is_empty() => (c, Some(t.to_string())),
        Some(_) => return None,
        None => (rest, None),
    };
    Some(OutboxKey {
        notification: id.to_string(),
        channel: Channel::parse(channel)?,
        topic,
    })
}

/// The outbox item of one SLO and key.
pub(super) fn outbox_item_key(slo: &str, k: &OutboxKey) -> Item {
    key(format!("OUTBOX#{slo}"), outbox_sort_key(k))
}

impl DynamoStore {
    /// An update of the outbox item of `slo` and `key_`, guarded by `condition`: every outbox
    /// write starts here.
    fn outbox_update(
        &self,
        slo: &str,
        key_: &OutboxKey,
        expression: &str,
        condition: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(outbox_item_key(slo, key_)))
            .update_expression(expression)
            .condition_expression(condition)
    }
}

impl Outbox for DynamoStore {
    async fn claim(
        &self,
        slo: &str,
        key_: &OutboxKey,
        claimant: &str,
        now: i64,
        lease: i64,
    ) -> Result<Claim, StoreError> {
        let res = self
            .outbox_update(
                slo,
                key_,
                "SET claimant = :me, claimed_until = :until",
                "delivery = :pending AND (attribute_not_exists(claimed_until) OR claimed_until < :now OR claimant = :me)",
            )
            .expression_attribute_values(":me", s(claimant))
            .expression_attribute_values(":until", n(now + lease))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":pending", s("pending"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => {
                let item = out.attributes().cloned().unwrap_or_default();
                Ok(Claim::Claimed(Box::new(json(&item, "notification")?)))
            }
            Err(e) => match classify(&e) {
                Failure::Conditional(_) => {
                    let got = self
                        .client
                        .get_item()
                        .table_name(&self.table)
                        .set_key(Some(outbox_item_key(slo, key_)))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| self.err(e))?;
                    Ok(match got.item() {
                        None => Claim::Missing,
                        Some(i) if get_s(i, "delivery") == Some("sent") => Claim::AlreadySent,
                        Some(_) => Claim::Busy,
                    })
                }
                _ => Err(self.err(e)),
            },
        }
    }

    async fn mark_sent(
        &self,
        slo: &str,
        key_: &OutboxKey,
        claimant: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.outbox_update(
            slo,
            key_,
            "SET delivery = :sent, sent_at = :at REMOVE claimed_until",
            "claimant = :me",
        )
        .expression_attribute_values(":sent", s("sent"))
        .expression_attribute_values(":at", s(rfc3339(now)))
        .expression_attribute_values(":me", s(claimant))
        .send()
        .await
        .map_err(|e| self.err(e))?;
        self.forget_pending(slo, key_).await
    }

    async fn release(&self, slo: &str, key_: &OutboxKey, claimant: &str) -> Result<(), StoreError> {
        let res = self
            .outbox_update(slo, key_, "REMOVE claimed_until", "claimant = :me")
            .expression_attribute_values(":me", s(claimant))
            .send()
            .await;
        self.moot_if_conditional(res)
    }

    async fn forget_pending(&self, slo: &str, key_: &OutboxKey) -> Result<(), StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key("STATE", slo)))
            .update_expression("DELETE pending :k")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":k", AttributeValue::Ss(vec![outbox_sort_key(key_)]))
            .send()
            .await;
        self.moot_if_conditional(res)
    }
}
