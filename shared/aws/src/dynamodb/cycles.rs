//! Cycle records: two items per fanned-out cycle under `CYCLE`, keyed by its trigger time
//! (12 digits, so key order is time order). The dispatcher writes the cycle's item once (a
//! conditional put: the cut, its size and the fleet it came from) and marks it dispatched
//! when every order is queued; each shard adds its index to the `done` number set of a
//! small item of its own (`<time>#done`), so a shard completed twice counts once and its
//! write costs one unit however many shards the cut has.

use aws_sdk_dynamodb::types::AttributeValue;

use sloguard_core::app::fanout::{CycleRecord, CycleStore, CYCLE_RECORD_DAYS};
use sloguard_core::app::ports::StoreError;

use super::{corrupt, get_n, key, n, DynamoStore, Item, Keys, SK, TTL_ATTRIBUTE};

const PARTITION: &str = "CYCLE";

fn sort_key(cycle: i64) -> String {
    format!("{cycle:012}")
}

/// The completed shards' item of a cycle: sorts right after the cycle's own item.
fn done_key(cycle: i64) -> String {
    format!("{cycle:012}#done")
}

/// The completed shards of a `done` item.
fn done_set(item: &Item) -> Result<std::collections::BTreeSet<u32>, StoreError> {
    match item.get("done") {
        Some(AttributeValue::Ns(ns)) => ns
            .iter()
            .map(|v| v.parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|_| corrupt(item, "`done` holds a non-index".into())),
        None => Ok(Default::default()),
        Some(_) => Err(corrupt(item, "`done` is not a number set".into())),
    }
}

/// Cycle records from items of the partition in any order: each cycle's item with the
/// completed shards of its `done` item.
fn records(items: &[Item]) -> Result<Vec<CycleRecord>, StoreError> {
    let mut out: Vec<CycleRecord> = Vec::new();
    let mut done = std::collections::HashMap::new();
    for item in items {
        let key = super::get_s(item, SK).unwrap_or_default();
        match key.strip_suffix("#done") {
            Some(cycle) => {
                let cycle = cycle
                    .parse::<i64>()
                    .map_err(|_| corrupt(item, "sort key is not a trigger time".into()))?;
                done.insert(cycle, done_set(item)?);
            }
            None => out.push(record(item)?),
        }
    }
    for r in &mut out {
        if let Some(d) = done.remove(&r.cycle) {
            r.done = d;
        }
    }
    Ok(out)
}

fn record_item(r: &CycleRecord, expires_at: i64) -> Item {
    let mut item = key(PARTITION, sort_key(r.cycle));
    item.insert("started".into(), n(r.started));
    item.insert("shards".into(), n(r.shards));
    item.insert(
        "bounds".into(),
        AttributeValue::L(r.bounds.iter().cloned().map(AttributeValue::S).collect()),
    );
    item.insert("dispatched".into(), AttributeValue::Bool(r.dispatched));
    item.insert("slos".into(), n(r.slos));
    item.insert("fleet_version".into(), n(r.fleet_version));
    item.insert("shard_size".into(), n(r.shard_size));
    item.insert(TTL_ATTRIBUTE.into(), n(expires_at));
    item
}

/// A stored cycle record; a malformed one names the attribute (it is data, never trusted).
fn record(item: &Item) -> Result<CycleRecord, StoreError> {
    let cycle = super::get_s(item, SK)
        .and_then(|k| k.parse::<i64>().ok())
        .ok_or_else(|| corrupt(item, "sort key is not a trigger time".into()))?;
    let whole = |name: &str| {
        get_n(item, name).ok_or_else(|| corrupt(item, format!("missing number `{name}`")))
    };
    let shards = u32::try_from(whole("shards")?)
        .map_err(|_| corrupt(item, "`shards` out of range".into()))?;
    let bounds = match item.get("bounds") {
        Some(AttributeValue::L(l)) => l
            .iter()
            .map(|v| v.as_s().cloned())
            .collect::<Result<Vec<String>, _>>()
            .map_err(|_| corrupt(item, "`bounds` holds a non-string".into()))?,
        None => Vec::new(),
        Some(_) => return Err(corrupt(item, "`bounds` is not a list".into())),
    };
    if bounds.len() + 1 != shards as usize && shards > 0 {
        return Err(corrupt(
            item,
            format!("{} bounds for {shards} shards", bounds.len()),
        ));
    }
    Ok(CycleRecord {
        cycle,
        started: whole("started")?,
        shards,
        bounds,
        done: Default::default(),
        dispatched: matches!(item.get("dispatched"), Some(AttributeValue::Bool(true))),
        slos: usize::try_from(whole("slos")?).unwrap_or(0),
        fleet_version: u64::try_from(whole("fleet_version")?).unwrap_or(0),
        shard_size: usize::try_from(whole("shard_size")?).unwrap_or(0),
    })
}

impl CycleStore for DynamoStore {
    async fn begin_cycle(&self, r: &CycleRecord, expires_at: i64) -> Result<bool, StoreError> {
        self.put_once(record_item(r, expires_at)).await
    }

    async fn mark_dispatched(&self, cycle: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(PARTITION, sort_key(cycle))))
            .update_expression("SET dispatched = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn cycle(&self, cycle: i64) -> Result<Option<CycleRecord>, StoreError> {
        // The cycle's item and its `done` item, in one Query.
        let items = self
            .query(
                PARTITION,
                Keys::Between(sort_key(cycle), done_key(cycle)),
                None,
                None,
            )
            .await?;
        Ok(records(&items)?.into_iter().find(|r| r.cycle == cycle))
    }

    async fn recent_cycles(&self, limit: usize) -> Result<Vec<CycleRecord>, StoreError> {
        // Newest first: each cycle's `done` item, then its own.
        let items = self
            .query(PARTITION, Keys::All, Some(2 * limit), None)
            .await?;
        let mut out = records(&items)?;
        out.sort_by_key(|r| std::cmp::Reverse(r.cycle));
        out.truncate(limit);
        Ok(out)
    }

    async fn complete_shard(&self, cycle: i64, index: u32) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(PARTITION, done_key(cycle))))
            .update_expression("ADD done :i SET expires_at = if_not_exists(expires_at, :e)")
            .expression_attribute_values(":i", AttributeValue::Ns(vec![index.to_string()]))
            .expression_attribute_values(":e", n(cycle + CYCLE_RECORD_DAYS * 86_400))
            .send()
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
