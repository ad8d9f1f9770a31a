//! Adapters: each port implemented with one AWS service, plus the shared
//! client configuration and error classification.

pub mod cloudwatch;
pub mod dynamodb;
pub mod sns;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

pub use cloudwatch::CloudWatchSource;
pub use dynamodb::DynamoStore;
pub use sns::SnsNotifier;

/// Load the SDK configuration once per cold start: region, credentials chain,
/// `AWS_ENDPOINT_URL` (an emulator), bounded retries with backoff and timeouts
/// that fit inside a Lambda invocation.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await
}

/// How an AWS call failed, in the terms the ports report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// The service said the resource (table, topic) does not exist.
    Missing(String),
    Throttled(String),
    /// No answer: endpoint unreachable, timeout, DNS (often a wrong region or endpoint).
    Unavailable(String),
    /// No credentials could be found or used.
    Credentials(String),
    /// A conditional write's condition did not hold.
    Conditional(String),
    Other(String),
}

/// Classify any SDK error by its kind and error code.
pub(crate) fn classify<E, R>(err: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = DisplayErrorContext(err).to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("credentials") && !matches!(err, SdkError::ServiceError(_)) {
        return Failure::Credentials(text);
    }
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Failure::Unavailable(text),
        SdkError::ServiceError(se) => match se.err().code().unwrap_or_default() {
            "ResourceNotFoundException" | "NotFound" | "NotFoundException" => Failure::Missing(text),
            "ProvisionedThroughputExceededException" | "ThrottlingException" | "Throttling" | "RequestLimitExceeded" | "Throttled" => {
                Failure::Throttled(text)
            }
            "ConditionalCheckFailedException" => Failure::Conditional(text),
            "TransactionCanceledException" if text.contains("ConditionalCheckFailed") => Failure::Conditional(text),
            "TransactionCanceledException" if text.contains("ThroughputExceeded") || text.contains("TransactionConflict") => {
                Failure::Throttled(text)
            }
            "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException" | "ExpiredToken" | "ExpiredTokenException" => {
                Failure::Credentials(text)
            }
            _ => Failure::Other(text),
        },
        _ => Failure::Other(text),
    }
}
