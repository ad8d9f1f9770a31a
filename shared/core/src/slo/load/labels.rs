//! An SLO's OpenSLO `metadata.labels`: the `team` label names its owner. OpenSLO v1 labels
//! map a name to a string or a list of strings; other labels are accepted and not used.

use crate::slo::yaml::{Node, Value};

use super::diag::{join, opt, truncate, At, Ctx};
use super::document::check_name;

/// The label that names an SLO's owner.
pub const TEAM_LABEL: &str = "team";

/// The owner `metadata.labels.team` names: `Some(None)` when there is no team label,
/// `None` when the labels have a problem (reported at its line).
pub(super) fn read_owner(ctx: &mut Ctx, at: At, meta: &Node) -> Option<Option<String>> {
    let Some(labels) = opt(meta, "labels") else {
        return Some(None);
    };
    let path = "metadata.labels";
    let Some(entries) = labels.as_map() else {
        ctx.report(
            at.file,
            labels.line,
            path,
            format!(
                "expected a mapping of label names to strings or lists of strings, found {}",
                labels.kind_name()
            ),
        );
        return None;
    };
    let mut ok = true;
    let mut owner = None;
    for (k, v) in entries {
        let Some(key) = k.as_scalar() else {
            ctx.report(at.file, k.line, path, "label names must be strings");
            ok = false;
            continue;
        };
        let lp = join(path, key);
        let values: Vec<&Node> = match &v.value {
            Value::Scalar { .. } | Value::Null => vec![v],
            Value::Seq(items) => items.iter().collect(),
            Value::Map(_) => {
                ctx.report(
                    at.file,
                    v.line,
                    &lp,
                    "a label's value is a string or a list of strings, found a mapping",
                );
                ok = false;
                continue;
            }
        };
        if key != TEAM_LABEL {
            continue;
        }
        match values.as_slice() {
            [one] => match one.as_scalar().map(str::trim) {
                Some(team) if !team.is_empty() => match check_name(team) {
                    Ok(()) => owner = Some(team.to_string()),
                    Err(m) => {
                        ctx.report(at.file, one.line, &lp, format!("the owning team: {m}"));
                        ok = false;
                    }
                },
                _ => {
                    ctx.report(
                        at.file,
                        one.line,
                        &lp,
                        "names the team that owns the SLO: give one team name, or drop the label",
                    );
                    ok = false;
                }
            },
            [] => {
                ctx.report(
                    at.file,
                    v.line,
                    &lp,
                    "names the team that owns the SLO: give one team name, or drop the label",
                );
                ok = false;
            }
            many => {
                let found: Vec<String> = many
                    .iter()
                    .map(|n| truncate(n.as_scalar().unwrap_or("?"), 40))
                    .collect();
                ctx.report(
                    at.file,
                    v.line,
                    &lp,
                    format!(
                        "an SLO has one owning team, found {} ({}); keep one",
                        many.len(),
                        found.join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(owner)
}

#[cfg(test)]
mod tests {
    use crate::slo::load::{load, SourceFile};

    fn owner(labels: &str) -> Result<Option<String>, Vec<String>> {
        let text = crate::slo::fixtures::checkout_yaml()
            .replace("  name: checkout\n", &format!("  name: checkout\n{labels}"));
        load(&[SourceFile {
            name: "f.yaml".into(),
            text,
        }])
        .into_result()
        .map(|s| s[0].owner.clone())
        .map_err(|p| p.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_team_label_is_a_string_or_a_list_of_one() {
        assert_eq!(owner(""), Ok(None));
        assert_eq!(
            owner("  labels:\n    team: payments\n    tier: [\"1\"]\n"),
            Ok(Some("payments".into()))
        );
        assert_eq!(
            owner("  labels:\n    team:\n      - payments\n"),
            Ok(Some("payments".into()))
        );
        assert_eq!(
            owner("  labels:\n    team: [a, b]\n"),
            Err(vec![
                "f.yaml:6: metadata.labels.team: an SLO has one owning team, found 2 (a, b); keep one".into()
            ])
        );
        let bad = owner("  labels:\n    team: Team A\n").unwrap_err();
        assert!(
            bad[0].starts_with(
                "f.yaml:6: metadata.labels.team: the owning team: `Team A` is not a valid name"
            ),
            "{bad:?}"
        );
        let bad = owner("  labels:\n    team: []\n").unwrap_err();
        assert!(bad[0].contains("give one team name"), "{bad:?}");
        let bad = owner("  labels: [team]\n").unwrap_err();
        assert!(
            bad[0].contains("metadata.labels: expected a mapping"),
            "{bad:?}"
        );
    }
}
