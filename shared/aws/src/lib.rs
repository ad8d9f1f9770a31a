//! Adapters: each port implemented with one AWS service, plus the shared
//! client configuration and error classification.

pub mod cloudwatch;
pub mod cost;
pub mod dynamodb;
pub mod eventbridge;
pub mod events;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod sns;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use sloguard_core::app::ports::{Channel, Notifier, NotifyError, Timeout};
use sloguard_core::slo::message::Notification;

pub use cloudwatch::CloudWatchSource;
pub use dynamodb::DynamoStore;
pub use eventbridge::EventBridgeNotifier;
pub use sns::SnsNotifier;

/// The production notifier: SNS for people (and the JSON topic), and the EventBridge bus
/// when one is set; each is a channel of its own in the outbox, delivered once each.
pub struct AwsNotifier {
    /// People (plain text) and, when set, the JSON events topic.
    pub sns: SnsNotifier,
    /// SLO_EVENT_BUS, when set: the channel `Channel::Bus`.
    pub bus: Option<EventBridgeNotifier>,
}

impl Notifier for AwsNotifier {
    fn channels(&self) -> Vec<Channel> {
        let mut c = self.sns.channels();
        if self.bus.is_some() {
            c.push(Channel::Bus);
        }
        c
    }

    async fn publish(&self, channel: Channel, n: &Notification) -> Result<(), NotifyError> {
        match (channel, &self.bus) {
            (Channel::Bus, Some(bus)) => bus.put(n).await,
            // Queued while a bus was set, and it no longer is: nothing to deliver.
            (Channel::Bus, None) => Ok(()),
            (c, _) => self.sns.publish(c, n).await,
        }
    }
}

/// Load the SDK configuration once per cold start: region, credentials chain,
/// `AWS_ENDPOINT_URL` (an emulator), bounded retries with backoff and `timeouts`
/// (by default they fit inside a Lambda invocation). TLS trusts the operating system's roots.
pub async fn load_config(timeouts: Timeouts) -> SdkConfig {
    defaults(timeouts).load().await
}

/// The configuration the Lambda functions use: as `load_config`, with the Mozilla root
/// certificates compiled in, so a cold start reads no certificate files (the OS store,
/// one file per CA on many systems, was most of the evaluator's init).
pub async fn load_function_config(timeouts: Timeouts) -> SdkConfig {
    match compiled_roots_client() {
        Some(client) => defaults(timeouts).http_client(client).load().await,
        // Not reachable with the bundled roots; the OS store still works if it were.
        None => defaults(timeouts).load().await,
    }
}

/// An HTTPS client (rustls, aws-lc) trusting the roots of `webpki-root-certs` only.
fn compiled_roots_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::tls::{
        rustls_provider::CryptoMode, Provider, TlsContext, TrustStore,
    };
    let mut store = TrustStore::empty();
    for pem in root_pems() {
        store.add_pem_certificate(pem);
    }
    let context = TlsContext::builder().with_trust_store(store).build().ok()?;
    Some(
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build_https(),
    )
}

/// The compiled-in roots as PEM, the form the SDK's trust store takes.
fn root_pems() -> impl Iterator<Item = String> {
    use base64::Engine as _;
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|der| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n")
    })
}

/// Attempts per AWS call: the first and up to 3 retries, with backoff.
pub const MAX_ATTEMPTS: u32 = 4;

fn defaults(timeouts: Timeouts) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(timeouts.connect_seconds))
                .operation_attempt_timeout(Duration::from_secs(timeouts.attempt_seconds))
                .build(),
        )
}

/// How long an AWS call may take: to connect, and per attempt (a call makes up to 4).
/// A slow network or a far region needs more than the defaults (3 s, 20 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// SLO_AWS_CONNECT_TIMEOUT_SECONDS (default 3).
    pub connect_seconds: u64,
    /// SLO_AWS_ATTEMPT_TIMEOUT_SECONDS (default 20).
    pub attempt_seconds: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_seconds: 3,
            attempt_seconds: 20,
        }
    }
}

impl Timeouts {
    /// Read from a variable lookup (the process environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Timeouts, EnvironmentError> {
        let d = Timeouts::default();
        Ok(Timeouts {
            connect_seconds: whole_number(
                &get,
                Self::var(Timeout::Connect),
                d.connect_seconds as i64,
                1,
                60,
            )? as u64,
            attempt_seconds: whole_number(
                &get,
                Self::var(Timeout::Attempt),
                d.attempt_seconds as i64,
                1,
                900,
            )? as u64,
        })
    }

    /// Read from the process environment.
    pub fn from_env() -> Result<Timeouts, EnvironmentError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The variable that sets a time limit, for advice when it runs out.
    pub fn var(limit: Timeout) -> &'static str {
        match limit {
            Timeout::Connect => "SLO_AWS_CONNECT_TIMEOUT_SECONDS",
            Timeout::Attempt => "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS",
        }
    }

    /// The seconds a time limit is set to.
    pub fn seconds(&self, limit: Timeout) -> u64 {
        match limit {
            Timeout::Connect => self.connect_seconds,
            Timeout::Attempt => self.attempt_seconds,
        }
    }
}

/// A whole number setting from `min` to `max`, `default` when unset or empty.
fn whole_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, EnvironmentError> {
    match get(var)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(EnvironmentError {
                var,
                message: format!("`{v}` is not a whole number from {min} to {max}"),
            }),
        },
    }
}

/// How an AWS call failed, in the terms the ports report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// The service said the resource (table, topic) does not exist.
    Missing(String),
    Throttled(String),
    /// No answer: endpoint unreachable, DNS (often a wrong region or endpoint).
    Unavailable(String),
    /// One of the client's time limits ran out.
    TimedOut(Timeout, String),
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
    if credentials_failed(err) {
        return Failure::Credentials(text);
    }
    match err {
        SdkError::TimeoutError(_) => Failure::TimedOut(Timeout::Attempt, text),
        SdkError::DispatchFailure(d) if d.is_timeout() => Failure::TimedOut(Timeout::Connect, text),
        SdkError::DispatchFailure(_) => Failure::Unavailable(text),
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
            // A cancelled transaction is classified by its reasons' codes, where the
            // operation's error type has them: `dynamodb::transaction_failure`.
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

/// Whether the request failed because no credentials could be loaded: the SDK's
/// credentials error somewhere in the error's sources (never a service's answer).
fn credentials_failed<E, R>(err: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if matches!(err, SdkError::ServiceError(_)) {
        return false;
    }
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        if e.is::<aws_credential_types::provider::error::CredentialsError>() {
            return true;
        }
        source = e.source();
    }
    false
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
    /// SLO_STACK_NAME (default `sloguard`): the health metrics' Stack dimension.
    pub stack_name: String,
    /// SLO_METRICS (`none` default, `budget`, `all`): per-SLO custom metrics.
    pub slo_metrics: sloguard_core::app::emf::SloMetrics,
    /// SLO_EVENT_BUS: the EventBridge bus SLO events go to (`default` is the account's);
    /// unset or `none`: no events (the functions default it to `default`, see `with_default_bus`).
    pub event_bus: Option<String>,
    /// SLO_CHANGES_DAYS (default 90): how long recorded deployments are kept.
    pub changes_days: i64,
    /// SLO_RECONCILE_HOURS (default 24): the longest time between full reads of a cached
    /// metric stream; 0 reads every stream whole every cycle (no stream caches).
    pub reconcile_hours: i64,
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
        let int = |var: &'static str, default: i64, min: i64, max: i64| {
            whole_number(&get, var, default, min, max)
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
            stack_name: non_empty("SLO_STACK_NAME").unwrap_or_else(|| "sloguard".into()),
            event_bus: match non_empty("SLO_EVENT_BUS") {
                Some(b) if b == "none" => None,
                other => other,
            },
            changes_days: int("SLO_CHANGES_DAYS", 90, 1, 3650)?,
            reconcile_hours: int("SLO_RECONCILE_HOURS", 24, 0, 24 * 14)?,
            slo_metrics: match non_empty("SLO_METRICS") {
                None => sloguard_core::app::emf::SloMetrics::None,
                Some(v) => {
                    sloguard_core::app::emf::SloMetrics::parse(&v).ok_or(EnvironmentError {
                        var: "SLO_METRICS",
                        message: format!("`{v}` is not none, budget or all"),
                    })?
                }
            },
        })
    }

    /// Read from the process environment.
    pub fn from_env() -> Result<Environment, EnvironmentError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The functions put SLO events on the account's default bus unless SLO_EVENT_BUS says
    /// otherwise (`none` turns them off); the CLI puts none unless it is set.
    pub fn with_default_bus(mut self, get: impl Fn(&str) -> Option<String>) -> Environment {
        if get("SLO_EVENT_BUS").is_none() {
            self.event_bus = Some("default".into());
        }
        self
    }
}

/// The shortest outbox claim lease: the publish's budget at the default timeouts
/// (4 attempts of at most 20 s, and the backoff between them).
pub const MIN_CLAIM_LEASE_SECONDS: i64 = 90;

/// How long an outbox claim must hold so that a live publisher is never overtaken (and a
/// page never sent twice): every attempt of the publish running to its timeout, plus the
/// longest backoff between them (`initial` doubling per retry, at most `max_backoff`);
/// never below `MIN_CLAIM_LEASE_SECONDS`.
pub fn claim_lease_seconds(
    attempts: u32,
    attempt_timeout: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
) -> i64 {
    let attempts = attempts.max(1);
    let backoff: Duration = (0..attempts - 1)
        .map(|retry| {
            initial_backoff
                .saturating_mul(2u32.saturating_pow(retry))
                .min(max_backoff)
        })
        .sum();
    let budget = attempt_timeout
        .saturating_mul(attempts)
        .saturating_add(backoff);
    // Whole seconds, rounded up.
    let seconds = budget.as_secs() + u64::from(budget.subsec_nanos() > 0);
    i64::try_from(seconds)
        .unwrap_or(i64::MAX)
        .max(MIN_CLAIM_LEASE_SECONDS)
}

/// The claim lease for calls made with `sdk`: from its retry and timeout settings (those
/// `load_config` sets from `Timeouts`); an attempt without a timeout counts as the default 20 s.
fn claim_lease_for(sdk: &SdkConfig) -> i64 {
    let standard = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS);
    let retry = sdk.retry_config().unwrap_or(&standard);
    let attempt_timeout = sdk
        .timeout_config()
        .and_then(|t| t.operation_attempt_timeout())
        .unwrap_or(Duration::from_secs(Timeouts::default().attempt_seconds));
    claim_lease_seconds(
        retry.max_attempts(),
        attempt_timeout,
        retry.initial_backoff(),
        retry.max_backoff(),
    )
}

/// The production wiring: the three adapters over one SDK config.
pub type AwsApp = sloguard_core::app::App<CloudWatchSource, DynamoStore, AwsNotifier>;

/// Only the store, for the read-only dashboard widget.
pub fn build_store(env: &Environment, sdk: &SdkConfig) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.table.clone())
}

/// Build every client once (per cold start) and wire them into the use cases.
pub fn build_app(settings: &Environment, sdk: &SdkConfig) -> AwsApp {
    sloguard_core::app::App {
        metrics: CloudWatchSource::new(sdk.clone()),
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), settings.table.clone()),
        notifier: AwsNotifier {
            sns: SnsNotifier::new(
                aws_sdk_sns::Client::new(sdk),
                settings.topic_arn.clone().unwrap_or_default(),
                settings.events_topic_arn.clone(),
            ),
            bus: settings.event_bus.as_ref().map(|b| {
                EventBridgeNotifier::new(aws_sdk_eventbridge::Client::new(sdk), b.clone())
            }),
        },
        config: sloguard_core::app::Config {
            lag_seconds: settings.lag_seconds,
            history_days: settings.history_days,
            schedule_seconds: settings.schedule_minutes * 60,
            dashboard_url: settings.dashboard_url.clone(),
            changes_days: settings.changes_days,
            reconcile_seconds: settings.reconcile_hours * 3600,
            // Sized to the publish's time budget at these timeouts: a raised
            // SLO_AWS_ATTEMPT_TIMEOUT_SECONDS lengthens it, so no live publisher is overtaken.
            claim_lease_seconds: claim_lease_for(sdk),
            ..sloguard_core::app::Config::default()
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

    #[test]
    fn the_functions_put_slo_events_on_the_default_bus_unless_told_otherwise() {
        let read = |bus: Option<&'static str>| {
            let get = move |k: &str| match k {
                "SLO_TABLE" => Some("t".to_string()),
                "SLO_EVENT_BUS" => bus.map(str::to_string),
                _ => None,
            };
            let cli = Environment::from_lookup(get).unwrap();
            let function = cli.clone().with_default_bus(get);
            (cli.event_bus, function.event_bus)
        };
        assert_eq!(read(None), (None, Some("default".into())), "unset");
        assert_eq!(read(Some("none")), (None, None), "turned off");
        assert_eq!(
            read(Some("slo-events")),
            (Some("slo-events".into()), Some("slo-events".into()))
        );
        let e = Environment::from_lookup(|k| match k {
            "SLO_TABLE" => Some("t".into()),
            "SLO_CHANGES_DAYS" => Some("0".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(e.var, "SLO_CHANGES_DAYS");
        let reconcile = |v: Option<&str>| {
            Environment::from_lookup(|k| match k {
                "SLO_TABLE" => Some("t".into()),
                "SLO_RECONCILE_HOURS" => v.map(str::to_string),
                _ => None,
            })
            .map(|e| e.reconcile_hours)
        };
        assert_eq!(reconcile(None), Ok(24), "daily by default");
        assert_eq!(reconcile(Some("0")), Ok(0), "0 turns stream caches off");
        assert_eq!(
            reconcile(Some("1000")).unwrap_err().var,
            "SLO_RECONCILE_HOURS"
        );
    }

    #[test]
    fn timeouts_default_to_lambda_sized_limits_and_name_a_bad_setting() {
        assert_eq!(
            Timeouts::from_lookup(|_| None).unwrap(),
            Timeouts {
                connect_seconds: 3,
                attempt_seconds: 20
            }
        );
        let t = Timeouts::from_lookup(|k| match k {
            "SLO_AWS_CONNECT_TIMEOUT_SECONDS" => Some("10".into()),
            "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS" => Some(" 90 ".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (t.seconds(Timeout::Connect), t.seconds(Timeout::Attempt)),
            (10, 90)
        );
        let e = Timeouts::from_lookup(|k| {
            (k == "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS").then(|| "0".to_string())
        })
        .unwrap_err();
        assert_eq!(e.var, "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS");
        assert_eq!(
            Timeouts::var(Timeout::Connect),
            "SLO_AWS_CONNECT_TIMEOUT_SECONDS"
        );
    }

    /// A credentials provider that has none, as the default chain on a machine without any.
    #[derive(Debug)]
    struct NoCredentials;

    impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no profile, no environment, no instance role",
                ),
            ))
        }
    }

    #[tokio::test]
    async fn missing_credentials_are_found_by_their_type_not_their_words() {
        use aws_sdk_dynamodb::operation::query::QueryError;
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
            // Never reached: the request fails before it is sent.
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(NoCredentials)
            .build();
        let err = aws_sdk_dynamodb::Client::from_conf(conf)
            .list_tables()
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(classify(&err), Failure::Credentials(_)),
            "{:?}",
            classify(&err)
        );
        // The word alone is not a credentials problem.
        type E = SdkError<QueryError, HttpResponse>;
        let worded = E::dispatch_failure(ConnectorError::io(
            "proxy refused: credentials of the proxy are wrong".into(),
        ));
        assert!(matches!(classify(&worded), Failure::Unavailable(_)));
    }

    #[test]
    fn the_claim_lease_covers_every_attempt_of_the_publish_and_never_drops_below_90_s() {
        let s = Duration::from_secs;
        // The defaults: 4 x 20 s + 1 + 2 + 4 s of backoff = 87 s, so the floor of 90 s.
        assert_eq!(claim_lease_seconds(4, s(20), s(1), s(20)), 90);
        // A raised attempt timeout lengthens the lease past the whole publish.
        assert_eq!(claim_lease_seconds(4, s(900), s(1), s(20)), 4 * 900 + 7);
        // Backoff is capped per retry; fractions of a second round up.
        assert_eq!(
            claim_lease_seconds(10, s(30), s(1), s(20)),
            300 + 1 + 2 + 4 + 8 + 16 + 4 * 20
        );
        assert_eq!(
            claim_lease_seconds(4, Duration::from_millis(30_500), s(1), s(20)),
            129
        );
        assert_eq!(
            claim_lease_seconds(0, s(1), s(1), s(20)),
            90,
            "at least one attempt"
        );
    }

    #[tokio::test]
    async fn build_app_derives_the_claim_lease_from_the_configured_timeouts() {
        let settings =
            Environment::from_lookup(|k| (k == "SLO_TABLE").then(|| "t".to_string())).unwrap();
        let lease = |timeouts: Timeouts| {
            let settings = settings.clone();
            async move {
                let sdk = defaults(timeouts)
                    .region(aws_config::Region::from_static("eu-west-1"))
                    .load()
                    .await;
                build_app(&settings, &sdk).config.claim_lease_seconds
            }
        };
        assert_eq!(lease(Timeouts::default()).await, 90);
        let slow = Timeouts::from_lookup(|k| {
            (k == "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS").then(|| "900".to_string())
        })
        .unwrap();
        let long = lease(slow).await;
        assert!(
            long > i64::from(MAX_ATTEMPTS) * 900,
            "a live publisher with 900 s attempts must keep its claim: {long}"
        );
    }

    #[test]
    fn a_timeout_is_classified_by_the_limit_that_ran_out() {
        use aws_sdk_dynamodb::operation::query::QueryError;
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        type E = SdkError<QueryError, HttpResponse>;
        let attempt = E::timeout_error("attempt timeout occurred after 20s");
        assert!(matches!(
            classify(&attempt),
            Failure::TimedOut(Timeout::Attempt, _)
        ));
        let connect = E::dispatch_failure(ConnectorError::timeout("connect timed out".into()));
        assert!(matches!(
            classify(&connect),
            Failure::TimedOut(Timeout::Connect, _)
        ));
        let refused = E::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert!(matches!(classify(&refused), Failure::Unavailable(_)));
    }
}
