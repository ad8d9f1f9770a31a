//! One-time records: an alarm transition handled (claimed under a lease, then done), a
//! weekly review sent, an SLO evaluated for an alarm this minute; each a conditional put
//! under `ALARM#<alarm>`, `REVIEW` or `ALARM#EVAL#<slo>`, expired by TTL.

use aws_sdk_dynamodb::types::AttributeValue;

use sloguard_core::app::ports::{DedupStore, Once, OnceClaim, StoreError};

use super::{classify, key, n, DynamoStore, Failure, Item, TTL_ATTRIBUTE};

/// The keys of a one-time record: `ALARM#<alarm>` / transition, `REVIEW` / period.
pub(super) fn once_key(event: Once<'_>) -> Item {
    match event {
        Once::AlarmTransition {
            alarm,
            timestamp_ms,
            state,
        } => key(format!("ALARM#{alarm}"), format!("{timestamp_ms}#{state}")),
        Once::Review { period } => key("REVIEW", period),
        Once::AlarmEvaluation { slo, minute } => {
            key(format!("ALARM#EVAL#{slo}"), minute.to_string())
        }
    }
}

impl DedupStore for DynamoStore {
    async fn record_once(&self, event: Once<'_>, expires_at: i64) -> Result<bool, StoreError> {
        let mut item = once_key(event);
        item.insert(TTL_ATTRIBUTE.into(), n(expires_at));
        self.put_once(item).await
    }

    async fn claim_once(
        &self,
        event: Once<'_>,
        now: i64,
        lease: i64,
        expires_at: i64,
    ) -> Result<OnceClaim, StoreError> {
        let mut item = once_key(event);
        item.insert(TTL_ATTRIBUTE.into(), n(expires_at));
        item.insert("done".into(), AttributeValue::Bool(false));
        item.insert("claimed_until".into(), n(now + lease));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (done = :false AND claimed_until < :now)",
            )
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match put {
            Ok(_) => Ok(OnceClaim::Claimed),
            Err(e) => match classify(&e) {
                Failure::Conditional(_) => {
                    let got = self
                        .client
                        .get_item()
                        .table_name(&self.table)
                        .set_key(Some(once_key(event)))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| self.err(e))?;
                    // A record without `done` is an older plain record: handled.
                    let done = got
                        .item()
                        .and_then(|i| i.get("done"))
                        .is_none_or(|d| d.as_bool().is_ok_and(|b| *b));
                    Ok(if done {
                        OnceClaim::Done
                    } else {
                        OnceClaim::Busy
                    })
                }
                _ => Err(self.err(e)),
            },
        }
    }

    async fn complete_once(&self, event: Once<'_>) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(once_key(event)))
            .update_expression("SET done = :true")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn forget_once(&self, event: Once<'_>) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(once_key(event)))
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
