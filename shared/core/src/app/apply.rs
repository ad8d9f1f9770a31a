//! Apply definitions: validate files, store what changed, optionally prune the rest.

use crate::slo::load::{load, Problem, SourceFile, COMPOSITE_OF};
use crate::slo::message::count;
use crate::slo::model::SloDefinition;

use super::ports::{ApplyOutcome, DefinitionStore, StoreError};

/// What apply did (or, with --dry-run, would do) to one SLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated { version: u64 },
    Unchanged,
    Pruned,
}

/// How far `--prune` may go on its own: deleting more than this many SLOs, or every
/// stored SLO, needs an explicit `--yes` (a wrong folder must never wipe a fleet).
pub const PRUNE_WITHOUT_CONFIRMATION: usize = 3;

/// What the user asked `apply` to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Decide and report, store nothing.
    pub dry_run: bool,
    /// Delete stored SLOs the files no longer define.
    pub prune: bool,
    /// Allow a large prune (`--yes`).
    pub confirmed: bool,
}

/// Why apply stored nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    #[error("{} in the SLO files; nothing was applied", count(.0.len(), "problem"))]
    Invalid(Vec<Problem>),
    #[error("the files define no SLO; nothing was applied (is this the right folder?)")]
    NoSlos,
    #[error(
        "--prune would delete {} of the {}: {}; nothing was applied. \
         Check the files, or add --yes to delete them",
        .names.len(),
        count(*.stored, "stored SLO"),
        .names.join(", ")
    )]
    PruneRefused { names: Vec<String>, stored: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether deleting `deleting` of `stored` SLOs is large enough to need `--yes`.
pub fn prune_needs_confirmation(deleting: usize, stored: usize) -> bool {
    deleting > PRUNE_WITHOUT_CONFIRMATION || (deleting > 0 && deleting == stored)
}

/// Validate `files` and store their SLOs; `prune` deletes stored SLOs the files no longer define.
pub async fn apply<S: DefinitionStore>(
    store: &S,
    files: &[SourceFile],
    options: ApplyOptions,
) -> Result<Vec<(String, Change)>, ApplyError> {
    let ApplyOptions {
        dry_run,
        prune,
        confirmed,
    } = options;
    let slos = load(files).into_result().map_err(ApplyError::Invalid)?;
    if slos.is_empty() {
        return Err(ApplyError::NoSlos);
    }
    let stored = store.definitions().await?;
    check_composites(files, &slos, &stored)?;
    let doomed: Vec<String> = if prune {
        stored
            .iter()
            .filter(|d| !slos.iter().any(|s| s.name == d.name))
            .map(|d| d.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    // A dry run shows the list; a real run refuses a large prune before it stores anything.
    if !dry_run && !confirmed && prune_needs_confirmation(doomed.len(), stored.len()) {
        return Err(ApplyError::PruneRefused {
            names: doomed,
            stored: stored.len(),
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
            matches!(err, ApplyError::PruneRefused { ref names, stored: 1 } if names == &["checkout"])
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
