//! Incident records: one item per incident under `INCIDENT`, sorted by opening time and
//! SLO, written with the state's commit (a put that replaces the record of the same
//! incident, so a repeated write is the same item) and expired by TTL.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use sloguard_core::app::ports::{IncidentStore, StoreError};
use sloguard_core::slo::incident::IncidentRecord;
use sloguard_core::slo::message::rfc3339;

use super::{json, key, n, s, to_json, DynamoStore, Item, TTL_ATTRIBUTE};

/// The partition of every incident record.
const PARTITION: &str = "INCIDENT";

/// A record's item: keyed by opening time and SLO, kept until its `expires_at`.
pub(super) fn incident_item(r: &IncidentRecord) -> Item {
    let mut item = key(PARTITION, format!("{}#{}", rfc3339(r.opened_at), r.slo));
    item.insert("incident".into(), s(to_json(r)));
    // No expiry given (0) is no TTL: an epoch-0 TTL would delete it at once.
    if r.expires_at > 0 {
        item.insert(TTL_ATTRIBUTE.into(), n(r.expires_at));
    }
    item
}

/// The transaction item that writes a record.
pub(super) fn incident_put(
    table: &str,
    r: &IncidentRecord,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(incident_item(r)))
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl IncidentStore for DynamoStore {
    async fn incidents(&self, since: i64, until: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        if since > until {
            return Ok(Vec::new());
        }
        // Every SLO name sorts below U+FFFF after the time, so `until` itself is included.
        let range = (rfc3339(since), format!("{}#\u{ffff}", rfc3339(until)));
        let items = self.partition(PARTITION, Some(range)).await?;
        items.iter().map(|i| json(i, "incident")).collect()
    }
}
