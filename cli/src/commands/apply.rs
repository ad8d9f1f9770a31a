//! `sloguard apply`: store definitions, print what changed. Another owner's SLO needs
//! `--take-over`; a prune deletes only the files' owners' SLOs, and only with `--yes`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use sloguard_core::app::apply::{apply, scope, ApplyError, ApplyOptions, Change};
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
    /// Delete stored SLOs of the files' owners that the files no longer define (needs --yes).
    #[arg(long)]
    prune: bool,
    /// Confirm the deletions of --prune (without it, --prune lists them and deletes nothing).
    #[arg(long, requires = "prune")]
    yes: bool,
    /// The team that owns the SLOs that have no metadata.labels.team.
    #[arg(long, value_name = "TEAM", value_parser = team_name)]
    owner: Option<String>,
    /// Update SLOs another team owns (or no one does), making them the files' owner's.
    #[arg(long)]
    take_over: bool,
}

/// A team name is an SLO-style name: lowercase letters, digits and '-'.
fn team_name(s: &str) -> Result<String, String> {
    sloguard_core::slo::load::check_name(s).map(|()| s.to_string())
}

/// Apply the files; exit 1 on invalid files, no SLO, another owner's SLO, or a prune
/// without --yes.
pub async fn run(args: &Args) -> Result<ExitCode> {
    let options = ApplyOptions {
        dry_run: args.dry_run,
        prune: args.prune,
        confirmed: args.yes,
        owner: args.owner.as_deref(),
        take_over: args.take_over,
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
                    Change::TakenOver { from, version } => {
                        let from = from
                            .as_deref()
                            .map_or("no owner".to_string(), |o| format!("team {o}"));
                        format!("{verb}taken over from {from} (version {version})")
                    }
                    Change::Unchanged => "unchanged".into(),
                    Change::Pruned => format!("{verb}deleted"),
                };
                println!("{name}: {what}");
            }
            let pruned = changes.iter().filter(|(_, c)| *c == Change::Pruned).count();
            if options.dry_run && !options.confirmed && pruned > 0 {
                eprintln!("note: deleting {} will need --yes", count(pruned, "SLO"));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ApplyError::PruneRefused {
            names,
            stored,
            owners,
        }) => {
            // The list first, one a line, as a dry run prints it.
            for name in &names {
                println!("{name}: would be deleted");
            }
            eprintln!(
                "error: --prune would delete {} of the {}{}; nothing was applied. \
                 Check the list, then add --yes to delete them",
                names.len(),
                count(stored, "stored SLO"),
                scope(&owners)
            );
            Ok(ExitCode::from(1))
        }
        Err(e @ ApplyError::NotOwner(_)) => {
            if let ApplyError::NotOwner(refused) = &e {
                for r in refused {
                    println!("{r}");
                }
            }
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e @ (ApplyError::NoSlos | ApplyError::BadOwner(_))) => {
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
