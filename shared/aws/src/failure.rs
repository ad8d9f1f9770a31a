//! How an AWS call failed, classified by the error's kind and code (never its words), in
//! the terms the ports report: missing, throttled, unreachable, timed out, credentials.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use sloguard_core::app::ports::Timeout;

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

impl Failure {
    /// What went wrong, in words for an error message.
    pub(crate) fn describe(self) -> String {
        match self {
            Failure::Missing(m) => format!("does not exist: {m}"),
            Failure::TimedOut(t, m) => format!("{m} ({t})"),
            Failure::Throttled(m)
            | Failure::Unavailable(m)
            | Failure::Credentials(m)
            | Failure::Conditional(m)
            | Failure::Other(m) => m,
        }
    }
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
            // operation's error type has them: `dynamodb::state::transaction_failure`.
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

#[cfg(test)]
mod tests {
    use super::*;

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
