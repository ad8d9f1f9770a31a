//! Reading history for people: the views the report, the dashboard widget and the
//! review draw from, and the weekly review digest sent once to the topic.

use crate::report::review;
use crate::slo::message::{rfc3339, Notification};
use crate::slo::model::Severity;
use crate::slo::status::Status;

use super::ports::{
    ChangeStore, Channel, DedupStore, DefinitionStore, HistoryStore, Notifier, NotifyError, Once,
    OnceClaim, StoreError,
};
use super::views::{view_of, Detail, ReadBudget};

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

pub use super::views::{slo_views, Views};

/// The digest's identity: one a week.
fn digest_id(now: i64) -> String {
    format!("review#{}", now.div_euclid(7 * 86_400))
}

/// The digest of SLO reviews already made, with the fleet's worst status.
fn digest_of(reviews: &[review::SloReview], worst: Status, days: i64, now: i64) -> Notification {
    let (subject, body) = review::digest(reviews, days);
    Notification {
        id: digest_id(now),
        slo: "fleet".into(),
        service: "fleet".into(),
        team: None,
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

/// The review digest of the whole fleet, made one SLO at a time: each SLO's history is
/// read, reviewed and dropped before the next, so memory does not grow with the fleet.
pub async fn review_digest<S: DefinitionStore + HistoryStore + ChangeStore>(
    store: &S,
    days: i64,
    now: i64,
) -> Result<Notification, ReportError> {
    let since = now - (days * 86_400).max(review::UNTESTED_LOOKBACK);
    let mut reviews = Vec::new();
    let mut worst: Option<Status> = None;
    for d in store.definitions().await? {
        let (view, _) = view_of(
            store,
            d,
            (since, now),
            Detail::Sections,
            &mut ReadBudget::unlimited(),
            usize::MAX,
        )
        .await?;
        if let Some(s) = view.history.last() {
            worst = Status::worst(worst.into_iter().chain([s.status]));
        }
        reviews.extend(review::review(
            std::slice::from_ref(&view),
            now - days * 86_400,
            now,
        ));
    }
    Ok(digest_of(
        &reviews,
        worst.unwrap_or(Status::NoData),
        days,
        now,
    ))
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

/// How long a review sender holds the week: the digest's reads and the publish.
const REVIEW_LEASE_SECONDS: i64 = 300;

/// Send the weekly digest once per week, however often the schedule delivers it.
/// Returns false when this week's digest was already sent (or is being sent). The week is
/// claimed with a lease and only counts as sent once published: a sender that dies on
/// the way leaves a claim that expires, and the week can be sent again.
pub async fn send_review<
    S: DefinitionStore + HistoryStore + DedupStore + ChangeStore,
    N: Notifier,
>(
    store: &S,
    notifier: &N,
    days: i64,
    now: i64,
) -> Result<bool, ReportError> {
    let period = digest_id(now);
    let once = Once::Review { period: &period };
    match store
        .claim_once(once, now, REVIEW_LEASE_SECONDS, now + 30 * 86_400)
        .await?
    {
        OnceClaim::Claimed => {}
        OnceClaim::Done | OnceClaim::Busy => return Ok(false),
    }
    let n = match review_digest(store, days, now).await {
        Ok(n) => n,
        Err(e) => {
            store.forget_once(once).await?;
            return Err(e);
        }
    };
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
    store.complete_once(once).await?;
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
    async fn a_review_sender_that_died_leaves_the_week_to_the_next_one() {
        use crate::app::ports::{DedupStore, Once};
        let app = app_with(incident).await;
        at(&app, T).await;
        let now = T + 3600;
        // A sender claimed the week and died before publishing.
        let period = format!("review#{}", now.div_euclid(7 * 86_400));
        let once = Once::Review { period: &period };
        app.store
            .claim_once(once, now, REVIEW_LEASE_SECONDS, now + 86_400)
            .await
            .unwrap();
        assert!(
            !send_review(&app.store, &app.notifier, 28, now + 60)
                .await
                .unwrap(),
            "busy while its lease holds"
        );
        let later = now + REVIEW_LEASE_SECONDS + 1;
        assert!(send_review(&app.store, &app.notifier, 28, later)
            .await
            .unwrap());
        assert_eq!(app.notifier.take().len(), 1);
        assert!(
            !send_review(&app.store, &app.notifier, 28, later + 60)
                .await
                .unwrap(),
            "sent: done for the week"
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
