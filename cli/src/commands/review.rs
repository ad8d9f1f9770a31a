//! `sloguard review`: the SLO review digest (printed, or sent to the topic with `--send`).

use anyhow::Result;
use sloguard_aws::AwsApp;
use sloguard_core::app::report::{review_digest_of, send_review};
use sloguard_core::app::select::Filter;
use sloguard_core::app::DefinitionStore;

/// Print the review of the last `seconds` of the SLOs `filter` selects (a team's, a
/// service's), or send the fleet's once to the topic (`send` takes no filter).
pub async fn review_of(
    app: &AwsApp,
    seconds: i64,
    send: bool,
    now: i64,
    filter: &Filter,
) -> Result<()> {
    let days = (seconds / 86_400).max(1);
    if send {
        let sent = send_review(&app.store, &app.notifier, days, now).await?;
        println!(
            "{}",
            if sent {
                "review digest sent"
            } else {
                "this week's review digest was already sent"
            }
        );
        return Ok(());
    }
    // An unknown team or service is a usage error naming those there are.
    if !filter.is_all() {
        filter.check(&app.store.definitions().await?)?;
    }
    // One SLO at a time, as the weekly schedule makes it: memory does not grow with the fleet.
    let n = review_digest_of(&app.store, days, now, filter).await?;
    if !filter.is_all() {
        println!("the review of the SLOs{}", filter.describe());
    }
    println!("{}\n\n{}", n.subject, n.body);
    Ok(())
}

/// `sloguard review`'s flags.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::Store,
    /// SNS topic ARN that --send sends to (overrides SLO_TOPIC_ARN).
    #[arg(long)]
    topic_arn: Option<String>,
    /// How far back (e.g. 28d).
    #[arg(long, default_value = "28d")]
    since: String,
    /// Send it to the topic (--topic-arn or SLO_TOPIC_ARN) as one info message (once a week) instead of printing it.
    #[arg(long, conflicts_with_all = ["team", "service"])]
    send: bool,
    #[command(flatten)]
    scope: super::Scope,
}

/// Print the review, or send it with `--send` (which needs a topic).
pub async fn run(args: &Args) -> Result<std::process::ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let span = super::parse_span(&args.since, "--since")?;
    let c = super::connect(args.store.table.as_deref(), args.topic_arn.as_deref()).await?;
    if args.send && c.settings.topic_arn.is_none() {
        anyhow::bail!("--send needs a topic: set SLO_TOPIC_ARN or give --topic-arn");
    }
    review_of(&c.app, span, args.send, now, &args.scope.filter()).await?;
    Ok(std::process::ExitCode::SUCCESS)
}
