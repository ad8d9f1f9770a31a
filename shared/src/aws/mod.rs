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
/// that fit inside a Lambda invocation. TLS trusts the operating system's roots.
pub async fn load_config() -> SdkConfig {
    defaults().load().await
}

/// The configuration the Lambda functions use: as `load_config`, with the Mozilla root
/// certificates compiled in, so a cold start reads no certificate files (the OS store,
/// one file per CA on many systems, was most of the evaluator's init).
pub async fn load_function_config() -> SdkConfig {
    defaults().http_client(compiled_roots_client()).load().await
}

/// An HTTPS client (rustls, aws-lc) trusting the roots of `webpki-root-certs` only.
fn compiled_roots_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{
        rustls_provider::CryptoMode, Provider, TlsContext, TrustStore,
    };
    let mut store = TrustStore::empty();
    for pem in root_pems() {
        store.add_pem_certificate(pem);
    }
    let context = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .expect("a trust store is a valid TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

/// The compiled-in roots as PEM, the form the SDK's trust store takes.
fn root_pems() -> impl Iterator<Item = String> {
    use base64::Engine as _;
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|der| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n")
    })
}

fn defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(20))
                .build(),
        )
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
            "ResourceNotFoundException" | "NotFound" | "NotFoundException" => {
                Failure::Missing(text)
            }
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "Throttling"
            | "RequestLimitExceeded"
            | "Throttled" => Failure::Throttled(text),
            "ConditionalCheckFailedException" => Failure::Conditional(text),
            "TransactionCanceledException" if text.contains("ConditionalCheckFailed") => {
                Failure::Conditional(text)
            }
            "TransactionCanceledException"
                if text.contains("ThroughputExceeded") || text.contains("TransactionConflict") =>
            {
                Failure::Throttled(text)
            }
            "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "ExpiredToken"
            | "ExpiredTokenException" => Failure::Credentials(text),
            _ => Failure::Other(text),
        },
        _ => Failure::Other(text),
    }
}

/// sloguard's environment variables (SLO_TABLE, SLO_TOPIC_ARN, ...), read and validated once.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// SLO_TABLE.
    pub table: String,
    /// SLO_TOPIC_ARN: required to notify; read-only commands work without it.
    pub topic_arn: Option<String>,
    /// SLO_EVENTS_TOPIC_ARN: optional JSON topic.
    pub events_topic_arn: Option<String>,
    /// SLO_LAG_SECONDS (default 120).
    pub lag_seconds: i64,
    /// SLO_HISTORY_DAYS (default 400).
    pub history_days: i64,
    /// SLO_SCHEDULE_MINUTES (default 5): evaluations older than one period only record history.
    pub schedule_minutes: i64,
    /// SLO_DASHBOARD_URL: the dashboard messages link to (the stack sets it).
    pub dashboard_url: Option<String>,
}

/// A missing or malformed setting, naming the variable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{var}: {message}")]
pub struct EnvironmentError {
    pub var: &'static str,
    pub message: String,
}

impl Environment {
    /// Read from a variable lookup (the process environment, or a map in tests).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Environment, EnvironmentError> {
        let non_empty = |var: &'static str| {
            get(var)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let int = |var: &'static str,
                   default: i64,
                   min: i64,
                   max: i64|
         -> Result<i64, EnvironmentError> {
            match non_empty(var) {
                None => Ok(default),
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(n),
                    _ => Err(EnvironmentError {
                        var,
                        message: format!("`{v}` is not a whole number from {min} to {max}"),
                    }),
                },
            }
        };
        let arn = |var: &'static str| -> Result<Option<String>, EnvironmentError> {
            match non_empty(var) {
                Some(v) if !v.starts_with("arn:") => Err(EnvironmentError {
                    var,
                    message: format!(
                        "`{v}` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
                    ),
                }),
                other => Ok(other),
            }
        };
        Ok(Environment {
            table: non_empty("SLO_TABLE").ok_or(EnvironmentError {
                var: "SLO_TABLE",
                message: "not set: name the DynamoDB table (or pass --table)".into(),
            })?,
            topic_arn: arn("SLO_TOPIC_ARN")?,
            events_topic_arn: arn("SLO_EVENTS_TOPIC_ARN")?,
            lag_seconds: int("SLO_LAG_SECONDS", 120, 0, 3600)?,
            history_days: int("SLO_HISTORY_DAYS", 400, 1, 3650)?,
            schedule_minutes: int("SLO_SCHEDULE_MINUTES", 5, 1, 60)?,
            dashboard_url: non_empty("SLO_DASHBOARD_URL").filter(|u| u.starts_with("https://")),
        })
    }

    /// Read from the process environment.
    pub fn from_env() -> Result<Environment, EnvironmentError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

/// The production wiring: the three adapters over one SDK config.
pub type AwsApp = crate::app::App<CloudWatchSource, DynamoStore, SnsNotifier>;

/// Only the store, for the read-only dashboard widget.
pub fn build_store(env: &Environment, sdk: &SdkConfig) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.table.clone())
}

/// Build every client once (per cold start) and wire them into the use cases.
pub fn build_app(settings: &Environment, sdk: &SdkConfig) -> AwsApp {
    crate::app::App {
        metrics: CloudWatchSource::new(sdk.clone()),
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), settings.table.clone()),
        notifier: SnsNotifier::new(
            aws_sdk_sns::Client::new(sdk),
            settings.topic_arn.clone().unwrap_or_default(),
            settings.events_topic_arn.clone(),
        ),
        config: crate::app::Config {
            lag_seconds: settings.lag_seconds,
            history_days: settings.history_days,
            schedule_seconds: settings.schedule_minutes * 60,
            dashboard_url: settings.dashboard_url.clone(),
            ..crate::app::Config::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_roots_are_pem_the_tls_stack_reads_back() {
        use rustls_pki_types::pem::PemObject;
        let pems: Vec<String> = root_pems().collect();
        // a silently unreadable root would be dropped and TLS to AWS would fail in Lambda
        assert!(pems.len() > 100, "{} roots", pems.len());
        for (pem, der) in pems.iter().zip(webpki_root_certs::TLS_SERVER_ROOT_CERTS) {
            let back = rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
                .expect("valid PEM");
            assert_eq!(back.as_ref(), der.as_ref());
        }
        // the client builds (the SDK validates it when a service client is made)
        let _ = compiled_roots_client();
    }

    #[test]
    fn settings_name_the_variable_that_is_wrong() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = Environment::from_lookup(env(&[
            ("SLO_TABLE", "t"),
            ("SLO_TOPIC_ARN", "arn:aws:sns:eu-west-1:1:x"),
        ]))
        .unwrap();
        assert_eq!((s.lag_seconds, s.history_days), (120, 400));
        let e = Environment::from_lookup(env(&[])).unwrap_err();
        assert_eq!(e.var, "SLO_TABLE");
        let e = Environment::from_lookup(env(&[("SLO_TABLE", "t"), ("SLO_LAG_SECONDS", "soon")]))
            .unwrap_err();
        assert!(e.to_string().starts_with("SLO_LAG_SECONDS: `soon`"), "{e}");
        let e = Environment::from_lookup(env(&[("SLO_TABLE", "t"), ("SLO_TOPIC_ARN", "my-topic")]))
            .unwrap_err();
        assert_eq!(e.var, "SLO_TOPIC_ARN");
    }
}
