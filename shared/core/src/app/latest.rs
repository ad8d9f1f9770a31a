//! Each SLO's newest snapshot, read from history: the state item keeps only what
//! decisions need, so `status`, `gate` and the dashboard read the numbers here.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};

use super::ports::{HistoryStore, StateStore, StoreError, StoredState, FAR_FUTURE};
use crate::slo::snapshot::Snapshot;

/// History reads in flight at once (one Query of one item per SLO).
const CONCURRENT_READS: usize = 16;

/// The newest history snapshot of `slo`, if it was ever evaluated.
pub async fn latest_snapshot<S: HistoryStore>(
    store: &S,
    slo: &str,
) -> Result<Option<Snapshot>, StoreError> {
    Ok(store.latest_history(slo, 0, FAR_FUTURE, 1).await?.pop())
}

/// Every SLO's state with `latest` filled from history, as `status` and `gate` show it.
pub async fn states_with_latest<S: StateStore + HistoryStore>(
    store: &S,
) -> Result<HashMap<String, StoredState>, StoreError> {
    let states = store.states().await?;
    let filled: Vec<Result<(String, StoredState), StoreError>> = stream::iter(states)
        .map(|(name, mut state)| async move {
            state.latest = latest_snapshot(store, &name).await?;
            Ok((name, state))
        })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;
    filled.into_iter().collect()
}

/// Adds the SLOs among `names` that have no state but a snapshot: a past evaluation
/// (`evaluate --at`) records history and no state, yet people asking for the status
/// should see what it found; [`StoredState::is_history_only`] tells such rows apart.
pub async fn add_history_only<S: HistoryStore>(
    store: &S,
    names: &[String],
    states: &mut HashMap<String, StoredState>,
) -> Result<(), StoreError> {
    let missing: Vec<&String> = names.iter().filter(|n| !states.contains_key(*n)).collect();
    let found: Vec<Result<Option<(String, Snapshot)>, StoreError>> = stream::iter(missing)
        .map(|name| async move {
            Ok(latest_snapshot(store, name)
                .await?
                .map(|snap| (name.clone(), snap)))
        })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;
    for item in found {
        if let Some((name, snap)) = item? {
            let state = StoredState {
                latest: Some(snap),
                ..StoredState::default()
            };
            states.insert(name, state);
        }
    }
    Ok(())
}
