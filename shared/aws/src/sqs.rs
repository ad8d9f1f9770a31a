//! The shard queue (SQS): the dispatcher sends one message per shard order, ten to a
//! batch; the evaluator's workers receive them one at a time, delete each shard that
//! completed, and make a failed one visible again soon so its one retry falls inside the
//! cycle (the queue's redrive policy dead-letters it after that). No event source mapping
//! polls it between cycles.

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use sloguard_core::app::fanout::{QueueError, Received, ShardOrder, ShardQueue};

use crate::events::shard::{order_body, parse_order};

use super::classify;

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

    fn error<E, R>(&self, e: &aws_sdk_sqs::error::SdkError<E, R>) -> QueueError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        QueueError {
            queued: 0,
            total: 0,
            message: classify(e).describe(),
        }
    }
}

impl ShardQueue for SqsShardQueue {
    async fn receive(&self, wait_seconds: i32) -> Result<Option<Received>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(1)
            .wait_time_seconds(wait_seconds.clamp(0, 20))
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        Ok(out.messages().first().map(|m| Received {
            receipt: m.receipt_handle().unwrap_or_default().to_string(),
            order: parse_order(m.body().unwrap_or_default()).map_err(|e| e.0),
        }))
    }

    async fn pending(&self) -> Result<u64, QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        let count = |name: &QueueAttributeName| {
            out.attributes()
                .and_then(|a| a.get(name))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(count(&QueueAttributeName::ApproximateNumberOfMessages)
            + count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }

    async fn done(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        Ok(())
    }

    async fn retry_soon(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(self.retry_after_seconds)
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        Ok(())
    }

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
                        message: classify(&e).describe(),
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
