//! Apply definitions: validate files, store what changed, optionally prune the rest of the
//! files' owners' SLOs. An SLO another owner holds is never updated or pruned without
//! `--take-over`.

use std::collections::{BTreeSet, HashMap};

use crate::slo::load::{check_name, load, Problem, SourceFile, COMPOSITE_OF, TEAM_LABEL};
use crate::slo::message::count;
use crate::slo::model::SloDefinition;

use super::ports::{ApplyOutcome, DefinitionStore, StoreError, StoredDefinition};

/// What apply did (or, with --dry-run, would do) to one SLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated {
        version: u64,
    },
    /// Updated, and now owned by the files' owner instead of `from` (`--take-over`; None:
    /// it had no owner).
    TakenOver {
        from: Option<String>,
        version: u64,
    },
    Unchanged,
    Pruned,
}

/// What the user asked `apply` to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions<'a> {
    /// Decide and report, store nothing.
    pub dry_run: bool,
    /// Delete stored SLOs of the files' owners that the files no longer define.
    pub prune: bool,
    /// Allow the prune's deletions (`--yes`): without it a prune that would delete
    /// anything stores nothing.
    pub confirmed: bool,
    /// The owner of the SLOs that have no `team` label (`--owner`).
    pub owner: Option<&'a str>,
    /// Update SLOs another owner holds, making them the files' owner's (`--take-over`).
    pub take_over: bool,
}

/// An SLO the files would update although another owner holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub file: String,
    pub line: usize,
    pub slo: String,
    /// Who owns the stored SLO (None: nobody).
    pub owner: Option<String>,
    /// Who the files say owns it (None: they name no owner).
    pub claimed_by: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}: ", self.file, self.line, self.slo)?;
        match (&self.owner, &self.claimed_by) {
            (Some(o), Some(_)) => {
                write!(f, "owned by {o}; apply it from their files, or --take-over")
            }
            (Some(o), None) => write!(
                f,
                "owned by {o}; apply it from their files, or --take-over \
                 (these files name no owner: set metadata.labels.team or --owner)"
            ),
            (None, Some(c)) => write!(
                f,
                "stored without an owner; add --take-over to make it {c}'s"
            ),
            (None, None) => write!(f, "stored without an owner"),
        }
    }
}

/// Why apply stored nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    #[error("{} in the SLO files; nothing was applied", count(.0.len(), "problem"))]
    Invalid(Vec<Problem>),
    #[error("the files define no SLO; nothing was applied (is this the right folder?)")]
    NoSlos,
    #[error("--owner: {0}")]
    BadOwner(String),
    #[error(
        "{} another owner's; nothing was applied",
        if .0.len() == 1 { "1 SLO is".to_string() } else { format!("{} SLOs are", .0.len()) }
    )]
    NotOwner(Vec<Refusal>),
    #[error(
        "--prune would delete {} of the {}{}: {}; nothing was applied. \
         Check the files, or add --yes to delete them",
        .names.len(),
        count(*.stored, "stored SLO"),
        scope(.owners),
        .names.join(", ")
    )]
    PruneRefused {
        names: Vec<String>,
        /// Stored SLOs of the files' owners (the prune's scope).
        stored: usize,
        /// The files' owners (None: the SLOs without an owner).
        owners: Vec<Option<String>>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// ` owned by team-a or team-b`, ` without an owner`: whose SLOs a prune may delete.
pub fn scope(owners: &[Option<String>]) -> String {
    let named: Vec<&str> = owners.iter().flatten().map(String::as_str).collect();
    let unowned = owners.iter().any(Option::is_none);
    match (named.is_empty(), unowned) {
        (true, _) => " without an owner".into(),
        (false, false) => format!(" owned by {}", named.join(" or ")),
        (false, true) => format!(" owned by {} or without an owner", named.join(" or ")),
    }
}

/// Who owns a stored SLO; an unreadable definition counts as unowned.
pub fn owner_of(d: &StoredDefinition) -> Option<&str> {
    d.definition.as_ref().ok().and_then(|x| x.owner.as_deref())
}

/// Validate `files` and store their SLOs; `prune` deletes stored SLOs of the files' owners
/// that the files no longer define. Nothing is stored when anything is refused.
pub async fn apply<S: DefinitionStore>(
    store: &S,
    files: &[SourceFile],
    options: ApplyOptions<'_>,
) -> Result<Vec<(String, Change)>, ApplyError> {
    let ApplyOptions {
        dry_run,
        prune,
        confirmed,
        owner,
        take_over,
    } = options;
    if let Some(o) = owner {
        check_name(o).map_err(ApplyError::BadOwner)?;
    }
    let mut slos = load(files).into_result().map_err(ApplyError::Invalid)?;
    if slos.is_empty() {
        return Err(ApplyError::NoSlos);
    }
    let mut problems = with_owner(&mut slos, owner);
    let stored = store.definitions().await?;
    check_composites(files, &slos, &stored)?;
    problems.extend(slos.iter().filter_map(|s| collision(s, &stored)));
    if !problems.is_empty() {
        return Err(ApplyError::Invalid(problems));
    }
    // Who held each SLO this apply takes over; any other owner's SLO is refused.
    let mut taken: HashMap<&str, Option<String>> = HashMap::new();
    let mut refused = Vec::new();
    for slo in &slos {
        let Some(d) = stored.iter().find(|d| d.name == slo.name) else {
            continue;
        };
        let held_by = owner_of(d);
        if held_by == slo.owner.as_deref() {
            continue;
        }
        if take_over {
            taken.insert(&slo.name, held_by.map(str::to_string));
        } else {
            refused.push(Refusal {
                file: slo.file.clone(),
                line: slo.line,
                slo: slo.name.clone(),
                owner: held_by.map(str::to_string),
                claimed_by: slo.owner.clone(),
            });
        }
    }
    if !refused.is_empty() {
        return Err(ApplyError::NotOwner(refused));
    }
    let owners: BTreeSet<Option<&str>> = slos.iter().map(|s| s.owner.as_deref()).collect();
    let (doomed, in_scope): (Vec<String>, usize) = if prune {
        let scoped: Vec<&StoredDefinition> = stored
            .iter()
            .filter(|d| owners.contains(&owner_of(d)))
            .collect();
        let doomed = scoped
            .iter()
            .filter(|d| !slos.iter().any(|s| s.name == d.name))
            .map(|d| d.name.clone())
            .collect();
        (doomed, scoped.len())
    } else {
        (Vec::new(), 0)
    };
    // Any deletion needs --yes; a dry run shows the list, a real run refuses before it
    // stores anything.
    if !dry_run && !confirmed && !doomed.is_empty() {
        return Err(ApplyError::PruneRefused {
            names: doomed,
            stored: in_scope,
            owners: owners.into_iter().map(|o| o.map(str::to_string)).collect(),
        });
    }
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
        let change = match (change, taken.remove(slo.name.as_str())) {
            (Change::Updated { version }, Some(from)) => Change::TakenOver { from, version },
            (change, _) => change,
        };
        out.push((slo.name.clone(), change));
    }
    for name in doomed {
        if !dry_run {
            store.delete_definition(&name).await?;
        }
        out.push((name, Change::Pruned));
    }
    Ok(out)
}

/// Composites in the files resolved against the stored SLOs (those in the files taking their
/// place): a cycle, or a part that counts its budget another way, is refused at its line. A
/// part not applied yet is fine here; the composite fails alone until it is.
fn check_composites(
    files: &[SourceFile],
    slos: &[SloDefinition],
    stored: &[super::ports::StoredDefinition],
) -> Result<(), ApplyError> {
    use crate::slo::composite::{resolve, ResolveError};
    let mut all: std::collections::HashMap<&str, &SloDefinition> = stored
        .iter()
        .filter_map(|d| d.definition.as_ref().ok())
        .map(|d| (d.name.as_str(), d))
        .collect();
    all.extend(slos.iter().map(|s| (s.name.as_str(), s)));
    let problems: Vec<Problem> = slos
        .iter()
        .filter_map(|s| match resolve(s, &all) {
            Ok(_) | Err(ResolveError::Unknown(_)) => None,
            Err(e) => Some(Problem {
                file: s.file.clone(),
                line: composite_of_line(files, s),
                path: format!("metadata.annotations.{COMPOSITE_OF}"),
                message: e.to_string(),
            }),
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::Invalid(problems))
    }
}

/// The line of `slo`'s `sloguard.dev/composite-of` in its file (its document's line if none).
fn composite_of_line(files: &[SourceFile], slo: &SloDefinition) -> usize {
    files
        .iter()
        .filter(|f| f.name == slo.file)
        .filter_map(|f| {
            crate::slo::yaml::parse(f.text.strip_prefix('\u{feff}').unwrap_or(&f.text)).ok()
        })
        .flatten()
        .flat_map(|d| match d.value {
            crate::slo::yaml::Value::Seq(items) => items,
            _ => vec![d],
        })
        .find(|d| d.line == slo.line)
        .and_then(|d| {
            d.get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(|a| a.get(COMPOSITE_OF))
                .map(|n| n.line)
        })
        .unwrap_or(slo.line)
}

/// Give the SLOs without a `team` label the `--owner`; a label that names another team
/// than `--owner` is a problem at the SLO's line.
fn with_owner(slos: &mut [SloDefinition], owner: Option<&str>) -> Vec<Problem> {
    let Some(owner) = owner else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for slo in slos {
        match &slo.owner {
            None => slo.owner = Some(owner.to_string()),
            Some(team) if team == owner => {}
            Some(team) => problems.push(Problem {
                file: slo.file.clone(),
                line: slo.line,
                path: format!("metadata.labels.{TEAM_LABEL}"),
                message: format!(
                    "`{team}` is not the --owner `{owner}`: apply the files of each team on their own"
                ),
            }),
        }
    }
    problems
}

/// `slo`'s name already stored for another definition: an objective's `NAME-OBJECTIVE` that
/// is a stored SLO of its own, or the reverse. Applying would overwrite one with the other.
fn collision(slo: &SloDefinition, stored: &[StoredDefinition]) -> Option<Problem> {
    let d = stored.iter().find(|d| d.name == slo.name)?;
    let old = d.definition.as_ref().ok()?;
    if old.parent == slo.parent {
        return None;
    }
    let whose = old
        .owner
        .as_deref()
        .map_or("without an owner".to_string(), |o| format!("owned by {o}"));
    let stored_as = match &old.parent {
        Some(p) => format!("an objective of the SLO `{p}`"),
        None => "an SLO of its own".to_string(),
    };
    let fix = match &slo.parent {
        Some(p) => format!("give the objective of `{p}` another displayName"),
        None => "rename this SLO".to_string(),
    };
    Some(Problem {
        file: slo.file.clone(),
        line: slo.line,
        path: "metadata.name".into(),
        message: format!(
            "`{}` is already stored as {stored_as} ({whose}); applying would replace it: {fix}",
            slo.name
        ),
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cycle::tests::checkout_yaml;
    use crate::app::memory::MemoryStore;
    use crate::app::ports::DefinitionStore;

    fn files(yaml: &str) -> Vec<SourceFile> {
        vec![SourceFile {
            name: "f.yaml".into(),
            text: yaml.into(),
        }]
    }

    #[tokio::test]
    async fn create_unchanged_update_and_a_guarded_prune() {
        let store = MemoryStore::default();
        let yaml = checkout_yaml();
        let opts = ApplyOptions::default();
        let changes = apply(&store, &files(&yaml), opts).await.unwrap();
        assert_eq!(changes, vec![("checkout".to_string(), Change::Created)]);
        let changes = apply(&store, &files(&yaml), opts).await.unwrap();
        assert_eq!(changes, vec![("checkout".to_string(), Change::Unchanged)]);
        let tighter = yaml.replace("target: 0.999", "target: 0.9995");
        let changes = apply(&store, &files(&tighter), opts).await.unwrap();
        assert_eq!(
            changes,
            vec![("checkout".to_string(), Change::Updated { version: 2 })]
        );
        // Replacing the only stored SLO by another deletes every stored SLO: refused.
        let other = yaml.replace("name: checkout", "name: payments");
        let prune = ApplyOptions {
            prune: true,
            ..opts
        };
        let err = apply(&store, &files(&other), prune).await.unwrap_err();
        assert!(
            matches!(err, ApplyError::PruneRefused { ref names, stored: 1, .. } if names == &["checkout"])
        );
        assert_eq!(
            store.definitions().await.unwrap().len(),
            1,
            "nothing applied"
        );
        let changes = apply(
            &store,
            &files(&other),
            ApplyOptions {
                confirmed: true,
                ..prune
            },
        )
        .await
        .unwrap();
        assert!(changes.contains(&("checkout".to_string(), Change::Pruned)));
        assert_eq!(store.definitions().await.unwrap().len(), 1);
        assert_eq!(
            apply(
                &store,
                &files("apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: x\nspec: {}\n"),
                opts
            )
            .await,
            Err(ApplyError::NoSlos)
        );
    }

    /// Every SLO file of examples/slos, examples/application-signals and the OpenSLO
    /// corpus in testdata/openslo (read at test time, so a new file is covered), plus the
    /// file of two SLOs (Occurrences and Timeslices) whose targets are divisions.
    fn examples_and_a_two_document_file() -> Vec<SourceFile> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let dirs = [
            "examples/slos",
            "examples/application-signals",
            "shared/core/testdata/openslo",
        ];
        let mut out: Vec<SourceFile> = dirs
            .iter()
            .flat_map(|d| std::fs::read_dir(format!("{root}/{d}")).expect("the folder exists"))
            .map(|e| e.expect("readable entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .map(|path| SourceFile {
                name: path.display().to_string(),
                text: std::fs::read_to_string(&path).expect("readable example"),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.push(SourceFile {
            name: "two.yaml".into(),
            text: include_str!("../../../../testing/fixtures/two-slos.yaml").into(),
        });
        out
    }

    #[test]
    fn a_definition_reads_back_from_its_stored_form_bit_for_bit() {
        let slos = load(&examples_and_a_two_document_file())
            .into_result()
            .unwrap();
        // 4 in examples/slos, 1 in application-signals, 14 in the corpus, 2 in two-slos.yaml.
        assert!(slos.len() >= 21, "{} SLOs", slos.len());
        for slo in &slos {
            let back = SloDefinition::from_stored(&slo.to_stored()).unwrap();
            assert!(
                same(slo, &back),
                "{} changes in its JSON round trip",
                slo.name
            );
            assert_eq!(back.to_stored(), slo.to_stored(), "{}", slo.name);
        }
    }

    #[tokio::test]
    async fn applying_every_example_twice_changes_nothing_the_second_time() {
        let store = MemoryStore::default();
        let files = examples_and_a_two_document_file();
        let opts = ApplyOptions::default();
        let first = apply(&store, &files, opts).await.unwrap();
        assert!(
            first.iter().all(|(_, c)| *c == Change::Created),
            "{first:?}"
        );
        for options in [
            ApplyOptions {
                dry_run: true,
                ..opts
            },
            opts,
            opts,
        ] {
            let again = apply(&store, &files, options).await.unwrap();
            assert_eq!(again.len(), first.len());
            assert!(
                again.iter().all(|(_, c)| *c == Change::Unchanged),
                "{again:?}"
            );
        }
        assert!(store
            .definitions()
            .await
            .unwrap()
            .iter()
            .all(|d| d.version == 1));
    }

    proptest::proptest! {
        /// Any target and threshold survives the stored form exactly, not only the examples'.
        #[test]
        fn floats_survive_the_stored_form(target in 0.0f64..1.0, threshold in 0.0f64..1e6) {
            let mut slo = load(&files(&checkout_yaml())).into_result().unwrap().remove(0);
            slo.objective.target = target;
            slo.conditions[0].threshold = threshold;
            let back = SloDefinition::from_stored(&slo.to_stored()).unwrap();
            proptest::prop_assert_eq!(back.objective.target.to_bits(), target.to_bits());
            proptest::prop_assert_eq!(back.conditions[0].threshold.to_bits(), threshold.to_bits());
        }
    }
}

#[cfg(test)]
#[path = "ownership_tests.rs"]
mod ownership_tests;
