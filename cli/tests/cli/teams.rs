//! Several teams on one table: each owns its SLOs (metadata.labels.team or apply --owner),
//! a team's prune never touches another's, deletions need --yes, another team's SLO needs
//! --take-over, an objective's name never replaces another SLO, and every reader takes
//! --team and --service.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;
use sloguard_testing::emulator::{self, Moto};

use super::{root, scratch, sloguard, text};

/// The checkout example renamed `name`, of `service`, owned by `team` (a label) or no one.
fn slo(name: &str, service: &str, team: Option<&str>) -> String {
    let example =
        std::fs::read_to_string(root().join("examples/slos/checkout-availability.yaml")).unwrap();
    let labels = team.map_or(String::new(), |t| format!("  labels:\n    team: {t}\n"));
    example
        .replace(
            "  name: checkout-availability\n",
            &format!("  name: {name}\n{labels}"),
        )
        .replace("service: webshop", &format!("service: {service}"))
}

/// A folder holding one file per (name, service, team).
fn folder(label: &str, slos: &[(&str, &str, Option<&str>)]) -> PathBuf {
    let dir = scratch(label);
    for (name, service, team) in slos {
        std::fs::write(dir.join(format!("{name}.yaml")), slo(name, service, *team)).unwrap();
    }
    dir
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The stored SLOs and their owners, from `status --json`.
fn owners(moto: &Moto) -> Vec<(String, Value)> {
    let out = sloguard(Some(moto), &["status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut o: Vec<(String, Value)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["slo"].as_str().unwrap().to_string(), s["owner"].clone()))
        .collect();
    o.sort_by(|a, b| a.0.cmp(&b.0));
    o
}

#[tokio::test]
async fn a_teams_prune_never_touches_another_teams_slos_and_any_deletion_needs_yes() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    // The fleet: team A's three SLOs (labels), team B's one (--owner).
    let a = folder(
        "team-a",
        &[
            ("a-one", "shop", Some("team-a")),
            ("a-two", "shop", Some("team-a")),
            ("a-three", "search", Some("team-a")),
        ],
    );
    let b = folder("team-b", &[("b-one", "shop", None)]);
    assert!(sloguard(Some(&moto), &["apply", p(&a)]).status.success());
    let out = sloguard(Some(&moto), &["apply", p(&b), "--owner", "team-b"]);
    assert!(out.status.success(), "{}", text(&out));
    // Team B prunes from its own folder: team A's SLOs are out of its reach.
    let out = sloguard(
        Some(&moto),
        &["apply", p(&b), "--owner", "team-b", "--prune", "--yes"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(text(&out).trim(), "b-one: unchanged");
    assert_eq!(owners(&moto).len(), 4);
    // Team A drops a-three: the prune lists it, exits 1 and deletes nothing without --yes.
    std::fs::remove_file(a.join("a-three.yaml"))?;
    let out = sloguard(Some(&moto), &["apply", p(&a), "--prune"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("a-three: would be deleted"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains(
            "--prune would delete 1 of the 3 stored SLOs owned by team-a; nothing was applied"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(owners(&moto).len(), 4);
    let out = sloguard(Some(&moto), &["apply", p(&a), "--prune", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("a-three: deleted"), "{}", text(&out));
    let o = owners(&moto);
    assert_eq!(
        o.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["a-one", "a-two", "b-one"]
    );
    assert_eq!(o[0].1, "team-a");
    assert_eq!(o[2].1, "team-b");
    Ok(())
}

#[tokio::test]
async fn take_over_is_refused_then_recorded_and_objective_names_never_collide() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    // Team A's `checkout` with objectives Fast and Slow: checkout-fast and checkout-slow.
    let a = scratch("collide-a");
    std::fs::write(
        a.join("checkout.yaml"),
        slo("checkout", "shop", Some("team-a")).replace(
            "  objectives:\n    - target: 0.999\n",
            "  objectives:\n    - displayName: Fast\n      target: 0.999\n    - displayName: Slow\n      target: 0.99\n",
        ),
    )?;
    let original = std::fs::read_to_string(a.join("checkout.yaml"))?;
    assert!(original.contains("displayName: Fast"), "{original}");
    let b = folder("collide-b", &[("checkout-fast", "shop", Some("team-b"))]);
    let out = sloguard(Some(&moto), &["apply", p(&a)]);
    assert!(
        text(&out).contains("checkout-fast: created"),
        "{}",
        text(&out)
    );
    // Team B's own checkout-fast is an error at its line, even with --take-over.
    let out = sloguard(Some(&moto), &["apply", p(&b), "--take-over"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let file = b.join("checkout-fast.yaml");
    assert!(
        text(&out).contains(&format!(
            "{}:3: metadata.name: `checkout-fast` is already stored as an objective of the SLO `checkout` (owned by team-a)",
            file.display()
        )),
        "{}",
        text(&out)
    );
    // In the same files, the loader says so too.
    let out = sloguard(Some(&moto), &["validate", p(&a), p(&b)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("names both an SLO and an objective of another"));

    // Team B applies a file naming team A's SLO: refused, nothing stored.
    let mine = folder(
        "take-b",
        &[
            ("b-new", "shop", Some("team-b")),
            ("a-owned", "shop", Some("team-b")),
        ],
    );
    let theirs = folder("take-a", &[("a-owned", "shop", Some("team-a"))]);
    assert!(sloguard(Some(&moto), &["apply", p(&theirs)])
        .status
        .success());
    let out = sloguard(Some(&moto), &["apply", p(&mine)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("a-owned: owned by team-a; apply it from their files, or --take-over"),
        "{}",
        text(&out)
    );
    assert!(!owners(&moto).iter().any(|(n, _)| n == "b-new"));
    let out = sloguard(Some(&moto), &["apply", p(&mine), "--take-over"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("a-owned: taken over from team team-a (version 2)"),
        "{}",
        text(&out)
    );
    // The DEF item records the owner and the take-over.
    let sdk = moto.sdk_config("eu-west-1").await;
    let item = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name("cli-test")
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("DEF".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("a-owned".into()),
        )
        .send()
        .await?
        .item
        .unwrap();
    let attr = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(attr("owner").as_deref(), Some("team-b"));
    assert_eq!(attr("previous_owner").as_deref(), Some("team-a"));
    assert!(attr("owner_changed_at").is_some());
    // Team A's apply of its old file is now refused.
    let out = sloguard(Some(&moto), &["apply", p(&theirs)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    Ok(())
}

#[tokio::test]
async fn every_reader_shows_a_team_its_own() -> Result<()> {
    let moto = Moto::start(&emulator::find_moto(None)?)?;
    assert!(sloguard(Some(&moto), &["init"]).status.success());
    let fleet = folder(
        "readers",
        &[
            ("pay-api", "payments", Some("team-pay")),
            ("pay-web", "shop", Some("team-pay")),
            ("search-api", "search", Some("team-search")),
        ],
    );
    assert!(sloguard(Some(&moto), &["apply", p(&fleet)])
        .status
        .success());
    let names = |args: &[&str]| -> Vec<String> {
        let out = sloguard(Some(&moto), args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["slo"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n.dedup();
        n
    };
    assert_eq!(
        names(&["status", "--json", "--team", "team-pay"]),
        ["pay-api", "pay-web"]
    );
    assert_eq!(
        names(&[
            "status",
            "--json",
            "--team",
            "team-pay",
            "--service",
            "shop"
        ]),
        ["pay-web"]
    );
    assert_eq!(
        names(&["status", "--json", "--service", "shop"]),
        ["pay-web"]
    );
    // Never evaluated: the gate fails (exit 3), and judges only the team's (or service's) SLOs.
    for args in [
        &["gate", "--json", "--team", "team-search"][..],
        &["gate", "--json", "--service", "search"],
    ] {
        let out = sloguard(Some(&moto), args);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        let v: Value = serde_json::from_slice(&out.stdout)?;
        assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
        assert_eq!(v[0]["slo"], "search-api");
    }
    // The table names each SLO's team.
    let human = text(&sloguard(Some(&moto), &["status", "--team", "team-search"]));
    assert!(human.starts_with("SLO         TEAM"), "{human}");
    assert!(
        human.contains("search-api  team-search  no_data"),
        "{human}"
    );
    assert!(!human.contains("pay-api"), "{human}");

    // history of each of a team's SLOs (none evaluated: no history, but each is named).
    let out = sloguard(Some(&moto), &["history", "--team", "team-pay"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        t.contains("== pay-api\n") && t.contains("== pay-web\n"),
        "{t}"
    );
    assert!(!t.contains("search-api"), "{t}");
    let out = sloguard(
        Some(&moto),
        &["history", "search-api", "--team", "team-pay"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`search-api` is not an SLO of team team-pay"),
        "{}",
        text(&out)
    );

    // report and review of one team.
    let html = scratch("team-report").join("r.html");
    let out = sloguard(
        Some(&moto),
        &["report", "--team", "team-search", "--out", p(&html)],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("(1 SLO,"), "{}", text(&out));
    let page = std::fs::read_to_string(&html)?;
    assert!(page.contains("search-api") && !page.contains("pay-api"));
    let out = sloguard(Some(&moto), &["review", "--team", "team-pay"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("pay-api") && !t.contains("search-api"), "{t}");

    // An unknown team or service is a usage error naming those there are, on every reader.
    let out_html = scratch("team-report-x").join("r.html");
    for args in [
        &["status", "--team", "team-x"][..],
        &["history", "--team", "team-x"],
        &["report", "--team", "team-x", "--out", p(&out_html)],
        &["review", "--team", "team-x"],
        &["gate", "--team", "team-x"],
    ] {
        let out = sloguard(Some(&moto), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("no SLO of team `team-x`; teams: team-pay, team-search"),
            "{args:?}: {}",
            text(&out)
        );
    }
    let out = sloguard(Some(&moto), &["status", "--service", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no SLO of service `nope`; services: payments, search, shop"),
        "{}",
        text(&out)
    );
    assert!(
        !out_html.exists(),
        "no report written for a team with no SLO"
    );
    Ok(())
}
