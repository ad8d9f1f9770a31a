//! The cost model: what a fleet of SLOs costs a month on AWS, term by term, from
//! the reads the cycle really makes, the items it really writes and the EMF lines it
//! really prints. Pure: no AWS call; prices come from `prices.rs`, and what the model
//! prices but does not encode (the store's item layout, the evaluator's log lines) comes
//! from the layers that own it (`layout.rs`; `sloguard_aws::cost` in production).
//!
//! GetMetricData (billed per metric requested) and the stream caches come from `reads`,
//! which runs the cycle's own incremental planner over a simulated reconciliation period
//! (a day by default) and averages it. Per cycle the evaluator also makes two consistent
//! Query calls (definitions, states) and per SLO one PutItem (the history snapshot) and,
//! once an hour in steady state, one conditional UpdateItem of the state item (a cycle
//! that changes nothing but the evaluation time leaves the state alone; a transaction
//! only carries notifications). `tests/tests/cost.rs` counts the same units on the
//! emulator and checks this model against them.

pub mod estimate;
pub mod fleet;
pub mod layout;
pub mod model;
pub mod prices;
pub mod readme;
pub mod reads;

pub use estimate::{cycle_times, estimate, metrics_per_query, metrics_requested};
pub use fleet::{representative, synthetic_fleet};
pub use layout::{CycleLog, ItemLayout, Layout, LogFigures};
pub use model::{
    usd, Deployment, Estimate, FleetSlo, ItemSizes, PerCycle, SloMetrics, Term, HOURS_PER_MONTH,
    TEMPLATE_ALARMS, TEMPLATE_DASHBOARDS, TEMPLATE_KMS_KEYS,
};
pub use prices::Prices;
pub use readme::{readme_table, README_FLEETS, README_HOUR};

#[cfg(test)]
pub(crate) mod tests;
