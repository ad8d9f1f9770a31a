//! Incident records end to end on moto: a burn that starts at a known minute, a page, a
//! resolution, a deployment before it and a silence during another; the figures stored in
//! DynamoDB, written once however often the schedule repeats, and what the listing, the
//! review skeleton and the review digest say about them.

use anyhow::Result;
use sloguard_core::app::incidents::{incident, incidents};
use sloguard_core::app::report::review_digest;
use sloguard_core::app::{IncidentStore, Silence, StateStore};
use sloguard_core::report::markdown::incident_review;
use sloguard_core::slo::message::rfc3339;
use sloguard_core::slo::model::Severity;
use sloguard_e2e::{change_fixture, checkout_slo_with_changes, Env};

const MIN: i64 = 60;

#[tokio::test]
async fn a_burn_is_stored_once_with_its_detection_resolution_cost_and_the_change_before_it(
) -> Result<()> {
    let env = Env::new().await?;
    // 10% of checkouts fail from end-90m to end-60m (the standard incident).
    env.incident(&checkout_slo_with_changes("checkout", "stack/shop-api"))
        .await?;
    let e = env.end;
    let burn = e - 90 * MIN;
    // The stack checkout names is updated 12 minutes before the errors start.
    let deploy = change_fixture(
        "change-cloudformation-update-complete.json",
        burn - 12 * MIN,
        None,
    )?;
    assert!(env.alarm(&env.app, &deploy).await?.changes[0].recorded);
    // The schedule every 5 minutes, each event delivered twice (as EventBridge may).
    let mut t = e - 100 * MIN;
    while t <= e {
        env.scheduled(&env.app, t).await?;
        env.scheduled(&env.app, t).await?;
        t += 5 * MIN;
    }
    let pages: Vec<_> = env
        .inbox()
        .await?
        .into_iter()
        .filter(|m| m.attributes["severity"] == "page")
        .collect();
    assert_eq!(pages.len(), 1, "{pages:#?}");

    // One item in the table for the one incident.
    let stored = env.app.store.incidents(e - 86_400, e).await?;
    assert_eq!(stored.len(), 1, "{stored:#?}");
    let r = &stored[0];
    assert_eq!(r.slo, "checkout");
    assert_eq!(r.severity, Severity::Page);
    // The 5m window ending burn+5m is the first over 14.4x: the burn starts at `burn`.
    assert_eq!(r.burn_started_at, burn);
    assert_eq!(r.burn_window.as_deref(), Some("5m"));
    // The 1h window passes 14.4x at burn+10m (lag 0): the page goes out then.
    assert_eq!(r.paged_at, Some(burn + 10 * MIN));
    assert_eq!(r.time_to_detect(), 10 * MIN);
    // The 30m window is clean at end-30m; resolved after the 5-minute hold.
    assert_eq!(r.resolved_at, Some(e - 25 * MIN));
    assert_eq!(r.duration(e), 65 * MIN);
    // 300 failed checkouts of a 30-day budget of about 4,320 (0.1% of 100 a minute).
    let spent = r.budget_spent().expect("budgets at both ends");
    assert!((spent - 300.0 / 4320.0).abs() < 0.002, "{r:#?}");
    assert!(r.expires_at > e + 399 * 86_400);

    // The listing adds the change before it.
    let list = incidents(&env.app.store, None, e - 86_400, e).await?;
    assert_eq!(list.len(), 1);
    let f = &list[0];
    assert_eq!(f.changes.len(), 1, "{f:#?}");
    assert_eq!(f.changes[0].target, "stack/shop-api");
    assert_eq!(f.changes[0].at, burn - 12 * MIN);
    let json = f.to_json(e);
    for (field, want) in [
        ("id", serde_json::json!(r.id())),
        ("slo", "checkout".into()),
        ("severity", "page".into()),
        ("open", false.into()),
        ("burn_started_at", rfc3339(burn).into()),
        ("paged_at", rfc3339(burn + 10 * MIN).into()),
        ("resolved_at", rfc3339(e - 25 * MIN).into()),
        ("time_to_detect_seconds", 600.into()),
        ("duration_seconds", 3900.into()),
    ] {
        assert_eq!(json[field], want, "{field}: {json:#}");
    }
    assert_eq!(json["changes"][0]["before_burn_seconds"], 720);
    assert!(json["budget_spent"].as_f64().is_some());

    // The review skeleton.
    let (one, history) = incident(&env.app.store, &r.id(), e).await?;
    let md = incident_review(&one, &history, e);
    for want in [
        format!("| Burn started | {} (the first 5m window over its threshold) |", rfc3339(burn)),
        "| Time to detect | 10 min |".to_string(),
        "| Duration | 65 min |".to_string(),
        format!("- {} (12 min before the burn): stack\\/shop\\-api UPDATE\\_COMPLETE ([console](https://eu-west-1.console.aws.amazon.com/cloudformation/", rfc3339(burn - 12 * MIN)),
        "[Error budget remaining (SVG)](data:image/svg+xml;base64,".to_string(),
        "## Cause".to_string(),
        "## Actions".to_string(),
    ] {
        assert!(md.contains(&want), "missing {want:?} in\n{md}");
    }

    // The review digest lists it with its figures.
    let digest = review_digest(&env.app.store, 7, e).await?;
    assert!(
        digest.body.contains(&format!(
            "{}  page, resolved {}",
            r.id(),
            rfc3339(e - 25 * MIN)
        )),
        "{}",
        digest.body
    );
    assert!(
        digest.body.contains("paged after 10 min; lasted 65 min"),
        "{}",
        digest.body
    );
    assert!(
        digest
            .body
            .contains("change 12 min before the burn: \"stack/shop-api\" \"UPDATE_COMPLETE\""),
        "{}",
        digest.body
    );
    Ok(())
}

#[tokio::test]
async fn a_silence_during_an_incident_is_recorded_with_it() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo_with_changes("checkout", "stack/shop-api"))
        .await?;
    let e = env.end;
    env.app
        .store
        .set_silence(
            "checkout",
            Some(&Silence {
                until: e - 70 * MIN,
                reason: "failover drill\n# not a heading".into(),
                created_at: e - 2 * 3600,
            }),
        )
        .await?;
    let mut t = e - 100 * MIN;
    while t <= e {
        env.scheduled(&env.app, t).await?;
        t += 5 * MIN;
    }
    let stored = env.app.store.incidents(e - 86_400, e).await?;
    assert_eq!(stored.len(), 1, "{stored:#?}");
    let r = &stored[0];
    assert_eq!(r.paged_at, None, "held back by the silence");
    assert_eq!(r.silences.len(), 1);
    assert_eq!(r.silences[0].until, e - 70 * MIN);
    let (one, history) = incident(&env.app.store, &r.id(), e).await?;
    let md = incident_review(&one, &history, e);
    assert!(md.contains("failover drill\\\\n\\# not a heading"), "{md}");
    assert!(!md.contains("\n# not a heading"), "{md}");
    Ok(())
}
