//! Item sizes as DynamoDB bills and stores them, read from the table for `sloguard cost`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use sloguard_core::app::ports::{StoreError, FAR_FUTURE};
use sloguard_core::cost::ItemSizes;
use sloguard_core::slo::message::rfc3339;

use super::{get_s, DynamoStore, Item, SK};

/// Bytes of an item as DynamoDB bills and stores it (attribute names plus values), so
/// `sloguard cost` prices the items a table really holds.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(x) => x.len(),
        AttributeValue::N(x) => sloguard_core::cost::number_size(x),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(xs) => xs.iter().map(String::len).sum(),
        AttributeValue::Ns(xs) => xs.iter().map(|x| sloguard_core::cost::number_size(x)).sum(),
        AttributeValue::Bs(xs) => xs.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(xs) => 3 + xs.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, x)| 1 + k.len() + value_size(x))
                .sum::<usize>()
        }
        _ => 0,
    }
}

impl DynamoStore {
    /// The sizes of each SLO's definition, state and newest history snapshot items, for
    /// the cost model; SLOs never evaluated are left out.
    pub async fn item_sizes(&self) -> Result<HashMap<String, ItemSizes>, StoreError> {
        let defs: HashMap<String, usize> = self
            .partition("DEF", None)
            .await?
            .iter()
            .map(|i| (get_s(i, SK).unwrap_or_default().to_string(), item_size(i)))
            .collect();
        let mut out = HashMap::new();
        for item in self.partition("STATE", None).await? {
            let name = get_s(&item, SK).unwrap_or_default().to_string();
            let Some(definition) = defs.get(&name) else {
                continue;
            };
            let newest = self
                .query(
                    &format!("SNAP#{name}"),
                    Some((rfc3339(0), rfc3339(FAR_FUTURE))),
                    Some(1),
                )
                .await?;
            let Some(snapshot) = newest.first() else {
                continue;
            };
            out.insert(
                name,
                ItemSizes {
                    definition: *definition,
                    state: item_size(&item),
                    snapshot: item_size(snapshot),
                },
            );
        }
        Ok(out)
    }
}
