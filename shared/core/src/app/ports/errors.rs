//! Why a port call failed: the errors of each kind of port, and whether a failure is a
//! credentials or reachability problem rather than one of the request.

/// Why AWS could not be used at all: the problems a person must fix before anything works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessProblem {
    /// No credentials, or credentials AWS refused (expired, wrong key).
    Credentials,
    /// No answer: a wrong region or endpoint, or the network.
    Unreachable,
    /// An answer too slow for one of the client's time limits, which has a setting of its own.
    TimedOut(Timeout),
}

/// Which of the client's time limits ran out, so advice can name the one to raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// No connection was made in time.
    Connect,
    /// A connection was made, but one attempt got no full answer in time.
    Attempt,
}

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Timeout::Connect => "no connection within the connect timeout",
            Timeout::Attempt => "no answer within the attempt timeout",
        })
    }
}

/// Why metric data could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    #[error("no usable AWS credentials for CloudWatch: {0}")]
    Credentials(String),
    #[error("CloudWatch throttled the request after retries: {0}")]
    Throttled(String),
    #[error("CloudWatch could not be reached: {0}")]
    Unavailable(String),
    #[error("CloudWatch timed out ({0}): {1}")]
    TimedOut(Timeout, String),
    #[error("CloudWatch rejected the query: {0}")]
    Rejected(String),
}

/// Why storage failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("no usable AWS credentials for DynamoDB: {0}")]
    Credentials(String),
    #[error("table `{0}` does not exist: run `sloguard init` or deploy the stack")]
    TableMissing(String),
    #[error("DynamoDB throttled the request after retries: {0}")]
    Throttled(String),
    #[error("DynamoDB could not be reached: {0}")]
    Unavailable(String),
    #[error("DynamoDB timed out ({0}): {1}")]
    TimedOut(Timeout, String),
    #[error("stored item {key} is unreadable: {message}")]
    Corrupt { key: String, message: String },
    #[error("DynamoDB rejected the request: {0}")]
    Rejected(String),
}

/// Why a notification could not be published.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotifyError {
    #[error("no usable AWS credentials for SNS: {0}")]
    Credentials(String),
    #[error("SNS topic {0} does not exist")]
    TopicMissing(String),
    #[error("SNS could not be reached: {0}")]
    Unavailable(String),
    #[error("SNS timed out ({0}): {1}")]
    TimedOut(Timeout, String),
    #[error("SNS rejected the message: {0}")]
    Rejected(String),
    /// The stack may not publish to this topic (IAM's AuthorizationError, or the topic's KMS
    /// key refused): retrying cannot help, so a team topic's message becomes a ticket on the
    /// stack topic.
    #[error("SNS denied publishing to {topic}: {message}")]
    Denied { topic: String, message: String },
    /// EventBridge failed; `access` says whether credentials or reachability are the cause.
    #[error("EventBridge bus {bus}: {message}")]
    Bus {
        bus: String,
        message: String,
        access: Option<AccessProblem>,
    },
}

impl SourceError {
    /// Whether this is a credentials or reachability problem rather than one of this request.
    pub fn access(&self) -> Option<AccessProblem> {
        match self {
            SourceError::Credentials(_) => Some(AccessProblem::Credentials),
            SourceError::Unavailable(_) => Some(AccessProblem::Unreachable),
            SourceError::TimedOut(t, _) => Some(AccessProblem::TimedOut(*t)),
            _ => None,
        }
    }
}

impl StoreError {
    /// Whether this is a credentials or reachability problem rather than one of this request.
    pub fn access(&self) -> Option<AccessProblem> {
        match self {
            StoreError::Credentials(_) => Some(AccessProblem::Credentials),
            StoreError::Unavailable(_) => Some(AccessProblem::Unreachable),
            StoreError::TimedOut(t, _) => Some(AccessProblem::TimedOut(*t)),
            _ => None,
        }
    }
}

impl NotifyError {
    /// Whether this is a credentials or reachability problem rather than one of this message.
    pub fn access(&self) -> Option<AccessProblem> {
        match self {
            NotifyError::Credentials(_) => Some(AccessProblem::Credentials),
            NotifyError::Unavailable(_) => Some(AccessProblem::Unreachable),
            NotifyError::TimedOut(t, _) => Some(AccessProblem::TimedOut(*t)),
            NotifyError::Bus { access, .. } => *access,
            _ => None,
        }
    }
}
