//! The shard queue (SQS): the dispatcher sends one message per shard order, ten to a
//! batch; the evaluator receives them through its event source mapping and, when a shard
//! fails, makes its message visible again soon so the one retry falls inside the cycle.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;

use sloguard_core::app::fanout::{QueueError, ShardOrder, ShardQueue};

use crate::events::shard::order_body;

use super::{classify, Failure};

/// After a shard fails, its message is visible again this soon: the one retry SQS allows
/// (maxReceiveCount 2) falls inside the schedule period.
pub const RETRY_AFTER_SECONDS: i32 = 15;
/// SQS's batch limit.
const BATCH: usize = 10;
/// Sends of the entries a batch answered as failed (throttled, internal) before giving up.
const ENTRY_ATTEMPTS: usize = 3;

/// Shard orders on one SQS queue (SLO_SHARD_QUEUE_URL).
#[derive(Clone)]
pub struct SqsShardQueue {
    client: Client,
    url: String,
    retry_after_seconds: i32,
}

fn describe(f: Failure) -> String {
    match f {
        Failure::Missing(m) => format!("the queue does not exist: {m}"),
        Failure::TimedOut(t, m) => format!("{m} ({t:?})"),
        Failure::Throttled(m)
        | Failure::Unavailable(m)
        | Failure::Credentials(m)
        | Failure::Conditional(m)
        | Failure::Other(m) => m,
    }
}

impl SqsShardQueue {
    /// The queue at `url`.
    pub fn new(client: Client, url: String) -> Self {
        SqsShardQueue {
            client,
            url,
            retry_after_seconds: RETRY_AFTER_SECONDS,
        }
    }

    /// The same queue with another delay before a failed shard's retry (tests use 1 s).
    pub fn retrying_after(self, seconds: i32) -> Self {
        SqsShardQueue {
            retry_after_seconds: seconds,
            ..self
        }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Make a received message visible again soon, so a failed shard is retried within
    /// the cycle rather than after the whole visibility timeout.
    pub async fn retry_soon(&self, receipt_handle: &str) -> Result<(), String> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(self.retry_after_seconds)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(classify(&e)))
    }
}

impl ShardQueue for SqsShardQueue {
    async fn send(&self, orders: &[ShardOrder]) -> Result<(), QueueError> {
        let mut queued = 0;
        for chunk in orders.chunks(BATCH) {
            let mut left: Vec<(String, &ShardOrder)> = chunk
                .iter()
                .map(|o| (format!("shard-{}", o.index), o))
                .collect();
            let mut last_error = String::new();
            for _ in 0..ENTRY_ATTEMPTS {
                if left.is_empty() {
                    break;
                }
                let entries = left
                    .iter()
                    .map(|(id, o)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(order_body(o))
                            .build()
                            .expect("id and body are set")
                    })
                    .collect();
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| QueueError {
                        queued,
                        total: orders.len(),
                        message: describe(classify(&e)),
                    })?;
                queued += out.successful().len();
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                if let Some(f) = out.failed().first() {
                    last_error = format!("{}: {}", f.code(), f.message().unwrap_or("no message"));
                }
                left.retain(|(id, _)| failed.contains(&id.as_str()));
            }
            if !left.is_empty() {
                return Err(QueueError {
                    queued,
                    total: orders.len(),
                    message: format!("SQS refused {} entries: {last_error}", left.len()),
                });
            }
        }
        Ok(())
    }
}
