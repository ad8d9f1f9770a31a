//! The evaluation cycle over in-memory ports: each status (ok, warning, breaching, exhausted,
//! no data) and the change history records for it, each incident transition (opened, escalated,
//! de-escalated, resolved), budget thresholds and exhaustion, no data, a silence and its end,
//! the outbox path (a failed publish stays pending and goes out once), backfill, refused
//! future triggers and the repair of a state from the future.

use super::*;
use crate::app::memory::{FakeMetrics, FakeNotifier};
use crate::app::ports::{Channel, HistoryStore, NotifyError, StateStore, StoreError};
use crate::slo::load::SourceFile;
use crate::slo::status::Status;

/// An hour boundary (2027-01-15T08:00:00Z) the tests evaluate around.
pub(crate) const T: i64 = 1_800_000_000;
const MIN: i64 = 60;

pub(crate) use crate::slo::fixtures::checkout_yaml;

pub(crate) use crate::app::memory::{app_with, TestApp};

/// A cycle at `t` with the clock at `t`, as the schedule delivers it.
pub(crate) async fn at(app: &TestApp, t: i64) -> CycleReport {
    run_cycle(
        app,
        CycleRequest {
            trigger: t,
            now: t,
            ..CycleRequest::default()
        },
    )
    .await
    .expect("cycle runs")
}

fn subjects(app: &TestApp) -> Vec<String> {
    app.notifier.take().into_iter().map(|n| n.subject).collect()
}

/// 10% errors for 30 minutes starting at T.
pub(crate) fn incident(t: i64) -> f64 {
    if (T..T + 30 * MIN).contains(&t) {
        10.0
    } else {
        0.0
    }
}

#[tokio::test]
async fn steady_traffic_is_ok_and_tells_nobody() {
    let app = app_with(|_| 0.0).await;
    let r = at(&app, T).await;
    assert_eq!(r.slos[0].status, Some(Status::Ok));
    assert!(subjects(&app).is_empty());
    let state = app.store.state("checkout").await.unwrap().unwrap();
    assert_eq!(state.version, 1);
    assert!(state.state.incident.is_none());
}

#[tokio::test]
async fn a_burn_opens_one_page_and_resolves_once() {
    let app = app_with(incident).await;
    let first = at(&app, T).await;
    assert_eq!(first.slos[0].status, Some(Status::Ok));
    let r = at(&app, T + 10 * MIN).await;
    assert_eq!(r.slos[0].status, Some(Status::Breaching));
    let change = r.slos[0].change.as_ref().expect("ok -> breaching");
    assert_eq!(
        (change.from, change.to, change.at),
        (Some(Status::Ok), Status::Breaching, T + 10 * MIN)
    );
    let said = subjects(&app);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("[PAGE] webshop checkout: 10.0% of events failing"),
        "{}",
        said[0]
    );
    // the same trigger again, and later cycles still burning: nothing new
    at(&app, T + 10 * MIN).await;
    at(&app, T + 15 * MIN).await;
    assert!(subjects(&app).is_empty());
    // errors stop at T+30m; the 6h condition's 30m short window is clear at T+60m, and
    // after the 5m hold: one RESOLVED
    for m in (35..=75).step_by(5) {
        at(&app, T + m * MIN).await;
    }
    let said = subjects(&app);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("RESOLVED"), "{}", said[0]);
    assert_eq!(app.store.unsent(), 0);
}

#[tokio::test]
async fn a_failed_publish_stays_pending_and_goes_out_once_with_the_next_cycle() {
    let app = app_with(incident).await;
    app.notifier
        .failures
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let r = at(&app, T + 10 * MIN).await;
    assert_eq!(r.notifications_sent, 0);
    assert!(matches!(
        r.slos[0].notify_errors[..],
        [DeliveryError::Notify(NotifyError::Unavailable(_))]
    ));
    assert_eq!(app.store.unsent(), 1);
    let pending = app.store.state("checkout").await.unwrap().unwrap().pending;
    assert_eq!(pending.len(), 1);
    let r = at(&app, T + 15 * MIN).await;
    assert_eq!(r.notifications_sent, 1);
    assert_eq!(subjects(&app).len(), 1);
    at(&app, T + 20 * MIN).await;
    assert!(subjects(&app).is_empty(), "sent once");
    assert_eq!(app.store.unsent(), 0);
}

#[tokio::test]
async fn a_past_trigger_records_history_only_and_a_future_one_is_refused() {
    let app = app_with(incident).await;
    let r = run_cycle(
        &app,
        CycleRequest {
            trigger: T + 10 * MIN,
            now: T + 3 * 3600,
            ..CycleRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(r.slos[0].status, Some(Status::Breaching));
    assert!(subjects(&app).is_empty());
    assert!(app.store.state("checkout").await.unwrap().is_none());
    assert_eq!(
        app.store
            .history("checkout", T, T + 3600)
            .await
            .unwrap()
            .len(),
        1
    );

    let err = run_cycle(
        &app,
        CycleRequest {
            trigger: T + 3600,
            now: T,
            ..CycleRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, CycleError::FutureTrigger { .. }), "{err}");
}

#[tokio::test]
async fn an_unknown_slo_fails_alone_with_a_typed_error() {
    let app = app_with(|_| 0.0).await;
    let r = run_cycle(
        &app,
        CycleRequest {
            trigger: T,
            now: T,
            only: Some(vec!["checkout".into(), "nope".into()]),
            ..CycleRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!((r.evaluated, r.failed), (1, 1));
    let nope = r.slos.iter().find(|o| o.slo == "nope").unwrap();
    assert_eq!(nope.error, Some(SloError::Unknown));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["slos"][1]["error"],
        "no such SLO in the table (apply it first)"
    );
    assert_eq!(json["slos"][0]["status"], "ok");
}

#[tokio::test]
async fn messages_link_the_stack_dashboard_when_it_is_known() {
    let mut app = app_with(incident).await;
    app.config.dashboard_url = Some(
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home#dashboards/dashboard/s-slos"
            .into(),
    );
    at(&app, T + 10 * MIN).await;
    let sent = app.notifier.take();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].body.contains("dashboard: https://eu-west-1.console.aws.amazon.com/cloudwatch/home#dashboards/dashboard/s-slos?var-slo=checkout\n"),
        "{}",
        sent[0].body
    );
    // a name that needs escaping stays one parameter
    assert_eq!(
        crate::slo::message::dashboard_link("https://x/home#dashboards/dashboard/d", "a b&c"),
        "https://x/home#dashboards/dashboard/d?var-slo=a%20b%26c"
    );
}

#[tokio::test]
async fn a_quiet_cycle_writes_only_its_snapshot_and_the_hourly_one_is_kept_long() {
    let app = app_with(|_| 0.0).await;
    for k in 0..12 {
        at(&app, T + k * 5 * MIN).await;
    }
    // The first cycle creates the state; the other 11 of the hour change nothing but the time.
    assert_eq!(app.store.commits(), 1);
    at(&app, T + 60 * MIN).await;
    assert_eq!(
        app.store.commits(),
        2,
        "the first cycle of an hour moves the state on"
    );
    let state = app.store.state("checkout").await.unwrap().unwrap();
    assert_eq!(state.state.last_evaluated_at, Some(T + 60 * MIN));
    let days = |d: i64| d * 86_400;
    assert_eq!(app.store.expiry("checkout", T), Some(T + days(400)));
    for k in 1..12 {
        let t = T + k * 5 * MIN;
        assert_eq!(app.store.expiry("checkout", t), Some(t + days(15)), "{k}");
    }
    assert_eq!(
        app.store.expiry("checkout", T + 60 * MIN),
        Some(T + 60 * MIN + days(400))
    );
    // What `status` shows still comes from the newest snapshot.
    let latest = crate::app::latest::states_with_latest(&app.store)
        .await
        .unwrap()
        .remove("checkout")
        .and_then(|s| s.latest)
        .unwrap();
    assert_eq!(latest.evaluated_at, rfc3339(T + 60 * MIN));
    assert_eq!(
        app.store
            .history("checkout", 0, T + days(1))
            .await
            .unwrap()
            .len(),
        13
    );
}

#[tokio::test]
async fn a_cycle_that_changes_the_state_writes_it_within_the_hour() {
    let app = app_with(incident).await;
    at(&app, T - 5 * MIN).await;
    assert_eq!(app.store.commits(), 1);
    // T is in the next hour: checkpoint; then the burn opens an incident (a state change).
    at(&app, T).await;
    at(&app, T + 5 * MIN).await;
    at(&app, T + 10 * MIN).await;
    let state = app.store.state("checkout").await.unwrap().unwrap();
    assert!(state.state.incident.is_some());
    assert!(app.store.commits() >= 3, "{}", app.store.commits());
    assert_eq!(subjects(&app).len(), 1);
}

#[tokio::test]
async fn the_bus_and_sns_are_delivered_once_each_when_one_of_them_failed() {
    let mut app = app_with(incident).await;
    app.notifier.bus = true;
    app.notifier
        .bus_failures
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let r = at(&app, T + 10 * MIN).await;
    // SNS went out; the bus failed and stays pending on its own.
    assert_eq!(r.notifications_sent, 1);
    assert!(matches!(
        r.slos[0].notify_errors[..],
        [DeliveryError::Notify(NotifyError::Bus { .. })]
    ));
    assert_eq!(app.store.unsent(), 1);
    // The retried cycle puts the event once and sends no second page.
    let r = at(&app, T + 15 * MIN).await;
    assert_eq!(r.notifications_sent, 1);
    at(&app, T + 20 * MIN).await;
    let sent = std::mem::take(&mut *app.notifier.sent.lock().unwrap());
    let on = |c: Channel| sent.iter().filter(|(ch, _)| *ch == c).count();
    assert_eq!((on(Channel::People), on(Channel::Bus)), (1, 1), "{sent:?}");
    assert_eq!(
        sent[1].1.detail_type(),
        Some("SLO Incident Opened"),
        "the bus gets the kind"
    );
    assert_eq!(app.store.unsent(), 0);
}

#[tokio::test]
async fn a_page_lists_the_changes_before_the_incident_opened() {
    use crate::app::ports::{ChangeStore, DefinitionStore};
    use crate::slo::change::tests::change;
    let app = app_with(incident).await;
    let yaml = checkout_yaml().replace(
        "  annotations:\n",
        "  annotations:\n    sloguard.dev/changes: stack/shop-api\n",
    );
    let slo = crate::slo::load::load(&[SourceFile {
        name: "c.yaml".into(),
        text: yaml,
    }])
    .slos
    .remove(0);
    app.store.put_definition(&slo).await.unwrap();
    for c in [
        change("stack/shop-api", T - 20 * MIN),
        change("stack/shop-api", T - 3 * 3600),
        change("stack/other-api", T - 10 * MIN),
    ] {
        app.store.record_change(&c, T + 86_400).await.unwrap();
    }
    at(&app, T + 10 * MIN).await;
    let page = app.notifier.take().remove(0);
    assert!(page.body.contains("CHANGES BEFORE IT"), "{}", page.body);
    // Opened at T+10m: the change 30 minutes before is listed, the one 3 h before is not.
    assert!(
        page.body
            .contains("30 min before  stack/shop-api  \"UPDATE_COMPLETE\""),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("stack/shop-api  \"UPDATE").count(), 1);
    assert!(!page.body.contains("other-api"));
    assert_eq!(page.document["changes"][0]["seconds_before"], 30 * MIN);
}

#[tokio::test]
async fn a_state_with_times_in_the_future_is_repaired_and_exhaustion_is_announced() {
    use crate::slo::model::Severity;
    use crate::slo::status::Incident;
    // 1% of requests failing for the whole window: the budget is spent ten times over.
    let app = app_with(|_| 1.0).await;
    let ahead = T + 10 * 86_400;
    let state = SloState {
        status: Some(Status::Exhausted),
        status_since: Some(ahead),
        last_evaluated_at: Some(T - 5 * MIN),
        met_since: [("page-6h".to_string(), ahead)].into(),
        incident: Some(Incident {
            severity: Severity::Page,
            opened_at: ahead,
            budget_at_open: Some(0.5),
            calm_since: Some(ahead),
            quiet_since: None,
            held_back: false,
            burn: None,
            peak: None,
            paged_at: None,
            silences: Vec::new(),
        }),
        budget_announced: [(100, ahead)].into(),
        burns: Default::default(),
    };
    assert!(app
        .store
        .commit("checkout", 0, &state, &[], &[], &[])
        .await
        .unwrap());
    at(&app, T).await;
    let said = subjects(&app);
    assert!(
        said.iter().any(|s| s.contains("error budget exhausted")),
        "a budget_announced[100] from the future must not keep exhaustion quiet: {said:?}"
    );
    let repaired = app.store.state("checkout").await.unwrap().unwrap().state;
    assert_eq!(repaired.budget_announced.get(&100), Some(&T));
    assert_eq!(repaired.status_since, Some(T));
    assert!(repaired.met_since.values().all(|t| *t <= T), "{repaired:?}");
    let incident = repaired.incident.unwrap();
    assert_eq!(incident.opened_at, T);
    assert!(incident.calm_since.is_none_or(|c| c <= T), "{incident:?}");
}

const HOUR: i64 = 3600;

/// What cycles every 5 minutes told on-call and how the status moved.
#[derive(Debug, Default)]
struct Run {
    /// What was sent, as (severity, event) in order.
    told: Vec<(String, String)>,
    /// Each change of the status, as history records it ("ok -> breaching"), in order.
    changes: Vec<String>,
}

/// Cycles every 5 minutes over `[from, to)`. Every cycle's status is asserted: the one the
/// last change moved it to, each change starting from the status before it.
async fn run_every_5_min(app: &TestApp, from: i64, to: i64) -> Run {
    let mut run = Run::default();
    let mut shown = app
        .store
        .state("checkout")
        .await
        .unwrap()
        .and_then(|s| s.state.status);
    for t in (from..to).step_by(5 * MIN as usize) {
        let outcome = at(app, t).await.slos.remove(0);
        if let Some(change) = &outcome.change {
            assert_eq!(change.from, shown, "at {t}: {change}");
            shown = Some(change.to);
            run.changes.push(change.to_string());
        }
        assert_eq!(
            outcome.status, shown,
            "at {t}: a status moves only with a change"
        );
        for n in app.notifier.take() {
            run.told.push((
                n.severity.as_str().to_string(),
                n.document["event"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    run
}

/// A slow burn for three days (0.3% failing: a ticket), a fast one for 30 minutes from T (5%:
/// a page), the slow one again until T+2h, then nothing.
fn ticket_then_page(t: i64) -> f64 {
    if (T..T + 30 * MIN).contains(&t) {
        5.0
    } else if (T - 3 * 24 * HOUR..T + 2 * HOUR).contains(&t) {
        0.3
    } else {
        0.0
    }
}

#[tokio::test]
async fn a_ticket_escalates_to_a_page_calms_to_a_ticket_and_resolves_once() {
    let app = app_with(ticket_then_page).await;
    // A day before the slow burn starts, all is well.
    let before = at(&app, T - 4 * 24 * HOUR).await.slos.remove(0);
    assert_eq!(before.status, Some(Status::Ok));
    assert_eq!(before.change.unwrap().to_string(), "new -> ok");
    let run = run_every_5_min(&app, T - 10 * MIN, T + 7 * HOUR).await;
    assert_eq!(
        run.changes,
        [
            "ok -> warning",
            "warning -> breaching",
            "breaching -> warning",
            "warning -> ok"
        ]
    );
    let pair = |s: &str, e: &str| (s.to_string(), e.to_string());
    assert_eq!(
        run.told,
        vec![
            pair("ticket", "opened"),
            pair("page", "escalated"),
            pair("ticket", "de-escalated"),
            pair("info", "resolved"),
        ]
    );
    assert!(app
        .store
        .state("checkout")
        .await
        .unwrap()
        .unwrap()
        .state
        .incident
        .is_none());
    assert_eq!(app.store.unsent(), 0);
}

/// The checkout SLO with `sloguard.dev/budget-alerts: 50`.
async fn with_budget_alerts(app: &TestApp) {
    use crate::app::ports::DefinitionStore;
    let yaml = checkout_yaml().replace(
        "  annotations:\n",
        "  annotations:\n    sloguard.dev/budget-alerts: \"50\"\n",
    );
    let loaded = crate::slo::load::load(&[SourceFile {
        name: "c.yaml".into(),
        text: yaml,
    }]);
    assert_eq!(loaded.slos[0].settings.budget_alerts, vec![50]);
    app.store.put_definition(&loaded.slos[0]).await.unwrap();
}

#[tokio::test]
async fn a_budget_threshold_and_exhaustion_are_each_told_once_beside_the_page() {
    // 0.06% failing for 30 days spends 60% of the budget; 50% failing from T spends the rest
    // in about 35 minutes.
    let app = app_with(|t| if t < T { 0.06 } else { 50.0 }).await;
    with_budget_alerts(&app).await;
    let run = run_every_5_min(&app, T, T + 90 * MIN).await;
    assert_eq!(
        run.changes,
        ["new -> ok", "ok -> breaching", "breaching -> exhausted"]
    );
    let pair = |s: &str, e: &str| (s.to_string(), e.to_string());
    assert_eq!(
        run.told,
        vec![
            pair("info", "budget-50"),
            pair("page", "opened"),
            pair("ticket", "exhausted"),
        ]
    );
}

#[tokio::test]
async fn an_exhausted_budget_still_pages_for_a_new_burn() {
    // 1% failing for ten days, ending ten days ago, spent the budget three times over; no
    // condition fires at T. Then a new fast burn at T+2h.
    let app = app_with(|t| {
        if (T - 20 * 24 * HOUR..T - 10 * 24 * HOUR).contains(&t) {
            1.0
        } else if (T + 2 * HOUR..T + 2 * HOUR + 30 * MIN).contains(&t) {
            50.0
        } else {
            0.0
        }
    })
    .await;
    // Before that burn the budget was whole.
    let before = at(&app, T - 21 * 24 * HOUR).await.slos.remove(0);
    assert_eq!(before.status, Some(Status::Ok));
    let run = run_every_5_min(&app, T, T + 2 * HOUR + 20 * MIN).await;
    // Exhausted outranks breaching: the new page does not change the status.
    assert_eq!(run.changes, ["ok -> exhausted"]);
    let pair = |s: &str, e: &str| (s.to_string(), e.to_string());
    assert_eq!(
        run.told,
        vec![pair("ticket", "exhausted"), pair("page", "opened")]
    );
}

#[tokio::test]
async fn an_slo_without_data_is_no_data_and_tells_nobody() {
    let app = app_with(|_| 0.0).await;
    let quiet = TestApp {
        metrics: FakeMetrics::new(|_, _| None),
        store: app.store,
        notifier: FakeNotifier::default(),
        config: app.config,
    };
    let r = at(&quiet, T).await;
    assert_eq!(r.slos[0].status, Some(Status::NoData));
    let change = r.slos[0]
        .change
        .as_ref()
        .expect("a first status is a change");
    assert_eq!(change.to_string(), "new -> no_data");
    assert!(quiet.notifier.take().is_empty());
    let snap = quiet.store.history("checkout", T, T).await.unwrap();
    assert_eq!(snap[0].status, Status::NoData);
    assert_eq!(snap[0].budget_remaining, None);
    let state = quiet.store.state("checkout").await.unwrap().unwrap().state;
    assert_eq!(state.status, Some(Status::NoData));
    assert!(state.incident.is_none());
}

#[tokio::test]
async fn a_silence_holds_the_page_back_and_one_line_says_when_it_ended() {
    use crate::app::ports::Silence;
    let app = app_with(incident).await;
    let silence = Silence {
        until: T + 20 * MIN,
        reason: "rolling back".into(),
        created_at: T - MIN,
    };
    app.store
        .set_silence("checkout", Some(&silence))
        .await
        .unwrap();
    at(&app, T + 10 * MIN).await;
    assert!(app.notifier.take().is_empty(), "held back");
    let held = app
        .store
        .history("checkout", T, T + 10 * MIN)
        .await
        .unwrap();
    assert_eq!(
        held.last().unwrap().notifications,
        vec!["page: opened (silenced)".to_string()]
    );
    at(&app, T + 15 * MIN).await;
    assert!(app.notifier.take().is_empty());
    // The silence is over and the burn goes on: one info line, no late page.
    at(&app, T + 25 * MIN).await;
    let sent = app.notifier.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].severity, crate::slo::model::Severity::Info);
    assert!(
        sent[0]
            .subject
            .ends_with("silence ended, page incident still open"),
        "{}",
        sent[0].subject
    );
    at(&app, T + 30 * MIN).await;
    assert!(app.notifier.take().is_empty(), "said once");
}

#[tokio::test]
async fn backfill_writes_history_sends_nothing_and_leaves_the_state_alone() {
    use crate::app::backfill::{backfill, BackfillRequest};
    let app = app_with(incident).await;
    let req = BackfillRequest {
        slos: None,
        from: T,
        to: T + HOUR,
        step: 10 * MIN,
        now: T + 3 * HOUR,
    };
    let r = backfill(&app, &req, |_, _| {}).await.unwrap();
    assert_eq!((r.times, r.written, r.skipped), (6, 6, 0), "{r:?}");
    let snaps = app.store.history("checkout", T, T + HOUR).await.unwrap();
    assert_eq!(snaps.len(), 6);
    // The burn is in the rebuilt history, and nobody was told.
    assert!(snaps.iter().any(|s| s.status == Status::Breaching));
    assert!(snaps.iter().all(|s| s.notifications.is_empty()));
    assert!(app.notifier.take().is_empty());
    assert!(app.store.state("checkout").await.unwrap().is_none());
    assert_eq!(app.store.commits(), 0);
}

#[tokio::test]
async fn an_unreadable_definition_fails_alone_with_a_typed_reason() {
    let app = app_with(|_| 0.0).await;
    app.store.put_raw_definition("broken", 3, "{not json");
    let r = at(&app, T).await;
    assert_eq!((r.evaluated, r.failed), (1, 1));
    let broken = r.slos.iter().find(|o| o.slo == "broken").unwrap();
    match &broken.error {
        Some(SloError::Unreadable {
            version: 3,
            reason: StoreError::Corrupt { key, .. },
        }) => assert_eq!(key, "DEF/broken"),
        other => panic!("{other:?}"),
    }
    assert!(broken
        .error
        .as_ref()
        .unwrap()
        .to_string()
        .starts_with("stored definition v3 is unreadable: stored item DEF/broken is unreadable"));
}

#[tokio::test]
async fn a_past_evaluation_with_notify_sends_unless_a_newer_one_was_made() {
    let app = app_with(incident).await;
    let past = |trigger: i64| CycleRequest {
        trigger,
        now: T + 80 * MIN,
        notify_past: true,
        ..CycleRequest::default()
    };
    // An hour late, asked to notify (`evaluate --at ... --notify`): the burn pages.
    let r = run_cycle(&app, past(T + 20 * MIN)).await.unwrap();
    assert_eq!(r.slos[0].status, Some(Status::Breaching));
    let said = subjects(&app);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with("[PAGE]"), "{said:?}");
    // Older than the last evaluation: history only, whatever --notify says.
    let r = run_cycle(&app, past(T + 10 * MIN)).await.unwrap();
    assert!(r.slos[0].error.is_none());
    assert!(
        subjects(&app).is_empty(),
        "nothing for a time before the last one"
    );
    // Without --notify the same hour-late evaluation records history only.
    let quiet = app_with(incident).await;
    run_cycle(
        &quiet,
        CycleRequest {
            notify_past: false,
            ..past(T + 20 * MIN)
        },
    )
    .await
    .unwrap();
    assert!(subjects(&quiet).is_empty());
}
