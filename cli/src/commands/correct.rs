//! `sloguard correct` / `corrections`: record a budget correction (or a new version of
//! one, or its withdrawal) and recompute the history it covers; list them with every
//! version, who recorded it and when.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use sloguard_cli::output;
use sloguard_core::app::corrections::{
    list, record, Action, CorrectionError, CorrectionRecord, CorrectionRequest,
};
use sloguard_core::app::DefinitionStore;
use sloguard_core::slo::correction::{parse_tz, Category, Scope, When};
use sloguard_core::slo::message::{count, one_line, quoted, rfc3339};
use sloguard_core::slo::rrule::RRule;

use super::{parse_span, parse_time, Store, UnknownSlo};

/// `sloguard correct`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// The SLOs it applies to (repeat the flag for several).
    #[arg(long = "slo", value_name = "NAME", conflicts_with_all = ["service", "team"])]
    slos: Vec<String>,
    /// Every SLO of this service (`spec.service`), including SLOs applied later.
    #[arg(long, conflicts_with = "team")]
    service: Option<String>,
    /// Every SLO of this team (the `team` annotation), including SLOs applied later.
    #[arg(long)]
    team: Option<String>,
    /// Start of the corrected window (RFC 3339); with --rrule, the first occurrence.
    #[arg(long)]
    from: Option<String>,
    /// End of the corrected window, exclusive (RFC 3339).
    #[arg(long, conflicts_with = "rrule")]
    to: Option<String>,
    /// A recurrence (RFC 5545 RRULE subset: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY,
    /// BYMONTHDAY, COUNT, UNTIL), e.g. FREQ=WEEKLY;BYDAY=SU.
    #[arg(long, requires_all = ["duration", "from"])]
    rrule: Option<String>,
    /// How long each occurrence lasts (e.g. 2h).
    #[arg(long, requires = "rrule")]
    duration: Option<String>,
    /// The IANA time zone the occurrences keep their wall-clock time in (default UTC).
    #[arg(long, requires = "rrule")]
    tz: Option<String>,
    /// maintenance, outside-hours, deployment or other (default other).
    #[arg(long)]
    category: Option<String>,
    /// Why the time does not count (required for a new correction).
    #[arg(long)]
    reason: Option<String>,
    /// Record a new version of this correction: the flags given replace what it had.
    #[arg(long, value_name = "ID", conflicts_with = "withdraw")]
    update: Option<String>,
    /// Withdraw this correction (a new version): its time counts again.
    #[arg(long, value_name = "ID")]
    withdraw: Option<String>,
    /// Who records it (default: $USER).
    #[arg(long)]
    by: Option<String>,
    /// Time between recomputed evaluations (as `backfill --step`).
    #[arg(long, default_value = "1h")]
    step: String,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

/// `sloguard corrections`' arguments.
#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: Store,
    /// Only the corrections that apply to this SLO.
    slo: Option<String>,
    /// An array of corrections, each with every version.
    #[arg(long)]
    json: bool,
}

/// The caller's identity: `--by`, else the login name. (The SDK dependencies have no STS
/// client, and an emulator's GetCallerIdentity names a fixed test account anyway.)
fn caller(by: Option<&str>) -> String {
    by.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn when(args: &Args) -> Result<Option<When>> {
    let from = args
        .from
        .as_deref()
        .map(|f| parse_time(f, "--from"))
        .transpose()?;
    match (&args.rrule, from, &args.to) {
        (Some(rule), Some(start), _) => {
            let tz = parse_tz(args.tz.as_deref()).map_err(|e| anyhow!("--tz: {e}"))?;
            let rule = RRule::parse(rule, tz).map_err(|e| anyhow!("--rrule: {e}"))?;
            let duration = parse_span(args.duration.as_deref().unwrap_or_default(), "--duration")?;
            Ok(Some(When::Recurring {
                start,
                rule,
                duration,
                tz,
            }))
        }
        (None, Some(start), Some(to)) => Ok(Some(When::Window {
            start,
            end: parse_time(to, "--to")?,
        })),
        (None, None, None) => Ok(None),
        (None, Some(_), None) => bail!("--from needs --to (a window) or --rrule and --duration"),
        (None, None, Some(_)) => bail!("--to needs --from"),
        (Some(_), None, _) => bail!("--rrule needs --from (its first occurrence)"),
    }
}

fn scope(args: &Args) -> Option<Scope> {
    if !args.slos.is_empty() {
        return Some(Scope::Slos {
            names: args.slos.clone(),
        });
    }
    if let Some(service) = &args.service {
        return Some(Scope::Service {
            service: service.clone(),
        });
    }
    args.team
        .as_ref()
        .map(|team| Scope::Team { team: team.clone() })
}

/// Record the correction and recompute its history; exit 2 when an evaluation failed.
pub async fn run(args: &Args) -> Result<ExitCode> {
    let action = match (&args.update, &args.withdraw) {
        (Some(id), _) => Action::Update(id.clone()),
        (None, Some(id)) => Action::Withdraw(id.clone()),
        (None, None) => Action::Add,
    };
    let category = args
        .category
        .as_deref()
        .map(Category::parse)
        .transpose()
        .map_err(|e| anyhow!("--category: {e}"))?;
    let req = CorrectionRequest {
        scope: scope(args),
        when: when(args)?,
        category,
        reason: args.reason.clone(),
        by: caller(args.by.as_deref()),
        now: chrono::Utc::now().timestamp(),
        step: parse_span(&args.step, "--step")?,
    };
    let app = args.store.connect().await?.app;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} evaluation times recomputed ({eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let out = match record(&app, &action, req, |done, total| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    })
    .await
    {
        Err(CorrectionError::UnknownSlo(name)) => {
            let defs = app.store.definitions().await?;
            return Err(UnknownSlo::among(&name, &defs).into());
        }
        other => other?,
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let failed = out.recompute.as_ref().map_or(0, |r| r.failed.len());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let c = &out.correction;
        let verb = if c.withdrawn { "withdrawn" } else { "recorded" };
        println!(
            "{} v{} {verb} by {}: {} {}, {} ({})",
            c.id,
            c.version,
            one_line(&c.by),
            c.category,
            c.when,
            c.scope,
            out.slos.join(", ")
        );
        match (&out.recompute, &out.recomputed_from, &out.recomputed_to) {
            (Some(r), Some(from), Some(to)) => println!(
                "history recomputed {from} .. {to}: {}, {} written; nothing was sent",
                count(r.times, "evaluation time"),
                count(r.written, "snapshot")
            ),
            _ => println!("no history to recompute yet (it lies ahead); nothing was sent"),
        }
        for f in out.recompute.iter().flat_map(|r| &r.failed) {
            eprintln!("  failed: {f}");
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn rows(records: &[CorrectionRecord]) -> Vec<Vec<String>> {
    records
        .iter()
        .flat_map(|r| {
            let newest = r.versions.last().map(|v| v.version);
            r.versions.iter().map(move |v| {
                let state = if Some(v.version) != newest {
                    "superseded"
                } else {
                    r.state
                };
                vec![
                    one_line(&v.id),
                    format!("v{}", v.version),
                    state.to_string(),
                    v.category.to_string(),
                    one_line(&v.when.to_string()),
                    one_line(&v.scope.to_string()),
                    one_line(&v.by),
                    rfc3339(v.at),
                    quoted(&v.reason),
                ]
            })
        })
        .collect()
}

/// List corrections, every version of each.
pub async fn run_list(args: &ListArgs) -> Result<ExitCode> {
    let app = args.store.connect().await?.app;
    let records = match list(&app, args.slo.as_deref()).await {
        Err(CorrectionError::UnknownSlo(name)) => {
            let defs = app.store.definitions().await?;
            return Err(UnknownSlo::among(&name, &defs).into());
        }
        other => other?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(ExitCode::SUCCESS);
    }
    if records.is_empty() {
        println!("no corrections");
        return Ok(ExitCode::SUCCESS);
    }
    print!(
        "{}",
        output::table(
            &[
                "ID",
                "VERSION",
                "STATE",
                "CATEGORY",
                "WHEN",
                "APPLIES TO",
                "BY",
                "RECORDED",
                "REASON"
            ],
            &rows(&records),
            None,
            output::colour(),
        )
    );
    Ok(ExitCode::SUCCESS)
}
