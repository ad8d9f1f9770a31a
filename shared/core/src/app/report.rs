//! Reading history for people: the views the report, the dashboard widget and the
//! review draw from, and the weekly review digest sent once to the stack topic (the whole
//! fleet) and once to each team topic (only the SLOs routed there).

use crate::report::review;
use crate::slo::incident::IncidentFacts;
use crate::slo::message::{rfc3339, Notification};
use crate::slo::model::Severity;
use crate::slo::status::Status;

use super::ports::{
    ChangeStore, DedupStore, DefinitionStore, HistoryStore, IncidentStore, Notifier, NotifyError,
    Once, OnceClaim, StoreError,
};
use super::select::{Filter, FilterError};
use super::views::{view_of, Detail, ReadBudget};

/// Why the views could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    #[error("no SLO named `{name}` in the table{}", near_names(.near))]
    UnknownSlo { name: String, near: Vec<String> },
    #[error(transparent)]
    Filter(#[from] FilterError),
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
fn digest_of(
    reviews: &[review::SloReview],
    incidents: &[IncidentFacts],
    worst: Status,
    days: i64,
    now: i64,
) -> Notification {
    let (subject, mut body) = review::digest(reviews, days);
    body.push_str(&review::incident_section(incidents, days, now));
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
            "incident_records": incidents.iter().map(|f| f.to_json(now)).collect::<Vec<_>>(),
        }),
    }
}

/// One SLO's part of the digests: its reviews, its newest status, and the team topics it
/// routes to.
struct Reviewed {
    slo: String,
    reviews: Vec<review::SloReview>,
    status: Option<Status>,
    topics: Vec<String>,
}

/// The SLOs `filter` selects reviewed, one at a time: each SLO's history is read, reviewed
/// and dropped before the next, so memory does not grow with the fleet.
async fn review_all<S: DefinitionStore + HistoryStore + ChangeStore>(
    store: &S,
    days: i64,
    now: i64,
    filter: &Filter,
) -> Result<Vec<Reviewed>, ReportError> {
    let since = now - (days * 86_400).max(review::UNTESTED_LOOKBACK);
    let mut out = Vec::new();
    for d in filter.select(store.definitions().await?)? {
        let slo = d.name.clone();
        let topics = d
            .definition
            .as_ref()
            .map(|s| s.topics.clone())
            .unwrap_or_default();
        let (view, _) = view_of(
            store,
            d,
            (since, now),
            Detail::Sections,
            &mut ReadBudget::unlimited(),
            usize::MAX,
        )
        .await?;
        out.push(Reviewed {
            slo,
            status: view.history.last().map(|s| s.status),
            reviews: review::review(std::slice::from_ref(&view), now - days * 86_400, now),
            topics,
        });
    }
    Ok(out)
}

/// The digest of the SLOs `keep` selects, with their incidents among `incidents`.
fn digest_among(
    all: &[Reviewed],
    keep: impl Fn(&Reviewed) -> bool,
    incidents: &[IncidentFacts],
    days: i64,
    now: i64,
) -> Notification {
    let picked: Vec<&Reviewed> = all.iter().filter(|r| keep(r)).collect();
    let reviews: Vec<review::SloReview> = picked
        .iter()
        .flat_map(|r| r.reviews.iter().cloned())
        .collect();
    let theirs: Vec<IncidentFacts> = incidents
        .iter()
        .filter(|i| picked.iter().any(|r| r.slo == i.record.slo))
        .cloned()
        .collect();
    let worst = Status::worst(picked.iter().filter_map(|r| r.status));
    digest_of(
        &reviews,
        &theirs,
        worst.unwrap_or(Status::NoData),
        days,
        now,
    )
}

/// The incidents of the digest's days.
async fn incidents_of<S: DefinitionStore + HistoryStore + ChangeStore + IncidentStore>(
    store: &S,
    days: i64,
    now: i64,
) -> Result<Vec<IncidentFacts>, ReportError> {
    Ok(super::incidents::incidents(store, None, now - days * 86_400, now).await?)
}

/// The review digest of the whole fleet, made one SLO at a time: each SLO's history is
/// read, reviewed and dropped before the next, so memory does not grow with the fleet.
pub async fn review_digest<S: DefinitionStore + HistoryStore + ChangeStore + IncidentStore>(
    store: &S,
    days: i64,
    now: i64,
) -> Result<Notification, ReportError> {
    review_digest_of(store, days, now, &Filter::default()).await
}

/// The review digest of the SLOs `filter` selects (a team's, a service's), made as
/// `review_digest` makes the fleet's.
pub async fn review_digest_of<S: DefinitionStore + HistoryStore + ChangeStore + IncidentStore>(
    store: &S,
    days: i64,
    now: i64,
    filter: &Filter,
) -> Result<Notification, ReportError> {
    let all = review_all(store, days, now, filter).await?;
    let incidents = incidents_of(store, days, now).await?;
    Ok(digest_among(&all, |_| true, &incidents, days, now))
}

/// The digests to send: the whole fleet's for the stack topic (None), and for each team
/// topic an SLO routes to, the digest of only the SLOs routed there.
pub async fn review_digests<S: DefinitionStore + HistoryStore + ChangeStore + IncidentStore>(
    store: &S,
    days: i64,
    now: i64,
) -> Result<Vec<(Option<String>, Notification)>, ReportError> {
    let all = review_all(store, days, now, &Filter::default()).await?;
    let incidents = incidents_of(store, days, now).await?;
    let mut topics: Vec<&String> = all.iter().flat_map(|r| &r.topics).collect();
    topics.sort();
    topics.dedup();
    let mut out = vec![(None, digest_among(&all, |_| true, &incidents, days, now))];
    for t in topics {
        let mut n = digest_among(&all, |r| r.topics.contains(t), &incidents, days, now);
        n.id = format!("{}@{t}", n.id);
        out.push((Some(t.clone()), n));
    }
    Ok(out)
}

/// What the weekly review schedule asks for (`sloguard_aws::events::schedule` reads it
/// from the schedule's input, `{"review": {"days": 28}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewRequest {
    /// Days the digest covers.
    pub days: i64,
}

impl ReviewRequest {
    /// Days a review covers when the schedule does not say, or says something unusable.
    pub const DEFAULT_DAYS: i64 = 28;
    /// Most days a review covers.
    pub const MAX_DAYS: i64 = 455;

    /// A review over `days` when they are from 1 to `MAX_DAYS`, else over `DEFAULT_DAYS`.
    pub fn over(days: Option<i64>) -> ReviewRequest {
        ReviewRequest {
            days: days
                .filter(|d| (1..=Self::MAX_DAYS).contains(d))
                .unwrap_or(Self::DEFAULT_DAYS),
        }
    }
}

/// How long a review sender holds the week: the digest's reads and the publish.
const REVIEW_LEASE_SECONDS: i64 = 300;

/// Send the weekly digests once per week each, however often the schedule delivers them:
/// the fleet's to the stack topic (on every channel), and each team topic's own. Returns
/// false when this week's fleet digest was already sent (or is being sent). Each digest's
/// week is claimed with a lease and only counts as sent once published: a sender that dies
/// on the way leaves a claim that expires, and the week can be sent again; a failing team
/// topic is retried alone (the error is returned once every digest was tried).
pub async fn send_review<
    S: DefinitionStore + HistoryStore + DedupStore + ChangeStore + IncidentStore,
    N: Notifier,
>(
    store: &S,
    notifier: &N,
    days: i64,
    now: i64,
) -> Result<bool, ReportError> {
    let week = digest_id(now);
    let digests = review_digests(store, days, now).await?;
    let mut sent_fleet = false;
    let mut first_error = None;
    for (topic, n) in &digests {
        let period = match topic {
            None => week.clone(),
            Some(t) => format!("{week}@{t}"),
        };
        match send_once(store, notifier, &period, topic.as_deref(), n, now).await {
            Ok(sent) => sent_fleet |= sent && topic.is_none(),
            Err(e) => {
                tracing::warn!(topic = topic.as_deref().unwrap_or("stack"), error = %e, "review digest not sent");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(sent_fleet),
    }
}

/// Claim the week `period`, publish `n` (to the stack's channels, or to `topic`), complete.
/// False when it was sent before or another sender holds it.
async fn send_once<S: DedupStore, N: Notifier>(
    store: &S,
    notifier: &N,
    period: &str,
    topic: Option<&str>,
    n: &Notification,
    now: i64,
) -> Result<bool, ReportError> {
    let once = Once::Review { period };
    match store
        .claim_once(once, now, REVIEW_LEASE_SECONDS, now + 30 * 86_400)
        .await?
    {
        OnceClaim::Claimed => {}
        OnceClaim::Done | OnceClaim::Busy => return Ok(false),
    }
    let published = match topic {
        Some(t) => notifier.publish_to(t, n).await,
        None => {
            let mut r = Ok(());
            for channel in notifier.channels() {
                r = notifier.publish(channel, n).await;
                if r.is_err() {
                    break;
                }
            }
            r
        }
    };
    if let Err(e) = published {
        // Give the week back so the retry sends it.
        store.forget_once(once).await?;
        return Err(e.into());
    }
    tracing::info!(subject = %n.subject, topic = topic.unwrap_or("stack"), "review digest sent");
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
mod team_tests {
    use super::*;
    use crate::app::cycle::tests::{app_with, at, incident, T};
    use crate::app::ports::DefinitionStore;

    const A: &str = "arn:aws:sns:eu-west-1:123456789012:team-a-pages";

    #[tokio::test]
    async fn each_team_topic_gets_its_own_slos_and_the_stack_topic_the_fleet() {
        let app = app_with(incident).await;
        let mut payments = app.store.definitions().await.unwrap()[0]
            .definition
            .clone()
            .unwrap();
        payments.name = "payments".into();
        payments.topics = vec![A.into()];
        app.store.put_definition(&payments).await.unwrap();
        for m in (0..=60).step_by(5) {
            at(&app, T + m * 60).await;
        }
        app.notifier.take();
        app.notifier.take_routed();
        app.notifier.missing_topics.lock().unwrap().push(A.into());
        let now = T + 2 * 3600;
        assert!(send_review(&app.store, &app.notifier, 28, now)
            .await
            .is_err());
        let fleet = app.notifier.take();
        assert_eq!(fleet.len(), 1, "the fleet's went out");
        assert!(fleet[0].body.contains("checkout") && fleet[0].body.contains("payments"));
        // The team topic is back: only its digest is sent, the fleet's is not again.
        app.notifier.missing_topics.lock().unwrap().clear();
        assert!(!send_review(&app.store, &app.notifier, 28, now + 60)
            .await
            .unwrap());
        assert!(app.notifier.take().is_empty());
        let team = std::mem::take(&mut *app.notifier.routed.lock().unwrap());
        assert_eq!(team.len(), 1);
        assert_eq!(team[0].0, A);
        assert!(team[0].1.body.contains("payments"));
        assert!(!team[0].1.body.contains("checkout"), "{}", team[0].1.body);
        assert!(!send_review(&app.store, &app.notifier, 28, now + 120)
            .await
            .unwrap());
        assert!(app.notifier.take_routed().is_empty(), "once a week");
    }
}

#[cfg(test)]
mod request_tests {
    use super::ReviewRequest;

    #[test]
    fn a_review_covers_the_days_asked_within_bounds_else_four_weeks() {
        assert_eq!(ReviewRequest::over(Some(7)).days, 7);
        assert_eq!(ReviewRequest::over(None).days, 28);
        assert_eq!(ReviewRequest::over(Some(0)).days, 28);
        assert_eq!(ReviewRequest::over(Some(455)).days, 455);
        assert_eq!(ReviewRequest::over(Some(456)).days, 28);
    }
}
