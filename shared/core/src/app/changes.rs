//! Changes beside the burn, as use cases: record a deployment event for the SLOs whose
//! `sloguard.dev/changes` name its target (the alarm handler), and read back an SLO's
//! changes (messages, the report, `sloguard changes`).

use serde::Serialize;

use crate::slo::change::Change;
use crate::slo::message::rfc3339;
use crate::slo::model::SloDefinition;
use crate::slo::origin::AccountId;

use super::events::{ChangeEventError, Parsed};
use super::ports::{ChangeStore, DefinitionStore, StoreError};
use super::provenance::Refusal;

/// What the handler did with one deployment event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeOutcome {
    /// The target (`stack/shop-api`), when the event named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What happened (`UPDATE_COMPLETE`), for the handler's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// When it happened (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The SLOs that name the target.
    pub slos: Vec<String>,
    /// Stored now (false: not stored, or stored before from another delivery).
    pub recorded: bool,
    /// Delivered before: the same change is stored once.
    pub duplicate: bool,
    /// Why it was not recorded (not a change, no SLO names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// Why it was refused: its accounts or regions are malformed, disagree, or are not the
    /// stack's. Refused, not failed: a retry would not change the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Why a deployment event could not be handled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    BadEvent(#[from] ChangeEventError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

fn ignored(why: String) -> ChangeOutcome {
    ChangeOutcome {
        target: None,
        what: None,
        at: None,
        slos: Vec::new(),
        recorded: false,
        duplicate: false,
        ignored: Some(why),
        refused: None,
    }
}

fn refused(refusal: Refusal) -> ChangeOutcome {
    let why = format!("deployment event {refusal}; not recorded");
    tracing::warn!(reason = %why, "deployment event refused");
    ChangeOutcome {
        ignored: None,
        refused: Some(why),
        ..ignored(String::new())
    }
}

/// Record one deployment event for the SLOs that name its target, kept `days` days.
/// `account`: the stack's own; an event must name it (or, where it is unknown, name one
/// account consistently), or it is refused.
pub async fn record_change_event<S: DefinitionStore + ChangeStore>(
    store: &S,
    event: &Parsed,
    days: i64,
    account: Option<&AccountId>,
) -> Result<ChangeOutcome, ChangeError> {
    let change = match event {
        Parsed::Change(c) => c.clone(),
        Parsed::Ignored(why) => return Ok(ignored(why.clone())),
        Parsed::Refused(r) => return Ok(refused(r.clone())),
    };
    if let (Some(ours), Some(theirs)) = (account, &change.account) {
        if ours != theirs {
            return Ok(refused(Refusal::OtherAccount {
                theirs: theirs.clone(),
                ours: ours.clone(),
            }));
        }
    }
    let slos: Vec<String> = store
        .definitions()
        .await?
        .into_iter()
        .filter_map(|d| d.definition.ok())
        .filter(|d| d.settings.changes.contains(&change.target))
        .map(|d| d.name)
        .collect();
    let mut out = ChangeOutcome {
        target: Some(change.target.clone()),
        what: Some(change.what.clone()),
        at: Some(rfc3339(change.at)),
        slos,
        recorded: false,
        duplicate: false,
        ignored: None,
        refused: None,
    };
    if out.slos.is_empty() {
        out.ignored = Some(format!(
            "no SLO names {} in sloguard.dev/changes",
            change.target
        ));
        return Ok(out);
    }
    out.recorded = store
        .record_change(&change, change.at + days * 86_400)
        .await?;
    out.duplicate = !out.recorded;
    Ok(out)
}

/// The changes of every target `slo` names with times in [since, until], newest first.
pub async fn changes_of<S: ChangeStore>(
    store: &S,
    slo: &SloDefinition,
    since: i64,
    until: i64,
) -> Result<Vec<Change>, StoreError> {
    let mut all = Vec::new();
    for t in &slo.settings.changes {
        all.extend(store.changes(t, since, until).await?);
    }
    all.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.target.cmp(&b.target)));
    Ok(all)
}

/// The changes a message about events at `references` may list (each reference's lookback).
/// A read that fails is logged and leaves the list empty: a page never waits on it.
pub async fn for_messages<S: ChangeStore>(
    store: &S,
    slo: &SloDefinition,
    references: impl Iterator<Item = i64>,
) -> Vec<Change> {
    let refs: Vec<i64> = references.collect();
    let (Some(from), Some(to)) = (refs.iter().min(), refs.iter().max()) else {
        return Vec::new();
    };
    if slo.settings.changes.is_empty() {
        return Vec::new();
    }
    changes_of(store, slo, from - slo.settings.changes_lookback, *to)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(slo = %slo.name, error = %e, "cannot read recorded changes; the message goes without them");
            Vec::new()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ports::DefinitionStore;

    /// examples/events/change-cloudformation-update-complete.json, as read.
    fn fixture() -> Parsed {
        Parsed::Change(Change {
            target: "stack/shop-api".into(),
            kind: crate::slo::change::ChangeKind::Stack,
            at: 1_764_237_600,
            what: "UPDATE_COMPLETE".into(),
            link: crate::slo::change::stack_link(
                "eu-west-1",
                "arn:aws:cloudformation:eu-west-1:111122223333:stack/shop-api/1",
            ),
            region: "eu-west-1".into(),
            account: Some("111122223333".parse().unwrap()),
            id: "UPDATE_COMPLETE".into(),
        })
    }

    use crate::app::memory::store_naming_changes as store_with;

    #[tokio::test]
    async fn a_change_is_recorded_once_for_the_slos_that_name_it() {
        let store = store_with("stack/shop-api, lambda/other").await;
        let home: AccountId = "111122223333".parse().unwrap();
        let first = record_change_event(&store, &fixture(), 90, Some(&home))
            .await
            .unwrap();
        assert!(first.recorded && !first.duplicate, "{first:?}");
        assert_eq!(first.target.as_deref(), Some("stack/shop-api"));
        assert_eq!(first.slos.len(), 1);
        let again = record_change_event(&store, &fixture(), 90, Some(&home))
            .await
            .unwrap();
        assert!(!again.recorded && again.duplicate, "{again:?}");
        let slo = store
            .definitions()
            .await
            .unwrap()
            .remove(0)
            .definition
            .unwrap();
        let got = changes_of(&store, &slo, 0, i64::MAX / 2).await.unwrap();
        assert_eq!(got.len(), 1);
    }

    #[tokio::test]
    async fn changes_nobody_names_or_of_another_account_are_not_recorded() {
        let store = store_with("stack/other-api").await;
        let out = record_change_event(&store, &fixture(), 90, None)
            .await
            .unwrap();
        assert!(!out.recorded);
        assert!(out.ignored.unwrap().contains("no SLO names stack/shop-api"));
        let store = store_with("stack/shop-api").await;
        let other: AccountId = "999999999999".parse().unwrap();
        let out = record_change_event(&store, &fixture(), 90, Some(&other))
            .await
            .unwrap();
        assert!(!out.recorded && out.ignored.is_none(), "{out:?}");
        assert_eq!(
            out.refused.as_deref(),
            Some("deployment event of account 111122223333; this handler serves 999999999999; not recorded")
        );
    }
}
