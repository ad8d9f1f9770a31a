//! Budget corrections: one item per version under `CORR`, written once (a conditional
//! put), never updated and never expired, so every version stays on record.

use sloguard_core::app::ports::{CorrectionStore, StoreError};
use sloguard_core::slo::correction::Correction;

use super::{json, key, s, to_json, DynamoStore, Item};

/// The partition of every correction version: a cycle lists them with one Query.
pub const CORRECTIONS_PK: &str = "CORR";

/// A version's key: the id, then the version zero-padded so versions sort in order.
fn correction_key(c: &Correction) -> Item {
    key(CORRECTIONS_PK, format!("{}#v{:010}", c.id, c.version))
}

impl CorrectionStore for DynamoStore {
    async fn corrections(&self) -> Result<Vec<Correction>, StoreError> {
        let items = self.partition(CORRECTIONS_PK, None).await?;
        items.iter().map(|i| json(i, "correction")).collect()
    }

    async fn add_correction(&self, c: &Correction) -> Result<bool, StoreError> {
        let mut item = correction_key(c);
        item.insert("correction".into(), s(to_json(c)));
        self.put_once(item).await
    }
}
