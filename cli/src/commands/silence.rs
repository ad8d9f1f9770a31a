//! `sloguard silence` / `unsilence`: hold back an SLO's page and ticket messages for a while.

use std::process::ExitCode;

use anyhow::{bail, Result};
use sloguard_aws::AwsApp;
use sloguard_core::app::{Silence, StateStore};
use sloguard_core::slo::message::rfc3339;

use super::{parse_span, parse_time, require_slo, Store};

/// The longest silence: a forgotten one must not mute an SLO for good.
pub const MAX_SILENCE_SECONDS: i64 = 30 * 86_400;

/// `sloguard silence`'s arguments.
#[derive(clap::Args)]
pub struct Args {
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
}

/// `sloguard unsilence`'s arguments.
#[derive(clap::Args)]
pub struct UnsilenceArgs {
    #[command(flatten)]
    store: Store,
    /// The SLO to unsilence.
    slo: String,
}

/// Silence for `--for` or until `--until`.
pub async fn run(args: &Args) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let until = match (&args.for_, &args.until) {
        (Some(d), _) => now + parse_span(d, "--for")?,
        (None, Some(u)) => parse_time(u, "--until")?,
        (None, None) => bail!("give --for DURATION or --until TIME"),
    };
    let app = args.store.connect().await?.app;
    silence(&app, &args.slo, until, &args.reason, now).await?;
    Ok(ExitCode::SUCCESS)
}

/// Lift the silence of the SLO named.
pub async fn run_unsilence(args: &UnsilenceArgs) -> Result<ExitCode> {
    unsilence(&args.store.connect().await?.app, &args.slo).await?;
    Ok(ExitCode::SUCCESS)
}

/// Set a silence until `until` (epoch seconds).
async fn silence(app: &AwsApp, slo: &str, until: i64, reason: &str, now: i64) -> Result<()> {
    if until <= now {
        bail!(
            "the silence would end at {}, which is not in the future",
            rfc3339(until)
        );
    }
    if until - now > MAX_SILENCE_SECONDS {
        bail!("a silence may last at most 30 days; ask again when it runs out");
    }
    if reason.trim().is_empty() {
        bail!("--reason: say why (it is shown in `sloguard status` and in history)");
    }
    require_slo(app, slo).await?;
    let s = Silence {
        until,
        reason: reason.trim().chars().take(500).collect(),
        created_at: now,
    };
    app.store.set_silence(slo, Some(&s)).await?;
    println!(
        "{slo}: silenced until {} ({}); it is still evaluated and recorded, page and ticket messages are held back",
        rfc3339(until),
        s.reason
    );
    Ok(())
}

/// Lift a silence.
async fn unsilence(app: &AwsApp, slo: &str) -> Result<()> {
    require_slo(app, slo).await?;
    app.store.set_silence(slo, None).await?;
    println!("{slo}: not silenced");
    Ok(())
}
