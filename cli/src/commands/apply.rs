//! `sloguard apply`: store definitions, print what changed; a large prune needs `--yes`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use sloguard_core::app::apply::{
    apply, prune_needs_confirmation, ApplyError, ApplyOptions, Change,
};
use sloguard_core::slo::message::count;

use super::{read_files, Store};

/// `sloguard apply`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// SLO files, or folders read with their subfolders (.yaml/.yml).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Show what would change, store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Delete stored SLOs the files no longer define (more than 3, or all of them, needs --yes).
    #[arg(long)]
    prune: bool,
    /// Confirm a large --prune.
    #[arg(long, requires = "prune")]
    yes: bool,
}

/// Apply the files; exit 1 on invalid files, no SLO, or a refused prune.
pub async fn run(args: &Args) -> Result<ExitCode> {
    let options = ApplyOptions {
        dry_run: args.dry_run,
        prune: args.prune,
        confirmed: args.yes,
    };
    let c = args.store.connect().await?;
    let sources = read_files(&args.files)?;
    // Warnings never stop an apply, but the person applying should see them.
    let loaded = sloguard_core::slo::load::load(&sources);
    for w in &loaded.warnings {
        eprintln!("{}:{}: {}: warning: {}", w.file, w.line, w.path, w.message);
    }
    // A topic the stack may not publish to (SLO_ALLOWED_TOPICS, when known) is refused.
    if let Some(allowed) = &c.settings.allowed_topics {
        let outside =
            super::outside_allowed(&loaded.slos, allowed, c.settings.topic_arn.as_deref());
        if !outside.is_empty() {
            for p in &outside {
                println!("{p}");
            }
            eprintln!("{}; nothing was applied", count(outside.len(), "problem"));
            return Ok(ExitCode::from(1));
        }
    }
    match apply(&c.app.store, &sources, options).await {
        Ok(changes) => {
            let verb = if options.dry_run { "would be " } else { "" };
            for (name, change) in &changes {
                let what = match change {
                    Change::Created => format!("{verb}created"),
                    Change::Updated { version } => format!("{verb}updated (version {version})"),
                    Change::Unchanged => "unchanged".into(),
                    Change::Pruned => format!("{verb}deleted"),
                };
                println!("{name}: {what}");
            }
            let pruned = changes.iter().filter(|(_, c)| *c == Change::Pruned).count();
            let stored = changes
                .iter()
                .filter(|(_, c)| *c != Change::Created)
                .count();
            if options.dry_run && !options.confirmed && prune_needs_confirmation(pruned, stored) {
                eprintln!("note: deleting {} will need --yes", count(pruned, "SLO"));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (ApplyError::NoSlos | ApplyError::PruneRefused { .. })) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(ApplyError::Invalid(problems)) => {
            for p in &problems {
                println!("{p}");
            }
            eprintln!("{}; nothing was applied", count(problems.len(), "problem"));
            Ok(ExitCode::from(1))
        }
        Err(e @ ApplyError::Store(_)) => Err(e.into()),
    }
}
