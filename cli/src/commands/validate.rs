//! `sloguard validate`: every problem in the files, as `file:line: path: message`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use sloguard_core::slo::load::load;
use sloguard_core::slo::message::count;

use super::read_files;

/// `sloguard validate`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// SLO files, or folders read with their subfolders (.yaml/.yml).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Exit 0 when valid; 1 with every problem listed, or when no file defines an SLO.
pub fn run(args: &Args) -> Result<ExitCode> {
    let files = read_files(&args.files)?;
    let loaded = load(&files);
    // Warnings never fail validation, but a user reading the output sees them first.
    for w in &loaded.warnings {
        println!("{}:{}: {}: warning: {}", w.file, w.line, w.path, w.message);
    }
    // Where the stack's SLO_ALLOWED_TOPICS is known, a topic outside it is worth a warning
    // here (`apply` refuses it).
    let get = |k: &str| std::env::var(k).ok();
    if let Some(allowed) = sloguard_aws::environment::allowed_topics(&get)? {
        for w in super::outside_allowed(&loaded.slos, &allowed, get("SLO_TOPIC_ARN").as_deref()) {
            println!("{}:{}: {}: warning: {}", w.file, w.line, w.path, w.message);
        }
    }
    if loaded.problems.is_empty() && loaded.slos.is_empty() {
        eprintln!(
            "error: {} read, but none defines an SLO (kind: SLO)",
            count(files.len(), "file")
        );
        return Ok(ExitCode::from(1));
    }
    if loaded.problems.is_empty() {
        println!(
            "{}, {}: valid",
            count(files.len(), "file"),
            count(loaded.slos.len(), "SLO")
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &loaded.problems {
        println!("{p}");
    }
    eprintln!("{}", count(loaded.problems.len(), "problem"));
    Ok(ExitCode::from(1))
}
