//! Use cases: the evaluation cycle, applying definitions and reading history,
//! written against small ports so the same code runs in Lambda, the CLI and tests.

pub mod alarm;
pub mod apply;
pub mod backfill;
pub mod changes;
pub mod corrections;
pub mod cycle;
pub mod deliver;
pub mod emf;
pub mod events;
pub mod fanout;
pub mod gate;
pub mod incidents;
pub mod latest;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod ports;
pub mod provenance;
pub mod read;
pub mod report;
pub mod select;
pub mod views;
pub mod widget;

pub use ports::{
    BudgetStore, ChangeStore, Channel, Claim, CorrectionStore, DedupStore, DefinitionStore,
    Destination, HistoryPage, HistoryStore, IncidentStore, MetricSource, Notifier, Outbox,
    OutboxKey, QueryResult, Silence, StateStore, StoredDefinition, StoredState, StreamCacheStore,
};
// The snapshot is domain data (`slo::snapshot`); the use cases name it through here too.
pub use crate::slo::snapshot::{self, Snapshot, StoredTime};

use crate::settings::Settings;

/// What the use cases need of the settings (`crate::settings::Settings`), in their units.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data lag subtracted from the trigger time (SLO_LAG_SECONDS, default 120).
    pub lag_seconds: i64,
    /// How long history snapshots are kept (DynamoDB TTL), in days.
    pub history_days: i64,
    /// GetMetricData calls and SLOs processed at once.
    pub concurrency: usize,
    /// Who claims outbox items: unique per process, so two evaluators never send the same message.
    pub claimant: String,
    /// How long a claim on an outbox item holds before another process may retry it.
    pub claim_lease_seconds: i64,
    /// The schedule period (SLO_SCHEDULE_MINUTES): evaluations further in the past only record history.
    pub schedule_seconds: i64,
    /// The stack's dashboard (SLO_DASHBOARD_URL), linked from every message.
    pub dashboard_url: Option<String>,
    /// How long recorded changes (deployments) are kept, in days (SLO_CHANGES_DAYS, default 90).
    pub changes_days: i64,
    /// Longest time between full reads of a cached stream, in seconds (SLO_RECONCILE_HOURS,
    /// default 24): absorbs datapoints that arrive later than the tail reaches; 0 reads
    /// every stream whole every cycle.
    pub reconcile_seconds: i64,
    /// SLO_COPY_ALL_TO_STACK_TOPIC: the stack topic also gets the messages routed to team
    /// topics (an audit mailbox); off by default.
    pub copy_all_to_stack_topic: bool,
    /// SLO_TOPIC_ARN, when known: a notification target naming it is the stack topic.
    pub stack_topic: Option<String>,
}

impl Config {
    /// The use cases' settings from sloguard's (`crate::settings`), with this process's
    /// own claimant; the claim lease is the default one (the AWS wiring sizes it to its
    /// timeouts).
    pub fn from_settings(s: &Settings) -> Config {
        Config {
            lag_seconds: s.lag_seconds,
            history_days: s.history_days,
            concurrency: crate::settings::CONCURRENCY,
            claimant: format!(
                "pid-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_micros()
            ),
            // The publish's own time budget (4 attempts of at most 20 s, with backoff): a
            // claim by a process that died is retried by the next cycle, not minutes later.
            claim_lease_seconds: 90,
            schedule_seconds: s.schedule_minutes * 60,
            dashboard_url: s.dashboard_url.clone(),
            changes_days: s.changes_days,
            reconcile_seconds: s.reconcile_hours * 3600,
            copy_all_to_stack_topic: s.copy_all_to_stack_topic,
            stack_topic: s.topic_arn.clone(),
        }
    }
}

impl Default for Config {
    /// Every setting's default (`Settings::default()`).
    fn default() -> Self {
        Config::from_settings(&Settings::default())
    }
}

/// The ports and settings one invocation works with, built once per cold start.
pub struct App<M, S, N> {
    pub metrics: M,
    pub store: S,
    pub notifier: N,
    pub config: Config,
}
