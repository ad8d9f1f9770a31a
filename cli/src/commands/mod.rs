//! One module per verb that has more than a few lines of its own.

pub mod backfill;
pub mod silence;

use anyhow::{anyhow, Result};

/// Parse an RFC 3339 time given to `flag`, naming the flag when it is not one.
pub fn parse_time(s: &str, flag: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|_| anyhow!("{flag}: `{s}` is not an RFC 3339 time like 2026-11-25T12:00:00Z"))
}

/// Parse a fixed duration (`90m`, `2h`, `1d`) given to `flag`, in seconds.
pub fn parse_span(s: &str, flag: &str) -> Result<i64> {
    match sloguard::slo::duration::parse(s) {
        Ok(sloguard::slo::duration::Duration::Seconds(n)) => Ok(n),
        Ok(_) => Err(anyhow!(
            "{flag}: `{s}` is a calendar length; use m, h, d or w (e.g. 2h)"
        )),
        Err(e) => Err(anyhow!("{flag}: {e}")),
    }
}
