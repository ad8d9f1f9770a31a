//! sloguard: an AWS-native SLO engine. The domain (`slo`) is pure; `app` holds the
//! use cases behind small ports; `aws` adapts those ports to the AWS SDK.

pub mod app;
pub mod aws;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod report;
pub mod slo;
