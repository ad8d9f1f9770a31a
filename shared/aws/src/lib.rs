//! sloguard-aws: the AWS edge of sloguard. Each port of `sloguard_core::app::ports` is
//! implemented with one AWS service (`cloudwatch`, `dynamodb`, `sns`, `eventbridge`);
//! `events` reads the Lambda event envelopes into the use cases' typed events; `sdk`,
//! `timeouts`, `failure` and `environment` configure the clients and classify their
//! errors; `wiring` builds the `App` the functions and the CLI run.

pub mod cloudwatch;
pub mod cost;
pub mod dynamodb;
pub mod environment;
pub mod eventbridge;
pub mod events;
mod failure;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod sdk;
pub mod sns;
pub mod sqs;
pub mod timeouts;
pub mod wiring;
pub mod workers;

pub use cloudwatch::CloudWatchSource;
pub use dynamodb::DynamoStore;
pub use environment::{Environment, EnvironmentError};
pub use eventbridge::EventBridgeNotifier;
pub(crate) use failure::{classify, Failure};
pub use sdk::{load_config, load_function_config, MAX_ATTEMPTS};
pub use sns::SnsNotifier;
pub use sqs::SqsShardQueue;
pub use timeouts::Timeouts;
pub use wiring::{
    build_app, build_shard_queue, build_store, build_workers, claim_lease_seconds, AwsApp,
    AwsNotifier, MIN_CLAIM_LEASE_SECONDS,
};
pub use workers::LambdaWorkers;
