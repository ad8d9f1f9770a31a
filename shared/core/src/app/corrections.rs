//! Budget corrections: record one (a new correction, a new version of one, or its
//! withdrawal) and recompute the history it covers exactly as `backfill` does, never
//! notifying; and list them with every version, who recorded it and when.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::slo::correction::{self, Category, Correction, Scope, When};
use crate::slo::message::rfc3339;
use crate::slo::model::SloDefinition;

use super::backfill::{
    recompute, BackfillError, BackfillReport, BackfillRequest, RETENTION_MARGIN_SECONDS,
};
use super::ports::{BudgetStore, MetricSource, Notifier, StoreError};
use super::App;

/// What to record.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A new correction: scope, time and reason are required.
    Add,
    /// A new version of correction `id`: what is given replaces what it had.
    Update(String),
    /// A new version of `id` that withdraws it: its time counts again.
    Withdraw(String),
}

/// The fields of a correction as given (None: keep the current version's, or required).
#[derive(Debug, Clone, Default)]
pub struct CorrectionRequest {
    pub scope: Option<Scope>,
    pub when: Option<When>,
    pub category: Option<Category>,
    pub reason: Option<String>,
    /// The caller's identity, recorded with the version.
    pub by: String,
    /// The wall clock (epoch seconds): the version's time and the recompute's end.
    pub now: i64,
    /// Seconds between recomputed evaluation times (as `backfill --step`).
    pub step: i64,
}

/// What recording did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrectionOutcome {
    /// The version recorded.
    pub correction: Correction,
    /// The SLOs whose history was recomputed (the old version's and the new one's).
    pub slos: Vec<String>,
    /// The recomputed range, `[from, to)` as RFC 3339; None when it lies in the future.
    pub recomputed_from: Option<String>,
    pub recomputed_to: Option<String>,
    /// The recompute's figures (as `backfill` reports them).
    pub recompute: Option<BackfillReport>,
}

/// Why nothing was recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CorrectionError {
    #[error("{0} is required for a new correction")]
    Missing(&'static str),
    #[error("the correction's start {} is not before its end {}", rfc3339(*.start), rfc3339(*.end))]
    EmptyWindow { start: i64, end: i64 },
    #[error("--duration must be positive")]
    Duration,
    #[error("the reason is empty; say why the time does not count")]
    NoReason,
    #[error("no such SLO: {0} (apply it first)")]
    UnknownSlo(String),
    #[error("no stored SLO belongs to {0}")]
    NoSlo(String),
    #[error("no such correction: {0} (`sloguard corrections` lists them)")]
    UnknownId(String),
    #[error("correction {0} is withdrawn; add a new one instead")]
    Withdrawn(String),
    /// History is not kept that long: corrected time older than it could not be recomputed.
    #[error("the correction starts {}, older than history is kept (SLO_HISTORY_DAYS={days}): corrections can reach back to {}", rfc3339(*.start), rfc3339(*.oldest))]
    TooOld { start: i64, oldest: i64, days: i64 },
    #[error(
        "another change to correction {0} was recorded at the same time; list it and try again"
    )]
    Raced(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("recorded, but recomputing its history failed ({0}); `sloguard correct --update ID` with the same values recomputes it again")]
    Recompute(BackfillError),
}

/// Every version of one correction and whether it is in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrectionRecord {
    pub id: String,
    /// `active` or `withdrawn` (the newest version says).
    pub state: &'static str,
    /// The stored SLOs the newest version applies to.
    pub slos: Vec<String>,
    /// Oldest first.
    pub versions: Vec<Correction>,
}

/// The next free id (`corr-N`): short, so people can type it into `--update`.
fn next_id(all: &[Correction]) -> String {
    let n = all
        .iter()
        .filter_map(|c| c.id.strip_prefix("corr-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("corr-{}", n + 1)
}

fn covered(scope: &Scope, defs: &[SloDefinition]) -> Vec<String> {
    defs.iter()
        .filter(|d| scope.covers(d))
        .map(|d| d.name.clone())
        .collect()
}

fn check_when(when: &When) -> Result<(), CorrectionError> {
    match when {
        When::Window { start, end } if start >= end => Err(CorrectionError::EmptyWindow {
            start: *start,
            end: *end,
        }),
        When::Recurring { duration, .. } if *duration <= 0 => Err(CorrectionError::Duration),
        _ => Ok(()),
    }
}

async fn valid_definitions<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
) -> Result<Vec<SloDefinition>, StoreError> {
    Ok(app
        .store
        .definitions()
        .await?
        .into_iter()
        .filter_map(|d| d.definition.ok())
        .collect())
}

/// Record a correction version, then recompute the history of the SLOs it touches (the
/// old version's and the new one's) from its start to now, never notifying.
pub async fn record<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    action: &Action,
    req: CorrectionRequest,
    progress: impl Fn(usize, usize),
) -> Result<CorrectionOutcome, CorrectionError> {
    let all = app.store.corrections().await?;
    let defs = valid_definitions(app).await?;
    let current = |id: &str| -> Result<Correction, CorrectionError> {
        let newest = all
            .iter()
            .filter(|c| c.id == id)
            .max_by_key(|c| c.version)
            .cloned()
            .ok_or_else(|| CorrectionError::UnknownId(id.to_string()))?;
        if newest.withdrawn {
            return Err(CorrectionError::Withdrawn(id.to_string()));
        }
        Ok(newest)
    };
    let (old, new) = match action {
        Action::Add => {
            let new = Correction {
                id: next_id(&all),
                version: 1,
                scope: req
                    .scope
                    .ok_or(CorrectionError::Missing("--slo, --service or --team"))?,
                when: req
                    .when
                    .ok_or(CorrectionError::Missing("--from/--to or --rrule"))?,
                category: req.category.unwrap_or(Category::Other),
                reason: req.reason.ok_or(CorrectionError::Missing("--reason"))?,
                by: req.by,
                at: req.now,
                withdrawn: false,
            };
            (None, new)
        }
        Action::Update(id) | Action::Withdraw(id) => {
            let old = current(id)?;
            let new = Correction {
                id: old.id.clone(),
                version: old.version + 1,
                scope: req.scope.unwrap_or_else(|| old.scope.clone()),
                when: req.when.unwrap_or_else(|| old.when.clone()),
                category: req.category.unwrap_or(old.category),
                reason: req.reason.unwrap_or_else(|| old.reason.clone()),
                by: req.by,
                at: req.now,
                withdrawn: matches!(action, Action::Withdraw(_)),
            };
            (Some(old), new)
        }
    };
    if new.reason.trim().is_empty() {
        return Err(CorrectionError::NoReason);
    }
    check_when(&new.when)?;
    if let Scope::Slos { names } = &new.scope {
        if let Some(missing) = names
            .iter()
            .find(|n| !covered(&new.scope, &defs).contains(n))
        {
            return Err(CorrectionError::UnknownSlo(missing.clone()));
        }
    }
    let mut slos: BTreeSet<String> = covered(&new.scope, &defs).into_iter().collect();
    if slos.is_empty() && !new.withdrawn {
        return Err(CorrectionError::NoSlo(new.scope.to_string()));
    }
    let days = app.config.history_days;
    let oldest = req.now - days * 86_400 + RETENTION_MARGIN_SECONDS;
    let (start, end) = new.when.span();
    if !new.withdrawn && start < oldest && old.as_ref().is_none_or(|o| o.when != new.when) {
        return Err(CorrectionError::TooOld {
            start,
            oldest,
            days,
        });
    }
    if !app.store.add_correction(&new).await? {
        return Err(CorrectionError::Raced(new.id.clone()));
    }
    // The range both versions touch: from the earlier start to the later end plus the
    // longest window that still sees it (for ever, for a recurrence without end).
    let mut from = start;
    let mut last = end;
    if let Some(o) = &old {
        slos.extend(covered(&o.scope, &defs));
        let (s, e) = o.when.span();
        from = from.min(s);
        last = match (last, e) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    let touched: Vec<&SloDefinition> = defs.iter().filter(|d| slos.contains(&d.name)).collect();
    let from = from.max(oldest);
    let to = last.map_or(req.now, |l| {
        (l + correction::longest_reach(touched)).min(req.now)
    });
    let slos: Vec<String> = slos.into_iter().collect();
    let mut outcome = CorrectionOutcome {
        correction: new,
        slos: slos.clone(),
        recomputed_from: None,
        recomputed_to: None,
        recompute: None,
    };
    if from < to && !slos.is_empty() {
        let request = BackfillRequest {
            slos: Some(slos),
            from,
            to,
            step: req.step.max(60),
            now: req.now,
        };
        let report = recompute(app, &request, progress)
            .await
            .map_err(CorrectionError::Recompute)?;
        outcome.recomputed_from = Some(rfc3339(from));
        outcome.recomputed_to = Some(rfc3339(to));
        outcome.recompute = Some(report);
    }
    Ok(outcome)
}

/// Every correction with all its versions, oldest id first; with `slo`, only those whose
/// newest version applies to it.
pub async fn list<M: MetricSource, S: BudgetStore, N: Notifier>(
    app: &App<M, S, N>,
    slo: Option<&str>,
) -> Result<Vec<CorrectionRecord>, CorrectionError> {
    let all = app.store.corrections().await?;
    let defs = valid_definitions(app).await?;
    if let Some(name) = slo {
        if !defs.iter().any(|d| d.name == name) {
            return Err(CorrectionError::UnknownSlo(name.to_string()));
        }
    }
    let mut out: Vec<CorrectionRecord> = correction::by_id(&all)
        .into_iter()
        .filter_map(|(id, versions)| {
            let newest = versions.last()?;
            let slos = covered(&newest.scope, &defs);
            if slo.is_some_and(|n| !slos.iter().any(|s| s == n)) {
                return None;
            }
            Some(CorrectionRecord {
                id: id.to_string(),
                state: if newest.withdrawn {
                    "withdrawn"
                } else {
                    "active"
                },
                slos,
                versions: versions.into_iter().cloned().collect(),
            })
        })
        .collect();
    // corr-2 before corr-10.
    out.sort_by_key(|r| {
        (
            r.id.strip_prefix("corr-")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(u64::MAX),
            r.id.clone(),
        )
    });
    Ok(out)
}

#[cfg(test)]
#[path = "corrections_tests.rs"]
mod tests;
