//! sloguard's environment variables (SLO_TABLE, SLO_TOPIC_ARN, ...), read and validated
//! once; a missing or malformed one is an error that names it.

use sloguard_core::app::emf::SloMetrics;
use sloguard_core::slo::route::AllowedTopics;

/// sloguard's environment variables (SLO_TABLE, SLO_TOPIC_ARN, ...), read and validated once.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// SLO_TABLE.
    pub table: String,
    /// SLO_TOPIC_ARN: required to notify; read-only commands work without it.
    pub topic_arn: Option<String>,
    /// SLO_EVENTS_TOPIC_ARN: optional JSON topic.
    pub events_topic_arn: Option<String>,
    /// SLO_LAG_SECONDS (default 120).
    pub lag_seconds: i64,
    /// SLO_HISTORY_DAYS (default 400).
    pub history_days: i64,
    /// SLO_SCHEDULE_MINUTES (default 5): evaluations older than one period only record history.
    pub schedule_minutes: i64,
    /// SLO_DASHBOARD_URL: the dashboard messages link to (the stack sets it).
    pub dashboard_url: Option<String>,
    /// SLO_STACK_NAME (default `sloguard`): the health metrics' Stack dimension.
    pub stack_name: String,
    /// SLO_METRICS (`none` default, `budget`, `all`): per-SLO custom metrics.
    pub slo_metrics: SloMetrics,
    /// SLO_EVENT_BUS: the EventBridge bus SLO events go to (`default` is the account's);
    /// unset or `none`: no events (the functions default it to `default`, see `with_default_bus`).
    pub event_bus: Option<String>,
    /// SLO_CHANGES_DAYS (default 90): how long recorded deployments are kept.
    pub changes_days: i64,
    /// SLO_RECONCILE_HOURS (default 24): the longest time between full reads of a cached
    /// metric stream; 0 reads every stream whole every cycle (no stream caches).
    pub reconcile_hours: i64,
    /// SLO_ALLOWED_TOPICS: the team topics the stack may publish to (topic ARNs or prefixes
    /// ending in `*`, or `none`); unset: not known here, so nothing is checked.
    pub allowed_topics: Option<AllowedTopics>,
    /// SLO_COPY_ALL_TO_STACK_TOPIC (`true`/`false`, default false): the stack topic also
    /// gets what goes to team topics.
    pub copy_all_to_stack_topic: bool,
}

/// A missing or malformed setting, naming the variable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{var}: {message}")]
pub struct EnvironmentError {
    pub var: &'static str,
    pub message: String,
}

impl Environment {
    /// Read from a variable lookup (the process environment, or a map in tests).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Environment, EnvironmentError> {
        let non_empty = |var: &'static str| {
            get(var)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let int = |var: &'static str, default: i64, min: i64, max: i64| {
            whole_number(&get, var, default, min, max)
        };
        let arn = |var: &'static str| -> Result<Option<String>, EnvironmentError> {
            match non_empty(var) {
                Some(v) if !v.starts_with("arn:") => Err(EnvironmentError {
                    var,
                    message: format!(
                        "`{v}` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
                    ),
                }),
                other => Ok(other),
            }
        };
        Ok(Environment {
            table: non_empty("SLO_TABLE").ok_or(EnvironmentError {
                var: "SLO_TABLE",
                message: "not set: name the DynamoDB table (or pass --table)".into(),
            })?,
            topic_arn: arn("SLO_TOPIC_ARN")?,
            events_topic_arn: arn("SLO_EVENTS_TOPIC_ARN")?,
            lag_seconds: int("SLO_LAG_SECONDS", 120, 0, 3600)?,
            history_days: int("SLO_HISTORY_DAYS", 400, 1, 3650)?,
            schedule_minutes: int("SLO_SCHEDULE_MINUTES", 5, 1, 60)?,
            dashboard_url: non_empty("SLO_DASHBOARD_URL").filter(|u| u.starts_with("https://")),
            stack_name: non_empty("SLO_STACK_NAME").unwrap_or_else(|| "sloguard".into()),
            event_bus: match non_empty("SLO_EVENT_BUS") {
                Some(b) if b == "none" => None,
                other => other,
            },
            changes_days: int("SLO_CHANGES_DAYS", 90, 1, 3650)?,
            reconcile_hours: int("SLO_RECONCILE_HOURS", 24, 0, 24 * 14)?,
            allowed_topics: allowed_topics(&get)?,
            copy_all_to_stack_topic: flag(&get, "SLO_COPY_ALL_TO_STACK_TOPIC")?,
            slo_metrics: match non_empty("SLO_METRICS") {
                None => SloMetrics::None,
                Some(v) => SloMetrics::parse(&v).ok_or(EnvironmentError {
                    var: "SLO_METRICS",
                    message: format!("`{v}` is not none, budget or all"),
                })?,
            },
        })
    }

    /// Read from the process environment.
    pub fn from_env() -> Result<Environment, EnvironmentError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The functions put SLO events on the account's default bus unless SLO_EVENT_BUS says
    /// otherwise (`none` turns them off); the CLI puts none unless it is set.
    pub fn with_default_bus(mut self, get: impl Fn(&str) -> Option<String>) -> Environment {
        if get("SLO_EVENT_BUS").is_none() {
            self.event_bus = Some("default".into());
        }
        self
    }
}

/// SLO_ALLOWED_TOPICS, read on its own too (for `validate`, which needs no table): None
/// when unset or empty.
pub fn allowed_topics(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<AllowedTopics>, EnvironmentError> {
    let var = "SLO_ALLOWED_TOPICS";
    match get(var).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => AllowedTopics::parse(&v)
            .map(Some)
            .map_err(|message| EnvironmentError { var, message }),
    }
}

/// A `true`/`false` setting, false when unset or empty.
fn flag(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<bool, EnvironmentError> {
    match get(var).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(EnvironmentError {
            var,
            message: format!("`{v}` is not true or false"),
        }),
    }
}

/// A whole number setting from `min` to `max`, `default` when unset or empty.
pub(crate) fn whole_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, EnvironmentError> {
    match get(var)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(EnvironmentError {
                var,
                message: format!("`{v}` is not a whole number from {min} to {max}"),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_the_variable_that_is_wrong() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = Environment::from_lookup(env(&[
            ("SLO_TABLE", "t"),
            ("SLO_TOPIC_ARN", "arn:aws:sns:eu-west-1:1:x"),
        ]))
        .unwrap();
        assert_eq!((s.lag_seconds, s.history_days), (120, 400));
        let e = Environment::from_lookup(env(&[])).unwrap_err();
        assert_eq!(e.var, "SLO_TABLE");
        let e = Environment::from_lookup(env(&[("SLO_TABLE", "t"), ("SLO_LAG_SECONDS", "soon")]))
            .unwrap_err();
        assert!(e.to_string().starts_with("SLO_LAG_SECONDS: `soon`"), "{e}");
        let e = Environment::from_lookup(env(&[("SLO_TABLE", "t"), ("SLO_TOPIC_ARN", "my-topic")]))
            .unwrap_err();
        assert_eq!(e.var, "SLO_TOPIC_ARN");
    }

    #[test]
    fn routing_settings_are_read_and_checked() {
        let read = |allowed: Option<&'static str>, copy: Option<&'static str>| {
            Environment::from_lookup(move |k| match k {
                "SLO_TABLE" => Some("t".into()),
                "SLO_ALLOWED_TOPICS" => allowed.map(str::to_string),
                "SLO_COPY_ALL_TO_STACK_TOPIC" => copy.map(str::to_string),
                _ => None,
            })
        };
        let e = read(None, None).unwrap();
        assert_eq!((e.allowed_topics, e.copy_all_to_stack_topic), (None, false));
        let e = read(
            Some("arn:aws:sns:eu-west-1:123456789012:team-*"),
            Some("true"),
        )
        .unwrap();
        assert!(e.copy_all_to_stack_topic);
        assert!(e
            .allowed_topics
            .unwrap()
            .allows("arn:aws:sns:eu-west-1:123456789012:team-a"));
        assert_eq!(
            read(Some("team-*"), None).unwrap_err().var,
            "SLO_ALLOWED_TOPICS"
        );
        assert_eq!(
            read(None, Some("yes")).unwrap_err().var,
            "SLO_COPY_ALL_TO_STACK_TOPIC"
        );
    }

    #[test]
    fn the_functions_put_slo_events_on_the_default_bus_unless_told_otherwise() {
        let read = |bus: Option<&'static str>| {
            let get = move |k: &str| match k {
                "SLO_TABLE" => Some("t".to_string()),
                "SLO_EVENT_BUS" => bus.map(str::to_string),
                _ => None,
            };
            let cli = Environment::from_lookup(get).unwrap();
            let function = cli.clone().with_default_bus(get);
            (cli.event_bus, function.event_bus)
        };
        assert_eq!(read(None), (None, Some("default".into())), "unset");
        assert_eq!(read(Some("none")), (None, None), "turned off");
        assert_eq!(
            read(Some("slo-events")),
            (Some("slo-events".into()), Some("slo-events".into()))
        );
        let e = Environment::from_lookup(|k| match k {
            "SLO_TABLE" => Some("t".into()),
            "SLO_CHANGES_DAYS" => Some("0".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(e.var, "SLO_CHANGES_DAYS");
        let reconcile = |v: Option<&str>| {
            Environment::from_lookup(|k| match k {
                "SLO_TABLE" => Some("t".into()),
                "SLO_RECONCILE_HOURS" => v.map(str::to_string),
                _ => None,
            })
            .map(|e| e.reconcile_hours)
        };
        assert_eq!(reconcile(None), Ok(24), "daily by default");
        assert_eq!(reconcile(Some("0")), Ok(0), "0 turns stream caches off");
        assert_eq!(
            reconcile(Some("1000")).unwrap_err().var,
            "SLO_RECONCILE_HOURS"
        );
    }
}
