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
use clap::{Args, Parser, Subcommand};
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
    /// Show the AWS SDK's details with errors.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

/// The table flag, on the verbs that read or write it (not on `validate`).
#[derive(Args)]
struct Store {
    /// DynamoDB table (overrides SLO_TABLE).
    #[arg(long)]
    table: Option<String>,
}

/// Connect with the verb's table (and no topic: only `evaluate` notifies).
async fn conn(store: &Store) -> Result<commands::Connection> {
    connect(store.table.as_deref(), None).await
}

#[derive(Subcommand)]
enum Command {
    /// Create the table (and, with --create-topic, an SNS topic) when missing. Idempotent.
    Init {
        #[command(flatten)]
        store: Store,
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
    },
    /// Run one evaluation cycle now (or at --at), persisting and notifying like the schedule.
    Evaluate {
        #[command(flatten)]
        store: Store,
        /// SNS topic ARN for notifications (overrides SLO_TOPIC_ARN).
        #[arg(long)]
        topic_arn: Option<String>,
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
        #[command(flatten)]
        store: Store,
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
        #[command(flatten)]
        store: Store,
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
        #[command(flatten)]
        store: Store,
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
        #[command(flatten)]
        store: Store,
        /// How far back (e.g. 28d).
        #[arg(long, default_value = "28d")]
        since: String,
        /// Send it to the topic as one info message (once a week) instead of printing it.
        #[arg(long)]
        send: bool,
    },
    /// Release gate: exit 0 when every selected SLO meets the policy, 3 when one does not, 2 on errors.
    Gate {
        #[command(flatten)]
        store: Store,
        /// SLOs to check (default: all, or all of --service).
        slos: Vec<String>,
        /// Only the SLOs of this service.
        #[arg(long)]
        service: Option<String>,
        /// Budget that must be left, e.g. 25%.
        #[arg(long, value_name = "PERCENT")]
        min_budget: Option<String>,
        /// Fail while a page or ticket incident is open.
        #[arg(long)]
        no_open_incident: bool,
        /// Print the verdicts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lift a silence.
    Unsilence {
        #[command(flatten)]
        store: Store,
        /// The SLO to unsilence.
        slo: String,
    },
    /// The current state of every SLO.
    Status {
        #[command(flatten)]
        store: Store,
        /// Print the JSON array of the contract instead of a table.
        #[arg(long)]
        json: bool,
        /// Refresh every SECONDS (default 30) until Ctrl-C.
        #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "30",
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        watch: Option<u64>,
        /// Stop --watch after N refreshes (for tests and scripts).
        #[arg(long, hide = true, requires = "watch")]
        iterations: Option<u64>,
    },
    /// The expected monthly AWS bill of the applied fleet (or of --slos N / --fleet FILE...), term by term.
    Cost {
        #[command(flatten)]
        store: Store,
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
    /// The deployments recorded for the targets an SLO names (sloguard.dev/changes), newest first.
    Changes {
        #[command(flatten)]
        store: Store,
        /// The SLO whose changes to list.
        slo: String,
        /// From this time (RFC 3339) or this long ago (e.g. 2h, 7d); default 7 days.
        #[arg(long)]
        since: Option<String>,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The stored budget history of one SLO.
    History {
        #[command(flatten)]
        store: Store,
        /// The SLO whose history to print.
        slo: String,
        /// From this time (RFC 3339); default 24 hours before --until.
        #[arg(long)]
        since: Option<String>,
        /// Until this time (RFC 3339); default now.
        #[arg(long)]
        until: Option<String>,
        /// Only the latest N rows of the range.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
        /// One row per period (1h, 1d...): last budget, highest burn, worst status.
        #[arg(long, value_name = "PERIOD")]
        every: Option<String>,
        /// Print a JSON array of snapshots instead of a table.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV for spreadsheets.
        #[arg(long)]
        csv: bool,
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
    match &cli.command {
        Command::Validate { files } => commands::validate::run(files),
        Command::Init {
            store,
            create_topic,
        } => {
            commands::init::run(&conn(store).await?, create_topic.as_deref()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply {
            store,
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
            commands::apply::run(&conn(store).await?, files, options).await
        }
        Command::Evaluate {
            store,
            topic_arn,
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
            let mut c = connect(store.table.as_deref(), topic_arn.as_deref()).await?;
            commands::evaluate::run(&mut c, options).await
        }
        Command::Status {
            store,
            json,
            watch,
            iterations,
        } => {
            let app = conn(store).await?.app;
            match watch {
                Some(every) => commands::status::watch(&app, *json, *every, *iterations).await?,
                None => commands::status::print(&app, *json).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Cost {
            store,
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
                    slo_metrics: std::env::var("SLO_METRICS")
                        .ok()
                        .and_then(|v| sloguard::app::emf::SloMetrics::parse(&v))
                        .unwrap_or_default(),
                    ..sloguard::cost::Deployment::default()
                },
                json: *json,
            };
            if slos.is_some() || !fleet.is_empty() {
                commands::cost::run(commands::cost::Source::Offline, &options).await?;
            } else {
                let conn = conn(store).await?;
                commands::cost::run(commands::cost::Source::Table(&conn), &options).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Changes {
            store,
            slo,
            since,
            json,
        } => {
            let now = chrono::Utc::now().timestamp();
            let since = match since.as_deref() {
                None => now - commands::changes::DEFAULT_SPAN_SECONDS,
                Some(s) if s.contains('T') => parse_time(s, "--since")?,
                Some(s) => now - parse_span(s, "--since")?,
            };
            commands::changes::print(&conn(store).await?.app, slo, since, now, *json).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::History {
            store,
            slo,
            since,
            until,
            limit,
            every,
            json,
            csv,
        } => {
            let now = chrono::Utc::now().timestamp();
            let until = until
                .as_deref()
                .map(|u| parse_time(u, "--until"))
                .transpose()?
                .unwrap_or(now);
            let range = commands::history::Range {
                since: since
                    .as_deref()
                    .map(|s| parse_time(s, "--since"))
                    .transpose()?
                    .unwrap_or(until - commands::history::DEFAULT_SPAN_SECONDS),
                until,
                limit: limit.map(|n| n as usize),
                since_defaulted: since.is_none(),
                every: every
                    .as_deref()
                    .map(|e| parse_span(e, "--every"))
                    .transpose()?,
            };
            let format = match (*json, *csv) {
                (true, _) => commands::history::Format::Json,
                (_, true) => commands::history::Format::Csv,
                _ => commands::history::Format::Table,
            };
            commands::history::print(&conn(store).await?.app, slo, range, format).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backfill {
            store,
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
            let complete = commands::backfill::run(&conn(store).await?.app, request).await?;
            Ok(if complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Silence {
            store,
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
            commands::silence::silence(&conn(store).await?.app, slo, until, reason, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            store,
            slos,
            since,
            out,
        } => {
            let now = chrono::Utc::now().timestamp();
            let span = parse_span(since, "--since")?;
            commands::report::report(&conn(store).await?.app, slos, span, out, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Review { store, since, send } => {
            let now = chrono::Utc::now().timestamp();
            let span = parse_span(since, "--since")?;
            commands::report::review(&conn(store).await?.app, span, *send, now).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Gate {
            store,
            slos,
            service,
            min_budget,
            no_open_incident,
            json,
        } => {
            let policy = sloguard::app::gate::GatePolicy {
                min_budget: min_budget
                    .as_deref()
                    .map(commands::gate::parse_percent)
                    .transpose()?,
                no_open_incident: *no_open_incident,
            };
            commands::gate::run(
                &conn(store).await?.app,
                slos,
                service.as_deref(),
                policy,
                *json,
            )
            .await
        }
        Command::Unsilence { store, slo } => {
            commands::silence::unsilence(&conn(store).await?.app, slo).await?;
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
            // An SLO name the table does not hold is a usage error, like a bad flag.
            let unknown = e.chain().any(|c| c.is::<commands::UnknownSlo>());
            let code = if unknown { 2 } else { 1 };
            eprintln!("error: {}", commands::advise(e, verbose));
            ExitCode::from(code)
        }
    }
}
