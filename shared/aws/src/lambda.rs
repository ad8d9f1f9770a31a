//! What the three Lambda mains share (feature `lambda`): JSON logs for CloudWatch Logs
//! Insights, and (evaluator and alarm handler) the failure Lambda reports with a stable
//! `errorType`.

use lambda_runtime::Diagnostic;

/// Structured JSON logs on stderr, level from RUST_LOG (default info): one set-up for every function.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .init();
}

/// An error with a name stable enough for alarms and failure destinations to match on.
pub trait ErrorType: std::fmt::Display {
    /// The Lambda `errorType`, e.g. `BadEvent` or `StateUnavailable`.
    fn error_type(&self) -> &'static str;
}

impl ErrorType for sloguard_core::app::cycle::CycleError {
    fn error_type(&self) -> &'static str {
        sloguard_core::app::cycle::CycleError::error_type(self)
    }
}

impl ErrorType for sloguard_core::app::report::ReportError {
    fn error_type(&self) -> &'static str {
        match self {
            sloguard_core::app::report::ReportError::UnknownSlo { .. } => "UnknownSlo",
            sloguard_core::app::report::ReportError::Store(_) => "StoreUnavailable",
            sloguard_core::app::report::ReportError::Notify(_) => "NotifyFailed",
            sloguard_core::app::report::ReportError::Filter(_) => "UnknownFilter",
        }
    }
}

impl ErrorType for sloguard_core::app::alarm::AlarmError {
    fn error_type(&self) -> &'static str {
        sloguard_core::app::alarm::AlarmError::error_type(self)
    }
}

/// A failed invocation as Lambda reports it; logged once where it is made.
#[derive(Debug)]
pub struct Failure {
    pub error_type: &'static str,
    pub message: String,
}

impl Failure {
    /// Log the error (never the payload) and keep its type and message for Lambda.
    pub fn logged<E: ErrorType>(e: E, what: &str) -> Self {
        tracing::error!(error_type = e.error_type(), error = %e, "{what}");
        Failure {
            error_type: e.error_type(),
            message: e.to_string(),
        }
    }
}

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Self {
        Diagnostic {
            error_type: f.error_type.to_string(),
            error_message: f.message,
        }
    }
}

impl ErrorType for sloguard_core::app::fanout::QueueError {
    fn error_type(&self) -> &'static str {
        "QueueUnavailable"
    }
}

impl ErrorType for crate::events::dispatch::DispatchEventError {
    fn error_type(&self) -> &'static str {
        crate::events::dispatch::DispatchEventError::error_type(self)
    }
}
