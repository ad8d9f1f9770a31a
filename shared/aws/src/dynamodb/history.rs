//! History: one snapshot item per evaluation under `SNAP#<slo>`, sorted by time, each with
//! the TTL the cycle chose for it.

use sloguard_core::app::ports::{HistoryPage, HistoryStore, StoreError};
use sloguard_core::slo::message::rfc3339;
use sloguard_core::slo::snapshot::Snapshot;

use super::{corrupt, get_s, key, n, s, DynamoStore, Item, Keys, PK, SK, TTL_ATTRIBUTE};

/// A history item's `snapshot`, read back as `Snapshot::to_stored` wrote it.
fn stored_snapshot(item: &Item) -> Result<Snapshot, StoreError> {
    let text = get_s(item, "snapshot")
        .ok_or_else(|| corrupt(item, "missing attribute `snapshot`".into()))?;
    Snapshot::from_stored(text).map_err(|e| corrupt(item, format!("`snapshot`: {e}")))
}

/// A snapshot's item: keyed by SLO and evaluation time, kept until `expires_at`.
pub(super) fn snapshot_item(snap: &Snapshot, expires_at: i64) -> Item {
    let mut item = key(format!("SNAP#{}", snap.slo), &snap.evaluated_at);
    item.insert("snapshot".into(), s(snap.to_stored()));
    item.insert(TTL_ATTRIBUTE.into(), n(expires_at));
    item
}

impl HistoryStore for DynamoStore {
    async fn put_snapshot(&self, snap: &Snapshot, expires_at: i64) -> Result<(), StoreError> {
        let item = snapshot_item(snap, expires_at);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn history(
        &self,
        slo: &str,
        since: i64,
        until: i64,
    ) -> Result<Vec<Snapshot>, StoreError> {
        let items = self
            .partition(
                &format!("SNAP#{slo}"),
                Some((rfc3339(since), rfc3339(until))),
            )
            .await?;
        items.iter().map(stored_snapshot).collect()
    }

    async fn latest_history(
        &self,
        slo: &str,
        since: i64,
        until: i64,
        limit: usize,
    ) -> Result<Vec<Snapshot>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let items = self
            .query(
                &format!("SNAP#{slo}"),
                Keys::Between(rfc3339(since), rfc3339(until)),
                Some(limit),
                None,
            )
            .await?;
        items.iter().map(stored_snapshot).collect()
    }

    async fn history_page(
        &self,
        slo: &str,
        since: i64,
        until: i64,
        after: Option<&str>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let (a, b) = (rfc3339(since), rfc3339(until));
        if a > b {
            // DynamoDB refuses BETWEEN with its bounds reversed; the range is empty.
            return Ok(HistoryPage::default());
        }
        let pk = format!("SNAP#{slo}");
        let start: Option<Item> = after.map(|k| {
            Item::from([
                (PK.to_string(), s(pk.clone())),
                (SK.to_string(), s(k.to_string())),
            ])
        });
        // One Query: DynamoDB returns at most `limit` items and at most 1 MB.
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":a", s(a))
            .expression_attribute_values(":b", s(b))
            .scan_index_forward(false)
            .limit(limit.clamp(1, i32::MAX as usize) as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| self.err(e))?;
        let mut out = HistoryPage::default();
        for item in page.items() {
            match stored_snapshot(item) {
                Ok(snap) => out.snapshots.push(snap),
                Err(e) => {
                    tracing::warn!(error = %e, "history item refused");
                    out.unreadable += 1;
                }
            }
        }
        out.next = page
            .last_evaluated_key()
            .and_then(|k| get_s(k, SK))
            .map(str::to_string);
        Ok(out)
    }
}
