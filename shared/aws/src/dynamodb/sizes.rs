//! Item sizes as DynamoDB bills and stores them: read from the table for `sloguard cost`,
//! or measured on the items this adapter would write at a representative evaluation
//! (`DynamoLayout`), so the layout is encoded here only.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use sloguard_core::app::ports::{StoreError, FAR_FUTURE};
use sloguard_core::cost::{ItemLayout, ItemSizes};
use sloguard_core::slo::incremental::StreamCache;
use sloguard_core::slo::message::rfc3339;
use sloguard_core::slo::model::SloDefinition;
use sloguard_core::slo::snapshot::Snapshot;
use sloguard_core::slo::status::SloState;

use super::definitions::definition_item;
use super::history::snapshot_item;
use super::state::state_item;
use super::streams::{cache_item, digest_pk};
use super::{get_s, DynamoStore, Item, Keys, SK};

/// A state's version after a year of 5-minute cycles: the digits a live state's version has.
const YEAR_OF_CYCLES: u64 = 365 * 288;
/// A TTL as wide as an epoch second gets (10 significant digits): snapshots are priced at
/// their widest.
const WIDEST_TTL: i64 = 1_999_999_999;

/// The items this adapter writes, measured: the cost model's `ItemLayout` in production.
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoLayout;

impl ItemLayout for DynamoLayout {
    fn sizes(&self, slo: &SloDefinition, snapshot: &Snapshot, state: &SloState) -> ItemSizes {
        let applied_at = state.last_evaluated_at.unwrap_or_default();
        ItemSizes {
            definition: item_size(&definition_item(slo, 1, applied_at)),
            state: item_size(&state_item(&slo.name, state, YEAR_OF_CYCLES)),
            snapshot: item_size(&snapshot_item(snapshot, WIDEST_TTL)),
        }
    }

    fn cache_size(&self, cache: &StreamCache) -> usize {
        // A TTL a few days after the read: as many digits as the read time.
        item_size(&cache_item(digest_pk(&[0; 16]), cache, cache.read_at))
    }
}

/// Bytes of a number attribute value: 1 byte per two significant digits, plus 1.
pub fn number_size(v: &str) -> usize {
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

/// Bytes of an item as DynamoDB bills and stores it (attribute names plus values), so
/// `sloguard cost` prices the items a table really holds.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(x) => x.len(),
        AttributeValue::N(x) => number_size(x),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(xs) => xs.iter().map(String::len).sum(),
        AttributeValue::Ns(xs) => xs.iter().map(|x| number_size(x)).sum(),
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
                    Keys::Between(rfc3339(0), rfc3339(FAR_FUTURE)),
                    Some(1),
                    None,
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
