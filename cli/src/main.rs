//! `sloguard`: validate and apply SLOs, run an evaluation cycle, read status and
//! history, silence, backfill, price the fleet, and take the local demo tour. Each verb is a module of
//! `commands`; they call the same use cases as the Lambdas.

mod commands;
#[cfg(feature = "demo")]
mod demo;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use commands::{connect, parse_span, parse_time};
use sloguard::app::apply::ApplyOptions;
use sloguard::app::backfill::BackfillRequest;

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
    /// Show the AWS SDK's details with errors.
    #[arg(short, long, global = true)]
    verbose: bool,
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
        /// SLO files, or folders read with their subfolders (.yaml/.yml).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Store SLO definitions in the table and print what changed.
    Apply {
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
    /// Write budget charts of every SLO (or those named) to one self-contained HTML file.
    Report {
        /// SLOs to include (default: all).
        slos: Vec<String>,
        /// How far back (e.g. 7d, 30d).
        #[arg(long, default_value = "30d")]
        since: String,
        /// The HTML file to write.
        #[arg(long, value_name = "FILE.html")]
        out: PathBuf,
    },
    /// The SLO review: attainment, budget spent, incidents and hints per SLO.
    Review {
        /// How far back (e.g. 28d).
        #[arg(long, default_value = "28d")]
        since: String,
        /// Send it to the topic as one info message (once a week) instead of printing it.
        #[arg(long)]
        send: bool,
    },
    /// Lift a silence.
    Unsilence {
        /// The SLO to unsilence.
        slo: String,
    },
    /// The current state of every SLO.
    Status {
        /// Print the JSON array of the contract instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The expected monthly AWS bill of the applied fleet (or of --slos N / --fleet FILE...), term by term.
    Cost {
        /// Price a hypothetical fleet of N ratio SLOs, each on metrics of its own (no table needed).
        #[arg(long, value_name = "N", conflicts_with = "fleet")]
        slos: Option<usize>,
        /// Price the SLOs of these files or folders instead of the table.
        #[arg(long, value_name = "FILE", num_args = 1..)]
        fleet: Vec<PathBuf>,
        /// Minutes between evaluation cycles (the deployed ScheduleMinutes).
        #[arg(long, env = "SLO_SCHEDULE_MINUTES", default_value_t = 5)]
        schedule_minutes: i64,
        /// Days history snapshots are kept (the deployed HistoryRetentionDays).
        #[arg(long, env = "SLO_HISTORY_DAYS", default_value_t = 400)]
        history_days: i64,
        /// A measured cycle time in seconds (the evaluator's REPORT Duration); default: estimated.
        #[arg(long)]
        cycle_seconds: Option<f64>,
        /// Whose prices (us-east-1, us-east-2, us-west-2, eu-west-1).
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Print the estimate as JSON.
        #[arg(long)]
        json: bool,
        /// Print README's cost table (10, 100 and 1,000 SLOs) and nothing else.
        #[arg(long, hide = true)]
        readme_table: bool,
    },
    /// The stored budget history of one SLO.
    History {
        /// The SLO whose history to print.
        slo: String,
        /// From this time (RFC 3339); default 24 hours ago.
        #[arg(long)]
        since: Option<String>,
        /// Until this time (RFC 3339); default now.
        #[arg(long)]
        until: Option<String>,
        /// Print a JSON array of snapshots instead of a table.
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

async fn run(cli: Cli) -> Result<ExitCode> {
    let conn = || connect(cli.table.as_deref(), cli.topic_arn.as_deref());
    match &cli.command {
        Command::Validate { files } => commands::validate::run(files),
        Command::Init { create_topic } => {
            commands::init::run(&conn().await?, create_topic.as_deref()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply {
            files,
            dry_run,
            prune,
            yes,
        } => {
            let options = ApplyOptions {
                dry_run: *dry_run,
                prune: *prune,
                confirmed: *yes,
            };
            commands::apply::run(&conn().await?, files, options).await
        }
        Command::Evaluate {
            at,
            slo,
            lag,
            json,
            notify,
        } => {
            let options = commands::evaluate::EvaluateOptions {
                at: at.as_deref(),
                slo: slo.as_deref(),
                lag: *lag,
                json: *json,
                notify: *notify,
            };
            commands::evaluate::run(&mut conn().await?, options).await
        }
        Command::Status { json } => {
            commands::status::print(&conn().await?.app, *json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cost {
            slos,
            fleet,
            schedule_minutes,
            history_days,
            cycle_seconds,
            region,
            json,
            readme_table,
        } => {
            if *readme_table {
                print!("{}", sloguard::cost::readme_table());
                return Ok(ExitCode::SUCCESS);
            }
            if !(1..=60).contains(schedule_minutes) {
                bail!("--schedule-minutes: {schedule_minutes} is not from 1 to 60");
            }
            let options = commands::cost::CostOptions {
                slos: *slos,
                fleet: fleet.clone(),
                region: region.clone(),
                deployment: sloguard::cost::Deployment {
                    schedule_minutes: *schedule_minutes,
                    history_days: *history_days,
                    cycle_seconds: *cycle_seconds,
                    lag_seconds: std::env::var("SLO_LAG_SECONDS")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(120),
                    ..sloguard::cost::Deployment::default()
                },
                json: *json,
            };
            if slos.is_some() || !fleet.is_empty() {
                commands::cost::run(commands::cost::Source::Offline, &options).await?;
            } else {
                let conn = conn().await?;
                commands::cost::run(commands::cost::Source::Table(&conn), &options).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::History {
            slo,
            since,
            until,
            json,
        } => {
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
            commands::history::print(&conn().await?.app, slo, since, until, *json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backfill {
            slos,
            from,
            to,
            step,
        } => {
            let request = BackfillRequest {
                slos: (!slos.is_empty()).then(|| slos.clone()),
                from: parse_time(from, "--from")?,
                to: parse_time(to, "--to")?,
                step: parse_span(step, "--step")?,
                now: chrono::Utc::now().timestamp(),
            };
            let complete = commands::backfill::run(&conn().await?.app, request).await?;
            Ok(if complete {
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
            let now = chrono::Utc::now().timestamp();
            let until = match (for_, until) {
                (Some(d), _) => now + parse_span(d, "--for")?,
                (None, Some(u)) => parse_time(u, "--until")?,
                (None, None) => bail!("give --for DURATION or --until TIME"),
            };
            commands::silence::silence(&conn().await?.app, slo, until, reason, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { slos, since, out } => {
            let now = chrono::Utc::now().timestamp();
            let span = parse_span(since, "--since")?;
            commands::report::report(&conn().await?.app, slos, span, out, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Review { since, send } => {
            let now = chrono::Utc::now().timestamp();
            let span = parse_span(since, "--since")?;
            commands::report::review(&conn().await?.app, span, *send, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Unsilence { slo } => {
            commands::silence::unsilence(&conn().await?.app, slo).await?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "demo")]
        Command::Demo { moto_server, slos } => {
            if !slos.exists() {
                bail!(
                    "{} not found: run the demo from the repository root (make demo)",
                    slos.display()
                );
            }
            demo::run(moto_server.as_deref(), slos).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The AWS SDK's own warnings (IMDS probes, config files) are noise for a CLI user:
    // only its errors by default; SLOGUARD_LOG=debug shows everything.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLOGUARD_LOG").unwrap_or_else(|_| {
                "warn,aws_config=error,aws_runtime=error,aws_smithy_runtime=error,aws_smithy_runtime_api=error"
                    .into()
            }),
        )
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let verbose = cli.verbose;
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", commands::advise(e, verbose));
            ExitCode::from(1)
        }
    }
}
