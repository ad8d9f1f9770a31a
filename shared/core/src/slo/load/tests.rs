//! Table-driven loader tests: every case in `shared/core/testdata/load/` is loaded and must report
//! exactly the problems its `.expected` file lists, no more and no fewer.
//!
//! A case is `NAME.yaml` (one file), or a folder `NAME/` of `.yaml` files loaded together in
//! name order, plus `NAME.expected`: one problem per line as [`Problem`]'s Display prints it,
//! with the file named by its path in the cases folder (`NAME.yaml` or `NAME/a.yaml`). An
//! empty `.expected` file means the input is valid. Order does not matter; repeats do.

use std::fs;
use std::path::{Path, PathBuf};

use super::{load, Problem, SourceFile};
use crate::slo::model::{Indicator, MetricSpec};

/// The table must not shrink unnoticed: as many cases as when it was written.
const MIN_CASES: usize = 44;

#[derive(Debug)]
struct Case {
    name: String,
    files: Vec<SourceFile>,
    expected: Vec<String>,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/load")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every case in `dir`, by name; a stray file, a folder without `.yaml` files, or an input
/// without `.expected` (or the other way round) is an error, so no case is skipped silently.
fn read_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut inputs: Vec<(String, Vec<SourceFile>)> = Vec::new();
    let mut expected_names: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: not a UTF-8 name", path.display()))?
            .to_string();
        if path.is_dir() {
            let mut files = Vec::new();
            for inner in fs::read_dir(&path).map_err(|e| e.to_string())? {
                let inner = inner.map_err(|e| e.to_string())?.path();
                let inner_name = inner.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if inner_name.ends_with(".yaml") && inner.is_file() {
                    files.push(SourceFile {
                        name: format!("{file_name}/{inner_name}"),
                        text: read(&inner),
                    });
                } else {
                    errors.push(format!("{file_name}/{inner_name}: not a .yaml file"));
                }
            }
            if files.is_empty() {
                errors.push(format!("{file_name}/: a folder case needs .yaml files"));
            }
            files.sort_by(|a, b| a.name.cmp(&b.name));
            inputs.push((file_name, files));
        } else if let Some(name) = file_name.strip_suffix(".yaml") {
            let text = read(&path);
            inputs.push((
                name.to_string(),
                vec![SourceFile {
                    name: file_name,
                    text,
                }],
            ));
        } else if let Some(name) = file_name.strip_suffix(".expected") {
            expected_names.push(name.to_string());
        } else if file_name != "README.md" {
            errors.push(format!(
                "{file_name}: not NAME.yaml, NAME/ or NAME.expected"
            ));
        }
    }
    for name in &expected_names {
        if !inputs.iter().any(|(n, _)| n == name) {
            errors.push(format!(
                "{name}.expected: no {name}.yaml or {name}/ beside it"
            ));
        }
    }
    let mut cases = Vec::new();
    for (name, files) in inputs {
        if !expected_names.contains(&name) {
            errors.push(format!(
                "{name}: no {name}.expected (an empty one means valid)"
            ));
            continue;
        }
        let expected = read(&dir.join(format!("{name}.expected")))
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        cases.push(Case {
            name,
            files,
            expected,
        });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    if errors.is_empty() {
        Ok(cases)
    } else {
        errors.sort();
        Err(errors.join("\n"))
    }
}

/// `None` when `reported` holds exactly the `expected` lines (in any order, each as often),
/// else a readable diff: `-` expected but not reported, `+` reported but not expected.
fn diff(expected: &[String], reported: &[Problem]) -> Option<String> {
    let mut unmatched: Vec<String> = reported.iter().map(ToString::to_string).collect();
    let mut missing = Vec::new();
    for line in expected {
        match unmatched.iter().position(|r| r == line) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(line),
        }
    }
    if missing.is_empty() && unmatched.is_empty() {
        return None;
    }
    let mut out = String::new();
    for line in missing {
        out.push_str(&format!("  - {line}\n"));
    }
    for line in &unmatched {
        out.push_str(&format!("  + {line}\n"));
    }
    Some(out)
}

fn check(case: &Case) -> Result<(), String> {
    let loaded = load(&case.files);
    // Warnings are listed like problems, their message starting with `warning: `.
    let mut reported = loaded.problems;
    reported.extend(loaded.warnings.into_iter().map(|w| Problem {
        message: format!("warning: {}", w.message),
        ..w
    }));
    match diff(&case.expected, &reported) {
        None => Ok(()),
        Some(d) => Err(format!(
            "case {} (- expected but not reported, + reported but not expected):\n{d}",
            case.name
        )),
    }
}

fn all_cases() -> Vec<Case> {
    read_cases(&cases_dir()).unwrap_or_else(|e| panic!("testdata/load:\n{e}"))
}

fn case(name: &str) -> Case {
    all_cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

#[test]
fn every_case_reports_exactly_its_expected_problems() {
    let cases = all_cases();
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases in testdata/load differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_holds_its_cases() {
    let cases = all_cases();
    assert!(
        cases.len() >= MIN_CASES,
        "only {} cases in testdata/load, expected at least {MIN_CASES}",
        cases.len()
    );
}

#[test]
fn a_case_fails_when_its_input_does_not_produce_its_lines() {
    let prometheus = case("metric-type-prometheus");
    assert_eq!(prometheus.expected.len(), 2);
    assert!(check(&prometheus).is_ok());

    // The input no longer produces the lines (here: the valid case's input).
    let valid = case("metric-type-is-case-insensitive");
    let wrong_input = Case {
        files: valid.files,
        ..case("metric-type-prometheus")
    };
    let err = check(&wrong_input).unwrap_err();
    assert!(
        err.contains(&format!("  - {}", prometheus.expected[0])),
        "{err}"
    );

    // A problem reported but not listed.
    let mut missing_line = case("metric-type-prometheus");
    missing_line.expected.pop();
    let err = check(&missing_line).unwrap_err();
    assert!(
        err.contains(&format!("  + {}", prometheus.expected[1])),
        "{err}"
    );

    // A line listed but not reported, or listed twice but reported once.
    for extra in [
        "metric-type-prometheus.yaml:1: no such problem".to_string(),
        prometheus.expected[0].clone(),
    ] {
        let mut c = case("metric-type-prometheus");
        c.expected.push(extra.clone());
        let err = check(&c).unwrap_err();
        assert!(err.contains(&format!("  - {extra}")), "{err}");
    }

    // Same message on another line.
    let mut moved = case("metric-type-prometheus");
    moved.expected[0] = moved.expected[0].replacen(".yaml:21:", ".yaml:22:", 1);
    assert_ne!(moved.expected[0], prometheus.expected[0]);
    assert!(check(&moved).is_err());

    // A valid input that starts reporting a problem.
    let mut valid = case("target-percent");
    valid.files[0].text =
        valid.files[0]
            .text
            .replacen("targetPercent: 99.9", "targetPercent: 100", 1);
    assert!(check(&valid).is_err());
}

#[test]
fn a_folded_description_loads_as_one_line_and_other_scripts_are_text() {
    let mut loaded = load(&case("description-folded").files);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let slo = loaded.slos.remove(0);
    assert_eq!(
        slo.description.as_deref(),
        Some("Monthly availability of the self-service help center, as reported to customers.")
    );
    assert_eq!(
        slo.display_name.as_deref(),
        Some("Centre d'aide \u{2014} \u{5e2e}\u{52a9}\u{4e2d}\u{5fc3}")
    );
}

#[test]
fn a_stray_file_or_a_case_without_expectations_is_an_error() {
    let dir = std::env::temp_dir().join(format!("sloguard-load-cases-{}", std::process::id()));
    fs::create_dir_all(dir.join("folder")).unwrap();
    fs::write(dir.join("a.yaml"), "").unwrap();
    fs::write(dir.join("a.expected"), "").unwrap();
    fs::write(dir.join("b.yml"), "").unwrap();
    fs::write(dir.join("c.yaml"), "").unwrap();
    fs::write(dir.join("d.expected"), "").unwrap();
    fs::write(dir.join("folder.expected"), "").unwrap();
    let err = read_cases(&dir).unwrap_err();
    fs::remove_dir_all(&dir).unwrap();
    for needle in [
        "b.yml: not NAME.yaml",
        "c: no c.expected",
        "d.expected: no d.yaml",
        "folder/: a folder case needs .yaml files",
    ] {
        assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    }
    assert!(!err.contains("a:"), "{err}");
}

#[test]
fn json_metric_math_reads_every_query() {
    let loaded = load(&case("json-metric-math").files);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let Indicator::Ratio {
        numerator: MetricSpec::Queries { queries, .. },
        ..
    } = &loaded.slos[0].indicator
    else {
        panic!("json spec expected")
    };
    assert_eq!(queries.len(), 3);
}

#[test]
fn exhaustion_severity_and_budget_alerts_are_read_into_the_settings() {
    use crate::slo::model::Severity;
    let loaded = load(&case("exhaustion-severity-page").files);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let settings = &loaded.slos[0].settings;
    assert_eq!(settings.exhaustion_severity, Severity::Page);
    assert_eq!(settings.budget_alerts, vec![50, 75]);
    // Without the annotation, exhaustion is a ticket.
    let mut files = case("exhaustion-severity-page").files;
    files[0].text = files[0]
        .text
        .replace("    sloguard.dev/exhaustion-severity: page\n", "");
    let plain = load(&files);
    assert!(plain.problems.is_empty(), "{:?}", plain.problems);
    assert_eq!(plain.slos[0].settings.exhaustion_severity, Severity::Ticket);
}

// ---------- the OpenSLO regression corpus (testdata/openslo) ----------

fn corpus() -> Vec<SourceFile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/openslo");
    let mut files: Vec<SourceFile> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| SourceFile {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            text: read(&p),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

fn corpus_slo(name: &str) -> crate::slo::model::SloDefinition {
    let loaded = load(&corpus());
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    loaded
        .slos
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no SLO {name} in the corpus"))
}

#[test]
fn every_corpus_file_loads_clean_with_the_slos_it_lists() {
    let files = corpus();
    assert!(files.len() >= 12, "only {} corpus files", files.len());
    for f in &files {
        let first = f
            .text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or("");
        let listed: Vec<&str> = first
            .strip_prefix("# slos: ")
            .unwrap_or_else(|| panic!("{}: first line must be `# slos: NAME, ...`", f.name))
            .split(", ")
            .collect();
        let loaded = load(std::slice::from_ref(f));
        assert!(
            loaded.problems.is_empty(),
            "{}: {:#?}",
            f.name,
            loaded.problems
        );
        assert!(
            loaded.warnings.is_empty(),
            "{}: {:#?}",
            f.name,
            loaded.warnings
        );
        let names: Vec<&str> = loaded.slos.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, listed, "{}", f.name);
    }
    // And all together: no name clashes across the corpus.
    let all = load(&files);
    assert!(all.problems.is_empty(), "{:#?}", all.problems);
}

#[test]
fn corpus_forms_load_with_their_meaning() {
    use crate::slo::model::{BudgetingMethod, Severity, TimeWindow};
    // A DataSource gives the region; the type may be left out.
    let ds = corpus_slo("checkout-datasource");
    assert!(ds.metric_specs().iter().all(|m| m.region() == "eu-west-1"));
    // Two objectives: two SLOs, each with its own target, naming its objective.
    let fast = corpus_slo("checkout-latency-under-300-ms");
    let slow = corpus_slo("checkout-latency-under-1-s");
    assert_eq!((fast.objective.target, slow.objective.target), (0.9, 0.99));
    assert_eq!(
        (fast.objective.value, slow.objective.value),
        (Some(300.0), Some(1000.0))
    );
    assert_eq!(fast.parent.as_deref(), Some("checkout-latency"));
    assert_eq!(fast.slo_name(), "checkout-latency");
    assert_eq!(
        fast.display_name.as_deref(),
        Some("Checkout latency: Under 300 ms")
    );
    // Occurrences over a threshold count 1-minute datapoints over a 1-day window.
    let points = corpus_slo("checkout-latency-points");
    assert_eq!(points.method, BudgetingMethod::Occurrences);
    assert_eq!(points.slice_seconds(), Some(60));
    // A bare timeSliceWindow counts minutes.
    assert_eq!(
        corpus_slo("checkout-slices").objective.time_slice_seconds,
        Some(300)
    );
    assert!(matches!(
        corpus_slo("checkout-success-rate").indicator,
        Indicator::Raw { success: true, .. }
    ));
    // Severity words: sev1 pages, Warning tickets, critical overridden to a ticket; the word kept.
    let sev = corpus_slo("checkout-severities");
    let by_name = |n: &str| sev.conditions.iter().find(|c| c.name == n).unwrap();
    assert_eq!(by_name("fast-burn").severity, Severity::Page);
    assert_eq!(by_name("fast-burn").severity_label.as_deref(), Some("sev1"));
    assert_eq!(by_name("slow-burn").severity, Severity::Ticket);
    assert_eq!(by_name("critical-but-daytime").severity, Severity::Ticket);
    // json as a YAML list, sql as one Metrics Insights query.
    let Indicator::Ratio {
        numerator: MetricSpec::Queries { queries, .. },
        ..
    } = &corpus_slo("checkout-math").indicator
    else {
        panic!("json queries expected")
    };
    assert_eq!(queries.iter().filter(|q| q.return_data).count(), 1);
    assert_eq!(queries.len(), 3);
    let sql = corpus_slo("api-insights");
    assert!(sql.metric_specs().iter().all(|m| m.is_insights()));
    assert!(matches!(
        corpus_slo("billing-bimonthly").window,
        TimeWindow::Calendar { count: 2, .. }
    ));
    assert_eq!(corpus_slo("checkout-bom").service, "webshop");
}

#[test]
fn severity_words_map_to_page_or_ticket() {
    use super::alerting::severity_of;
    use crate::slo::model::Severity::{Page, Ticket};
    for (word, expected) in [
        ("page", Page),
        ("sev1", Page),
        ("SEV-2", Page),
        ("critical", Page),
        ("High", Page),
        ("P1", Page),
        ("ticket", Ticket),
        ("warning", Ticket),
        ("Low", Ticket),
        ("sev3", Ticket),
        ("P4", Ticket),
        ("minor", Ticket),
        ("info", Ticket),
    ] {
        assert_eq!(severity_of(word), expected, "{word}");
    }
}

#[test]
fn a_data_source_gives_its_account_to_metrics_without_one() {
    let text = r#"
- apiVersion: openslo/v1
  kind: DataSource
  metadata: {name: prod}
  spec:
    type: CloudWatch
    connectionDetails: {region: us-west-2, accountId: "111122223333"}
- apiVersion: openslo/v1
  kind: SLO
  metadata: {name: s}
  spec:
    service: x
    indicator:
      metadata: {name: s}
      spec:
        thresholdMetric:
          metricSource:
            metricSourceRef: prod
            spec: {namespace: N, metricName: M, stat: p99}
    timeWindow: [{duration: 7d, isRolling: true}]
    budgetingMethod: Timeslices
    objectives: [{op: lt, value: 1, target: 0.9, timeSliceWindow: 5m}]
"#;
    let loaded = load(&[SourceFile {
        name: "a.yaml".into(),
        text: text.into(),
    }]);
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let MetricSpec::Metric {
        region, account_id, ..
    } = &loaded.slos[0].metric_specs()[0]
    else {
        panic!()
    };
    assert_eq!(region, "us-west-2");
    assert_eq!(account_id.as_deref(), Some("111122223333"));
}

#[test]
fn credentials_in_a_data_source_load_with_a_warning_and_are_never_kept() {
    let case = case("data-source-spec-credentials");
    let loaded = load(&case.files);
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    assert_eq!(loaded.slos.len(), 1);
    assert_eq!(loaded.warnings.len(), 2, "{:#?}", loaded.warnings);
    // What apply stores is the model: the keys' values appear nowhere in it.
    let stored = serde_json::to_string(&loaded.slos).unwrap();
    for secret in ["accessKey", "secretAccessKey", "accessKeyID"] {
        assert!(!stored.contains(secret), "{secret} in {stored}");
    }
}
