//! The events the use cases take, typed: what a schedule asks for, alarm state
//! transitions, deployment events. `sloguard-aws` reads them from the Lambda envelopes
//! (EventBridge, alarm actions, SNS); a payload it cannot read is an `EventError` or a
//! `ChangeEventError` that names what was wrong.

use crate::slo::change::Change;

use super::provenance::{Claims, Refusal};

/// A bad invocation payload, with what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("bad event: {0}")]
pub struct EventError(pub String);

/// What a schedule asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScheduleInput {
    /// Trigger time (epoch seconds); None means now.
    pub time: Option<i64>,
    /// Evaluate only this SLO.
    pub slo: Option<String>,
}

/// A metric an alarm watches: namespace, name and sorted dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmMetric {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
}

/// One alarm state transition, whatever shape it arrived in.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEvent {
    pub name: String,
    pub arn: Option<String>,
    /// ALARM, OK or INSUFFICIENT_DATA.
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: String,
    /// The state timestamp, in milliseconds (the identity of the transition).
    pub timestamp_ms: i64,
    /// Metrics of the alarm (metric-math helpers included; expressions skipped).
    pub metrics: Vec<AlarmMetric>,
    pub composite: bool,
    /// Names of the child alarms that triggered a composite alarm.
    pub children: Vec<String>,
    /// `eventbridge`, `alarm-action` or `sns`.
    pub shape: &'static str,
    /// Where the delivery says the alarm is: its envelope's account and region and its ARN.
    pub claims: Claims,
}

impl AlarmEvent {
    /// The state timestamp in seconds.
    pub fn timestamp(&self) -> i64 {
        self.timestamp_ms.div_euclid(1000)
    }
}

/// The alarm name at the end of an alarm ARN (`arn:aws:cloudwatch:r:a:alarm:NAME`).
pub fn name_from_arn(arn: &str) -> Option<&str> {
    arn.split_once(":alarm:").map(|(_, n)| n.trim())
}

/// Largest event accepted (EventBridge events are at most 256 KB).
pub const MAX_CHANGE_EVENT_BYTES: usize = 256 * 1024;

/// Why a deployment event could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeEventError {
    #[error("deployment event is {0} bytes; at most {MAX_CHANGE_EVENT_BYTES} are accepted")]
    TooLarge(usize),
    #[error("not an EventBridge event: {0}")]
    NotAnEvent(String),
    #[error("EventBridge event from `{origin}` (`{detail_type}`) is not a deployment event sloguard reads")]
    Unsupported { origin: String, detail_type: String },
    #[error("{event} event: `{field}` is missing or not a string")]
    Missing {
        event: &'static str,
        field: &'static str,
    },
    #[error("{event} event: `{field}` is `{value}`: {why}")]
    Invalid {
        event: &'static str,
        field: &'static str,
        value: String,
        why: &'static str,
    },
    /// Its accounts or regions do not check out: the caller refuses it (no retry helps).
    #[error("deployment event {0}")]
    Provenance(Refusal),
}

/// What one deployment event says.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A change to record.
    Change(Change),
    /// A well-formed event that is not a change worth listing (a stack still in progress,
    /// a failed API call), with why.
    Ignored(String),
    /// Its accounts or regions do not check out: refused, never stored (no retry helps).
    Refused(Refusal),
}

/// What reaches the alarm handler: the alarm transitions of one payload, or a deployment event.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerEvent {
    /// One transition, or several (an SNS event of classic notifications).
    Alarms(Vec<AlarmEvent>),
    /// A deployment event, read.
    Change(Parsed),
}
