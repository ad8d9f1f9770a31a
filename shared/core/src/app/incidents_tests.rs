//! Incident records over in-memory ports: the figures of a burn that starts at a known
//! minute, written once however often a cycle repeats; silences; the Markdown skeleton
//! and the review.

use super::*;
use crate::app::cycle::tests::{app_with, at, incident as burn, T};
use crate::app::ports::StateStore;
use crate::app::Silence;
use crate::slo::model::Severity;

const MIN: i64 = 60;

/// Every 5 minutes from T - 10 min to T + 2 h (the burn: 10% errors over [T, T + 30 min)).
async fn through(app: &crate::app::memory::TestApp) {
    for m in (-10..=120).step_by(5) {
        at(app, T + m * MIN).await;
    }
}

#[tokio::test]
async fn a_burn_is_recorded_once_with_when_it_started_paged_resolved_and_what_it_cost() {
    let app = app_with(burn).await;
    // Each trigger twice (a retried or duplicated invocation): nothing is written twice.
    for m in (-10..=120).step_by(5) {
        at(&app, T + m * MIN).await;
        at(&app, T + m * MIN).await;
    }
    assert_eq!(
        app.store.incident_writes(),
        2,
        "once when it opened, once when it resolved"
    );
    let list = incidents(&app.store, None, T - 3600, T + 3 * 3600)
        .await
        .unwrap();
    assert_eq!(list.len(), 1, "{list:#?}");
    let r = &list[0].record;
    assert_eq!(r.id(), "checkout@20270115T0810Z");
    assert_eq!(r.severity, Severity::Page);
    // The 5m window ending T + 5 min is the first over its threshold: the burn starts at T.
    assert_eq!(r.burn_started_at, T);
    assert_eq!(r.burn_window.as_deref(), Some("5m"));
    // The 1h window passes 14.4 at T + 10 min: the page goes out then.
    assert_eq!(
        (r.opened_at, r.paged_at),
        (T + 10 * MIN, Some(T + 10 * MIN))
    );
    assert_eq!(r.time_to_detect(), 10 * MIN);
    // Quiet from T + 60 min (the 30m window drains), resolved after the 5-minute hold.
    assert_eq!(r.resolved_at, Some(T + 65 * MIN));
    assert_eq!(r.duration(T + 5 * 3600), 65 * MIN);
    // 300 bad requests of a 30-day budget of 4,320: all of it in the incident.
    assert!((r.budget_at_start.unwrap() - 1.0).abs() < 1e-9, "{r:?}");
    assert!(
        (r.budget_spent().unwrap() - 300.0 / 4320.0).abs() < 1e-9,
        "{r:?}"
    );
    assert!(r.silences.is_empty());
    assert!(r.expires_at >= T + 65 * MIN + 400 * 86_400);
    // Once resolved, the state keeps only the burns whose short window is still over (the
    // ticket's 6h window until six hours after the errors).
    let state = app.store.state("checkout").await.unwrap().unwrap().state;
    assert!(state.incident.is_none(), "{state:?}");
    assert_eq!(
        state.burns.keys().collect::<Vec<_>>(),
        ["ticket-3d"],
        "{state:?}"
    );
    // The range filter: an incident is listed when it was open in the range.
    assert!(incidents(&app.store, None, T + 2 * 3600, T + 3 * 3600)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        incidents(&app.store, Some("checkout"), T + 30 * MIN, T + 3 * 3600)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(incidents(&app.store, Some("other"), T - 3600, T + 3 * 3600)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_open_incident_is_listed_with_the_budget_spent_so_far() {
    let app = app_with(burn).await;
    for m in (-10..=20).step_by(5) {
        at(&app, T + m * MIN).await;
    }
    let list = incidents(&app.store, None, T - 3600, T + 20 * MIN)
        .await
        .unwrap();
    let r = &list[0].record;
    assert_eq!(r.resolved_at, None);
    // 200 bad requests so far.
    assert!(
        (r.budget_spent().unwrap() - 200.0 / 4320.0).abs() < 1e-9,
        "{r:?}"
    );
    assert_eq!(r.duration(T + 20 * MIN), 20 * MIN);
}

#[tokio::test]
async fn a_silenced_burn_records_its_silence_and_no_page() {
    let app = app_with(burn).await;
    app.store
        .set_silence(
            "checkout",
            Some(&Silence {
                until: T + 20 * MIN,
                reason: "db failover](http://evil.example) <b>".into(),
                created_at: T - 3600,
            }),
        )
        .await
        .unwrap();
    through(&app).await;
    let list = incidents(&app.store, None, T - 3600, T + 3 * 3600)
        .await
        .unwrap();
    let r = &list[0].record;
    assert_eq!(r.paged_at, None, "the page was held back");
    assert_eq!(r.time_to_detect(), 10 * MIN, "detected when it opened");
    assert_eq!(r.silences.len(), 1);
    assert_eq!(r.silences[0].until, T + 20 * MIN);
    let (f, history) = incident(&app.store, &r.id(), T + 3 * 3600).await.unwrap();
    let md = crate::report::markdown::incident_review(&f, &history, T + 3 * 3600);
    assert!(
        md.contains(r"db failover\]\(http\:\/\/evil\.example\) \<b\>"),
        "{md}"
    );
    assert!(!md.contains("<b>"), "{md}");
    assert!(md.contains("| Page sent | no page went out |"), "{md}");
}

#[tokio::test]
async fn the_markdown_skeleton_holds_the_facts_a_chart_and_empty_cause_and_actions() {
    let app = app_with(burn).await;
    through(&app).await;
    let now = T + 3 * 3600;
    let (f, history) = incident(&app.store, "checkout@20270115T0810Z", now)
        .await
        .unwrap();
    assert!(!history.is_empty());
    let md = crate::report::markdown::incident_review(&f, &history, now);
    for want in [
        "# Post-incident review: checkout, 2027-01-15T08:00:00Z UTC",
        "| Incident | `checkout@20270115T0810Z` |",
        "| Severity reached | page |",
        "| Burn started | 2027-01-15T08:00:00Z (the first 5m window over its threshold) |",
        "| Page sent | 2027-01-15T08:10:00Z |",
        "| Time to detect | 10 min |",
        "| Resolved | 2027-01-15T09:05:00Z |",
        "| Duration | 65 min |",
        "| Budget spent | 6.9% of the budget (100.0% left at the start, 93.1% at the end) |",
        "## Changes before it",
        "## Silences during it",
        "[Error budget remaining (SVG)](data:image/svg+xml;base64,",
        "`sloguard report checkout --since 1d --out checkout-report.html`",
        "## Cause\n\n\n## Actions\n",
    ] {
        assert!(md.contains(want), "missing {want:?} in\n{md}");
    }
    // The chart is a standalone SVG document with the style sheet inside.
    let uri = md
        .split("(data:image/svg+xml;base64,")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap();
    use base64::Engine as _;
    let svg = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(uri)
            .unwrap(),
    )
    .unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.contains("<style>") && svg.contains("polyline"), "{svg}");
    // Unknown and malformed ids are errors that say what an id looks like.
    assert_eq!(
        incident(&app.store, "checkout@20270115T0900Z", now)
            .await
            .unwrap_err(),
        IncidentError::Unknown("checkout@20270115T0900Z".into())
    );
    assert!(incident(&app.store, "checkout", now)
        .await
        .unwrap_err()
        .to_string()
        .contains("like checkout-availability@20261206T1015Z"));
}

#[tokio::test]
async fn the_review_lists_the_incidents_with_their_figures() {
    let app = app_with(burn).await;
    through(&app).await;
    let n = crate::app::report::review_digest(&app.store, 7, T + 3 * 3600)
        .await
        .unwrap();
    assert!(
        n.body.contains("Incidents of the last 7 days: 1 incident"),
        "{}",
        n.body
    );
    for want in [
        "checkout@20270115T0810Z  page, resolved 2027-01-15T09:05:00Z",
        "burn started 2027-01-15T08:00:00Z (5m window); paged after 10 min; lasted 65 min",
        "budget spent 6.9% (100.0% left at the start, 93.1% at the end)",
        "review it: sloguard incident checkout@20270115T0810Z --markdown",
    ] {
        assert!(n.body.contains(want), "missing {want:?} in\n{}", n.body);
    }
    let records = n.document["incident_records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["time_to_detect_seconds"], 600);
    assert_eq!(records[0]["burn_started_at"], "2027-01-15T08:00:00Z");
}

#[test]
fn incident_ids_read_back_and_other_text_is_refused() {
    use crate::slo::incident::{incident_id, parse_incident_id};
    assert_eq!(incident_id("checkout", T), "checkout@20270115T0800Z");
    assert_eq!(
        parse_incident_id("checkout@20270115T0800Z"),
        Some(("checkout".into(), T))
    );
    assert_eq!(incident_id("a", T + 7), "a@20270115T080007Z");
    assert_eq!(
        parse_incident_id("a@20270115T080007Z"),
        Some(("a".into(), T + 7))
    );
    for bad in [
        "checkout",
        "@20270115T0810Z",
        "checkout@2027",
        "checkout@20270115T0800",
    ] {
        assert_eq!(parse_incident_id(bad), None, "{bad}");
    }
}

#[test]
fn markdown_escaping_keeps_outside_text_text() {
    use crate::report::markdown::escape;
    assert_eq!(escape("plain words"), "plain words");
    assert_eq!(escape("# heading"), r"\# heading");
    assert_eq!(
        escape("[x](javascript:alert(1))"),
        r"\[x\]\(javascript\:alert\(1\)\)"
    );
    assert_eq!(escape("a | b"), r"a \| b");
    assert_eq!(escape("<img src=x>"), r"\<img src\=x\>");
    assert_eq!(escape("`code` *em* _u_"), r"\`code\` \*em\* \_u\_");
    // One line: a newline cannot start a block of its own.
    let two = escape("first\n# second");
    assert!(!two.contains('\n'), "{two}");
    assert!(two.contains(r"\\n\# second"), "{two}");
}
