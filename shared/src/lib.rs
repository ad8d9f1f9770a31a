//! sloguard: an AWS-native SLO engine. The domain (`slo`) is pure; `app` holds the
//! use cases behind small ports; `aws` adapts those ports to the AWS SDK; `cost`
//! prices a fleet (pure, from the query plan and the items a cycle writes).

pub mod app;
pub mod aws;
pub mod cost;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod report;
pub mod slo;
