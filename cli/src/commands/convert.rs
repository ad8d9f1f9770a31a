//! `sloguard convert`: OpenSLO files from openslo/v1 to openslo.com/v2alpha and back, to
//! stdout or into a folder; the converted files load into the same SLOs as the originals.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use sloguard_core::slo::convert::{convert, ConvertError};
use sloguard_core::slo::load::Version;

use super::read_files;

/// The OpenSLO version to write.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum To {
    V1,
    V2alpha,
}

/// `sloguard convert`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The version to write: v1 (openslo/v1) or v2alpha (openslo.com/v2alpha).
    #[arg(long, value_enum)]
    to: To,
    /// Write each converted file into this folder (same file name) instead of to stdout.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// SLO files, or folders read with their subfolders (.yaml/.yml); converted together, so
    /// references between them resolve.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Exit 0 with the files converted; 1 when they have problems or say something the target
/// version cannot (each listed as `file:line: path: message`).
pub fn run(args: &Args) -> Result<ExitCode> {
    let files = read_files(&args.files)?;
    let to = match args.to {
        To::V1 => Version::V1,
        To::V2alpha => Version::V2alpha,
    };
    let converted = match convert(&files, to) {
        Ok(c) => c,
        Err(e) => {
            let problems = match &e {
                ConvertError::Invalid(p) | ConvertError::NoForm(_, p) => p,
                ConvertError::Changed(_) => bail!(e),
            };
            for p in problems {
                println!("{p}");
            }
            eprintln!("error: {e}; nothing written");
            return Ok(ExitCode::from(1));
        }
    };
    for d in &converted.dropped {
        eprintln!("{d}");
    }
    eprintln!(
        "note: comments are not carried over (the converted files start with a comment saying so)"
    );
    match &args.out {
        None => {
            let texts: Vec<&str> = converted.files.iter().map(|f| f.text.as_str()).collect();
            print!("{}", texts.join("---\n"));
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut written: Vec<PathBuf> = Vec::new();
            for f in &converted.files {
                let name = Path::new(&f.name)
                    .file_name()
                    .with_context(|| format!("{}: not a file name", f.name))?;
                let path = dir.join(name);
                if written.contains(&path) {
                    bail!(
                        "two files are named {}: convert them into different folders",
                        name.to_string_lossy()
                    );
                }
                std::fs::write(&path, &f.text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("{} -> {}", f.name, path.display());
                written.push(path);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
