//! Round trips: every example and every valid loader case keeps its SLOs through
//! v1 -> v2alpha -> v1, or is refused at the line v2alpha cannot say.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path, prefix: &str) -> Vec<SourceFile> {
    let mut files: Vec<SourceFile> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| SourceFile {
            name: format!("{prefix}{}", p.file_name().unwrap().to_str().unwrap()),
            text: fs::read_to_string(&p).unwrap(),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// v1 -> v2alpha -> v1: the v2alpha files and the v1 files again load into the same SLOs.
fn round_trip(files: &[SourceFile]) -> Result<Vec<SourceFile>, ConvertError> {
    let v2 = convert(files, Version::V2alpha)?;
    for f in &v2.files {
        assert!(
            f.text.contains("apiVersion: openslo.com/v2alpha"),
            "{}",
            f.text
        );
        assert!(!f.text.contains("openslo/v1"), "{}", f.text);
    }
    let v1 = convert(&v2.files, Version::V1).expect("back to v1");
    let (a, b) = (load(files), load(&v1.files));
    assert!(b.problems.is_empty(), "{:?}", b.problems);
    assert_eq!(first_difference(&a.slos, &b.slos), None);
    assert!(!a.slos.is_empty());
    Ok(v2.files)
}

#[test]
fn every_example_keeps_its_slos_through_v2alpha_and_back_or_is_refused_at_its_line() {
    let examples = yaml_files(&root().join("examples/slos"), "");
    assert!(examples.len() >= 5);
    // The calendar month has no v2alpha form: refused at its duration, nothing else.
    match convert(&examples, Version::V2alpha) {
        Err(ConvertError::NoForm(_, p)) => {
            let shown: Vec<String> = p.iter().map(ToString::to_string).collect();
            assert_eq!(shown.len(), 1, "{shown:?}");
            assert!(
                shown[0].starts_with("help-center-monthly.yaml:34: spec.timeWindow[0].duration: `1M` has no v2alpha form"),
                "{shown:?}"
            );
        }
        other => panic!("expected the calendar month refused, got {other:?}"),
    }
    let convertible: Vec<SourceFile> = examples
        .into_iter()
        .filter(|f| f.name != "help-center-monthly.yaml")
        .collect();
    let v2 = round_trip(&convertible).unwrap();
    let premium = v2
        .iter()
        .find(|f| f.name == "premium-support.yaml")
        .unwrap();
    assert!(premium
        .text
        .contains("sloguard.dev/display-name: Premium first response within 5 minutes"));
    assert!(premium.text.contains("sliRef: premium-first-response"));
}

#[test]
fn every_valid_loader_case_round_trips_or_is_refused_for_what_v2alpha_cannot_say() {
    let dir = root().join("shared/core/testdata/load");
    let (mut kept, mut refused) = (0, Vec::new());
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let Some(name) = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".expected"))
        else {
            continue;
        };
        if !fs::read_to_string(&p).unwrap().trim().is_empty() {
            continue; // a case with problems: convert refuses it, as validate does
        }
        let files = if dir.join(name).is_dir() {
            yaml_files(&dir.join(name), "")
        } else {
            vec![SourceFile {
                name: format!("{name}.yaml"),
                text: fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap(),
            }]
        };
        if name.starts_with("v2alpha") {
            // Already v2alpha: to v1 and back.
            let v1 = convert(&files, Version::V1).unwrap();
            let again = convert(&v1.files, Version::V2alpha).unwrap();
            assert_eq!(
                first_difference(&load(&files).slos, &load(&again.files).slos),
                None
            );
            kept += 1;
            continue;
        }
        match round_trip(&files) {
            Ok(_) => kept += 1,
            Err(ConvertError::NoForm(_, p)) => refused.push(format!("{name}: {}", p[0])),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    assert!(kept >= 8, "{kept} kept, refused: {refused:#?}");
    // What cannot be said in v2alpha is a duration unit: calendar months, quarters, seconds.
    for r in &refused {
        assert!(r.contains("has no v2alpha form"), "{r}");
    }
}

#[test]
fn a_v1_metric_becomes_a_data_source_and_spec_and_comes_back() {
    let files = [SourceFile {
        name: "checkout.yaml".into(),
        text: crate::slo::fixtures::checkout_yaml(),
    }];
    let v2 = round_trip(&files).unwrap();
    let text = &v2[0].text;
    assert!(text.starts_with("# Converted by `sloguard convert --to v2alpha` from checkout.yaml;"));
    assert!(
        text.contains("        bad:\n          dataSourceSpec:\n            type: CloudWatch\n            connectionDetails:\n              region: eu-west-1\n          spec:\n            namespace: Test\n"),
        "{text}"
    );
    assert!(text.contains("  sli:\n"), "{text}");
}

#[test]
fn what_sloguard_does_not_keep_is_dropped_with_a_note() {
    let files = yaml_files(&root().join("examples/slos"), "")
        .into_iter()
        .filter(|f| f.name == "premium-support.yaml" || f.name == "alerting.yaml")
        .collect::<Vec<_>>();
    let v2 = convert(&files, Version::V2alpha).unwrap();
    let notes: Vec<String> = v2.dropped.iter().map(ToString::to_string).collect();
    assert_eq!(
        notes,
        ["premium-support.yaml:8: metadata.displayName: dropped: openslo.com/v2alpha metadata has no displayName, and sloguard shows only an SLO's"]
    );
}

#[test]
fn files_with_problems_are_not_converted() {
    let files = [SourceFile {
        name: "bad.yaml".into(),
        text: "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: x\nspec: {}\n".into(),
    }];
    assert!(matches!(
        convert(&files, Version::V2alpha),
        Err(ConvertError::Invalid(p)) if !p.is_empty()
    ));
}

#[test]
fn the_openslo_corpus_and_application_signals_keep_their_slos_file_by_file() {
    let mut files = yaml_files(&root().join("shared/core/testdata/openslo"), "openslo/");
    files.extend(yaml_files(&root().join("examples/application-signals"), ""));
    let (mut kept, mut refused) = (Vec::new(), Vec::new());
    for f in &files {
        match round_trip(std::slice::from_ref(f)) {
            Ok(_) => kept.push(f.name.clone()),
            Err(ConvertError::NoForm(_, p)) => refused.push(p[0].to_string()),
            Err(e) => panic!("{}: {e}", f.name),
        }
    }
    // Only the two-month calendar window and the OpenSLO composite have no v2alpha form.
    refused.sort();
    assert_eq!(refused.len(), 2, "{refused:#?}");
    assert!(
        refused[0].starts_with("openslo/calendar-two-months.yaml:"),
        "{refused:?}"
    );
    assert!(
        refused[1].starts_with("openslo/composite.yaml:") && refused[1].contains("composite"),
        "{refused:?}"
    );
    assert_eq!(kept.len(), files.len() - 2, "{kept:?}");
}

#[test]
fn an_inline_slis_display_name_is_dropped_with_a_note_at_its_line() {
    let text = crate::slo::fixtures::checkout_yaml().replace(
        "      name: checkout-errors\n",
        "      name: checkout-errors\n      displayName: Checkout errors\n",
    );
    let files = [SourceFile {
        name: "checkout.yaml".into(),
        text,
    }];
    let v2 = convert(&files, Version::V2alpha).unwrap();
    assert_eq!(v2.dropped.len(), 1);
    assert_eq!(v2.dropped[0].line, 12);
    assert_eq!(v2.dropped[0].path, "spec.indicator.metadata.displayName");
    assert!(!v2.files[0].text.contains("Checkout errors"));
}

#[test]
fn an_inline_data_source_goes_into_the_v1_metric_and_its_credentials_are_dropped() {
    let text = "apiVersion: openslo.com/v2alpha
kind: SLO
metadata:
  name: latency
spec:
  service: metrics
  sli:
    spec:
      thresholdMetric:
        dataSourceSpec:
          description: Metrics account
          type: CloudWatch
          connectionDetails:
            region: eu-central-1
            accountId: \"123456789012\"
            accessKeyID: key
        spec:
          namespace: Metrics
          metricName: Latency
          stat: Maximum
  timeWindow:
    - duration: 1w
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - op: lte
      value: 500
      target: 0.99
      timeSliceWindow: 5m
";
    let files = [SourceFile {
        name: "latency.yaml".into(),
        text: text.into(),
    }];
    let v1 = convert(&files, Version::V1).unwrap();
    let out = &v1.files[0].text;
    assert!(
        out.contains("        metricSource:\n          type: CloudWatch\n          spec:\n            namespace: Metrics\n            metricName: Latency\n            stat: Maximum\n            region: eu-central-1\n            accountId: \"123456789012\"\n"),
        "{out}"
    );
    let notes: Vec<(usize, &str)> = v1
        .dropped
        .iter()
        .map(|d| (d.line, d.path.as_str()))
        .collect();
    assert_eq!(
        notes,
        [
            (
                16,
                "spec.sli.spec.thresholdMetric.dataSourceSpec.connectionDetails.accessKeyID"
            ),
            (
                11,
                "spec.sli.spec.thresholdMetric.dataSourceSpec.description"
            ),
        ]
    );
}
