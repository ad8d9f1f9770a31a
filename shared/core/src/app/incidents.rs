//! Incidents for people: the stored records (`sloguard incidents`, the review) with the
//! changes recorded before each, and one incident with its history (`sloguard incident`).

use crate::slo::change::DEFAULT_LOOKBACK_SECONDS;
use crate::slo::incident::{parse_incident_id, IncidentFacts, IncidentRecord, CHART_MARGIN};
use crate::slo::model::SloDefinition;
use crate::slo::snapshot::Snapshot;

use super::changes::changes_of;
use super::ports::{
    ChangeStore, DefinitionStore, HistoryStore, IncidentStore, StoreError, FAR_FUTURE,
};

/// How long before a range an incident may have opened and still be listed in it (one
/// still open, or resolved within the range).
pub const OPEN_LOOKBACK: i64 = 30 * 86_400;

/// Why incidents could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IncidentError {
    #[error("`{0}` is not an incident id like checkout-availability@20261206T1015Z (`sloguard incidents` lists them)")]
    BadId(String),
    #[error("no incident `{0}` in the table (`sloguard incidents` lists them)")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The incidents open at any time in [since, now] (of `slo` only, when given), oldest
/// first, each with the changes before it.
pub async fn incidents<S: DefinitionStore + IncidentStore + ChangeStore + HistoryStore>(
    store: &S,
    slo: Option<&str>,
    since: i64,
    now: i64,
) -> Result<Vec<IncidentFacts>, StoreError> {
    let records: Vec<IncidentRecord> = store
        .incidents(since - OPEN_LOOKBACK, now)
        .await?
        .into_iter()
        .filter(|r| slo.is_none_or(|s| r.slo == s) && r.overlaps(since, now))
        .collect();
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let defs = definitions(store).await?;
    let mut out = Vec::new();
    for r in records {
        out.push(facts(store, &defs, r).await?);
    }
    Ok(out)
}

/// One incident by its id, with its history around it (for the chart).
pub async fn incident<S: DefinitionStore + IncidentStore + ChangeStore + HistoryStore>(
    store: &S,
    id: &str,
    now: i64,
) -> Result<(IncidentFacts, Vec<Snapshot>), IncidentError> {
    let (slo, at) = parse_incident_id(id).ok_or_else(|| IncidentError::BadId(id.to_string()))?;
    let record = store
        .incidents(at, at)
        .await?
        .into_iter()
        .find(|r| r.slo == slo)
        .ok_or_else(|| IncidentError::Unknown(id.to_string()))?;
    let defs = definitions(store).await?;
    let f = facts(store, &defs, record).await?;
    let r = &f.record;
    let history = store
        .history(
            &r.slo,
            r.burn_started_at - CHART_MARGIN,
            r.resolved_at.unwrap_or(now) + CHART_MARGIN,
        )
        .await?;
    Ok((f, history))
}

async fn definitions<S: DefinitionStore>(store: &S) -> Result<Vec<SloDefinition>, StoreError> {
    Ok(store
        .definitions()
        .await?
        .into_iter()
        .filter_map(|d| d.definition.ok())
        .collect())
}

/// The record with the changes before it and, while open, the budget left now.
async fn facts<S: IncidentStore + ChangeStore + HistoryStore>(
    store: &S,
    defs: &[SloDefinition],
    mut record: IncidentRecord,
) -> Result<IncidentFacts, StoreError> {
    let def = defs.iter().find(|d| d.name == record.slo);
    let lookback = def.map_or(DEFAULT_LOOKBACK_SECONDS, |d| d.settings.changes_lookback);
    let changes = match def {
        Some(d) => changes_of(
            store,
            d,
            record.burn_started_at - lookback,
            record.detected_at.max(record.opened_at),
        )
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(slo = %d.name, error = %e, "cannot read recorded changes; listed without them");
            Vec::new()
        }),
        None => Vec::new(),
    };
    if record.resolved_at.is_none() {
        let latest = store
            .latest_history(&record.slo, record.opened_at, FAR_FUTURE, 1)
            .await?;
        if let Some(b) = latest.last().and_then(|s| s.budget_remaining) {
            record.budget_at_end = Some(b);
        }
    }
    Ok(IncidentFacts {
        record,
        changes,
        changes_lookback: lookback,
    })
}

#[cfg(test)]
#[path = "incidents_tests.rs"]
mod tests;
