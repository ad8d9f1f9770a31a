//! `sloguard init`: the table (and a topic, if asked) for trying sloguard out.

use std::process::ExitCode;

use anyhow::{anyhow, Result};

use super::Store;

/// `sloguard init`'s flags.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: Store,
    /// Also create an SNS topic of this name and print its ARN.
    #[arg(long, value_name = "NAME")]
    create_topic: Option<String>,
}

/// Create what is missing; idempotent.
pub async fn run(args: &Args) -> Result<ExitCode> {
    let c = args.store.connect().await?;
    let created = c.app.store.create_table_if_missing().await?;
    println!(
        "table {}: {}",
        c.settings.table,
        if created { "created" } else { "exists" }
    );
    if let Some(name) = &args.create_topic {
        let arn = aws_sdk_sns::Client::new(&c.sdk)
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
        let arn = arn.topic_arn().unwrap_or_default();
        println!("topic {name}: {arn}");
        println!("export SLO_TOPIC_ARN={arn}");
    }
    Ok(ExitCode::SUCCESS)
}
