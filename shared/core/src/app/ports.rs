//! The ports: what the use cases need from metrics, storage and notification,
//! and nothing more. `sloguard-aws` implements them with the AWS SDK.

use std::collections::HashMap;
use std::future::Future;

use crate::slo::change::Change;
use crate::slo::correction::Correction;
use crate::slo::incident::IncidentRecord;
use crate::slo::incremental::StreamCache;
use crate::slo::message::Notification;
use crate::slo::model::{MetricSpec, SloDefinition};
use crate::slo::plan::MetricRequest;
use crate::slo::shard::NameRange;
use crate::slo::status::SloState;

use crate::slo::snapshot::Snapshot;

mod errors;

pub use errors::{AccessProblem, NotifyError, SourceError, StoreError, Timeout};

/// The datapoints of one planned query (by its id), timestamps in epoch seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub id: String,
    pub points: Vec<(i64, f64)>,
}

/// Reads metric data: one GetMetricData call's worth, all pages; and which metrics an alarm watches.
pub trait MetricSource: Send + Sync {
    /// The metrics each named alarm watches (to map composite alarms' children to SLOs).
    fn alarm_metrics(
        &self,
        region: &str,
        alarm_names: &[String],
    ) -> impl Future<Output = Result<Vec<(String, Vec<crate::app::events::AlarmMetric>)>, SourceError>>
           + Send;

    /// Run one planned request; `streams` resolves each query's stream index.
    fn get_metric_data(
        &self,
        request: &MetricRequest,
        streams: &[MetricSpec],
    ) -> impl Future<Output = Result<Vec<QueryResult>, SourceError>> + Send;
}

/// A definition as stored; a definition that no longer parses is reported, not fatal.
#[derive(Debug, Clone)]
pub struct StoredDefinition {
    pub name: String,
    pub version: u64,
    /// The definition, or why its item does not read back as one (`StoreError::Corrupt`).
    pub definition: Result<SloDefinition, StoreError>,
}

/// An SLO's remembered state, its optimistic-lock version and undelivered notifications.
#[derive(Debug, Clone, Default)]
pub struct StoredState {
    pub state: SloState,
    /// 0 when nothing is stored yet.
    pub version: u64,
    /// Outbox items not yet delivered.
    pub pending: Vec<OutboxKey>,
    /// The newest history snapshot: the state item no longer carries a copy, so `states()`
    /// leaves it None and `app::latest::states_with_latest` reads it from history.
    pub latest: Option<Snapshot>,
    /// A silence set by `sloguard silence` (it may have expired: check `until`).
    pub silence: Option<Silence>,
}

impl StoredState {
    /// Numbers from history with no live state behind them (only `evaluate --at` a past
    /// time ran): shown, but marked, since no cycle has evaluated the SLO now.
    pub fn is_history_only(&self) -> bool {
        self.version == 0 && self.latest.is_some()
    }
}

/// Holds back an SLO's page and ticket messages until `until`, with the reason people gave.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Silence {
    pub until: i64,
    pub reason: String,
    pub created_at: i64,
}

impl Silence {
    /// Whether it holds back messages at time `t`.
    pub fn active_at(&self, t: i64) -> bool {
        t < self.until
    }
}

/// What `apply` did to one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    Created,
    Updated { version: u64 },
    Unchanged,
}

/// Result of trying to claim an outbox item for delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Ours to publish (boxed: the other answers carry nothing).
    Claimed(Box<Notification>),
    /// Already delivered (by us earlier, or by another process).
    AlreadySent,
    /// Another process holds an unexpired claim.
    Busy,
    /// No such item (it expired): nothing to send.
    Missing,
}

/// Where a notification goes: people (plain text with attributes) or machines (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    People,
    Events,
    /// The EventBridge bus (SLO_EVENT_BUS): one outbox item of its own, so a failed put
    /// is retried without sending the SNS messages again, and the other way round.
    Bus,
}

/// One outbox item: a notification on one channel (and, for people, one topic), delivered
/// once. Stores turn it into keys of their own; use cases never build or parse key text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxKey {
    /// The notification's id (unique per SLO and announcement).
    pub notification: String,
    pub channel: Channel,
    /// A team's SNS topic (an AlertNotificationTarget) on the people channel; None is the
    /// stack topic, as for every item stored before routing existed.
    pub topic: Option<String>,
}

/// Where one outbox item goes: a channel and, on the people channel, a team's topic (None:
/// the stack's own). Each (notification, destination) is an item of its own, so a failing
/// team topic is retried alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination {
    pub channel: Channel,
    pub topic: Option<String>,
}

impl From<Channel> for Destination {
    fn from(channel: Channel) -> Self {
        Destination {
            channel,
            topic: None,
        }
    }
}

/// The destinations of one SLO's notifications: every channel once, and the people channel
/// once per topic in `people` (`slo::route::people_topics`).
pub fn destinations(channels: &[Channel], people: &[Option<String>]) -> Vec<Destination> {
    channels
        .iter()
        .flat_map(|c| match c {
            Channel::People => people
                .iter()
                .map(|t| Destination {
                    channel: *c,
                    topic: t.clone(),
                })
                .collect::<Vec<_>>(),
            _ => vec![Destination::from(*c)],
        })
        .collect()
}

/// The outbox items of `notifications` to `destinations`: key and notification, in order.
/// One notification is one item per destination, delivered once each.
pub fn outbox_items<'a>(
    notifications: &'a [Notification],
    destinations: &'a [Destination],
) -> Vec<(OutboxKey, &'a Notification)> {
    notifications
        .iter()
        .flat_map(|n| {
            destinations.iter().map(move |d| {
                (
                    OutboxKey {
                        notification: n.id.clone(),
                        channel: d.channel,
                        topic: d.topic.clone(),
                    },
                    n,
                )
            })
        })
        .collect()
}

impl Channel {
    /// The channel's name (stores use it in keys; logs show it).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::People => "people",
            Channel::Events => "events",
            Channel::Bus => "bus",
        }
    }

    /// The channel of a name `as_str` gave; None for any other text.
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "people" => Some(Channel::People),
            "events" => Some(Channel::Events),
            "bus" => Some(Channel::Bus),
            _ => None,
        }
    }
}

/// An event handled once; the store turns it into keys of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Once<'a> {
    /// An alarm transition: the alarm, its state timestamp (epoch milliseconds) and value.
    AlarmTransition {
        alarm: &'a str,
        timestamp_ms: i64,
        state: &'a str,
    },
    /// The review digest of one period (e.g. a week number).
    Review { period: &'a str },
    /// An alarm-triggered evaluation of one SLO in one minute (the debounce).
    AlarmEvaluation { slo: &'a str, minute: i64 },
}

/// The answer to a claim on a one-time event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnceClaim {
    /// Ours to handle until the lease runs out.
    Claimed,
    /// Handled before: drop it.
    Done,
    /// Another handler holds an unexpired claim (it may be at work, or dead).
    Busy,
}

/// Remembers events handled once (alarm transitions), so duplicates are dropped.
pub trait DedupStore: Send + Sync {
    /// Record a one-time event; false when it was recorded before, so the same event
    /// delivered twice is handled once.
    fn record_once(
        &self,
        event: Once<'_>,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Forget a recorded event, so a failed handling can be retried.
    fn forget_once(&self, event: Once<'_>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Claim an event for handling until `now + lease`. A claim only counts as handled
    /// once completed: a handler that dies after claiming leaves a claim that expires,
    /// and the retry takes it.
    fn claim_once(
        &self,
        event: Once<'_>,
        now: i64,
        lease: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<OnceClaim, StoreError>> + Send;
    /// Mark a claimed event handled.
    fn complete_once(&self, event: Once<'_>)
        -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The applied SLO definitions, versioned.
pub trait DefinitionStore: Send + Sync {
    /// Every stored definition.
    fn definitions(&self)
        -> impl Future<Output = Result<Vec<StoredDefinition>, StoreError>> + Send;
    /// The stored definitions whose names are in `range`: one shard's, read as one key range.
    fn definitions_in(
        &self,
        range: &NameRange,
    ) -> impl Future<Output = Result<Vec<StoredDefinition>, StoreError>> + Send;
    /// Every stored definition's name, in order: what the dispatcher cuts into shards
    /// without reading (or paying for) the definitions themselves.
    fn definition_names(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// A number that changes whenever a definition is created or deleted (the names
    /// change): the dispatcher re-cuts the fleet only when it moved, else reads one item.
    fn fleet_version(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// One stored definition: a composite's part that lives in another shard.
    fn definition(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<StoredDefinition>, StoreError>> + Send;
    /// Store a definition; unchanged definitions are left alone.
    fn put_definition(
        &self,
        def: &SloDefinition,
    ) -> impl Future<Output = Result<ApplyOutcome, StoreError>> + Send;
    /// Remove a definition (its history stays until it expires).
    fn delete_definition(&self, name: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Each SLO's state, written with an optimistic lock together with its outbox items.
pub trait StateStore: Send + Sync {
    /// The state of every SLO that has one.
    fn states(
        &self,
    ) -> impl Future<Output = Result<HashMap<String, StoredState>, StoreError>> + Send;
    /// The states of the SLOs whose names are in `range`: one shard's.
    fn states_in(
        &self,
        range: &NameRange,
    ) -> impl Future<Output = Result<HashMap<String, StoredState>, StoreError>> + Send;
    /// The state of one SLO (re-read after a lost race).
    fn state(
        &self,
        slo: &str,
    ) -> impl Future<Output = Result<Option<StoredState>, StoreError>> + Send;
    /// Replace the state if its version is still `expected_version`, adding atomically the
    /// outbox items for each notification to `destinations` and writing the `incidents`
    /// records (each replaces the record of the same SLO and opening): a transaction only when
    /// there are some, a state alone is one conditional write. Returns false when another
    /// writer won.
    fn commit(
        &self,
        slo: &str,
        expected_version: u64,
        state: &SloState,
        notifications: &[Notification],
        destinations: &[Destination],
        incidents: &[IncidentRecord],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Set (Some) or lift (None) an SLO's silence, without touching its evaluated state.
    fn set_silence(
        &self,
        slo: &str,
        silence: Option<&Silence>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Delivery of committed notifications: claim, publish, mark sent, exactly once.
pub trait Outbox: Send + Sync {
    /// Claim an outbox item for delivery until `now + lease`; the same claimant may claim
    /// again (its earlier claim may have been applied while the answer was lost).
    fn claim(
        &self,
        slo: &str,
        key: &OutboxKey,
        claimant: &str,
        now: i64,
        lease: i64,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;
    /// Mark a claimed item delivered and drop it from the SLO's pending set.
    fn mark_sent(
        &self,
        slo: &str,
        key: &OutboxKey,
        claimant: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Give a claim back after a failed publish, so the next cycle retries at once.
    fn release(
        &self,
        slo: &str,
        key: &OutboxKey,
        claimant: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Drop a key from the pending set (it was already delivered or expired).
    fn forget_pending(
        &self,
        slo: &str,
        key: &OutboxKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An upper bound for history ranges (9999-12-31T23:59:59Z): "up to the newest".
pub const FAR_FUTURE: i64 = 253_402_300_799;

/// The budget history: one snapshot per SLO and evaluation time.
pub trait HistoryStore: Send + Sync {
    /// Write a history snapshot; the same SLO and time written twice is one item.
    fn put_snapshot(
        &self,
        snap: &Snapshot,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Snapshots with evaluated_at in [since, until], oldest first.
    fn history(
        &self,
        slo: &str,
        since: i64,
        until: i64,
    ) -> impl Future<Output = Result<Vec<Snapshot>, StoreError>> + Send;
    /// The latest `limit` of those snapshots, oldest first (`history --limit`): read newest
    /// first, so a long range costs only what is shown.
    fn latest_history(
        &self,
        slo: &str,
        since: i64,
        until: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Snapshot>, StoreError>> + Send;
    /// One request's worth of those snapshots, newest first: at most `limit` of them
    /// (and at most what one request returns), before the `after` cursor of the page
    /// before. Readers that must bound their requests (the dashboard widget) page with it.
    fn history_page(
        &self,
        slo: &str,
        since: i64,
        until: i64,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<HistoryPage, StoreError>> + Send;
}

/// One page of history, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryPage {
    pub snapshots: Vec<Snapshot>,
    /// Stored items on the page that are not snapshots sloguard wrote (a field of the
    /// wrong kind, a time that is not a time): refused, and counted so pages can say so.
    pub unreadable: usize,
    /// Where the next page starts (the last key read), when more may follow.
    pub next: Option<String>,
}

/// Deployments recorded for the targets SLOs name, so messages can list what changed before a burn.
pub trait ChangeStore: Send + Sync {
    /// Record a change until `expires_at`; false when it was recorded before (the same
    /// change delivered twice is stored once).
    fn record_change(
        &self,
        change: &Change,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The changes of one target with times in [since, until], oldest first.
    fn changes(
        &self,
        target: &str,
        since: i64,
        until: i64,
    ) -> impl Future<Output = Result<Vec<Change>, StoreError>> + Send;
}

/// The incident records the state's commits write, read back for reviews.
pub trait IncidentStore: Send + Sync {
    /// Every record of an incident opened in [since, until], oldest first.
    fn incidents(
        &self,
        since: i64,
        until: i64,
    ) -> impl Future<Output = Result<Vec<IncidentRecord>, StoreError>> + Send;
}

/// What each metric stream keeps between cycles (closed hours, far-edge buckets), so a
/// cycle reads only the stream's new tail from CloudWatch.
pub trait StreamCacheStore: Send + Sync {
    /// The stored form (`StreamCache::encode`) of each stream's cache, in order; None where
    /// none is stored. Kept encoded, so a fleet's caches take a KB or two each in memory.
    fn stream_caches(
        &self,
        streams: &[&MetricSpec],
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, StoreError>> + Send;
    /// Store a stream's cache until `expires_at`, unless the stored one was read later
    /// (a past evaluation never replaces a newer cache).
    fn put_stream_cache(
        &self,
        stream: &MetricSpec,
        cache: &StreamCache,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Budget corrections, every version of each: versions are added, never replaced, so
/// what was corrected, by whom and when stays on record.
pub trait CorrectionStore: Send + Sync {
    /// Every version of every correction.
    fn corrections(&self) -> impl Future<Output = Result<Vec<Correction>, StoreError>> + Send;
    /// Record one version; false when that id and version exist already (another writer
    /// won: nothing is overwritten).
    fn add_correction(
        &self,
        correction: &Correction,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Everything sloguard keeps, as one bound for use cases that need all of it.
pub trait BudgetStore:
    DefinitionStore
    + StateStore
    + Outbox
    + HistoryStore
    + DedupStore
    + ChangeStore
    + StreamCacheStore
    + IncidentStore
    + CorrectionStore
{
}

impl<
        T: DefinitionStore
            + StateStore
            + Outbox
            + HistoryStore
            + DedupStore
            + ChangeStore
            + StreamCacheStore
            + IncidentStore
            + CorrectionStore,
    > BudgetStore for T
{
}

/// Publishes notifications.
pub trait Notifier: Send + Sync {
    /// The channels configured (people always; events when a second topic is set).
    fn channels(&self) -> Vec<Channel>;
    /// Publish one notification on one channel.
    fn publish(
        &self,
        channel: Channel,
        n: &Notification,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;
    /// Publish one notification for people to a team's SNS topic (an AlertNotificationTarget),
    /// as the people channel publishes it to the stack topic.
    fn publish_to(
        &self,
        topic: &str,
        n: &Notification,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;
}
