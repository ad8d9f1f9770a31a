//! `sloguard silence` / `unsilence`: hold back an SLO's page and ticket messages for a while.

use anyhow::{bail, Result};
use sloguard::app::{Silence, StateStore};
use sloguard::aws::AwsApp;
use sloguard::slo::message::rfc3339;

use super::require_slo;

/// The longest silence: a forgotten one must not mute an SLO for good.
pub const MAX_SILENCE_SECONDS: i64 = 30 * 86_400;

/// Set a silence until `until` (epoch seconds).
pub async fn silence(app: &AwsApp, slo: &str, until: i64, reason: &str, now: i64) -> Result<()> {
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
pub async fn unsilence(app: &AwsApp, slo: &str) -> Result<()> {
    require_slo(app, slo).await?;
    app.store.set_silence(slo, None).await?;
    println!("{slo}: not silenced");
    Ok(())
}
