//! The alerting model end to end against moto: incidents, budget events, silences,
//! refused future times, and past evaluations (backfill) that never page.

use anyhow::Result;
use sloguard_aws::events::handle_scheduled_event;
use sloguard_core::app::backfill::{backfill, BackfillRequest};
use sloguard_core::app::cycle::{run_cycle, CycleError, CycleRequest};
use sloguard_core::app::{HistoryStore, Silence, StateStore};
use sloguard_core::slo::message::rfc3339;
use sloguard_core::slo::status::SloState;
use sloguard_core::slo::status::Status;
use sloguard_e2e::{checkout_slo, Env, HOUR};

const MIN: i64 = 60;

/// The checkout SLO with extra `sloguard.dev/` annotations and, optionally, a policy.
fn slo_with(annotations: &[&str], policy: bool) -> String {
    let mut y = checkout_slo("checkout");
    let extra: String = annotations.iter().map(|a| format!("\n    {a}")).collect();
    y = y.replace(
        "sloguard.dev/runbook: https://runbooks.example.com/checkout",
        &format!("sloguard.dev/runbook: https://runbooks.example.com/checkout{extra}"),
    );
    if policy {
        y.push_str(
            "  alertPolicies:\n    - kind: AlertPolicy\n      metadata:\n        name: fast-and-slow\n      spec:\n        conditions:\n          - kind: AlertCondition\n            metadata:\n              name: fast\n            spec:\n              severity: page\n              condition: {kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 0m}\n          - kind: AlertCondition\n            metadata:\n              name: slow\n            spec:\n              severity: ticket\n              condition: {kind: burnrate, op: gt, threshold: 2, lookbackWindow: 2h, alertAfter: 0m}\n",
        );
    }
    y
}

/// Run the schedule every 5 minutes over [from, to] and return what on-call got, in order.
async fn cycles(
    env: &Env,
    from: i64,
    to: i64,
) -> Result<Vec<sloguard_testing::emulator::Received>> {
    let mut got = Vec::new();
    let mut t = from;
    while t <= to {
        env.scheduled(&env.app, t).await?;
        got.extend(env.inbox().await?);
        t += 5 * MIN;
    }
    Ok(got)
}

#[tokio::test]
async fn an_exhausted_budget_still_pages_on_a_new_fast_burn() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&checkout_slo("checkout")).await?;
    let e = env.end;
    // 5,000 bad in 50 minutes (more than the 4,320 the 30-day budget allows), then
    // much later a new outage: half of all checkouts fail.
    env.checkout_traffic(|t| {
        if t >= e - 4 * HOUR && t < e - 3 * HOUR - 10 * MIN {
            100.0
        } else if t >= e - 60 * MIN && t < e - 40 * MIN {
            50.0
        } else {
            0.0
        }
    })
    .await?;
    let first = cycles(&env, e - 3 * HOUR, e - 3 * HOUR).await?;
    assert!(
        first
            .iter()
            .any(|m| m.subject.contains("error budget exhausted")),
        "{first:#?}"
    );
    cycles(&env, e - 2 * HOUR, e - 65 * MIN).await?;
    let r = env.scheduled(&env.app, e - 50 * MIN).await?;
    assert_eq!(r.slos[0].status, Some(Status::Exhausted));
    let got = env.inbox().await?;
    assert_eq!(got.len(), 1, "one page for the new burn: {got:#?}");
    assert_eq!(got[0].attributes["severity"], "page");
    assert_eq!(got[0].attributes["status"], "exhausted");
    assert!(
        got[0].subject.starts_with("[PAGE] webshop checkout: "),
        "{}",
        got[0].subject
    );
    assert!(
        got[0].subject.contains("budget already spent"),
        "{}",
        got[0].subject
    );
    assert!(
        got[0].message.contains("Overspent by"),
        "{}",
        got[0].message
    );
    // exhaustion is not announced again within the window
    let rest = cycles(&env, e - 45 * MIN, e).await?;
    assert!(
        !rest.iter().any(|m| m.subject.contains("exhausted")),
        "{rest:#?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_page_that_calms_to_a_ticket_sends_a_ticket_then_one_resolved() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&slo_with(&[], true)).await?;
    let e = env.end;
    let start = e - 3 * HOUR;
    // 10% errors for 10 minutes (page), then 1% for 30 minutes (ticket only), then none.
    env.checkout_traffic(|t| {
        if t >= start && t < start + 10 * MIN {
            10.0
        } else if t >= start + 10 * MIN && t < start + 40 * MIN {
            1.0
        } else {
            0.0
        }
    })
    .await?;
    let got = cycles(&env, start + 10 * MIN, start + 120 * MIN).await?;
    let said: Vec<(&str, &str)> = got
        .iter()
        .map(|m| (m.attributes["severity"].as_str(), m.subject.as_str()))
        .collect();
    assert_eq!(said.len(), 3, "{said:#?}");
    assert_eq!(said[0].0, "page");
    assert_eq!(said[1].0, "ticket");
    assert!(
        said[1].1.contains("burn slowed to ticket level"),
        "{}",
        said[1].1
    );
    assert_eq!(said[2].0, "info");
    assert!(said[2].1.contains("RESOLVED"), "{}", said[2].1);
    assert_eq!(got[1].attributes["status"], "warning");
    assert_eq!(got[2].attributes["status"], "ok");
    Ok(())
}

#[tokio::test]
async fn budget_thresholds_are_each_announced_once() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&slo_with(&["sloguard.dev/budget-alerts: 25,50"], false))
        .await?;
    let e = env.end;
    // 1,200 bad (28% of the budget), an hour later another 1,200 (56%).
    env.checkout_traffic(|t| {
        let burst = |s: i64| t >= s && t < s + 12 * MIN;
        if burst(e - 4 * HOUR) || burst(e - 3 * HOUR) {
            100.0
        } else {
            0.0
        }
    })
    .await?;
    let got = cycles(&env, e - 3 * HOUR - 30 * MIN, e).await?;
    let budget: Vec<&str> = got
        .iter()
        .filter(|m| m.subject.contains("of the error budget consumed"))
        .map(|m| m.subject.as_str())
        .collect();
    assert_eq!(budget.len(), 2, "{budget:#?}");
    assert!(
        budget[0].contains(": 25% of the error budget consumed"),
        "{}",
        budget[0]
    );
    assert!(
        budget[1].contains(": 50% of the error budget consumed"),
        "{}",
        budget[1]
    );
    assert!(got
        .iter()
        .filter(|m| m.subject.contains("of the error budget consumed"))
        .all(|m| m.attributes["severity"] == "info"));
    Ok(())
}

#[tokio::test]
async fn a_silence_holds_back_the_page_and_history_shows_it() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    env.app
        .store
        .set_silence(
            "checkout",
            Some(&Silence {
                until: t + 7 * MIN,
                reason: "deploying the fix".into(),
                created_at: t - HOUR,
            }),
        )
        .await?;
    let r = env.scheduled(&env.app, t).await?;
    assert_eq!(r.slos[0].status, Some(Status::Breaching));
    assert!(env.inbox().await?.is_empty(), "the page is held back");
    let snap = env.history("checkout").await?.pop().unwrap();
    assert_eq!(
        snap.notifications,
        vec!["page: opened (silenced)".to_string()]
    );
    env.scheduled(&env.app, t + 5 * MIN).await?;
    assert!(env.inbox().await?.is_empty());
    // the silence ran out while the incident is still open: one info line
    env.scheduled(&env.app, t + 10 * MIN).await?;
    let got = env.inbox().await?;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].attributes["severity"], "info");
    assert!(
        got[0]
            .subject
            .contains("silence ended, page incident still open"),
        "{}",
        got[0].subject
    );
    Ok(())
}

#[tokio::test]
async fn a_future_trigger_is_refused_and_the_next_real_cycle_still_pages() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let typo = serde_json::json!({"time": rfc3339(t + 365 * 86_400)});
    let err = handle_scheduled_event(&env.app, &typo, t)
        .await
        .unwrap_err();
    assert!(matches!(err, CycleError::FutureTrigger { .. }), "{err}");
    assert_eq!(err.error_type(), "FutureTrigger");
    assert!(
        env.app.store.state("checkout").await?.is_none(),
        "nothing stored"
    );
    // A state left in the future by an older version is repaired, not obeyed.
    let stale = SloState {
        last_evaluated_at: Some(t + 365 * 86_400),
        ..SloState::default()
    };
    let snap = env.history("checkout").await?;
    assert!(snap.is_empty());
    let r = env.scheduled(&env.app, t - 30 * MIN).await?;
    assert!(r.slos[0].snapshot.is_some());
    assert!(
        env.app
            .store
            .commit("checkout", 1, &stale, &[], &[], &[])
            .await?
    );
    let r = env.scheduled(&env.app, t).await?;
    assert_eq!(r.notifications_sent, 1, "{r:?}");
    assert_eq!(env.inbox().await?[0].attributes["severity"], "page");
    Ok(())
}

#[tokio::test]
async fn past_evaluations_and_backfill_publish_nothing() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo("checkout")).await?;
    let t = env.end - 70 * MIN;
    let now = chrono::Utc::now().timestamp();
    // `sloguard evaluate --at` a past time: history only.
    let r = run_cycle(
        &env.app,
        CycleRequest {
            trigger: t,
            now,
            ..CycleRequest::default()
        },
    )
    .await?;
    assert_eq!(r.slos[0].status, Some(Status::Breaching));
    assert_eq!(r.notifications_sent, 0);
    assert!(
        env.app.store.state("checkout").await?.is_none(),
        "state untouched"
    );
    assert_eq!(env.history("checkout").await?.len(), 1);

    // A day at 1-hour steps: 24 snapshots, and again 24 (nothing duplicated).
    let req = BackfillRequest {
        slos: None,
        // 24 hourly times, the last one in the incident (E-60m)
        from: env.end - 60 * MIN - 23 * HOUR,
        to: env.end,
        step: HOUR,
        now,
    };
    let first = backfill(&env.app, &req, |_, _| {}).await?;
    assert_eq!(
        (first.times, first.written, first.skipped),
        (24, 24, 0),
        "{first:?}"
    );
    let again = backfill(&env.app, &req, |_, _| {}).await?;
    assert_eq!((again.written, again.skipped), (0, 24), "{again:?}");
    let snaps: Vec<_> = env
        .app
        .store
        .history("checkout", req.from, req.to - 1)
        .await?
        .into_iter()
        .filter(|s| s.evaluated_at != rfc3339(t))
        .collect();
    assert_eq!(snaps.len(), 24);
    // the incident hour is in the rebuilt history, and nobody was told
    assert!(snaps.iter().any(|s| s.status.as_str() == "breaching"));
    assert!(env.inbox().await?.is_empty());
    assert!(env.app.store.state("checkout").await?.is_none());
    Ok(())
}
