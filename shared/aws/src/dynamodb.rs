//! DynamoDB store: one table, keys `pk` (partition) and `sk` (sort), TTL on `expires_at`.
//!
//! | item            | pk               | sk                          | attributes |
//! |-----------------|------------------|-----------------------------|------------|
//! | definition      | `DEF`            | SLO name                    | `definition` (JSON), `version`, `service`, `applied_at` |
//! | state           | `STATE`          | SLO name                    | `state` (JSON: what decisions need), `version` (optimistic lock), `pending` (string set of outbox keys), `silence` (JSON, outside the lock) |
//! | history         | `SNAP#<slo>`     | evaluated_at (RFC 3339)     | `snapshot` (JSON), `expires_at` (TTL: 15 days, or the full retention for the first snapshot of each hour) |
//! | outbox          | `OUTBOX#<slo>`   | `<notification id>#<channel>` | `notification` (JSON), `delivery` (`pending`/`sent`), `claimant`, `claimed_until`, `expires_at` |
//! | alarm dedup     | `ALARM#<alarm>`  | state timestamp and value   | `done`, `claimed_until` (a lease), `expires_at` |
//! | review dedup    | `REVIEW`         | period (week number)        | `expires_at` |
//! | alarm debounce  | `ALARM#EVAL#<slo>` | minute (epoch minutes)    | `expires_at` |
//! | change          | `CHANGE#<target>` | `<at RFC 3339>#<change id>` | `change` (JSON), `expires_at` (TTL, 90 days by default) |
//! | stream cache    | `STREAM#<digest>` | `CACHE`                   | `cache` (binary: closed hours and far-edge buckets), `read_at`, `expires_at` (TTL) |
//!
//! Definitions and states each live in one partition, so a cycle lists all of
//! them with one paginated Query instead of scanning history. A snapshot's key is
//! the SLO and its evaluation time, so writing the same evaluation twice is one item.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;

use sloguard_core::app::ports::{
    outbox_items, ApplyOutcome, Channel, Claim, DedupStore, DefinitionStore, Once, OnceClaim,
    Outbox, OutboxKey, Silence, StateStore, StoreError, StoredDefinition, StoredState,
};
use sloguard_core::slo::message::{rfc3339, Notification};
use sloguard_core::slo::model::SloDefinition;
use sloguard_core::slo::snapshot::Snapshot;
use sloguard_core::slo::status::SloState;

use super::{classify, Failure};

mod changes;
mod history;
mod sizes;
mod streams;

pub use sizes::item_size;

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";
/// The TTL attribute (epoch seconds) of history, outbox and dedup items.
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// How long a delivered outbox item is kept, for audit.
const OUTBOX_DAYS: i64 = 30;

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

/// The keys of a one-time record: `ALARM#<alarm>` / transition, `REVIEW` / period.
fn once_key(event: Once<'_>) -> Item {
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

/// How a transaction failed: a cancelled one by its cancellation reasons' codes (a lost
/// race is `ConditionalCheckFailed`; throttling and conflicts are worth a retry), never by
/// its message text; any other error as `classify` sees it.
fn transaction_failure(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Failure {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    let Some(E::TransactionCanceledException(cancelled)) = e.as_service_error() else {
        return classify(e);
    };
    let text = aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string();
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .collect();
    if codes.contains(&"ConditionalCheckFailed") {
        Failure::Conditional(text)
    } else if codes.iter().any(|c| {
        matches!(
            *c,
            "ThrottlingError" | "ProvisionedThroughputExceeded" | "TransactionConflict"
        )
    }) {
        Failure::Throttled(text)
    } else {
        Failure::Other(text)
    }
}

/// An outbox item's sort key, and its entry in the state's `pending` set:
/// `<notification id>#<channel>`.
fn outbox_sort_key(k: &OutboxKey) -> String {
    format!("{}#{}", k.notification, k.channel.as_str())
}

/// An outbox key read back from `pending`; None for a channel this version does not know
/// (never guessed: delivering it on another channel would send it to the wrong audience).
fn parse_outbox_key(text: &str) -> Option<OutboxKey> {
    let (id, channel) = text.rsplit_once('#')?;
    Some(OutboxKey {
        notification: id.to_string(),
        channel: Channel::parse(channel)?,
    })
}

/// The outbox item of one SLO and key.
fn outbox_item_key(slo: &str, k: &OutboxKey) -> Item {
    key(format!("OUTBOX#{slo}"), outbox_sort_key(k))
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

/// A history item's `snapshot`, read back as `Snapshot::to_stored` wrote it.
fn stored_snapshot(item: &Item) -> Result<Snapshot, StoreError> {
    let text = get_s(item, "snapshot")
        .ok_or_else(|| corrupt(item, "missing attribute `snapshot`".into()))?;
    Snapshot::from_stored(text).map_err(|e| corrupt(item, format!("`snapshot`: {e}")))
}

/// A definition item's `definition`, read back exactly as `SloDefinition::to_stored` wrote it.
fn stored_definition(item: &Item) -> Result<SloDefinition, StoreError> {
    let text = get_s(item, "definition")
        .ok_or_else(|| corrupt(item, "missing attribute `definition`".into()))?;
    SloDefinition::from_stored(text).map_err(|e| corrupt(item, format!("`definition`: {e}")))
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

    /// Every item of one partition, following pagination.
    async fn partition(
        &self,
        pk: &str,
        range: Option<(String, String)>,
    ) -> Result<Vec<Item>, StoreError> {
        self.query(pk, range, None).await
    }

    /// A partition's items in key order; with `latest`, only the last that many, read
    /// newest first so a long range costs no more than what is returned.
    async fn query(
        &self,
        pk: &str,
        range: Option<(String, String)>,
        latest: Option<usize>,
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
                .set_exclusive_start_key(start.take());
            if let Some(n) = latest {
                let left = n.saturating_sub(out.len()).clamp(1, 1000);
                q = q.scan_index_forward(false).limit(left as i32);
            }
            q = match &range {
                None => q.key_condition_expression("pk = :pk"),
                Some((a, b)) => q
                    .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
                    .expression_attribute_values(":a", s(a.clone()))
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

    fn stored_state(item: &Item) -> Result<StoredState, StoreError> {
        // Only keys (or only a silence) so far: no state yet. A writer mid-way, as an
        // emulator can show, makes the commit fail its version check and re-read.
        let silence = match get_s(item, "silence") {
            Some(_) => Some(json(item, "silence")?),
            None => None,
        };
        if get_s(item, "state").is_none() && get_n(item, "version").is_none() {
            return Ok(StoredState {
                silence,
                ..StoredState::default()
            });
        }
        Ok(StoredState {
            silence,
            state: json(item, "state")?,
            version: get_n(item, "version").unwrap_or(0) as u64,
            pending: item
                .get("pending")
                .and_then(|v| v.as_ss().ok())
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|k| {
                    let parsed = parse_outbox_key(k);
                    if parsed.is_none() {
                        tracing::warn!(key = %k, "pending outbox key of an unknown channel; left alone");
                    }
                    parsed
                })
                .collect(),
            // An older item's `latest` copy is ignored: history holds the snapshot.
            latest: None,
        })
    }

    /// Create the table (and its TTL) when missing; true when it was created.
    pub async fn create_table_if_missing(&self) -> Result<bool, StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => return Ok(false),
            Err(e) => match self.err(e) {
                StoreError::TableMissing(_) => {}
                other => return Err(other),
            },
        }
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type set")
        };
        let key_el = |name: &str, kt| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kt)
                .build()
                .expect("set")
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(PK))
            .attribute_definitions(attr(SK))
            .key_schema(key_el(PK, KeyType::Hash))
            .key_schema(key_el(SK, KeyType::Range))
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(self.err(e)),
        }
        // A new table is briefly CREATING; wait for ACTIVE before turning on TTL.
        for _ in 0..60 {
            let d = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| self.err(e))?;
            if d.table()
                .and_then(|t| t.table_status())
                .map(|s| s.as_str() == "ACTIVE")
                .unwrap_or(false)
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .expect("set"),
            )
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(true)
    }
}

impl DedupStore for DynamoStore {
    async fn record_once(&self, event: Once<'_>, expires_at: i64) -> Result<bool, StoreError> {
        let mut item = once_key(event);
        item.insert(TTL_ATTRIBUTE.into(), n(expires_at));
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match classify(&e) {
                Failure::Conditional(_) => Ok(false),
                _ => Err(self.err(e)),
            },
        }
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

impl DefinitionStore for DynamoStore {
    async fn definitions(&self) -> Result<Vec<StoredDefinition>, StoreError> {
        let items = self.partition("DEF", None).await?;
        Ok(items
            .iter()
            .map(|item| StoredDefinition {
                name: get_s(item, SK).unwrap_or_default().to_string(),
                version: get_n(item, "version").unwrap_or(0) as u64,
                definition: stored_definition(item),
            })
            .collect())
    }

    async fn put_definition(&self, def: &SloDefinition) -> Result<ApplyOutcome, StoreError> {
        let current = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("DEF", &def.name)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(e))?;
        let (version, unchanged) = match current.item() {
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
        let mut item = key("DEF", &def.name);
        item.insert("definition".into(), s(def.to_stored()));
        item.insert("version".into(), n(version + 1));
        item.insert("service".into(), s(&def.service));
        item.insert(
            "applied_at".into(),
            s(rfc3339(chrono::Utc::now().timestamp())),
        );
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
        Ok(())
    }
}

impl StateStore for DynamoStore {
    async fn states(&self) -> Result<HashMap<String, StoredState>, StoreError> {
        let items = self.partition("STATE", None).await?;
        // One unreadable state must not stop the cycle: that SLO is re-read on its own
        // (its commit fails on the version check) and fails alone if it is really corrupt.
        Ok(items
            .iter()
            .filter_map(|item| match Self::stored_state(item) {
                Ok(s) => Some((get_s(item, SK).unwrap_or_default().to_string(), s)),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping unreadable state item");
                    None
                }
            })
            .collect())
    }

    async fn state(&self, slo: &str) -> Result<Option<StoredState>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("STATE", slo)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(e))?;
        out.item().map(Self::stored_state).transpose()
    }

    async fn commit(
        &self,
        slo: &str,
        expected_version: u64,
        state: &SloState,
        notifications: &[Notification],
        channels: &[Channel],
    ) -> Result<bool, StoreError> {
        let outbox = outbox_items(notifications, channels);
        let keys: Vec<String> = outbox.iter().map(|(k, _)| outbox_sort_key(k)).collect();
        // `latest` was a copy of the newest snapshot (history has it): dropped on the
        // first write, so the item stays small.
        let mut expr = "SET #state = :state, version = :next REMOVE latest".to_string();
        let mut values: Item = HashMap::from([
            (":state".to_string(), s(to_json(state))),
            (":next".to_string(), n(expected_version + 1)),
        ]);
        if !keys.is_empty() {
            expr.push_str(" ADD pending :keys");
            values.insert(":keys".into(), AttributeValue::Ss(keys.clone()));
        }
        let condition = if expected_version == 0 {
            // A silence may have created the item before any evaluation: no version yet.
            "attribute_not_exists(version)"
        } else {
            values.insert(":expected".into(), n(expected_version));
            "version = :expected"
        };
        if outbox.is_empty() {
            // Nothing to deliver: one conditional write (1 unit per KB), not a transaction (2).
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key("STATE", slo)))
                .update_expression(expr)
                .condition_expression(condition)
                .expression_attribute_names("#state", "state")
                .set_expression_attribute_values(Some(values))
                .send()
                .await;
            return match res {
                Ok(_) => Ok(true),
                Err(e) => match classify(&e) {
                    Failure::Conditional(_) => Ok(false),
                    _ => Err(self.err(e)),
                },
            };
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key("STATE", slo)))
            .update_expression(expr)
            .condition_expression(condition)
            .expression_attribute_names("#state", "state")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        for (k, note) in &outbox {
            let mut item = outbox_item_key(slo, k);
            item.insert("notification".into(), s(to_json(note)));
            item.insert("delivery".into(), s("pending"));
            item.insert(
                TTL_ATTRIBUTE.into(),
                n(chrono::Utc::now().timestamp() + OUTBOX_DAYS * 86_400),
            );
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| StoreError::Rejected(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match transaction_failure(&e) {
                Failure::Conditional(_) => Ok(false),
                other => Err(self.error_of(other)),
            },
        }
    }

    async fn set_silence(&self, slo: &str, silence: Option<&Silence>) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key("STATE", slo)));
        // Not part of the evaluator's optimistic lock: the version is left alone.
        update = match silence {
            Some(x) => update
                .update_expression("SET silence = :s")
                .expression_attribute_values(":s", s(to_json(x))),
            None => update.update_expression("REMOVE silence"),
        };
        update.send().await.map_err(|e| self.err(e))?;
        Ok(())
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
                Ok(Claim::Claimed(json(&item, "notification")?))
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

#[cfg(test)]
#[path = "dynamodb_tests.rs"]
mod tests;
