//! Support for the `sloguard` binary: human output and the local emulator used
//! by `sloguard demo` and the end-to-end tests.

pub mod emulator;
pub mod output;
