//! `sloguard report` and `sloguard review`: budget charts in one HTML file, and the
//! SLO review digest (printed, or sent to the topic with `--send`).

use std::path::Path;

use anyhow::{Context as _, Result};
use sloguard::app::report::{digest_notification, review_views, send_review, slo_views};
use sloguard::aws::AwsApp;
use sloguard::report::page;

/// Write the report of `names` (all when empty) over the last `days` to `out`.
pub async fn report(
    app: &AwsApp,
    names: &[String],
    seconds: i64,
    out: &Path,
    now: i64,
) -> Result<()> {
    let since = now - seconds;
    let views = slo_views(&app.store, (!names.is_empty()).then_some(names), since, now).await?;
    let html = page("sloguard: SLO report", &views, (since, now), now);
    std::fs::write(out, &html).with_context(|| format!("cannot write {}", out.display()))?;
    let points: usize = views.iter().map(|v| v.history.len()).sum();
    println!(
        "wrote {} ({} SLO(s), {} snapshot(s), {} KB): open it in a browser",
        out.display(),
        views.len(),
        points,
        html.len().div_ceil(1024)
    );
    Ok(())
}

/// Print the review of the last `seconds`, or send it once to the topic.
pub async fn review(app: &AwsApp, seconds: i64, send: bool, now: i64) -> Result<()> {
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
    let views = review_views(&app.store, days, now).await?;
    let n = digest_notification(&views, days, now);
    println!("{}\n\n{}", n.subject, n.body);
    Ok(())
}
