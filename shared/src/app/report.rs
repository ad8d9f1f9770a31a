//! Reading history for people: the views the report, the dashboard widget and the
//! review draw from, and the weekly review digest sent once to the topic.

use crate::report::{review, SloView};
use crate::slo::message::{rfc3339, Notification};
use crate::slo::model::{Severity, TimeWindow};
use crate::slo::status::Status;

use super::ports::{
    ChangeStore, Channel, DedupStore, DefinitionStore, HistoryStore, Notifier, NotifyError, Once,
    StoreError,
};

/// Why the views could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    #[error("no SLO named `{name}` in the table{}", near_names(.near))]
    UnknownSlo { name: String, near: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

fn near_names(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    }
}

/// Stored names that look like `name`, owned, for error messages.
pub fn near(name: &str, stored: &[String]) -> Vec<String> {
    crate::slo::suggest::near(name, stored.iter().map(String::as_str))
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The SLOs (all, or those named) with their history in `[since, until]`.
pub async fn slo_views<S: DefinitionStore + HistoryStore + ChangeStore>(
    store: &S,
    names: Option<&[String]>,
    since: i64,
    until: i64,
) -> Result<Vec<SloView>, ReportError> {
    let defs = store.definitions().await?;
    let stored: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    if let Some(asked) = names {
        if let Some(missing) = asked.iter().find(|n| !stored.contains(n)) {
            return Err(ReportError::UnknownSlo {
                name: missing.clone(),
                near: near(missing, &stored),
            });
        }
    }
    let mut out = Vec::new();
    for d in defs {
        if names.is_some_and(|n| !n.contains(&d.name)) {
            continue;
        }
        let history = store.history(&d.name, since, until).await?;
        let (changes, changes_lookback) = match &d.definition {
            Ok(def) => (
                super::changes::changes_of(
                    store,
                    def,
                    since - def.settings.changes_lookback,
                    until,
                )
                .await?,
                def.settings.changes_lookback,
            ),
            Err(_) => (Vec::new(), crate::slo::change::DEFAULT_LOOKBACK_SECONDS),
        };
        let (service, objective, window, time_zone) = match &d.definition {
            Ok(def) => (
                def.service.clone(),
                def.objective.target,
                def.window_label(),
                match &def.window {
                    TimeWindow::Calendar { tz, .. } => Some(tz.name().to_string()),
                    TimeWindow::Rolling { .. } => None,
                },
            ),
            Err(_) => (String::new(), f64::NAN, String::new(), None),
        };
        out.push(SloView {
            name: d.name,
            service,
            objective,
            window,
            time_zone,
            history,
            changes,
            changes_lookback,
        });
    }
    Ok(out)
}

/// The review digest as a notification: `info`, the fleet's worst status as `status`.
/// The views' history may reach back further than `days` (see [`review_views`]).
pub fn digest_notification(views: &[SloView], days: i64, now: i64) -> Notification {
    let reviews = review::review(views, now - days * 86_400, now);
    let (subject, body) = review::digest(&reviews, days);
    let worst = views
        .iter()
        .filter_map(|v| v.history.last().map(|s| s.status))
        .max_by_key(|s| s.rank())
        .unwrap_or(Status::NoData);
    let week = now.div_euclid(7 * 86_400);
    Notification {
        id: format!("review#{week}"),
        slo: "fleet".into(),
        service: "fleet".into(),
        severity: Severity::Info,
        status: worst,
        subject: subject.clone(),
        body,
        document: serde_json::json!({
            "version": 1, "kind": "review", "days": days, "generated_at": rfc3339(now),
            "subject": subject,
            "slos": reviews.iter().map(|r| serde_json::json!({
                "slo": r.slo, "attainment": r.attainment_now, "attainment_week_ago": r.attainment_week_ago,
                "attainment_last_week": r.attainment_last_week, "last_week_estimated": r.last_week_estimated,
                "budget_remaining": r.budget_now, "budget_spent": r.budget_spent,
                "incidents": r.incidents.len(), "hints": r.hints,
            })).collect::<Vec<_>>(),
        }),
    }
}

/// The views a review of the last `days` needs: history back to the longer of the range
/// and the hints' lookback (an objective is "never tested" over 90 days, whatever the range).
pub async fn review_views<S: DefinitionStore + HistoryStore + ChangeStore>(
    store: &S,
    days: i64,
    now: i64,
) -> Result<Vec<SloView>, ReportError> {
    let since = now - (days * 86_400).max(review::UNTESTED_LOOKBACK);
    slo_views(store, None, since, now).await
}

/// The review a schedule asks for: `{"review": {"days": 28}}` (days default 28).
pub fn review_request(payload: &serde_json::Value) -> Option<i64> {
    let r = payload.get("review")?;
    Some(
        r.get("days")
            .and_then(serde_json::Value::as_i64)
            .filter(|d| (1..=455).contains(d))
            .unwrap_or(28),
    )
}

/// Send the weekly digest once per week, however often the schedule delivers it.
/// Returns false when this week's digest was already sent.
pub async fn send_review<
    S: DefinitionStore + HistoryStore + DedupStore + ChangeStore,
    N: Notifier,
>(
    store: &S,
    notifier: &N,
    days: i64,
    now: i64,
) -> Result<bool, ReportError> {
    let views = review_views(store, days, now).await?;
    let n = digest_notification(&views, days, now);
    let period = n.id.clone();
    let once = Once::Review { period: &period };
    if !store.record_once(once, now + 30 * 86_400).await? {
        return Ok(false);
    }
    for channel in notifier.channels() {
        if let Err(e) = notifier.publish(channel, &n).await {
            // Give the week back so the retry sends it.
            store.forget_once(once).await?;
            return Err(e.into());
        }
        if channel == Channel::People {
            tracing::info!(subject = %n.subject, "review digest sent");
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::cycle::tests::{app_with, at, incident, T};

    #[tokio::test]
    async fn the_weekly_digest_goes_out_once_and_a_failed_send_is_retried() {
        let app = app_with(incident).await;
        for m in (0..=90).step_by(5) {
            at(&app, T + m * 60).await;
        }
        app.notifier.take();
        app.notifier
            .failures
            .store(1, std::sync::atomic::Ordering::SeqCst);
        let now = T + 2 * 3600;
        assert!(send_review(&app.store, &app.notifier, 28, now)
            .await
            .is_err());
        assert!(send_review(&app.store, &app.notifier, 28, now)
            .await
            .unwrap());
        assert!(
            !send_review(&app.store, &app.notifier, 28, now + 60)
                .await
                .unwrap(),
            "once a week"
        );
        let sent = app.notifier.take();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].severity, Severity::Info);
        assert!(
            sent[0].subject.contains("1 SLO, 1 incident"),
            "{}",
            sent[0].subject
        );
        assert!(sent[0].body.contains("checkout"));
    }

    #[tokio::test]
    async fn an_unknown_name_gets_near_names() {
        let app = app_with(|_| 0.0).await;
        let err = slo_views(&app.store, Some(&["checkuot".to_string()]), T, T + 60)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no SLO named `checkuot` in the table; did you mean checkout?"
        );
    }
}

#[cfg(test)]
mod request_tests {
    #[test]
    fn the_review_schedule_input_is_recognised() {
        use super::review_request;
        assert_eq!(
            review_request(&serde_json::json!({"review": {"days": 7}})),
            Some(7)
        );
        assert_eq!(review_request(&serde_json::json!({"review": {}})), Some(28));
        assert_eq!(
            review_request(&serde_json::json!({"time": "2026-01-01T00:00:00Z"})),
            None
        );
    }
}
