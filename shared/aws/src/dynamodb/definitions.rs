//! Definitions: one item per SLO under `DEF`, the definition as `SloDefinition::to_stored`
//! wrote it, versioned so a concurrent apply is refused rather than lost.

use sloguard_core::app::ports::{ApplyOutcome, DefinitionStore, StoreError, StoredDefinition};
use sloguard_core::slo::message::rfc3339;
use sloguard_core::slo::model::SloDefinition;
use sloguard_core::slo::shard::NameRange;

use super::{classify, corrupt, get_n, get_s, key, n, s, DynamoStore, Failure, Item, SK};

/// A definition item's `definition`, read back exactly as `SloDefinition::to_stored` wrote it.
fn stored_definition(item: &Item) -> Result<SloDefinition, StoreError> {
    let text = get_s(item, "definition")
        .ok_or_else(|| corrupt(item, "missing attribute `definition`".into()))?;
    SloDefinition::from_stored(text).map_err(|e| corrupt(item, format!("`definition`: {e}")))
}

/// The fleet version's item: bumped when a definition is created or deleted, so the
/// dispatcher knows when its cut of the names is stale without reading them.
const FLEET_PK: &str = "FLEET";
const FLEET_SK: &str = "VERSION";

impl DynamoStore {
    async fn bump_fleet_version(&self) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(FLEET_PK, FLEET_SK)))
            .update_expression("ADD version :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// A definition item as the use cases see it (an unreadable one names what is wrong).
fn stored(item: &Item) -> StoredDefinition {
    StoredDefinition {
        name: get_s(item, SK).unwrap_or_default().to_string(),
        version: get_n(item, "version").unwrap_or(0) as u64,
        definition: stored_definition(item),
    }
}

/// A definition's item: its stored form, its version, its service, its owner and when it
/// was applied.
pub(super) fn definition_item(def: &SloDefinition, version: u64, applied_at: i64) -> Item {
    let mut item = key("DEF", &def.name);
    item.insert("definition".into(), s(def.to_stored()));
    item.insert("version".into(), n(version));
    item.insert("service".into(), s(&def.service));
    if let Some(owner) = &def.owner {
        item.insert("owner".into(), s(owner));
    }
    item.insert("applied_at".into(), s(rfc3339(applied_at)));
    item
}

/// The record of the last change of owner (`apply --take-over`): when the owner differs
/// from the stored item's, `previous_owner` (`-` for none) and `owner_changed_at` are set;
/// otherwise the old item's record is kept.
fn record_owner_change(item: &mut Item, def: &SloDefinition, old: Option<&Item>, at: i64) {
    let Some(old) = old else {
        return;
    };
    let old_owner = stored_definition(old)
        .ok()
        .and_then(|d| d.owner)
        .or_else(|| get_s(old, "owner").map(str::to_string));
    if old_owner == def.owner {
        for k in ["previous_owner", "owner_changed_at"] {
            if let Some(v) = old.get(k) {
                item.insert(k.into(), v.clone());
            }
        }
    } else {
        item.insert(
            "previous_owner".into(),
            s(old_owner.as_deref().unwrap_or("-")),
        );
        item.insert("owner_changed_at".into(), s(rfc3339(at)));
    }
}

impl DefinitionStore for DynamoStore {
    async fn definitions(&self) -> Result<Vec<StoredDefinition>, StoreError> {
        self.definitions_in(&NameRange::all()).await
    }

    async fn definitions_in(&self, range: &NameRange) -> Result<Vec<StoredDefinition>, StoreError> {
        let items = self.names_in("DEF", range, None).await?;
        Ok(items.iter().map(stored).collect())
    }

    async fn definition_names(&self) -> Result<Vec<String>, StoreError> {
        // Keys only: 100,000 names are a few MB of reads, not the definitions' hundreds.
        let items = self.names_in("DEF", &NameRange::all(), Some(SK)).await?;
        Ok(items
            .iter()
            .filter_map(|item| get_s(item, SK).map(str::to_string))
            .collect())
    }

    async fn definition(&self, name: &str) -> Result<Option<StoredDefinition>, StoreError> {
        Ok(self.item("DEF", name).await?.as_ref().map(stored))
    }

    async fn put_definition(&self, def: &SloDefinition) -> Result<ApplyOutcome, StoreError> {
        let current = self.item("DEF", &def.name).await?;
        let (version, unchanged) = match current.as_ref() {
            None => (0, false),
            Some(item) => {
                let old = stored_definition(item);
                let same = old.is_ok_and(|o| sloguard_core::app::apply::same(&o, def));
                (get_n(item, "version").unwrap_or(0) as u64, same)
            }
        };
        if unchanged {
            return Ok(ApplyOutcome::Unchanged);
        }
        let now = chrono::Utc::now().timestamp();
        let mut item = definition_item(def, version + 1, now);
        record_owner_change(&mut item, def, current.as_ref(), now);
        let cond = if version == 0 {
            "attribute_not_exists(pk)"
        } else {
            "version = :v"
        };
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(cond);
        if version > 0 {
            put = put.expression_attribute_values(":v", n(version));
        }
        put.send().await.map_err(|e| match classify(&e) {
            Failure::Conditional(_) => StoreError::Rejected(format!(
                "definition `{}` was changed concurrently; apply again",
                def.name
            )),
            _ => self.err(e),
        })?;
        Ok(if version == 0 {
            self.bump_fleet_version().await?;
            ApplyOutcome::Created
        } else {
            ApplyOutcome::Updated {
                version: version + 1,
            }
        })
    }

    async fn delete_definition(&self, name: &str) -> Result<(), StoreError> {
        for pk in ["DEF", "STATE"] {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(pk, name)))
                .send()
                .await
                .map_err(|e| self.err(e))?;
        }
        self.bump_fleet_version().await
    }

    async fn fleet_version(&self) -> Result<u64, StoreError> {
        Ok(self
            .item(FLEET_PK, FLEET_SK)
            .await?
            .and_then(|i| get_n(&i, "version"))
            .map_or(0, |v| v.max(0) as u64))
    }
}
