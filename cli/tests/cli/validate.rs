//! `sloguard validate` and reading SLO files: every problem with its file and line, whole
//! folders, the OpenSLO corpus.

use anyhow::Result;

use super::{root, scratch, sloguard, text};

#[test]
fn validate_lists_every_problem_with_file_and_line() -> Result<()> {
    let ok = sloguard(None, &["validate", "examples/slos"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("5 files, 4 SLOs: valid"),
        "{}",
        text(&ok)
    );
    let dir = std::env::temp_dir().join(format!("sloguard-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bad = dir.join("bad.yaml");
    let good = std::fs::read_to_string(root().join("examples/slos/checkout-availability.yaml"))?;
    std::fs::write(
        &bad,
        good.replace("target: 0.999", "target: 99.9")
            .replace("stat: Sum", "stat: Total"),
    )?;
    let out = sloguard(None, &["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    let lines: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with(bad.to_str().unwrap()))
        .collect();
    assert_eq!(lines.len(), 3, "{t}");
    assert!(
        t.contains(":42: spec.objectives[0].target: 99.9 is out of range"),
        "{t}"
    );
    assert!(t.contains(":28: spec.indicator.spec.ratioMetric.bad.metricSource.spec.stat: `Total` is not a CloudWatch statistic"), "{t}");
    Ok(())
}

#[test]
fn folders_are_read_whole_and_an_empty_one_is_an_error() -> Result<()> {
    let dir = scratch("tree");
    let nested = dir.join("team-a").join("shop");
    std::fs::create_dir_all(&nested)?;
    std::fs::create_dir_all(dir.join(".git"))?;
    for (src, dst) in [
        ("checkout-availability.yaml", nested.join("checkout.yaml")),
        ("chat-wait-time.yaml", dir.join("chat.yml")),
        (
            "premium-support.yaml",
            dir.join(".git").join("ignored.yaml"),
        ),
    ] {
        std::fs::copy(root().join("examples/slos").join(src), dst)?;
    }
    std::fs::write(dir.join("notes.txt"), "not yaml")?;
    let out = sloguard(None, &["validate", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 files, 2 SLOs: valid"),
        "{}",
        text(&out)
    );

    let empty = scratch("empty");
    let out = sloguard(None, &["validate", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no .yaml or .yml files"),
        "{}",
        text(&out)
    );

    // YAML that holds no SLO document at all is not "valid" either.
    std::fs::write(
        empty.join("service.yaml"),
        "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: shop\nspec: {}\n",
    )?;
    let out = sloguard(None, &["validate", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("none defines an SLO"), "{}", text(&out));
    Ok(())
}

#[test]
fn validate_accepts_the_openslo_corpus_and_prints_warnings_without_failing() -> Result<()> {
    let out = sloguard(None, &["validate", "shared/core/testdata/openslo"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("13 files, 15 SLOs: valid"),
        "{}",
        text(&out)
    );
    let warned = sloguard(
        None,
        &["validate", "shared/core/testdata/load/ratio-warnings.yaml"],
    );
    assert!(warned.status.success(), "{}", text(&warned));
    let t = text(&warned);
    assert!(
        t.contains(
            "ratio-warnings.yaml:29: spec.objectives[0].op: warning: has no effect on a ratio"
        ),
        "{t}"
    );
    assert!(t.contains("1 file, 1 SLO: valid"), "{t}");
    Ok(())
}
