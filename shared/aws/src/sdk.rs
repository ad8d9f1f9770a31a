//! The SDK's configuration, loaded once per cold start: region, credentials, retries with
//! backoff, the time limits, and (for the functions) TLS roots compiled in.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::timeouts::Timeouts;

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

pub(crate) fn defaults(timeouts: Timeouts) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(timeouts.connect_seconds))
                .operation_attempt_timeout(Duration::from_secs(timeouts.attempt_seconds))
                .build(),
        )
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
}
