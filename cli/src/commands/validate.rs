//! `sloguard validate`: every problem in the files, as `file:line: path: message`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use sloguard::slo::load::load;

use super::read_files;

/// Exit 0 when valid; 1 with every problem listed, or when no file defines an SLO.
pub fn run(paths: &[PathBuf]) -> Result<ExitCode> {
    let files = read_files(paths)?;
    let loaded = load(&files);
    if loaded.problems.is_empty() && loaded.slos.is_empty() {
        eprintln!(
            "error: {} file(s) read, but none defines an SLO (kind: SLO)",
            files.len()
        );
        return Ok(ExitCode::from(1));
    }
    if loaded.problems.is_empty() {
        println!(
            "{} file(s), {} SLO(s): valid",
            files.len(),
            loaded.slos.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &loaded.problems {
        println!("{p}");
    }
    eprintln!("{} problem(s)", loaded.problems.len());
    Ok(ExitCode::from(1))
}
