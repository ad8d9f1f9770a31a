//! `sloguard`: validate and apply SLOs, run an evaluation cycle, read status and
//! history, and take the local demo tour. Uses the same use cases as the Lambdas.

mod commands;
#[cfg(feature = "demo")]
mod demo;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use commands::parse_time;
use sloguard::app::apply::{apply, prune_needs_confirmation, ApplyError, ApplyOptions, Change};
use sloguard::app::backfill::BackfillRequest;
use sloguard::app::cycle::{run_cycle, CycleRequest};
use sloguard::app::BudgetStore;
use sloguard::aws::{build_app, load_config, AwsApp, Settings};
use sloguard::slo::load::{load, SourceFile};
use sloguard_cli::output;

#[derive(Parser)]
#[command(
    name = "sloguard",
    version,
    about = "AWS-native SLO engine: error budgets and burn-rate alerts from CloudWatch metrics"
)]
struct Cli {
    /// DynamoDB table (overrides SLO_TABLE).
    #[arg(long, global = true)]
    table: Option<String>,
    /// SNS topic ARN for notifications (overrides SLO_TOPIC_ARN).
    #[arg(long, global = true)]
    topic_arn: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table (and, with --create-topic, an SNS topic) when missing. Idempotent.
    Init {
        /// Also create an SNS topic of this name and print its ARN.
        #[arg(long, value_name = "NAME")]
        create_topic: Option<String>,
    },
    /// Check SLO files; exit 1 and list every problem as file:line: path: message.
    Validate {
        /// Files or directories of .yaml/.yml files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Store SLO definitions in the table and print what changed.
    Apply {
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
    },
    /// Run one evaluation cycle now (or at --at), persisting and notifying like the schedule.
    Evaluate {
        /// Evaluation trigger time (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
        /// Only this SLO.
        #[arg(long)]
        slo: Option<String>,
        /// Data lag in seconds subtracted from the trigger time (overrides SLO_LAG_SECONDS).
        #[arg(long)]
        lag: Option<i64>,
        /// Print the cycle report as JSON.
        #[arg(long)]
        json: bool,
        /// Notify even for a past --at (by default a past evaluation only records history).
        #[arg(long)]
        notify: bool,
    },
    /// Rebuild history from CloudWatch over a time range; never notifies, safe to re-run.
    Backfill {
        /// SLOs to rebuild (default: all).
        slos: Vec<String>,
        /// First evaluation time (RFC 3339).
        #[arg(long)]
        from: String,
        /// End of the range, exclusive (RFC 3339).
        #[arg(long)]
        to: String,
        /// Time between evaluations (e.g. 5m, 1h).
        #[arg(long, default_value = "1h")]
        step: String,
    },
    /// Hold back an SLO's page and ticket messages for a while (it is still evaluated and recorded).
    Silence {
        /// The SLO to silence.
        slo: String,
        /// How long (e.g. 90m, 2h, 1d).
        #[arg(
            long = "for",
            value_name = "DURATION",
            conflicts_with = "until",
            required_unless_present = "until"
        )]
        for_: Option<String>,
        /// Until this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Why: shown in `status` and history.
        #[arg(long)]
        reason: String,
    },
    /// Lift a silence.
    Unsilence {
        /// The SLO to unsilence.
        slo: String,
    },
    /// The current state of every SLO.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// The stored budget history of one SLO.
    History {
        slo: String,
        /// From this time (RFC 3339); default 24 hours ago.
        #[arg(long)]
        since: Option<String>,
        /// Until this time (RFC 3339); default now.
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The local tour: a moto emulator, the example SLOs, an incident, the notifications on-call gets.
    #[cfg(feature = "demo")]
    Demo {
        /// Path of moto_server (default: $SLOGUARD_MOTO_SERVER or .venv/bin/moto_server).
        #[arg(long)]
        moto_server: Option<PathBuf>,
        /// Directory of SLO files to use.
        #[arg(long, default_value = "examples/slos")]
        slos: PathBuf,
    },
}

/// Read SLO files; a directory is read whole (subfolders too, hidden ones skipped), so
/// `validate slos/` checks every file `apply slos/` would store.
fn read_files(paths: &[PathBuf]) -> Result<Vec<SourceFile>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            yaml_files_under(p, &mut found)?;
            if found.is_empty() {
                bail!(
                    "{}: no .yaml or .yml files in this folder or its subfolders",
                    p.display()
                );
            }
            found.sort();
            out.extend(read_files(&found)?);
        } else {
            let meta =
                std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
            if meta.len() > sloguard::slo::load::MAX_FILE_BYTES as u64 {
                bail!(
                    "{}: {} bytes; SLO files may be at most {} bytes",
                    p.display(),
                    meta.len(),
                    sloguard::slo::load::MAX_FILE_BYTES
                );
            }
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            out.push(SourceFile {
                name: p.display().to_string(),
                text,
            });
        }
    }
    Ok(out)
}

/// Collect the YAML files below `dir`, descending into subfolders but not hidden ones
/// (`.git`, `.github`...), which hold no SLOs.
fn yaml_files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read directory {}", dir.display()))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() {
            if !hidden {
                yaml_files_under(&path, out)?;
            }
        } else if !hidden && path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

async fn connect(cli: &Cli) -> Result<(AwsApp, Settings, aws_config::SdkConfig)> {
    let table = cli.table.clone();
    let topic = cli.topic_arn.clone();
    let settings = Settings::from_lookup(|k| match k {
        "SLO_TABLE" if table.is_some() => table.clone(),
        "SLO_TOPIC_ARN" if topic.is_some() => topic.clone(),
        _ => std::env::var(k).ok(),
    })?;
    let sdk = load_config().await;
    if sdk.region().is_none() {
        bail!("no AWS region: set AWS_REGION (e.g. export AWS_REGION=eu-west-1)");
    }
    Ok((build_app(&settings, &sdk), settings, sdk))
}

/// Turn SDK-level failures into advice a user can act on.
fn advise(e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let where_ = endpoint.as_deref().map_or_else(
        || {
            format!(
                "AWS in region {}",
                std::env::var("AWS_REGION").unwrap_or_else(|_| "?".into())
            )
        },
        |u| format!("the endpoint {u}"),
    );
    let lower = text.to_ascii_lowercase();
    if lower.contains("no credentials")
        || lower.contains("credential provider")
        || lower.contains("security token")
    {
        anyhow!("no usable AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n  ({text})")
    } else if text.contains("could not be reached") || text.contains("dispatch failure") {
        anyhow!("cannot reach {where_}: check AWS_REGION and AWS_ENDPOINT_URL, and that the service is up\n  ({text})")
    } else {
        e
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Validate { files } => {
            let files = read_files(files)?;
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
        Command::Init { create_topic } => {
            let (app, settings, sdk) = connect(&cli).await?;
            let created = app.store.create_table_if_missing().await?;
            println!(
                "table {}: {}",
                settings.table,
                if created { "created" } else { "exists" }
            );
            if let Some(name) = create_topic {
                let arn = aws_sdk_sns::Client::new(&sdk)
                    .create_topic()
                    .name(name)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow!(
                            "CreateTopic {name}: {}",
                            aws_sdk_sns::error::DisplayErrorContext(e)
                        )
                    })?;
                println!("topic {}: {}", name, arn.topic_arn().unwrap_or_default());
                println!(
                    "export SLO_TOPIC_ARN={}",
                    arn.topic_arn().unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply {
            files,
            dry_run,
            prune,
            yes,
        } => {
            let sources = read_files(files)?;
            let (app, _, _) = connect(&cli).await?;
            let options = ApplyOptions {
                dry_run: *dry_run,
                prune: *prune,
                confirmed: *yes,
            };
            match apply(&app.store, &sources, options).await {
                Ok(changes) => {
                    let verb = if *dry_run { "would be " } else { "" };
                    for (name, c) in &changes {
                        let what = match c {
                            Change::Created => format!("{verb}created"),
                            Change::Updated { version } => {
                                format!("{verb}updated (version {version})")
                            }
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
                    if *dry_run && !*yes && prune_needs_confirmation(pruned, stored) {
                        eprintln!("note: deleting {pruned} SLO(s) will need --yes");
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
                    eprintln!("{} problem(s); nothing was applied", problems.len());
                    Ok(ExitCode::from(1))
                }
                Err(ApplyError::Store(e)) => Err(e.into()),
            }
        }
        Command::Evaluate {
            at,
            slo,
            lag,
            json,
            notify,
        } => {
            let (mut app, settings, _) = connect(&cli).await?;
            if let Some(l) = lag {
                app.config.lag_seconds = *l;
            }
            if settings.topic_arn.is_none() {
                eprintln!("note: SLO_TOPIC_ARN is not set; status changes are recorded and their notifications stay pending");
            }
            let now = chrono::Utc::now().timestamp();
            let trigger = at
                .as_deref()
                .map(|a| parse_time(a, "--at"))
                .transpose()?
                .unwrap_or(now);
            let request = CycleRequest {
                trigger,
                now,
                only: slo.clone().map(|s| vec![s]),
                notify_past: *notify,
                ..CycleRequest::default()
            };
            if request.is_backfill(app.config.schedule_seconds) {
                eprintln!("note: --at is in the past: history is recorded and nothing is sent (add --notify to send)");
            }
            let report = run_cycle(&app, request).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "evaluated {} SLO(s) at {} ({} GetMetricData call(s)), {} failed, {} notification(s) sent",
                    report.evaluated, report.evaluated_at, report.metric_requests, report.failed, report.notifications_sent
                );
                for o in &report.slos {
                    let status = o.status.clone().unwrap_or_else(|| "error".into());
                    let extra = o
                        .change
                        .as_deref()
                        .map(|c| format!("  ({c})"))
                        .unwrap_or_default();
                    let err = o
                        .error
                        .as_deref()
                        .map(|e| format!("  error: {e}"))
                        .unwrap_or_default();
                    println!("  {:<32} {status}{extra}{err}", o.slo);
                }
            }
            Ok(if report.failed > 0 {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Status { json } => {
            let (app, _, _) = connect(&cli).await?;
            print_status(&app, *json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::History {
            slo,
            since,
            until,
            json,
        } => {
            let (app, _, _) = connect(&cli).await?;
            let now = chrono::Utc::now().timestamp();
            let until = until
                .as_deref()
                .map(|u| parse_time(u, "--until"))
                .transpose()?
                .unwrap_or(now);
            let since = since
                .as_deref()
                .map(|s| parse_time(s, "--since"))
                .transpose()?
                .unwrap_or(until - 86_400);
            print_history(&app, slo, since, until, *json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backfill {
            slos,
            from,
            to,
            step,
        } => {
            let (app, _, _) = connect(&cli).await?;
            let request = BackfillRequest {
                slos: (!slos.is_empty()).then(|| slos.clone()),
                from: parse_time(from, "--from")?,
                to: parse_time(to, "--to")?,
                step: commands::parse_span(step, "--step")?,
                now: chrono::Utc::now().timestamp(),
            };
            Ok(if commands::backfill::run(&app, request).await? {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Silence {
            slo,
            for_,
            until,
            reason,
        } => {
            let (app, _, _) = connect(&cli).await?;
            let now = chrono::Utc::now().timestamp();
            let until = match (for_, until) {
                (Some(d), _) => now + commands::parse_span(d, "--for")?,
                (None, Some(u)) => parse_time(u, "--until")?,
                (None, None) => bail!("give --for DURATION or --until TIME"),
            };
            commands::silence::silence(&app, slo, until, reason, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Unsilence { slo } => {
            let (app, _, _) = connect(&cli).await?;
            commands::silence::unsilence(&app, slo).await?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "demo")]
        Command::Demo { moto_server, slos } => {
            demo::run(moto_server.as_deref(), slos).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Print the status table (or the JSON array of the contract).
pub async fn print_status(app: &AwsApp, json: bool) -> Result<()> {
    let defs = app.store.definitions().await?;
    let states = app.store.states().await?;
    let now = chrono::Utc::now().timestamp();
    if json {
        let arr: Vec<serde_json::Value> = defs
            .iter()
            .map(|d| {
                let state = states.get(&d.name);
                let (service, objective, window) = match &d.definition {
                    Ok(def) => (
                        def.service.clone(),
                        def.objective.target,
                        def.window_label(),
                    ),
                    Err(_) => (String::new(), f64::NAN, String::new()),
                };
                output::status_json(&d.name, &service, objective, &window, state, now)
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
        return Ok(());
    }
    if defs.is_empty() {
        println!("no SLOs in the table yet: `sloguard apply FILE...`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = defs
        .iter()
        .map(|d| output::status_row(&d.name, states.get(&d.name), now))
        .collect();
    print!(
        "{}",
        output::table(&output::STATUS_HEADER, &rows, Some(1), output::colour())
    );
    Ok(())
}

/// Print one SLO's history table (or the JSON array of the contract).
pub async fn print_history(
    app: &AwsApp,
    slo: &str,
    since: i64,
    until: i64,
    json: bool,
) -> Result<()> {
    let snaps = app.store.history(slo, since, until).await?;
    if json {
        let arr: Vec<serde_json::Value> = snaps.iter().map(output::history_json).collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
        return Ok(());
    }
    if snaps.is_empty() {
        println!("no history for {slo} in that range");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = snaps.iter().map(output::history_row).collect();
    print!(
        "{}",
        output::table(&output::HISTORY_HEADER, &rows, Some(1), output::colour())
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLOGUARD_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    #[cfg(feature = "demo")]
    if let Command::Demo { slos, .. } = &cli.command {
        if !slos.exists() {
            eprintln!(
                "error: {} not found: run the demo from the repository root (make demo)",
                slos.display()
            );
            return ExitCode::from(1);
        }
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {:#}", advise(e));
            ExitCode::from(1)
        }
    }
}
