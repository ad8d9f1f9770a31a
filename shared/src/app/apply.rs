//! Apply definitions: validate files, store what changed, optionally prune the rest.

use crate::slo::load::{load, Problem, SourceFile};
use crate::slo::model::SloDefinition;

use super::ports::{ApplyOutcome, BudgetStore, StoreError};

/// What apply did (or, with --dry-run, would do) to one SLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated { version: u64 },
    Unchanged,
    Pruned,
}

/// Why apply stored nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    #[error("{} problem(s) in the SLO files; nothing was applied", .0.len())]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validate `files` and store their SLOs; `prune` deletes stored SLOs the files no longer define.
pub async fn apply<S: BudgetStore>(
    store: &S,
    files: &[SourceFile],
    dry_run: bool,
    prune: bool,
) -> Result<Vec<(String, Change)>, ApplyError> {
    let slos = load(files).into_result().map_err(ApplyError::Invalid)?;
    let stored = store.definitions().await?;
    let mut out = Vec::new();
    for slo in &slos {
        let before = stored.iter().find(|d| d.name == slo.name);
        let change = match before {
            None => Change::Created,
            Some(d) if d.definition.as_ref().is_ok_and(|old| same(old, slo)) => Change::Unchanged,
            Some(d) => Change::Updated {
                version: d.version + 1,
            },
        };
        let change = if dry_run || change == Change::Unchanged {
            change
        } else {
            match store.put_definition(slo).await? {
                ApplyOutcome::Created => Change::Created,
                ApplyOutcome::Updated { version } => Change::Updated { version },
                ApplyOutcome::Unchanged => Change::Unchanged,
            }
        };
        out.push((slo.name.clone(), change));
    }
    if prune {
        for d in stored
            .iter()
            .filter(|d| !slos.iter().any(|s| s.name == d.name))
        {
            if !dry_run {
                store.delete_definition(&d.name).await?;
            }
            out.push((d.name.clone(), Change::Pruned));
        }
    }
    Ok(out)
}

/// Equal apart from where the file was: moving a file is not a change.
pub fn same(a: &SloDefinition, b: &SloDefinition) -> bool {
    let strip = |s: &SloDefinition| SloDefinition {
        file: String::new(),
        line: 0,
        ..s.clone()
    };
    strip(a) == strip(b)
}
