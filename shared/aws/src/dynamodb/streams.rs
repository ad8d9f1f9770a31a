//! Stream caches: one item per metric stream under `STREAM#<digest of the stream>` / `CACHE`,
//! the cache's compact bytes in `cache` (binary), its read time in `read_at`. A write never
//! replaces a cache read later (a conditional put), and TTL removes the caches of streams
//! no SLO reads any more. Reads are eventually consistent: a cache a moment old is still
//! a valid cache (the planner checks its age), and it halves the read units.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use sha2::{Digest, Sha256};

use sloguard_core::app::ports::{StoreError, StreamCacheStore};
use sloguard_core::slo::incremental::StreamCache;
use sloguard_core::slo::model::MetricSpec;

use super::{classify, get_s, key, n, DynamoStore, Failure, Item, PK, TTL_ATTRIBUTE};

/// BatchGetItem takes at most 100 keys.
const BATCH: usize = 100;
/// Unprocessed keys are asked again this many times; what is still left is read whole.
const RETRIES: u32 = 3;

/// The partition of a stream's cache: a digest of the stream as stored, so any change to
/// the stream (stat, dimension, region) is another cache.
pub(super) fn stream_pk(stream: &MetricSpec) -> String {
    let text = serde_json::to_string(stream).expect("plain data serializes");
    digest_pk(&Sha256::digest(text.as_bytes())[..16])
}

/// `STREAM#` and the first 16 bytes of a stream's digest, in hex.
pub(super) fn digest_pk(digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("STREAM#{hex}")
}

fn stream_key(stream: &MetricSpec) -> Item {
    key(stream_pk(stream), "CACHE")
}

/// A stream's cache item under `pk`: the cache's bytes, its read time and its TTL.
pub(super) fn cache_item(pk: String, cache: &StreamCache, expires_at: i64) -> Item {
    let mut item = key(pk, "CACHE");
    item.insert("cache".into(), AttributeValue::B(Blob::new(cache.encode())));
    item.insert("read_at".into(), n(cache.read_at));
    item.insert(TTL_ATTRIBUTE.into(), n(expires_at));
    item
}

impl StreamCacheStore for DynamoStore {
    async fn stream_caches(
        &self,
        streams: &[&MetricSpec],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let index: HashMap<String, usize> = streams
            .iter()
            .enumerate()
            .map(|(i, s)| (stream_pk(s), i))
            .collect();
        let mut out = vec![None; streams.len()];
        let keys: Vec<Item> = streams.iter().map(|s| stream_key(s)).collect();
        for chunk in keys.chunks(BATCH) {
            let mut ask = chunk.to_vec();
            for attempt in 0..=RETRIES {
                if ask.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut ask)))
                    .consistent_read(false)
                    .build()
                    .expect("keys set");
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| self.err(e))?;
                for item in answer
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let Some(i) = get_s(item, PK).and_then(|pk| index.get(pk)) {
                        out[*i] = item
                            .get("cache")
                            .and_then(|v| v.as_b().ok())
                            .map(|b| b.as_ref().to_vec());
                    }
                }
                ask = answer
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .map(|k| k.keys().to_vec())
                    .unwrap_or_default();
            }
            if !ask.is_empty() {
                tracing::warn!(
                    streams = ask.len(),
                    "stream caches left unprocessed; reading those streams whole"
                );
            }
        }
        Ok(out)
    }

    async fn put_stream_cache(
        &self,
        stream: &MetricSpec,
        cache: &StreamCache,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let item = cache_item(stream_pk(stream), cache, expires_at);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR read_at <= :r")
            .expression_attribute_values(":r", n(cache.read_at))
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            // A newer cache is there already: keep it.
            Err(e) if matches!(classify(&e), Failure::Conditional(_)) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }
}
