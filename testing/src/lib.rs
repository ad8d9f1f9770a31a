//! Dev-only test support: the local AWS emulator (moto) on a free loopback port and
//! the calls tests and the demo make around sloguard. Kept out of the released
//! binaries: only dev-dependencies and the CLI's `demo` feature use it.

pub mod browser;
pub mod cbor_front;
pub mod emulator;

/// The SQS client the inbox helpers take, re-exported so users need no SQS dependency of their own.
pub use aws_sdk_sqs;

/// The EventBridge client the rule helpers take, re-exported for the same reason.
pub use aws_sdk_eventbridge;
