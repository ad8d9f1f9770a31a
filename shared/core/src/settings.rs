//! sloguard's settings, each defined once: its environment variable, its CLI flag (if
//! any), its default, its bounds, its unit and what it means. The functions and the CLI
//! read them with the same constructor (`Settings::from_lookup`, CLI flags layered on top
//! with `Overrides`), so a value out of range is the same error wherever it comes from
//! (`SLO_LAG_SECONDS: 5000 is out of range 0..=3600`, from the environment or `--lag`).
//! Every consumer derives from here: `sloguard_aws::Environment` is this type, the use
//! cases' `app::Config` is built from it (`Config::from_settings`), the cost model's
//! `Deployment` takes its defaults from it, the CLI validates its flags with it, and the
//! environment table of docs/deploying.md is generated from `ALL` (`markdown_table`;
//! a test fails when the page and the table differ).
//!
//! # Adding a setting
//!
//! Add ONE entry to the `settings!` list below: the field name and type, the constant
//! that describes it, and its `Setting` (variable, flag, kind with default and bounds,
//! meaning). That gives the field of `Settings`, the entry of `ALL`, the reading and
//! validation, and the row of the documentation table. Then:
//! - run `cargo test -p sloguard-core settings`: it fails with the new table to paste into
//!   docs/deploying.md ("Run it against AWS from your machine");
//! - use the field where it is needed (`Config::from_settings`, the wiring, ...);
//! - if the SAM template sets it, add it to the functions' `Environment` there.
//!
//! Types a field may have, by kind: `i64` (`Kind::Whole`), `String` (`Kind::Required`, or
//! `Kind::Text` with a default), `Option<String>` (`Kind::Text` without a default,
//! `Kind::TopicArn`, `Kind::Https`), `Vec<String>` (`Kind::List`), `bool` (`Kind::Switch`),
//! `SloMetrics` (`Kind::Choice`); another type implements `FromSetting`.

use crate::cost::SloMetrics;
use crate::slo::route::AllowedTopics;

/// One setting, as users see it: where it is read from, what it accepts, what it means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// The environment variable (the functions' and the CLI's).
    pub var: &'static str,
    /// The CLI flag that overrides it, on the verbs that take it (`--lag`).
    pub flag: Option<&'static str>,
    /// What values it takes, and its default.
    pub kind: Kind,
    /// One line: what it does (the documentation table's last column).
    pub meaning: &'static str,
}

/// What values a setting takes, with its default and bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number from `min` to `max` (inclusive) in `unit`; `default` when unset.
    Whole {
        default: i64,
        min: i64,
        max: i64,
        unit: &'static str,
    },
    /// Text that must be set; `hint` says how (after "not set: ").
    Required { hint: &'static str },
    /// Text; `default` when unset (None: no value). The word `off`, when given, also
    /// means no value (`SLO_EVENT_BUS=none`).
    Text {
        default: Option<&'static str>,
        off: Option<&'static str>,
    },
    /// An SNS topic ARN (`arn:...`), or no value.
    TopicArn,
    /// An `https://` URL; anything else is ignored (no link rather than a wrong one).
    Https,
    /// A comma-separated list (spaces around items ignored); empty when unset.
    List,
    /// `true` or `false`; `default` when unset.
    Switch { default: bool },
    /// One of `choices`; `default` when unset.
    Choice {
        default: &'static str,
        choices: &'static [&'static str],
    },
}

/// A setting whose value cannot be used, naming its variable (whether the value came
/// from the environment or from the flag that overrides it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{var}: {message}")]
pub struct SettingError {
    /// The variable, e.g. `SLO_LAG_SECONDS`.
    pub var: &'static str,
    /// What is wrong with it, e.g. `5000 is out of range 0..=3600`.
    pub message: String,
}

impl Setting {
    /// The value given (trimmed; an empty value counts as unset).
    fn given(&self, get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        get(self.var)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn error(&self, message: String) -> SettingError {
        SettingError {
            var: self.var,
            message,
        }
    }

    /// This setting's value from `get` (the environment, with any flags on top).
    pub fn read<T: FromSetting>(
        &self,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<T, SettingError> {
        T::from_setting(self, self.given(get))
    }

    /// A whole number setting: its default and bounds (`None` for another kind).
    pub fn whole(&self) -> Option<(i64, i64, i64)> {
        match self.kind {
            Kind::Whole {
                default, min, max, ..
            } => Some((default, min, max)),
            _ => None,
        }
    }

    /// Check a whole number against this setting's bounds: the one error for a value out
    /// of range, wherever it comes from.
    pub fn check_whole(&self, n: i64) -> Result<i64, SettingError> {
        match self.kind {
            Kind::Whole { min, max, .. } if (min..=max).contains(&n) => Ok(n),
            Kind::Whole { min, max, .. } => {
                Err(self.error(format!("{n} is out of range {min}..={max}")))
            }
            _ => Err(self.error("is not a whole number setting (sloguard bug)".into())),
        }
    }

    /// The help of the flag that overrides it: the meaning, the variable and the default.
    pub fn flag_help(&self) -> String {
        let default = match self.kind {
            Kind::Whole { default, unit, .. } => format!("; default {default} {unit}"),
            Kind::Text {
                default: Some(d), ..
            }
            | Kind::Choice { default: d, .. } => format!("; default {d}"),
            _ => String::new(),
        };
        let meaning = self.meaning.split(" (").next().unwrap_or(self.meaning);
        format!("{meaning} (overrides {}{default})", self.var)
    }

    /// The documentation table's row.
    fn row(&self) -> String {
        let code = |s: &str| format!("`{s}`");
        let (default, accepts) = match self.kind {
            Kind::Whole {
                default,
                min,
                max,
                unit,
            } => (default.to_string(), format!("{min}..={max} {unit}")),
            Kind::Required { .. } => ("(required)".into(), "a name".into()),
            Kind::Text { default, off } => (
                default.map_or("(none)".into(), code),
                off.map_or("text".into(), |o| format!("a name, or {}", code(o))),
            ),
            Kind::TopicArn => ("(none)".into(), "an SNS topic ARN".into()),
            Kind::Https => ("(none)".into(), "an `https://` URL".into()),
            Kind::List => ("(none)".into(), "a comma-separated list".into()),
            Kind::Switch { default } => (code(&default.to_string()), "`true`, `false`".into()),
            Kind::Choice { default, choices } => (
                code(default),
                choices
                    .iter()
                    .map(|c| code(c))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        };
        format!(
            "| `{}` | {} | {default} | {accepts} | {} |",
            self.var,
            self.flag.map_or(String::new(), code),
            self.meaning
        )
    }
}

/// A field type a setting can be read into.
pub trait FromSetting: Sized {
    /// The value of `setting`, `given` (trimmed, non-empty) or unset.
    fn from_setting(setting: &Setting, given: Option<String>) -> Result<Self, SettingError>;
}

fn kind_mismatch<T>(s: &Setting) -> Result<T, SettingError> {
    Err(s.error(format!(
        "its kind {:?} does not fit its field (sloguard bug)",
        s.kind
    )))
}

impl FromSetting for i64 {
    fn from_setting(s: &Setting, given: Option<String>) -> Result<i64, SettingError> {
        let Kind::Whole {
            default, min, max, ..
        } = s.kind
        else {
            return kind_mismatch(s);
        };
        match given {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) => s.check_whole(n),
                Err(_) => Err(s.error(format!("`{v}` is not a whole number from {min} to {max}"))),
            },
        }
    }
}

impl FromSetting for String {
    fn from_setting(s: &Setting, given: Option<String>) -> Result<String, SettingError> {
        match (s.kind, given) {
            (Kind::Required { .. } | Kind::Text { .. }, Some(v)) => Ok(v),
            (Kind::Required { hint }, None) => Err(s.error(format!("not set: {hint}"))),
            (
                Kind::Text {
                    default: Some(d), ..
                },
                None,
            ) => Ok(d.to_string()),
            _ => kind_mismatch(s),
        }
    }
}

impl FromSetting for Option<String> {
    fn from_setting(s: &Setting, given: Option<String>) -> Result<Self, SettingError> {
        match (s.kind, given) {
            (_, None) => Ok(None),
            (Kind::Text { off, .. }, Some(v)) => Ok((off != Some(v.as_str())).then_some(v)),
            (Kind::TopicArn, Some(v)) if !v.starts_with("arn:") => Err(s.error(format!(
                "`{v}` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
            ))),
            (Kind::TopicArn, Some(v)) => Ok(Some(v)),
            (Kind::Https, Some(v)) => Ok(v.starts_with("https://").then_some(v)),
            _ => kind_mismatch(s),
        }
    }
}

impl FromSetting for Vec<String> {
    fn from_setting(s: &Setting, given: Option<String>) -> Result<Self, SettingError> {
        match s.kind {
            Kind::List => Ok(given
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()),
            _ => kind_mismatch(s),
        }
    }
}

impl FromSetting for bool {
    fn from_setting(s: &Setting, given: Option<String>) -> Result<Self, SettingError> {
        let Kind::Switch { default } = s.kind else {
            return kind_mismatch(s);
        };
        match given.as_deref() {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(s.error(format!("`{v}` is not true or false"))),
        }
    }
}

impl FromSetting for Option<AllowedTopics> {
    fn from_setting(s: &Setting, given: Option<String>) -> Result<Self, SettingError> {
        match (s.kind, given.filter(|v| !v.trim().is_empty())) {
            (Kind::List, None) => Ok(None),
            (Kind::List, Some(v)) => AllowedTopics::parse(&v).map(Some).map_err(|m| s.error(m)),
            _ => kind_mismatch(s),
        }
    }
}

impl FromSetting for SloMetrics {
    fn from_setting(s: &Setting, given: Option<String>) -> Result<Self, SettingError> {
        let Kind::Choice { default, choices } = s.kind else {
            return kind_mismatch(s);
        };
        let v = given.unwrap_or_else(|| default.to_string());
        match SloMetrics::parse(&v) {
            Some(m) if choices.contains(&v.as_str()) => Ok(m),
            _ => Err(s.error(format!("`{v}` is not {}", words(choices)))),
        }
    }
}

/// `a, b or c`.
fn words(choices: &[&str]) -> String {
    match choices {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Defines the settings once: the `Settings` struct, one constant per setting, `ALL`,
/// and the reader. See the module documentation for how to add one.
macro_rules! settings {
    ($(
        $(#[$doc:meta])*
        $field:ident: $ty:ty = $name:ident $spec:tt
    ),* $(,)?) => {
        $(
            $(#[$doc])*
            pub const $name: Setting = Setting $spec;
        )*

        /// Every setting, in the order of the documentation table.
        pub const ALL: &[Setting] = &[$($name),*];

        /// The settings of a running sloguard (functions or CLI), read and validated once.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Settings {
            $(
                $(#[$doc])*
                pub $field: $ty,
            )*
        }

        impl Settings {
            /// Read every setting; `strict`: a missing required one is an error (else empty).
            fn read_all(
                get: &dyn Fn(&str) -> Option<String>,
                strict: bool,
            ) -> Result<Settings, SettingError> {
                Ok(Settings {
                    $(
                        $field: match (&$name.kind, strict) {
                            (Kind::Required { .. }, false) => {
                                FromSetting::from_setting(
                                    &Setting { kind: Kind::Text { default: Some(""), off: None }, ..$name },
                                    $name.given(get),
                                )?
                            }
                            _ => $name.read(get)?,
                        },
                    )*
                })
            }
        }
    };
}

settings! {
    /// SLO_TABLE: the DynamoDB table.
    table: String = TABLE {
        var: "SLO_TABLE",
        flag: Some("--table"),
        kind: Kind::Required { hint: "name the DynamoDB table (or pass --table)" },
        meaning: "the DynamoDB table (the flag is on the verbs that use the table)",
    },
    /// SLO_TOPIC_ARN: required to notify; read-only commands work without it.
    topic_arn: Option<String> = TOPIC_ARN {
        var: "SLO_TOPIC_ARN",
        flag: Some("--topic-arn"),
        kind: Kind::TopicArn,
        meaning: "the SNS topic for people (the flag is on `evaluate` and `review --send`; the functions that notify need it)",
    },
    /// SLO_EVENTS_TOPIC_ARN: optional JSON topic.
    events_topic_arn: Option<String> = EVENTS_TOPIC_ARN {
        var: "SLO_EVENTS_TOPIC_ARN",
        flag: None,
        kind: Kind::TopicArn,
        meaning: "optional SNS topic receiving each notification as a JSON document",
    },
    /// SLO_LAG_SECONDS: data lag subtracted from the trigger time.
    lag_seconds: i64 = LAG_SECONDS {
        var: "SLO_LAG_SECONDS",
        flag: Some("--lag"),
        kind: Kind::Whole { default: 120, min: 0, max: 3600, unit: "seconds" },
        meaning: "data lag subtracted from the trigger time",
    },
    /// SLO_HISTORY_DAYS: how long hourly history snapshots are kept.
    history_days: i64 = HISTORY_DAYS {
        var: "SLO_HISTORY_DAYS",
        flag: Some("--history-days"),
        kind: Kind::Whole { default: 400, min: 1, max: 3650, unit: "days" },
        meaning: "how long the hourly history snapshots are kept (every cycle's snapshot is kept 15 days; the flag is on `cost`)",
    },
    /// SLO_SCHEDULE_MINUTES: evaluations older than one period only record history.
    schedule_minutes: i64 = SCHEDULE_MINUTES {
        var: "SLO_SCHEDULE_MINUTES",
        flag: Some("--schedule-minutes"),
        kind: Kind::Whole { default: 5, min: 1, max: 60, unit: "minutes" },
        meaning: "the schedule period: evaluations further in the past only record history (the flag is on `cost`)",
    },
    /// SLO_DASHBOARD_URL: the dashboard messages link to (the stack sets it).
    dashboard_url: Option<String> = DASHBOARD_URL {
        var: "SLO_DASHBOARD_URL",
        flag: None,
        kind: Kind::Https,
        meaning: "the dashboard every message links to (the stack sets it)",
    },
    /// SLO_STACK_NAME: the health metrics' Stack dimension.
    stack_name: String = STACK_NAME {
        var: "SLO_STACK_NAME",
        flag: None,
        kind: Kind::Text { default: Some("sloguard"), off: None },
        meaning: "the `Stack` dimension of the health metrics (the stack sets its name)",
    },
    /// SLO_METRICS: per-SLO custom metrics.
    slo_metrics: SloMetrics = SLO_METRICS {
        var: "SLO_METRICS",
        flag: None,
        kind: Kind::Choice { default: "none", choices: &["none", "budget", "all"] },
        meaning: "per-SLO custom metrics: none, `budget` (BudgetRemaining per SLO) or `all`",
    },
    /// SLO_EVENT_BUS: the EventBridge bus SLO events go to (`default` is the account's);
    /// unset or `none`: no events (the functions default it to `default`, see `with_default_bus`).
    event_bus: Option<String> = EVENT_BUS {
        var: "SLO_EVENT_BUS",
        flag: None,
        kind: Kind::Text { default: None, off: Some("none") },
        meaning: "EventBridge bus SLO events are put on (`source: sloguard`); the stack sets it to its own bus, `STACK-slo-events` (or the bus `SloEventBus` names); functions without it use `default` (the account's bus), the CLI puts none unless it is set; `none` turns them off",
    },
    /// SLO_CHANGES_DAYS: how long recorded deployments are kept.
    changes_days: i64 = CHANGES_DAYS {
        var: "SLO_CHANGES_DAYS",
        flag: None,
        kind: Kind::Whole { default: 90, min: 1, max: 3650, unit: "days" },
        meaning: "how long recorded deployments are kept",
    },
    /// SLO_RECONCILE_HOURS: the longest time between full reads of a cached metric
    /// stream; 0 reads every stream whole every cycle (no stream caches).
    reconcile_hours: i64 = RECONCILE_HOURS {
        var: "SLO_RECONCILE_HOURS",
        flag: Some("--reconcile-hours"),
        kind: Kind::Whole { default: 24, min: 0, max: 336, unit: "hours" },
        meaning: "the longest time between full reads of a metric stream read on its cache (0 reads every stream whole every cycle, at about 5 times the GetMetricData cost; the flag is on `cost`)",
    },
    /// SLO_ALLOWED_TOPICS: the team topics the stack may publish to; unset: not known
    /// here, so nothing is checked.
    allowed_topics: Option<AllowedTopics> = ALLOWED_TOPICS {
        var: "SLO_ALLOWED_TOPICS",
        flag: None,
        kind: Kind::List,
        meaning: "the team topics the stack may publish to: topic ARNs or ARN prefixes ending in `*`, comma-separated, or `none` (the stack sets it from `AllowedTopicPrefix`); `validate` warns and `apply` refuses a notification target outside it; unset: nothing is checked",
    },
    /// SLO_COPY_ALL_TO_STACK_TOPIC: the stack topic also gets what goes to team topics.
    copy_all_to_stack_topic: bool = COPY_ALL_TO_STACK_TOPIC {
        var: "SLO_COPY_ALL_TO_STACK_TOPIC",
        flag: None,
        kind: Kind::Switch { default: false },
        meaning: "the stack topic also gets every message routed to a team topic (an audit mailbox)",
    },
    /// SLO_SHARD_SIZE: at most this many SLOs per evaluator invocation (one shard).
    shard_size: i64 = SHARD_SIZE {
        var: "SLO_SHARD_SIZE",
        flag: Some("--shard-size"),
        kind: Kind::Whole { default: 1000, min: 1, max: 20000, unit: "SLOs" },
        meaning: "the dispatcher cuts the fleet into shards of at most this many SLOs, each one order on the shard queue that a worker evaluates as one cycle (the stack sets it from `ShardSize`; the flag is on `cost`)",
    },
    /// SLO_SHARD_CONCURRENCY: workers a cycle starts at most.
    shard_concurrency: i64 = SHARD_CONCURRENCY {
        var: "SLO_SHARD_CONCURRENCY",
        flag: None,
        kind: Kind::Whole { default: 8, min: 1, max: 1000, unit: "workers" },
        meaning: "the dispatcher starts at most this many evaluator invocations (workers) a cycle, each taking shards from the queue until none is left: what keeps GetMetricData under the account's request quota (the stack sets it from `ShardConcurrency`)",
    },
    /// SLO_SHARD_QUEUE_URL: where shard orders wait (the stack sets it).
    shard_queue_url: Option<String> = SHARD_QUEUE_URL {
        var: "SLO_SHARD_QUEUE_URL",
        flag: None,
        kind: Kind::Text { default: None, off: None },
        meaning: "the SQS queue the dispatcher sends shard orders to and the evaluator's workers take them from (the stack sets it)",
    },
    /// SLO_EVALUATOR_FUNCTION: the function the dispatcher starts as workers.
    evaluator_function: Option<String> = EVALUATOR_FUNCTION {
        var: "SLO_EVALUATOR_FUNCTION",
        flag: None,
        kind: Kind::Text { default: None, off: None },
        meaning: "the evaluator function the dispatcher invokes (asynchronously) as workers (the stack sets it; only `slo-dispatcher` needs it)",
    },
    /// SLO_AWS_CONNECT_TIMEOUT_SECONDS: how long to wait for a connection to AWS.
    aws_connect_timeout_seconds: i64 = AWS_CONNECT_TIMEOUT_SECONDS {
        var: "SLO_AWS_CONNECT_TIMEOUT_SECONDS",
        flag: None,
        kind: Kind::Whole { default: 3, min: 1, max: 60, unit: "seconds" },
        meaning: "how long to wait for a connection to AWS",
    },
    /// SLO_AWS_ATTEMPT_TIMEOUT_SECONDS: how long one attempt of an AWS call may take.
    aws_attempt_timeout_seconds: i64 = AWS_ATTEMPT_TIMEOUT_SECONDS {
        var: "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS",
        flag: None,
        kind: Kind::Whole { default: 20, min: 1, max: 900, unit: "seconds" },
        meaning: "how long one attempt of an AWS call may take; a call makes up to 4 attempts. Raise both timeouts on a slow network or far from the region: a timeout error names the one that ran out",
    },
}

/// GetMetricData calls and SLOs processed at once (not a variable: the evaluator's memory
/// and CloudWatch's request rate are sized to it); `app::Config` and the cost model use it.
pub const CONCURRENCY: usize = 8;

/// Values given as CLI flags: they win over the environment, and are checked by the same
/// rules (so `--lag 5000` and `SLO_LAG_SECONDS=5000` are the same error).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides(Vec<(&'static str, String)>);

impl Overrides {
    /// `setting` is given as a flag (when `value` is Some).
    pub fn set(mut self, setting: &Setting, value: Option<impl ToString>) -> Overrides {
        if let Some(v) = value {
            self.0.retain(|(var, _)| *var != setting.var);
            self.0.push((setting.var, v.to_string()));
        }
        self
    }

    /// The value of `var`: the flag's when given, else `get`'s.
    pub fn get(&self, var: &str, get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        self.0
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, value)| value.clone())
            .or_else(|| get(var))
    }
}

impl Settings {
    /// Read from a variable lookup (the process environment, or a map in tests); a missing
    /// SLO_TABLE is an error.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
        Self::read_all(&get, true)
    }

    /// Read from a lookup with CLI flags on top; a missing SLO_TABLE is an error.
    pub fn from_lookup_with(
        get: impl Fn(&str) -> Option<String>,
        flags: &Overrides,
    ) -> Result<Settings, SettingError> {
        Self::read_all(&|k: &str| flags.get(k, &get), true)
    }

    /// Like `from_lookup_with`, for what needs no table (`sloguard cost --slos N`): an
    /// unset SLO_TABLE is left empty; every other setting is read and checked.
    pub fn without_table(
        get: impl Fn(&str) -> Option<String>,
        flags: &Overrides,
    ) -> Result<Settings, SettingError> {
        Self::read_all(&|k: &str| flags.get(k, &get), false)
    }

    /// Read from the process environment; a missing SLO_TABLE is an error.
    pub fn from_env() -> Result<Settings, SettingError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The functions put SLO events on the account's default bus unless SLO_EVENT_BUS says
    /// otherwise (`none` turns them off); the CLI puts none unless it is set.
    pub fn with_default_bus(mut self, get: impl Fn(&str) -> Option<String>) -> Settings {
        if get(EVENT_BUS.var).is_none() {
            self.event_bus = Some("default".into());
        }
        self
    }
}

impl Default for Settings {
    /// Every default, with an empty table name (what nothing is set gives, table aside).
    fn default() -> Self {
        Settings::without_table(|_| None, &Overrides::default())
            .expect("every default is valid (settings::tests)")
    }
}

/// The environment table of docs/deploying.md, one row per setting of `ALL`.
pub fn markdown_table() -> String {
    let mut out =
        String::from("| variable | flag | default | accepts | meaning |\n|---|---|---|---|---|\n");
    for s in ALL {
        out.push_str(&s.row());
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
