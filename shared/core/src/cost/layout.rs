//! What the model prices but does not encode: the bytes of the items the store writes
//! (their layout belongs to the store's adapter) and the log lines the evaluator prints
//! (their format belongs to the evaluator). `sloguard_aws::cost::LAYOUT` gives both as
//! production has them.

use crate::slo::incremental::StreamCache;
use crate::slo::model::SloDefinition;
use crate::slo::snapshot::Snapshot;
use crate::slo::status::SloState;

use super::model::{ItemSizes, SloMetrics};

/// The store's items as billed: the model asks, the adapter measures its own items.
pub trait ItemLayout: Sync {
    /// Bytes of one SLO's definition, state and history snapshot items at an evaluation.
    fn sizes(&self, slo: &SloDefinition, snapshot: &Snapshot, state: &SloState) -> ItemSizes;
    /// Bytes of a metric stream's cache item.
    fn cache_size(&self, cache: &StreamCache) -> usize;
}

/// What one cycle's log lines cost: the distinct custom metrics they create and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogFigures {
    /// Distinct custom metrics (namespace, name, dimension names and values).
    pub custom_metrics: usize,
    /// Bytes of the lines, newlines included.
    pub bytes: usize,
}

/// The evaluator's log of one cycle, measured for the model.
pub trait CycleLog: Sync {
    /// The lines a cycle that evaluated `snapshots` prints with `slo_metrics`, measured.
    fn measure(
        &self,
        snapshots: &[Snapshot],
        slo_metrics: SloMetrics,
        timestamp_ms: i64,
    ) -> LogFigures;
    /// The dispatcher's line of one cycle (the dead man's switch), measured.
    fn dispatch(&self, timestamp_ms: i64) -> LogFigures;
}

/// Both, as the estimate takes them.
#[derive(Clone, Copy)]
pub struct Layout<'a> {
    /// The store's item sizes.
    pub items: &'a dyn ItemLayout,
    /// The evaluator's log lines.
    pub log: &'a dyn CycleLog,
}
