//! What a cycle reports: each SLO's outcome, the cycle's report, and why an SLO or the
//! whole cycle failed (the Lambda response, the CLI's summary and the diagnostics).

use serde::Serialize;

use crate::slo::composite::ResolveError;
use crate::slo::evaluate::EvaluateError;
use crate::slo::message::rfc3339;
use crate::slo::snapshot::Snapshot;
use crate::slo::status::{Status, StatusChange};

use super::super::events::EventError;
use super::super::ports::{AccessProblem, NotifyError, SourceError, StoreError};
use super::MAX_FUTURE_SECONDS;

/// Why one SLO was not evaluated this cycle (the others go on).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SloError {
    #[error("stored definition v{version} is unreadable: {reason}")]
    Unreadable { version: u64, reason: StoreError },
    #[error("no such SLO in the table (apply it first)")]
    Unknown,
    #[error("deferred: the invocation's deadline is near; the next cycle evaluates it")]
    Deferred,
    #[error(transparent)]
    Metrics(#[from] SourceError),
    #[error(transparent)]
    Evaluate(#[from] EvaluateError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("lost the race to update state {0} times; the next cycle retries")]
    LostRace(usize),
    #[error("composite: {0}")]
    Composite(#[from] ResolveError),
}

/// Why a committed notification is not delivered yet (it stays pending for the next cycle).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn display<T: std::fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => s.collect_str(x),
        None => s.serialize_none(),
    }
}

fn display_all<T: std::fmt::Display, S: serde::Serializer>(
    v: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(ToString::to_string))
}

/// What happened to one SLO.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloOutcome {
    pub slo: String,
    /// None when the SLO could not be evaluated.
    pub status: Option<Status>,
    /// The shown status changed ("ok -> breaching" in JSON).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "display")]
    pub change: Option<StatusChange>,
    pub notifications_sent: usize,
    /// Why the SLO could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "display")]
    pub error: Option<SloError>,
    /// Why notifications could not be delivered yet; they stay pending for the next cycle.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "display_all")]
    pub notify_errors: Vec<DeliveryError>,
    /// The recorded snapshot (for metrics; not part of the response).
    #[serde(skip)]
    pub snapshot: Option<Snapshot>,
}

/// The cycle's report: the Lambda response and the CLI's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleReport {
    pub evaluated_at: String,
    pub slos: Vec<SloOutcome>,
    pub evaluated: usize,
    pub failed: usize,
    pub notifications_sent: usize,
    pub metric_requests: usize,
}

/// Why a whole cycle failed (so Lambda retries it or sends it to the failure destination).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CycleError {
    #[error(transparent)]
    BadEvent(#[from] EventError),
    #[error("cannot read SLO definitions: {0}")]
    Definitions(StoreError),
    #[error("cannot read SLO state: {0}")]
    States(StoreError),
    /// Without its corrections an SLO would count corrected time and could page for it.
    #[error("cannot read budget corrections: {0}")]
    Corrections(StoreError),
    #[error("no SLO could be evaluated ({failed} failed); first error: {first}")]
    NothingEvaluated { failed: usize, first: SloError },
    #[error("trigger time {} is {} s ahead of the clock ({}); more than {MAX_FUTURE_SECONDS} s ahead is refused", rfc3339(*.trigger), .trigger - .now, rfc3339(*.now))]
    FutureTrigger { trigger: i64, now: i64 },
}

impl SloError {
    /// A credentials or reachability problem behind this failure, if that is what it is.
    pub fn access(&self) -> Option<AccessProblem> {
        match self {
            SloError::Metrics(e) => e.access(),
            SloError::Store(e) => e.access(),
            _ => None,
        }
    }
}

impl CycleError {
    /// A credentials or reachability problem behind the whole cycle's failure, if any.
    pub fn access(&self) -> Option<AccessProblem> {
        match self {
            CycleError::Definitions(e) | CycleError::States(e) | CycleError::Corrections(e) => {
                e.access()
            }
            CycleError::NothingEvaluated { first, .. } => first.access(),
            _ => None,
        }
    }

    /// A stable error type for Lambda diagnostics and alarms.
    pub fn error_type(&self) -> &'static str {
        match self {
            CycleError::BadEvent(_) => "BadEvent",
            CycleError::Definitions(_) => "DefinitionsUnavailable",
            CycleError::States(_) => "StateUnavailable",
            CycleError::Corrections(_) => "CorrectionsUnavailable",
            CycleError::NothingEvaluated { .. } => "NothingEvaluated",
            CycleError::FutureTrigger { .. } => "FutureTrigger",
        }
    }
}
