//! sloguard-core: the domain and the use cases of an AWS-native SLO engine. The domain
//! (`slo`, `report`, `cost`) is pure; `app` holds the use cases behind small ports;
//! `sloguard-aws` adapts those ports to the AWS SDK.

pub mod app;
pub mod cost;
pub mod report;
pub mod slo;
