//! In-memory ports for fast tests of the use cases (here, and for embedders behind the
//! `testing` feature): they keep the contracts the DynamoDB, CloudWatch and SNS adapters
//! keep (optimistic lock, outbox claims, idempotent snapshots), so a use case can be
//! tested without an emulator.
//! The end-to-end tests against moto stay the proof that the real adapters agree.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::slo::change::Change;
use crate::slo::correction::Correction;
use crate::slo::incident::IncidentRecord;
use crate::slo::incremental::StreamCache;
use crate::slo::message::{rfc3339, Notification};
use crate::slo::model::{MetricSpec, SloDefinition};
use crate::slo::plan::MetricRequest;
use crate::slo::shard::NameRange;
use crate::slo::status::SloState;

use super::events::AlarmMetric;
use super::fanout::{
    CycleRecord, CycleStore, QueueError, Received, ShardOrder, ShardQueue, Workers,
};
use super::ports::{
    outbox_items, ApplyOutcome, ChangeStore, Channel, Claim, CorrectionStore, DedupStore,
    DefinitionStore, Destination, HistoryPage, HistoryStore, IncidentStore, MetricSource, Notifier,
    NotifyError, Once, OnceClaim, Outbox, OutboxKey, QueryResult, Silence, SourceError, StateStore,
    StoreError, StoredDefinition, StoredState, StreamCacheStore,
};
use crate::slo::snapshot::Snapshot;

struct OutboxItem {
    notification: Notification,
    sent: bool,
    claim: Option<(String, i64)>,
}

#[derive(Default)]
struct Tables {
    /// Kept in the stored form (JSON), as DynamoDB keeps them, so a lossy round trip shows here too.
    definitions: BTreeMap<String, (u64, String)>,
    states: BTreeMap<String, StoredState>,
    history: BTreeMap<(String, String), Snapshot>,
    /// Each snapshot's TTL (epoch seconds).
    expiry: BTreeMap<(String, String), i64>,
    /// State writes that succeeded, for assertions on what a cycle writes.
    commits: usize,
    /// Definition range reads, for assertions on what a shard reads.
    definition_reads: usize,
    /// Cycle records by trigger time.
    cycles: BTreeMap<i64, CycleRecord>,
    /// Bumped by every definition created or deleted.
    fleet_version: u64,
    /// Reads of every definition's name (the dispatcher's cut), for assertions.
    name_reads: usize,
    /// History reads (pages and whole ranges), for assertions on what a reader costs.
    history_reads: usize,
    outbox: BTreeMap<(String, OutboxKey), OutboxItem>,
    once: BTreeSet<String>,
    /// Claimed events: (done, claimed until).
    claims: BTreeMap<String, (bool, i64)>,
    /// Changes by (target, time, id), as DynamoDB keys them.
    changes: BTreeMap<(String, i64, String), Change>,
    /// Stream caches in their stored form, by stream, with their read time.
    streams: BTreeMap<MetricSpec, (i64, Vec<u8>)>,
    /// Stream cache writes, for assertions on how often a cycle writes them.
    stream_writes: usize,
    /// Incident records by (opening time, SLO), as DynamoDB keys them.
    incidents: BTreeMap<(i64, String), IncidentRecord>,
    /// Incident record writes, for assertions.
    incident_writes: usize,
    /// Correction versions by (id, version), in the stored form (JSON).
    corrections: BTreeMap<(String, u32), String>,
}

/// The store, in memory.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    /// How long each history page takes, in milliseconds (a slow store, for deadlines).
    history_delay_ms: std::sync::atomic::AtomicU64,
}

impl MemoryStore {
    fn with<R>(&self, f: impl FnOnce(&mut Tables) -> R) -> R {
        f(&mut self
            .tables
            .lock()
            .expect("no test panics while holding the lock"))
    }

    /// Make each history page take `d`.
    pub fn delay_history(&self, d: std::time::Duration) {
        self.history_delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// History reads so far (each page, each whole-range read), for assertions.
    pub fn history_reads(&self) -> usize {
        self.with(|t| t.history_reads)
    }

    /// Successful state commits so far, for assertions.
    pub fn commits(&self) -> usize {
        self.with(|t| t.commits)
    }

    /// The TTL a snapshot was written with.
    pub fn expiry(&self, slo: &str, evaluated_at: i64) -> Option<i64> {
        self.with(|t| {
            t.expiry
                .get(&(slo.to_string(), rfc3339(evaluated_at)))
                .copied()
        })
    }

    /// Stream cache writes so far, for assertions.
    pub fn stream_writes(&self) -> usize {
        self.with(|t| t.stream_writes)
    }

    /// Forget every stream cache (a cold table), for tests of the fallback.
    pub fn drop_stream_caches(&self) {
        self.with(|t| t.streams.clear())
    }

    /// Store a definition item's text as it is (another version's, or damaged), to test
    /// what reading it back reports.
    pub fn put_raw_definition(&self, name: &str, version: u64, text: &str) {
        self.with(|t| {
            t.definitions
                .insert(name.to_string(), (version, text.to_string()))
        });
    }

    /// Incident record writes so far, for assertions.
    pub fn incident_writes(&self) -> usize {
        self.with(|t| t.incident_writes)
    }

    /// Definition reads (whole or one range) so far, for assertions on what a shard reads.
    pub fn definition_reads(&self) -> usize {
        self.with(|t| t.definition_reads)
    }

    /// Reads of every definition's name so far (the dispatcher's cuts), for assertions.
    pub fn name_reads(&self) -> usize {
        self.with(|t| t.name_reads)
    }

    /// Outbox items not yet sent, for assertions.
    pub fn unsent(&self) -> usize {
        self.with(|t| t.outbox.values().filter(|o| !o.sent).count())
    }
}

fn stored_definition(name: &str, version: u64, text: &str) -> StoredDefinition {
    StoredDefinition {
        name: name.to_string(),
        version,
        definition: SloDefinition::from_stored(text).map_err(|e| StoreError::Corrupt {
            key: format!("DEF/{name}"),
            message: format!("`definition`: {e}"),
        }),
    }
}

impl DefinitionStore for MemoryStore {
    async fn definitions(&self) -> Result<Vec<StoredDefinition>, StoreError> {
        self.definitions_in(&NameRange::all()).await
    }

    async fn definitions_in(&self, range: &NameRange) -> Result<Vec<StoredDefinition>, StoreError> {
        Ok(self.with(|t| {
            t.definition_reads += 1;
            t.definitions
                .iter()
                .filter(|(name, _)| range.contains(name))
                .map(|(name, (version, text))| stored_definition(name, *version, text))
                .collect()
        }))
    }

    async fn definition_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.with(|t| {
            t.name_reads += 1;
            t.definitions.keys().cloned().collect()
        }))
    }

    async fn fleet_version(&self) -> Result<u64, StoreError> {
        Ok(self.with(|t| t.fleet_version))
    }

    async fn definition(&self, name: &str) -> Result<Option<StoredDefinition>, StoreError> {
        Ok(self.with(|t| {
            t.definitions
                .get(name)
                .map(|(version, text)| stored_definition(name, *version, text))
        }))
    }

    async fn put_definition(&self, def: &SloDefinition) -> Result<ApplyOutcome, StoreError> {
        Ok(self.with(|t| match t.definitions.get(&def.name) {
            Some((_, old))
                if SloDefinition::from_stored(old)
                    .is_ok_and(|old| super::apply::same(&old, def)) =>
            {
                ApplyOutcome::Unchanged
            }
            Some((v, _)) => {
                let version = v + 1;
                t.definitions
                    .insert(def.name.clone(), (version, def.to_stored()));
                ApplyOutcome::Updated { version }
            }
            None => {
                t.fleet_version += 1;
                t.definitions.insert(def.name.clone(), (1, def.to_stored()));
                ApplyOutcome::Created
            }
        }))
    }

    async fn delete_definition(&self, name: &str) -> Result<(), StoreError> {
        self.with(|t| {
            t.fleet_version += 1;
            t.definitions.remove(name)
        });
        Ok(())
    }
}

impl StateStore for MemoryStore {
    async fn states(&self) -> Result<std::collections::HashMap<String, StoredState>, StoreError> {
        Ok(self.with(|t| t.states.clone().into_iter().collect()))
    }

    async fn states_in(
        &self,
        range: &NameRange,
    ) -> Result<std::collections::HashMap<String, StoredState>, StoreError> {
        Ok(self.with(|t| {
            t.states
                .iter()
                .filter(|(name, _)| range.contains(name))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect()
        }))
    }

    async fn state(&self, slo: &str) -> Result<Option<StoredState>, StoreError> {
        Ok(self.with(|t| t.states.get(slo).cloned()))
    }

    async fn commit(
        &self,
        slo: &str,
        expected_version: u64,
        state: &SloState,
        notifications: &[Notification],
        destinations: &[Destination],
        incidents: &[IncidentRecord],
    ) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            let current = t.states.get(slo).map_or(0, |s| s.version);
            let keys = outbox_items(notifications, destinations);
            // Like the DynamoDB transaction: the version check and every outbox put, or nothing.
            if current != expected_version
                || keys
                    .iter()
                    .any(|(k, _)| t.outbox.contains_key(&(slo.to_string(), k.clone())))
            {
                return false;
            }
            let entry = t.states.entry(slo.to_string()).or_default();
            entry.state = state.clone();
            entry.version = expected_version + 1;
            t.commits += 1;
            for r in incidents {
                t.incident_writes += 1;
                t.incidents.insert((r.opened_at, r.slo.clone()), r.clone());
            }
            for (k, n) in keys {
                entry.pending.push(k.clone());
                t.outbox.insert(
                    (slo.to_string(), k),
                    OutboxItem {
                        notification: n.clone(),
                        sent: false,
                        claim: None,
                    },
                );
            }
            true
        }))
    }

    async fn set_silence(&self, slo: &str, silence: Option<&Silence>) -> Result<(), StoreError> {
        self.with(|t| t.states.entry(slo.to_string()).or_default().silence = silence.cloned());
        Ok(())
    }
}

impl Outbox for MemoryStore {
    async fn claim(
        &self,
        slo: &str,
        key: &OutboxKey,
        claimant: &str,
        now: i64,
        lease: i64,
    ) -> Result<Claim, StoreError> {
        Ok(self.with(
            |t| match t.outbox.get_mut(&(slo.to_string(), key.clone())) {
                None => Claim::Missing,
                Some(o) if o.sent => Claim::AlreadySent,
                Some(o) => match &o.claim {
                    Some((who, until)) if who != claimant && *until > now => Claim::Busy,
                    _ => {
                        o.claim = Some((claimant.to_string(), now + lease));
                        Claim::Claimed(Box::new(o.notification.clone()))
                    }
                },
            },
        ))
    }

    async fn mark_sent(
        &self,
        slo: &str,
        key: &OutboxKey,
        _claimant: &str,
        _now: i64,
    ) -> Result<(), StoreError> {
        self.with(|t| {
            if let Some(o) = t.outbox.get_mut(&(slo.to_string(), key.clone())) {
                o.sent = true;
            }
            if let Some(s) = t.states.get_mut(slo) {
                s.pending.retain(|k| k != key);
            }
        });
        Ok(())
    }

    async fn release(&self, slo: &str, key: &OutboxKey, claimant: &str) -> Result<(), StoreError> {
        self.with(|t| {
            if let Some(o) = t.outbox.get_mut(&(slo.to_string(), key.clone())) {
                if o.claim.as_ref().is_some_and(|(who, _)| who == claimant) {
                    o.claim = None;
                }
            }
        });
        Ok(())
    }

    async fn forget_pending(&self, slo: &str, key: &OutboxKey) -> Result<(), StoreError> {
        self.with(|t| {
            if let Some(s) = t.states.get_mut(slo) {
                s.pending.retain(|k| k != key);
            }
        });
        Ok(())
    }
}

impl HistoryStore for MemoryStore {
    async fn put_snapshot(&self, snap: &Snapshot, expires_at: i64) -> Result<(), StoreError> {
        self.with(|t| {
            let key = (snap.slo.clone(), snap.evaluated_at.clone());
            t.expiry.insert(key.clone(), expires_at);
            t.history.insert(key, snap.clone())
        });
        Ok(())
    }

    async fn history(
        &self,
        slo: &str,
        since: i64,
        until: i64,
    ) -> Result<Vec<Snapshot>, StoreError> {
        let (a, b) = (rfc3339(since), rfc3339(until));
        Ok(self.with(|t| {
            t.history_reads += 1;
            t.history
                .range((slo.to_string(), a)..=(slo.to_string(), b))
                .map(|(_, s)| s.clone())
                .collect()
        }))
    }

    async fn history_page(
        &self,
        slo: &str,
        since: i64,
        until: i64,
        after: Option<&str>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let delay = self.history_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        // As DynamoDB pages a Query: `limit` items or 1 MB of them, whichever comes first.
        const PAGE_BYTES: usize = 1 << 20;
        use std::ops::Bound::{Excluded, Included};
        let low = (slo.to_string(), rfc3339(since));
        let (high, bound): (_, fn(_) -> _) = match after {
            Some(k) => ((slo.to_string(), k.to_string()), Excluded),
            None => ((slo.to_string(), rfc3339(until)), Included),
        };
        Ok(self.with(|t| {
            t.history_reads += 1;
            let mut page = HistoryPage::default();
            if high < low {
                return page;
            }
            let mut bytes = 0;
            for ((_, key), s) in t.history.range((Included(low), bound(high))).rev() {
                page.snapshots.push(s.clone());
                bytes += s.to_stored().len();
                if page.snapshots.len() >= limit.max(1) || bytes >= PAGE_BYTES {
                    page.next = Some(key.clone());
                    break;
                }
            }
            page
        }))
    }

    async fn latest_history(
        &self,
        slo: &str,
        since: i64,
        until: i64,
        limit: usize,
    ) -> Result<Vec<Snapshot>, StoreError> {
        let all = self.history(slo, since, until).await?;
        Ok(all[all.len().saturating_sub(limit)..].to_vec())
    }
}

impl DedupStore for MemoryStore {
    async fn record_once(&self, event: Once<'_>, _expires_at: i64) -> Result<bool, StoreError> {
        Ok(self.with(|t| t.once.insert(format!("{event:?}"))))
    }

    async fn forget_once(&self, event: Once<'_>) -> Result<(), StoreError> {
        self.with(|t| {
            t.once.remove(&format!("{event:?}"));
            t.claims.remove(&format!("{event:?}"));
        });
        Ok(())
    }

    async fn claim_once(
        &self,
        event: Once<'_>,
        now: i64,
        lease: i64,
        _expires_at: i64,
    ) -> Result<OnceClaim, StoreError> {
        Ok(
            self.with(|t| match t.claims.get(&format!("{event:?}")).copied() {
                Some((true, _)) => OnceClaim::Done,
                Some((false, until)) if until >= now => OnceClaim::Busy,
                _ => {
                    t.claims.insert(format!("{event:?}"), (false, now + lease));
                    OnceClaim::Claimed
                }
            }),
        )
    }

    async fn complete_once(&self, event: Once<'_>) -> Result<(), StoreError> {
        self.with(|t| {
            if let Some(c) = t.claims.get_mut(&format!("{event:?}")) {
                c.0 = true;
            }
        });
        Ok(())
    }
}

impl ChangeStore for MemoryStore {
    async fn record_change(&self, change: &Change, _expires_at: i64) -> Result<bool, StoreError> {
        let key = (change.target.clone(), change.at, change.id.clone());
        Ok(self.with(|t| t.changes.insert(key, change.clone()).is_none()))
    }

    async fn changes(
        &self,
        target: &str,
        since: i64,
        until: i64,
    ) -> Result<Vec<Change>, StoreError> {
        Ok(self.with(|t| {
            t.changes
                .iter()
                .filter(|((tg, at, _), _)| tg == target && (since..=until).contains(at))
                .map(|(_, c)| c.clone())
                .collect()
        }))
    }
}

impl IncidentStore for MemoryStore {
    async fn incidents(&self, since: i64, until: i64) -> Result<Vec<IncidentRecord>, StoreError> {
        Ok(self.with(|t| {
            t.incidents
                .range((since, String::new())..)
                .take_while(|((at, _), _)| *at <= until)
                .map(|(_, r)| r.clone())
                .collect()
        }))
    }
}

impl CorrectionStore for MemoryStore {
    async fn corrections(&self) -> Result<Vec<Correction>, StoreError> {
        self.with(|t| {
            t.corrections
                .iter()
                .map(|((id, v), json)| {
                    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
                        key: format!("CORR/{id}#{v}"),
                        message: e.to_string(),
                    })
                })
                .collect()
        })
    }

    async fn add_correction(&self, c: &Correction) -> Result<bool, StoreError> {
        let json = serde_json::to_string(c).expect("plain data serializes");
        Ok(self.with(|t| {
            let key = (c.id.clone(), c.version);
            if t.corrections.contains_key(&key) {
                return false;
            }
            t.corrections.insert(key, json);
            true
        }))
    }
}

impl StreamCacheStore for MemoryStore {
    async fn stream_caches(
        &self,
        streams: &[&MetricSpec],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        Ok(self.with(|t| {
            streams
                .iter()
                .map(|s| t.streams.get(*s).map(|(_, b)| b.clone()))
                .collect()
        }))
    }

    async fn put_stream_cache(
        &self,
        stream: &MetricSpec,
        cache: &StreamCache,
        _expires_at: i64,
    ) -> Result<(), StoreError> {
        self.with(|t| {
            if t.streams
                .get(stream)
                .is_none_or(|(read_at, _)| *read_at <= cache.read_at)
            {
                t.streams
                    .insert(stream.clone(), (cache.read_at, cache.encode()));
                t.stream_writes += 1;
            }
        });
        Ok(())
    }
}

mod fakes;

pub use fakes::{
    app_with, store_naming_changes, FakeMetrics, FakeNotifier, MemoryQueue, MemoryWorkers, TestApp,
    MAX_RECEIVES,
};

impl CycleStore for MemoryStore {
    async fn begin_cycle(
        &self,
        record: &CycleRecord,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|t| {
            if t.cycles.contains_key(&record.cycle) {
                return false;
            }
            t.cycles.insert(record.cycle, record.clone());
            true
        }))
    }

    async fn mark_dispatched(&self, cycle: i64) -> Result<(), StoreError> {
        self.with(|t| {
            if let Some(c) = t.cycles.get_mut(&cycle) {
                c.dispatched = true;
            }
        });
        Ok(())
    }

    async fn cycle(&self, cycle: i64) -> Result<Option<CycleRecord>, StoreError> {
        Ok(self.with(|t| t.cycles.get(&cycle).cloned()))
    }

    async fn recent_cycles(&self, limit: usize) -> Result<Vec<CycleRecord>, StoreError> {
        Ok(self.with(|t| t.cycles.values().rev().take(limit).cloned().collect()))
    }

    async fn complete_shard(&self, cycle: i64, index: u32) -> Result<(), StoreError> {
        self.with(|t| {
            if let Some(c) = t.cycles.get_mut(&cycle) {
                c.done.insert(index);
            }
        });
        Ok(())
    }
}
