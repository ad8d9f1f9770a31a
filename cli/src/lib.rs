//! Support for the `sloguard` binary: human output shared by the verbs.

pub mod output;
