//! Deployment changes: one item per change under `CHANGE#<target>`, written once (a
//! conditional put) and expired by TTL.

use sloguard_core::app::ports::{ChangeStore, StoreError};
use sloguard_core::slo::change::Change;
use sloguard_core::slo::message::rfc3339;

use super::{json, key, n, s, to_json, DynamoStore, Item, TTL_ATTRIBUTE};

/// A change's key: by target, then time and identity, so the same change twice is one item.
fn change_key(c: &Change) -> Item {
    key(
        format!("CHANGE#{}", c.target),
        format!("{}#{}", rfc3339(c.at), c.id),
    )
}

impl ChangeStore for DynamoStore {
    async fn record_change(&self, change: &Change, expires_at: i64) -> Result<bool, StoreError> {
        let mut item = change_key(change);
        item.insert("change".into(), s(to_json(change)));
        item.insert(TTL_ATTRIBUTE.into(), n(expires_at));
        self.put_once(item).await
    }

    async fn changes(
        &self,
        target: &str,
        since: i64,
        until: i64,
    ) -> Result<Vec<Change>, StoreError> {
        // Every id sorts below U+FFFF after the time, so `until` itself is included.
        let range = (rfc3339(since), format!("{}#\u{ffff}", rfc3339(until)));
        let items = self
            .partition(&format!("CHANGE#{target}"), Some(range))
            .await?;
        items.iter().map(|i| json(i, "change")).collect()
    }
}
