//! The domain (`slo`, `report`, `cost`) never reaches up into the use cases (`app`):
//! a use case may use the domain, not the other way round.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `text` that name the use cases: `crate::app` or a `super::` path that
/// climbs out of the domain into `app`.
fn reaches_app(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or_default();
            code.contains("crate::app") || (code.contains("super::") && code.contains("app::"))
        })
        .map(|(i, l)| (i + 1, l.trim()))
        .collect()
}

#[test]
fn no_domain_module_imports_the_use_cases() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for domain in ["slo", "report", "cost"] {
        rust_files(&src.join(domain), &mut files);
    }
    assert!(files.len() > 30, "the domain was read: {files:?}");
    let found: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).expect("readable source");
            reaches_app(&text)
                .into_iter()
                .map(|(line, code)| format!("{}:{line}: {code}", f.display()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        found.is_empty(),
        "the domain imports the use cases:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_of_the_use_cases() {
    assert_eq!(
        reaches_app("use crate::app::cycle::CycleReport;\n// crate::app in a comment\n"),
        vec![(1, "use crate::app::cycle::CycleReport;")]
    );
}
