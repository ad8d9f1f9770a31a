//! DynamoDB store: one table, keys `pk` (partition) and `sk` (sort), TTL on `expires_at`.
//!
//! | item            | pk               | sk                          | attributes |
//! |-----------------|------------------|-----------------------------|------------|
//! | definition      | `DEF`            | SLO name                    | `definition` (JSON), `version`, `service`, `owner` (when it has one), `applied_at`, `previous_owner` and `owner_changed_at` (after a take-over) |
//! | state           | `STATE`          | SLO name                    | `state` (JSON: what decisions need), `version` (optimistic lock), `pending` (string set of outbox keys), `silence` (JSON, outside the lock) |
//! | history         | `SNAP#<slo>`     | evaluated_at (RFC 3339)     | `snapshot` (JSON), `expires_at` (TTL: 15 days, or the full retention for the first snapshot of each hour) |
//! | outbox          | `OUTBOX#<slo>`   | `<notification id>#<channel>` | `notification` (JSON), `delivery` (`pending`/`sent`), `claimant`, `claimed_until`, `expires_at` |
//! | alarm dedup     | `ALARM#<alarm>`  | state timestamp and value   | `done`, `claimed_until` (a lease), `expires_at` |
//! | review dedup    | `REVIEW`         | period (week number)        | `expires_at` |
//! | alarm debounce  | `ALARM#EVAL#<slo>` | minute (epoch minutes)    | `expires_at` |
//! | change          | `CHANGE#<target>` | `<at RFC 3339>#<change id>` | `change` (JSON), `expires_at` (TTL, 90 days by default) |
//! | incident        | `INCIDENT`       | `<opened_at RFC 3339>#<slo>` | `incident` (JSON: the record a review starts from), `expires_at` (TTL: the history retention after it opened) |
//! | stream cache    | `STREAM#<digest>` | `CACHE`                   | `cache` (binary: closed hours and far-edge buckets), `read_at`, `expires_at` (TTL) |
//! | correction      | `CORR`           | `<id>#v<version, 10 digits>` | `correction` (JSON); one item per version, written once, never expired |
//! | cycle           | `CYCLE`          | trigger time (epoch seconds, 12 digits) | `started`, `shards`, `bounds` (the cut's inner bounds, a list), `dispatched`, `slos`, `fleet_version` and `shard_size` (what the cut was made from), `expires_at` (TTL: 7 days) |
//! | shards done     | `CYCLE`          | `<trigger time>#done`       | `done` (number set of the completed shards' indexes), `expires_at` |
//! | fleet version   | `FLEET`          | `VERSION`                   | `version`: bumped when a definition is created or deleted |
//!
//! Definitions and states each live in one partition keyed by SLO name, so a cycle lists
//! all of them, or one shard's name range, with one paginated Query instead of scanning
//! history. A snapshot's key is
//! the SLO and its evaluation time, so writing the same evaluation twice is one item.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;

use sloguard_core::app::ports::StoreError;
use sloguard_core::slo::shard::NameRange;

use super::{classify, Failure};

mod changes;
mod corrections;
mod cycles;
mod dedup;
mod definitions;
mod history;
mod incidents;
mod outbox;
mod sizes;
mod state;
mod streams;
mod table;

pub use corrections::CORRECTIONS_PK;
pub use sizes::{item_size, number_size, DynamoLayout};

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";
/// The TTL attribute (epoch seconds) of history, outbox and dedup items.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// A DynamoDB item as the SDK carries it.
pub type Item = HashMap<String, AttributeValue>;

/// The sloguard table, through the DynamoDB API.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn json<T: DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    let text =
        get_s(item, name).ok_or_else(|| corrupt(item, format!("missing attribute `{name}`")))?;
    serde_json::from_str(text).map_err(|e| corrupt(item, format!("`{name}`: {e}")))
}

fn corrupt(item: &Item, message: String) -> StoreError {
    StoreError::Corrupt {
        key: format!(
            "{}/{}",
            get_s(item, PK).unwrap_or("?"),
            get_s(item, SK).unwrap_or("?")
        ),
        message,
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serializes")
}

impl DynamoStore {
    /// A store over `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn err<E, R>(&self, e: aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        self.error_of(classify(&e))
    }

    /// `res` with a failed condition taken as success: the write it guarded is already moot
    /// (the claim was lost, the state is gone).
    fn moot_if_conditional<T, E, R>(
        &self,
        res: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
    ) -> Result<(), StoreError>
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match res {
            Ok(_) => Ok(()),
            Err(e) => match classify(&e) {
                Failure::Conditional(_) => Ok(()),
                _ => Err(self.err(e)),
            },
        }
    }

    fn error_of(&self, failure: Failure) -> StoreError {
        match failure {
            Failure::Missing(_) => StoreError::TableMissing(self.table.clone()),
            Failure::Throttled(m) => StoreError::Throttled(m),
            Failure::Credentials(m) => StoreError::Credentials(m),
            Failure::Unavailable(m) => StoreError::Unavailable(m),
            Failure::TimedOut(t, m) => StoreError::TimedOut(t, m),
            Failure::Conditional(m) | Failure::Other(m) => StoreError::Rejected(m),
        }
    }

    /// Write `item` unless its key is stored: true when written, false when it was there
    /// already (the same change, correction or event delivered twice is one item).
    async fn put_once(&self, item: Item) -> Result<bool, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if matches!(classify(&e), Failure::Conditional(_)) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    /// One item by its keys, read consistently (what was just written is what is read).
    async fn item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(out.item)
    }

    /// Every item of one partition, following pagination.
    async fn partition(
        &self,
        pk: &str,
        range: Option<(String, String)>,
    ) -> Result<Vec<Item>, StoreError> {
        self.query(pk, Keys::from(range), None, None).await
    }

    /// A partition's items in key order; with `latest`, only the last that many, read
    /// newest first so a long range costs no more than what is returned; with `projection`,
    /// only those attributes.
    async fn query(
        &self,
        pk: &str,
        keys: Keys,
        latest: Option<usize>,
        projection: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_values(":pk", s(pk))
                .set_projection_expression(projection.map(str::to_string))
                .set_exclusive_start_key(start.take());
            if let Some(n) = latest {
                let left = n.saturating_sub(out.len()).clamp(1, 1000);
                q = q.scan_index_forward(false).limit(left as i32);
            }
            q = match &keys {
                Keys::All => q.key_condition_expression("pk = :pk"),
                Keys::Between(a, b) => q
                    .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
                    .expression_attribute_values(":a", s(a.clone()))
                    .expression_attribute_values(":b", s(b.clone())),
                Keys::AtLeast(a) => q
                    .key_condition_expression("pk = :pk AND sk >= :a")
                    .expression_attribute_values(":a", s(a.clone())),
                Keys::Below(b) => q
                    .key_condition_expression("pk = :pk AND sk < :b")
                    .expression_attribute_values(":b", s(b.clone())),
            };
            let page = q.send().await.map_err(|e| self.err(e))?;
            out.extend(page.items().iter().cloned());
            let enough = latest.is_some_and(|n| out.len() >= n);
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() && !enough => start = Some(k.clone()),
                _ => break,
            }
        }
        if let Some(n) = latest {
            out.truncate(n);
            out.reverse();
        }
        Ok(out)
    }

    /// The items of a partition keyed by SLO name (`DEF`, `STATE`) whose names are in
    /// `range`: one key-range Query, the upper bound dropped (a range excludes it).
    async fn names_in(
        &self,
        pk: &str,
        range: &NameRange,
        projection: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let keys = match (&range.from, &range.until) {
            (None, None) => Keys::All,
            (Some(a), None) => Keys::AtLeast(a.clone()),
            (None, Some(b)) => Keys::Below(b.clone()),
            (Some(a), Some(b)) => Keys::Between(a.clone(), b.clone()),
        };
        let mut items = self.query(pk, keys, None, projection).await?;
        items.retain(|item| get_s(item, SK).is_some_and(|name| range.contains(name)));
        Ok(items)
    }
}

/// Which sort keys of a partition a Query reads.
enum Keys {
    All,
    /// Inclusive at both ends.
    Between(String, String),
    AtLeast(String),
    Below(String),
}

impl From<Option<(String, String)>> for Keys {
    fn from(range: Option<(String, String)>) -> Keys {
        match range {
            None => Keys::All,
            Some((a, b)) => Keys::Between(a, b),
        }
    }
}

#[cfg(test)]
#[path = "dynamodb_tests.rs"]
mod tests;
