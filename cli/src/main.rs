//! `sloguard`: validate and apply SLOs, run an evaluation cycle, read status and
//! history, silence, backfill, correct, price the fleet, and take the local demo tour. Each verb is a module of
//! `commands`; they call the same use cases as the Lambdas.

mod commands;
#[cfg(feature = "demo")]
mod demo;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

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

/// The verbs; each module of `commands` holds its flags and how it runs.
#[derive(Subcommand)]
enum Command {
    /// Create the table (and, with --create-topic, an SNS topic) when missing. Idempotent.
    Init(commands::init::Args),
    /// Check SLO files; exit 1 and list every problem as file:line: path: message.
    Validate(commands::validate::Args),
    /// Write OpenSLO files as openslo/v1 or openslo.com/v2alpha (same SLOs; comments are not kept).
    Convert(commands::convert::Args),
    /// Store SLO definitions in the table and print what changed.
    Apply(commands::apply::Args),
    /// Run one evaluation cycle now (or at --at), persisting and notifying like the schedule.
    Evaluate(commands::evaluate::Args),
    /// Rebuild history from CloudWatch over a time range; never notifies, safe to re-run.
    Backfill(commands::backfill::Args),
    /// Hold back an SLO's page and ticket messages for a while (it is still evaluated and recorded).
    Silence(commands::silence::Args),
    /// Write budget charts of every SLO (or those named) to one self-contained HTML file.
    Report(commands::report::Args),
    /// The SLO review: attainment, budget spent, incidents and hints per SLO.
    Review(commands::review::Args),
    /// Release gate: exit 0 when every selected SLO meets the policy, 3 when one does not, 2 on errors.
    Gate(commands::gate::Args),
    /// Record a budget correction (or --update / --withdraw one) and recompute the history it covers; never notifies.
    Correct(Box<commands::correct::Args>),
    /// The budget corrections, every version, who recorded it and when.
    Corrections(commands::correct::ListArgs),
    /// Lift a silence.
    Unsilence(commands::silence::UnsilenceArgs),
    /// The current state of every SLO.
    Status(commands::status::Args),
    /// The expected monthly AWS bill of the applied fleet (or of --slos N / --fleet FILE...), term by term.
    Cost(commands::cost::Args),
    /// The deployments recorded for the targets an SLO names (sloguard.dev/changes), newest first.
    Changes(commands::changes::Args),
    /// The stored budget history of one SLO.
    History(commands::history::Args),
    /// The incidents (of one SLO, or all): burn start, time to detect, duration, budget spent, changes before, silences.
    Incidents(commands::incidents::Args),
    /// One incident by its id; --markdown prints a post-incident review skeleton.
    Incident(commands::incidents::OneArgs),
    /// The local tour: a moto emulator, the example SLOs, an incident, the notifications on-call gets.
    #[cfg(feature = "demo")]
    Demo(demo::Args),
}

/// Run the verb; its module does its own argument handling.
async fn run(command: &Command, verbose: bool) -> Result<ExitCode> {
    match command {
        Command::Init(a) => commands::init::run(a).await,
        Command::Validate(a) => commands::validate::run(a),
        Command::Convert(a) => commands::convert::run(a),
        Command::Apply(a) => commands::apply::run(a).await,
        Command::Evaluate(a) => commands::evaluate::run(a).await,
        Command::Backfill(a) => commands::backfill::run(a).await,
        Command::Silence(a) => commands::silence::run(a).await,
        Command::Report(a) => commands::report::run(a).await,
        Command::Review(a) => commands::review::run(a).await,
        Command::Gate(a) => commands::gate::run(a, verbose).await,
        Command::Correct(a) => commands::correct::run(a).await,
        Command::Corrections(a) => commands::correct::run_list(a).await,
        Command::Unsilence(a) => commands::silence::run_unsilence(a).await,
        Command::Status(a) => commands::status::run(a, verbose).await,
        Command::Cost(a) => commands::cost::run(a).await,
        Command::Changes(a) => commands::changes::run(a).await,
        Command::History(a) => commands::history::run(a).await,
        Command::Incidents(a) => commands::incidents::run(a).await,
        Command::Incident(a) => commands::incidents::run_one(a).await,
        #[cfg(feature = "demo")]
        Command::Demo(a) => demo::run(a).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The AWS SDK's own warnings (IMDS probes, config files) are noise for a CLI user:
    // only its errors by default; SLOGUARD_LOG=debug shows everything.
    let colour = std::io::stderr().is_terminal()
        && !sloguard_cli::output::no_color(std::env::var_os("NO_COLOR").as_deref());
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
    match run(&cli.command, verbose).await {
        Ok(code) => code,
        Err(e) => {
            // An SLO name (or --team, --service) the table does not hold is a usage error,
            // like a bad flag.
            let unknown = e.chain().any(|c| {
                c.is::<commands::UnknownSlo>() || c.is::<sloguard_core::app::select::FilterError>()
            });
            let code = if unknown { 2 } else { 1 };
            eprintln!("error: {}", commands::advise(e, verbose));
            ExitCode::from(code)
        }
    }
}
