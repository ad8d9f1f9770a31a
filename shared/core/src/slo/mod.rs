//! The SLO domain: pure functions over plain data, no AWS and no I/O.

pub mod change;
pub mod composite;
pub mod convert;
pub mod correction;
pub mod duration;
pub mod evaluate;
pub mod incident;
pub mod incremental;
pub mod load;
pub mod message;
pub mod model;
pub mod origin;
pub mod plan;
pub mod policy;
pub mod route;
pub mod rrule;
pub mod series;
pub mod shard;
pub mod snapshot;
pub mod status;
pub mod suggest;
pub mod window;
pub mod yaml;

#[cfg(test)]
mod composite_load_tests;
#[cfg(test)]
mod composite_tests;
/// The SLO the tests share, for the adapters' tests too (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
#[cfg(test)]
mod status_tests;
#[cfg(test)]
mod tests;
