//! Reading history for people: the views the report, the dashboard widget and the
//! review draw from, and the weekly review digest sent once to the topic.

use crate::app::snapshot::Snapshot;
use crate::report::{review, SloView};
use crate::slo::message::{rfc3339, Notification};
use crate::slo::model::{Severity, TimeWindow};
use crate::slo::status::Status;

use super::ports::{
    ChangeStore, Channel, DedupStore, DefinitionStore, HistoryStore, Notifier, NotifyError, Once,
    OnceClaim, StoreError,
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

/// Snapshots kept per SLO in a view: a chart is a few hundred pixels wide, and a 90-day
/// range holds 26,000 five-minute snapshots per SLO.
pub const MAX_POINTS: usize = 1_000;
/// Snapshots kept per SLO in the fleet overview (a sparkline and the latest numbers).
pub const FLEET_POINTS: usize = 100;
/// History is read this much at a time, and thinned as it comes, so memory stays bounded.
const READ_CHUNK: i64 = 86_400;

/// A snapshot that says something happened: a message, an alarm, a status change. Kept
/// whatever the thinning, so incidents, marks and reviews see every event.
fn eventful(s: &Snapshot) -> bool {
    !s.notifications.is_empty() || s.alarm.is_some() || s.change.is_some()
}

/// One SLO's history in `[since, until]`, read a day at a time: every eventful snapshot,
/// and of the others the last and the lowest-budget one of each of `max_points` / 2
/// equal buckets (so lines keep their shape and minima are never lost), and the newest.
pub async fn thinned_history<S: HistoryStore>(
    store: &S,
    slo: &str,
    since: i64,
    until: i64,
    max_points: usize,
) -> Result<Vec<Snapshot>, StoreError> {
    let buckets = (max_points / 2).max(1) as i64;
    let width = ((until - since) / buckets).max(1);
    let bucket = |s: &Snapshot| {
        crate::report::parse_time(&s.evaluated_at).map_or(0, |t| (t - since) / width)
    };
    let mut kept: Vec<Snapshot> = Vec::new();
    // The bucket being filled: its newest snapshot and its lowest-budget one.
    let mut open: Option<(i64, Snapshot, Snapshot)> = None;
    let flush = |kept: &mut Vec<Snapshot>, open: Option<(i64, Snapshot, Snapshot)>| {
        if let Some((_, last, low)) = open {
            if low.evaluated_at != last.evaluated_at {
                kept.push(low);
            }
            kept.push(last);
        }
    };
    let mut from = since;
    while from <= until {
        let to = (from + READ_CHUNK - 1).min(until);
        for s in store.history(slo, from, to).await? {
            if eventful(&s) {
                kept.push(s);
                continue;
            }
            let b = bucket(&s);
            match &mut open {
                Some((ob, last, low)) if *ob == b => {
                    if s.budget_remaining.unwrap_or(f64::INFINITY)
                        < low.budget_remaining.unwrap_or(f64::INFINITY)
                    {
                        *low = s.clone();
                    }
                    *last = s;
                }
                _ => {
                    let done = open.take();
                    flush(&mut kept, done);
                    open = Some((b, s.clone(), s));
                }
            }
        }
        from = to + 1;
    }
    flush(&mut kept, open);
    kept.sort_by(|a, b| a.evaluated_at.cmp(&b.evaluated_at));
    kept.dedup_by(|a, b| a.evaluated_at == b.evaluated_at);
    Ok(kept)
}

/// The SLOs (all, or those named) with their history in `[since, until]`, thinned to
/// about `MAX_POINTS` snapshots each (see [`thinned_history`]).
pub async fn slo_views<S: DefinitionStore + HistoryStore + ChangeStore>(
    store: &S,
    names: Option<&[String]>,
    since: i64,
    until: i64,
) -> Result<Vec<SloView>, ReportError> {
    slo_views_of(store, names, since, until, MAX_POINTS).await
}

/// `slo_views`, keeping about `max_points` snapshots per SLO.
pub async fn slo_views_of<S: DefinitionStore + HistoryStore + ChangeStore>(
    store: &S,
    names: Option<&[String]>,
    since: i64,
    until: i64,
    max_points: usize,
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
        out.push(view_of(store, d, since, until, max_points).await?);
    }
    Ok(out)
}

/// One stored SLO's view: its thinned history and the changes before and in the range.
async fn view_of<S: HistoryStore + ChangeStore>(
    store: &S,
    d: super::ports::StoredDefinition,
    since: i64,
    until: i64,
    max_points: usize,
) -> Result<SloView, ReportError> {
    let history = thinned_history(store, &d.name, since, until, max_points).await?;
    let (changes, changes_lookback) = match &d.definition {
        Ok(def) => (
            super::changes::changes_of(store, def, since - def.settings.changes_lookback, until)
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
    Ok(SloView {
        name: d.name,
        service,
        objective,
        window,
        time_zone,
        history,
        changes,
        changes_lookback,
    })
}

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
    let mut worst = Status::NoData;
    let mut any = false;
    for d in store.definitions().await? {
        let view = view_of(store, d, since, now, MAX_POINTS).await?;
        if let Some(s) = view.history.last() {
            if !any || s.status.rank() > worst.rank() {
                worst = s.status;
            }
            any = true;
        }
        reviews.extend(review::review(
            std::slice::from_ref(&view),
            now - days * 86_400,
            now,
        ));
    }
    Ok(digest_of(&reviews, worst, days, now))
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
    use crate::app::ports::HistoryStore;

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

    fn snapshot(t: i64, budget: f64, note: bool) -> Snapshot {
        serde_json::from_value(serde_json::json!({
            "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
            "evaluated_at": rfc3339(t), "status": "ok", "attainment": 0.9995,
            "budget_remaining": budget, "burn_rates": {}, "exhausts_at": null,
            "good": 999.5, "total": 1000.0, "conditions": [],
            "notifications": if note { vec!["[PAGE] checkout"] } else { vec![] },
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn long_histories_are_thinned_keeping_events_minima_and_the_newest() {
        use crate::app::memory::MemoryStore;
        let store = MemoryStore::default();
        // 30 days of 5-minute snapshots: 8,640, a page on one, the lowest budget on another.
        let n = 30 * 288;
        for k in 0..n {
            let t = T + k * 300;
            let budget = if k == 4321 {
                0.05
            } else {
                0.5 + (k % 7) as f64 * 0.01
            };
            store
                .put_snapshot(&snapshot(t, budget, k == 1234), t + 86_400)
                .await
                .unwrap();
        }
        let until = T + (n - 1) * 300;
        let kept = thinned_history(&store, "checkout", T, until, MAX_POINTS)
            .await
            .unwrap();
        assert!(kept.len() <= MAX_POINTS + 2, "{} kept", kept.len());
        assert!(kept.len() >= MAX_POINTS / 2, "{} kept", kept.len());
        assert!(kept
            .windows(2)
            .all(|w| w[0].evaluated_at < w[1].evaluated_at));
        assert!(kept.iter().any(|s| !s.notifications.is_empty()), "the page");
        assert!(
            kept.iter().any(|s| s.budget_remaining == Some(0.05)),
            "the minimum"
        );
        assert_eq!(
            kept.last().unwrap().evaluated_at,
            rfc3339(until),
            "the newest"
        );
        assert_eq!(
            kept.first().unwrap().evaluated_at,
            rfc3339(T),
            "the oldest bucket's low"
        );
        // A short history is kept whole.
        let all = thinned_history(&store, "checkout", T, T + 3600, MAX_POINTS)
            .await
            .unwrap();
        assert_eq!(all.len(), 13);
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
