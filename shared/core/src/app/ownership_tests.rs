//! Ownership in `apply`: a team's prune never touches another team's SLOs, any deletion
//! needs --yes, another owner's SLO needs --take-over, and an objective's name never
//! silently replaces another SLO.

use super::*;
use crate::app::memory::MemoryStore;
use crate::app::ports::DefinitionStore;
use crate::slo::fixtures::checkout_yaml;

/// The checkout SLO renamed `name`, owned by `team` (a `team` label) or by no one.
fn slo(name: &str, team: Option<&str>) -> String {
    let labels = team.map_or(String::new(), |t| format!("  labels:\n    team: {t}\n"));
    checkout_yaml().replace("  name: checkout\n", &format!("  name: {name}\n{labels}"))
}

fn files(docs: &[String]) -> Vec<SourceFile> {
    docs.iter()
        .enumerate()
        .map(|(i, text)| SourceFile {
            name: format!("f{i}.yaml"),
            text: text.clone(),
        })
        .collect()
}

async fn stored(store: &MemoryStore) -> Vec<(String, Option<String>)> {
    let mut out: Vec<_> = store
        .definitions()
        .await
        .unwrap()
        .iter()
        .map(|d| (d.name.clone(), owner_of(d).map(str::to_string)))
        .collect();
    out.sort();
    out
}

fn opts() -> ApplyOptions<'static> {
    ApplyOptions::default()
}

/// Team A's three SLOs and team B's one, as the issue tried it.
async fn two_teams() -> (MemoryStore, Vec<SourceFile>, Vec<SourceFile>) {
    let store = MemoryStore::default();
    let a = files(&[
        slo("a1", Some("team-a")),
        slo("a2", Some("team-a")),
        slo("a3", Some("team-a")),
    ]);
    let b = files(&[slo("b1", None)]);
    apply(&store, &a, opts()).await.unwrap();
    let b_opts = ApplyOptions {
        owner: Some("team-b"),
        ..opts()
    };
    apply(&store, &b, b_opts).await.unwrap();
    (store, a, b)
}

#[tokio::test]
async fn a_teams_prune_never_touches_another_teams_slos() {
    let (store, a, b) = two_teams().await;
    let b_prune = ApplyOptions {
        owner: Some("team-b"),
        prune: true,
        confirmed: true,
        ..opts()
    };
    let changes = apply(&store, &b, b_prune).await.unwrap();
    assert_eq!(changes, vec![("b1".to_string(), Change::Unchanged)]);
    assert_eq!(
        stored(&store).await.len(),
        4,
        "team A's three are still there"
    );
    // Team A drops a3: its prune deletes a3 only, with --yes.
    let a_prune = ApplyOptions {
        prune: true,
        ..opts()
    };
    let err = apply(&store, &a[..2], a_prune).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "--prune would delete 1 of the 3 stored SLOs owned by team-a: a3; nothing was applied. \
         Check the files, or add --yes to delete them"
    );
    assert_eq!(
        stored(&store).await.len(),
        4,
        "nothing deleted without --yes"
    );
    let dry = ApplyOptions {
        dry_run: true,
        ..a_prune
    };
    let listed = apply(&store, &a[..2], dry).await.unwrap();
    assert!(listed.contains(&("a3".to_string(), Change::Pruned)));
    assert_eq!(stored(&store).await.len(), 4, "a dry run deletes nothing");
    let yes = ApplyOptions {
        confirmed: true,
        ..a_prune
    };
    let changes = apply(&store, &a[..2], yes).await.unwrap();
    assert_eq!(
        changes.iter().filter(|(_, c)| *c == Change::Pruned).count(),
        1
    );
    assert_eq!(
        stored(&store).await,
        vec![
            ("a1".to_string(), Some("team-a".to_string())),
            ("a2".to_string(), Some("team-a".to_string())),
            ("b1".to_string(), Some("team-b".to_string())),
        ]
    );
}

#[tokio::test]
async fn another_owners_slo_needs_take_over_which_is_recorded() {
    let (store, _, _) = two_teams().await;
    // Team B writes an SLO named a1 (team A's): refused, nothing stored.
    let b = files(&[slo("b2", Some("team-b")), slo("a1", Some("team-b"))]);
    let err = apply(&store, &b, opts()).await.unwrap_err();
    let ApplyError::NotOwner(refused) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0].to_string(),
        "f1.yaml:1: a1: owned by team-a; apply it from their files, or --take-over"
    );
    assert_eq!(
        stored(&store).await.len(),
        4,
        "nothing applied, not even b2"
    );
    // An apply that names no owner cannot update it either.
    let err = apply(&store, &files(&[slo("a1", None)]), opts())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("another owner's")
            && matches!(&err, ApplyError::NotOwner(r) if r[0].to_string().contains("these files name no owner")),
        "{err:?}"
    );
    let take = ApplyOptions {
        take_over: true,
        ..opts()
    };
    let changes = apply(&store, &b, take).await.unwrap();
    assert_eq!(
        changes,
        vec![
            ("b2".to_string(), Change::Created),
            (
                "a1".to_string(),
                Change::TakenOver {
                    from: Some("team-a".into()),
                    version: 2
                }
            ),
        ]
    );
    let a1 = stored(&store).await.into_iter().find(|(n, _)| n == "a1");
    assert_eq!(a1, Some(("a1".into(), Some("team-b".into()))));
    // Now team A's own apply is refused, and its prune leaves a1 alone.
    let err = apply(
        &store,
        &files(&[slo("a1", Some("team-a"))]),
        ApplyOptions {
            prune: true,
            confirmed: true,
            ..opts()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("another owner's"), "{err}");
}

#[tokio::test]
async fn an_unowned_slo_stays_manageable_and_is_claimed_only_with_take_over() {
    let store = MemoryStore::default();
    let legacy = files(&[slo("old", None), slo("older", None)]);
    apply(&store, &legacy, opts()).await.unwrap();
    // The apply that made them (no owner) updates and prunes them as before.
    let tighter = files(&[slo("old", None).replace("target: 0.999", "target: 0.99")]);
    let prune = ApplyOptions {
        prune: true,
        confirmed: true,
        ..opts()
    };
    let changes = apply(&store, &tighter, prune).await.unwrap();
    assert_eq!(
        changes,
        vec![
            ("old".to_string(), Change::Updated { version: 2 }),
            ("older".to_string(), Change::Pruned)
        ]
    );
    // A team claims it only with --take-over.
    let claimed = files(&[slo("old", Some("team-a")).replace("target: 0.999", "target: 0.99")]);
    let err = apply(&store, &claimed, opts()).await.unwrap_err();
    let ApplyError::NotOwner(r) = &err else {
        panic!("{err:?}")
    };
    assert!(
        r[0].to_string()
            .ends_with("old: stored without an owner; add --take-over to make it team-a's"),
        "{}",
        r[0]
    );
    let take = ApplyOptions {
        take_over: true,
        ..opts()
    };
    assert_eq!(
        apply(&store, &claimed, take).await.unwrap(),
        vec![(
            "old".to_string(),
            Change::TakenOver {
                from: None,
                version: 3
            }
        )]
    );
}

#[tokio::test]
async fn an_objectives_name_never_replaces_another_slo() {
    let store = MemoryStore::default();
    // `checkout` with objectives Fast and Slow makes checkout-fast and checkout-slow.
    let two = slo("checkout", Some("team-a")).replace(
        "  objectives:\n    - target: 0.999\n",
        "  objectives:\n    - displayName: Fast\n      target: 0.999\n    - displayName: Slow\n      target: 0.99\n",
    );
    let other = slo("checkout-fast", Some("team-b"));
    // In the same files: an error at its line, nothing stored.
    let err = apply(&store, &files(&[two.clone(), other.clone()]), opts())
        .await
        .unwrap_err();
    let ApplyError::Invalid(p) = &err else {
        panic!("{err:?}")
    };
    assert!(
        p[0].to_string()
            .starts_with("f1.yaml:1: metadata.name: `checkout-fast` names both"),
        "{}",
        p[0]
    );
    assert!(stored(&store).await.is_empty());
    // Already stored, from other files: each way round is an error at its line.
    apply(&store, &files(std::slice::from_ref(&other)), opts())
        .await
        .unwrap();
    let take = ApplyOptions {
        take_over: true,
        ..opts()
    };
    let err = apply(&store, &files(std::slice::from_ref(&two)), take)
        .await
        .unwrap_err();
    let ApplyError::Invalid(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        p[0].to_string(),
        "f0.yaml:1: metadata.name: `checkout-fast` is already stored as an SLO of its own \
         (owned by team-b); applying would replace it: give the objective of `checkout` \
         another displayName"
    );
    let store = MemoryStore::default();
    apply(&store, &files(&[two]), opts()).await.unwrap();
    let err = apply(&store, &files(&[other]), take).await.unwrap_err();
    let ApplyError::Invalid(p) = &err else {
        panic!("{err:?}")
    };
    assert!(
        p[0].to_string().contains(
            "`checkout-fast` is already stored as an objective of the SLO `checkout` (owned by team-a)"
        ),
        "{}",
        p[0]
    );
    assert_eq!(
        stored(&store).await.len(),
        2,
        "checkout's two objectives, untouched"
    );
}

#[tokio::test]
async fn owner_flag_fills_labels_gaps_and_a_different_label_is_an_error() {
    let store = MemoryStore::default();
    let f = files(&[slo("x", Some("team-a")), slo("y", None)]);
    let err = apply(
        &store,
        &f,
        ApplyOptions {
            owner: Some("team-b"),
            ..opts()
        },
    )
    .await
    .unwrap_err();
    let ApplyError::Invalid(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        p[0].to_string(),
        "f0.yaml:1: metadata.labels.team: `team-a` is not the --owner `team-b`: apply the files of each team on their own"
    );
    let err = apply(
        &store,
        &f,
        ApplyOptions {
            owner: Some("Team B"),
            ..opts()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApplyError::BadOwner(_)), "{err:?}");
    apply(
        &store,
        &f,
        ApplyOptions {
            owner: Some("team-a"),
            ..opts()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        stored(&store).await,
        vec![
            ("x".to_string(), Some("team-a".to_string())),
            ("y".to_string(), Some("team-a".to_string()))
        ]
    );
}

#[test]
fn the_owner_is_in_the_stored_form_and_old_items_read_back_unowned() {
    let load_one = |text: String| {
        load(&[SourceFile {
            name: "f.yaml".into(),
            text,
        }])
        .into_result()
        .unwrap()
        .remove(0)
    };
    // An SLO without an owner stores exactly what sloguard stored before owners existed.
    let unowned = load_one(slo("old", None));
    assert!(!unowned.to_stored().contains("\"owner\""));
    let back = SloDefinition::from_stored(&unowned.to_stored()).unwrap();
    assert_eq!(back.owner, None);
    let owned = load_one(slo("new", Some("team-a")));
    let back = SloDefinition::from_stored(&owned.to_stored()).unwrap();
    assert_eq!(back.owner.as_deref(), Some("team-a"));
    assert!(!same(
        &owned,
        &SloDefinition {
            owner: None,
            ..owned.clone()
        }
    ));
}
