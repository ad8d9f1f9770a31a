//! How long an AWS call may take, from SLO_AWS_CONNECT_TIMEOUT_SECONDS and
//! SLO_AWS_ATTEMPT_TIMEOUT_SECONDS; each limit names its variable when it runs out.

use sloguard_core::app::ports::Timeout;
use sloguard_core::settings::{Setting, AWS_ATTEMPT_TIMEOUT_SECONDS, AWS_CONNECT_TIMEOUT_SECONDS};

use crate::environment::{Environment, EnvironmentError};

/// How long an AWS call may take: to connect, and per attempt (a call makes up to 4).
/// A slow network or a far region needs more than the defaults (3 s, 20 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// SLO_AWS_CONNECT_TIMEOUT_SECONDS (default 3).
    pub connect_seconds: u64,
    /// SLO_AWS_ATTEMPT_TIMEOUT_SECONDS (default 20).
    pub attempt_seconds: u64,
}

impl Default for Timeouts {
    /// The settings' defaults (`sloguard_core::settings`).
    fn default() -> Self {
        let default = |s: &Setting| s.whole().map_or(1, |(d, _, _)| d) as u64;
        Timeouts {
            connect_seconds: default(&AWS_CONNECT_TIMEOUT_SECONDS),
            attempt_seconds: default(&AWS_ATTEMPT_TIMEOUT_SECONDS),
        }
    }
}

impl Timeouts {
    /// Read from a variable lookup (the process environment, or a map in tests): only
    /// these two settings, so advice about a timeout never fails on another one.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Timeouts, EnvironmentError> {
        let seconds = |s: &Setting| s.read::<i64>(&get).map(|n| n.max(1) as u64);
        Ok(Timeouts {
            connect_seconds: seconds(&AWS_CONNECT_TIMEOUT_SECONDS)?,
            attempt_seconds: seconds(&AWS_ATTEMPT_TIMEOUT_SECONDS)?,
        })
    }

    /// The timeouts of settings already read (`Environment`).
    pub fn of(settings: &Environment) -> Timeouts {
        Timeouts {
            connect_seconds: settings.aws_connect_timeout_seconds.max(1) as u64,
            attempt_seconds: settings.aws_attempt_timeout_seconds.max(1) as u64,
        }
    }

    /// Read from the process environment.
    pub fn from_env() -> Result<Timeouts, EnvironmentError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The setting of a time limit (its variable and bounds), for advice when it runs out.
    pub fn setting(limit: Timeout) -> &'static Setting {
        match limit {
            Timeout::Connect => &AWS_CONNECT_TIMEOUT_SECONDS,
            Timeout::Attempt => &AWS_ATTEMPT_TIMEOUT_SECONDS,
        }
    }

    /// The variable that sets a time limit, for advice when it runs out.
    pub fn var(limit: Timeout) -> &'static str {
        Self::setting(limit).var
    }

    /// The most a time limit's variable accepts, so advice never suggests more.
    pub fn max_seconds(limit: Timeout) -> u64 {
        Self::setting(limit).whole().map_or(1, |(_, _, max)| max) as u64
    }

    /// The seconds a time limit is set to.
    pub fn seconds(&self, limit: Timeout) -> u64 {
        match limit {
            Timeout::Connect => self.connect_seconds,
            Timeout::Attempt => self.attempt_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_default_to_lambda_sized_limits_and_name_a_bad_setting() {
        assert_eq!(
            Timeouts::from_lookup(|_| None).unwrap(),
            Timeouts {
                connect_seconds: 3,
                attempt_seconds: 20
            }
        );
        let t = Timeouts::from_lookup(|k| match k {
            "SLO_AWS_CONNECT_TIMEOUT_SECONDS" => Some("10".into()),
            "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS" => Some(" 90 ".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (t.seconds(Timeout::Connect), t.seconds(Timeout::Attempt)),
            (10, 90)
        );
        let e = Timeouts::from_lookup(|k| {
            (k == "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS").then(|| "0".to_string())
        })
        .unwrap_err();
        assert_eq!(e.var, "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS");
        assert_eq!(
            Timeouts::var(Timeout::Connect),
            "SLO_AWS_CONNECT_TIMEOUT_SECONDS"
        );
    }
}
