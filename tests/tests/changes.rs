//! Changes beside the burn, end to end on moto: a deployment event reaches the alarm
//! handler, is stored once, and the page of the SLO that names its target lists it.

use anyhow::Result;
use sloguard_core::app::ChangeStore;
use sloguard_e2e::{change_fixture, checkout_slo_with_changes, Env};

const MIN: i64 = 60;
const CFN: &str = "change-cloudformation-update-complete.json";

#[tokio::test]
async fn a_stack_update_before_a_fast_burn_is_named_in_the_page_once() -> Result<()> {
    let env = Env::new().await?;
    // Two SLOs on the same metrics, each naming its own stack.
    env.apply(&checkout_slo_with_changes("payments", "stack/other-api"))
        .await?;
    env.incident(&checkout_slo_with_changes(
        "checkout",
        "stack/shop-api, lambda/checkout-fn",
    ))
    .await?;
    let e = env.end;
    // shop-api is updated 10 minutes before the errors start (end-90m), other-api 5.
    let shop = change_fixture(CFN, e - 100 * MIN, None)?;
    let first = env.alarm(&env.app, &shop).await?;
    assert_eq!(first.changes.len(), 1);
    assert!(first.changes[0].recorded, "{first:?}");
    assert_eq!(first.changes[0].slos, ["checkout"]);
    // The same change again, as EventBridge may deliver it (another event id): stored once.
    let mut again = shop.clone();
    again["id"] = "redelivered".into();
    let second = env.alarm(&env.app, &again).await?;
    assert!(second.changes[0].duplicate && !second.changes[0].recorded);
    let other = change_fixture(CFN, e - 95 * MIN, Some("other-api"))?;
    assert!(env.alarm(&env.app, &other).await?.changes[0].recorded);
    // A stack no SLO names is acknowledged, not stored.
    let nobody = change_fixture(CFN, e - 95 * MIN, Some("unnamed-api"))?;
    let r = env.alarm(&env.app, &nobody).await?;
    assert!(!r.changes[0].recorded && r.changes[0].ignored.is_some());
    let stored = env
        .app
        .store
        .changes("stack/shop-api", e - 3 * 3600, e)
        .await?;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(env
        .app
        .store
        .changes("stack/unnamed-api", 0, e)
        .await?
        .is_empty());

    env.scheduled(&env.app, e - 100 * MIN).await?; // before the burn: quiet
    env.scheduled(&env.app, e - 70 * MIN).await?;
    let inbox = env.inbox().await?;
    let page = |slo: &str| {
        inbox
            .iter()
            .find(|m| m.attributes["slo"] == slo && m.attributes["severity"] == "page")
            .unwrap_or_else(|| panic!("no page for {slo}: {inbox:#?}"))
    };
    let checkout = &page("checkout").message;
    // The incident opened at end-70m, 30 minutes after the stack update.
    assert!(
        checkout.contains("30 min before  stack/shop-api  UPDATE_COMPLETE"),
        "{checkout}"
    );
    assert!(checkout.contains("CHANGES BEFORE IT (2 h before the incident opened"));
    assert!(checkout.contains(
        "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/events?stackId=arn%3Aaws%3Acloudformation"
    ));
    assert_eq!(
        checkout.matches("stack/shop-api  UPDATE_COMPLETE").count(),
        1
    );
    assert!(!checkout.contains("other-api"), "{checkout}");
    let payments = &page("payments").message;
    assert!(
        payments.contains("25 min before  stack/other-api  UPDATE_COMPLETE"),
        "{payments}"
    );
    assert!(!payments.contains("shop-api"), "{payments}");
    Ok(())
}

#[tokio::test]
async fn a_change_after_the_opening_or_long_before_is_not_named() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo_with_changes("checkout", "stack/shop-api"))
        .await?;
    let e = env.end;
    for t in [e - 4 * 3600, e - 65 * MIN] {
        env.alarm(&env.app, &change_fixture(CFN, t, None)?).await?;
    }
    env.scheduled(&env.app, e - 70 * MIN).await?;
    let inbox = env.inbox().await?;
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    assert!(
        inbox[0]
            .message
            .contains("none recorded for stack/shop-api"),
        "{}",
        inbox[0].message
    );
    Ok(())
}

#[tokio::test]
async fn two_handlers_given_the_same_change_at_once_store_it_once() -> Result<()> {
    let env = Env::new().await?;
    env.apply(&checkout_slo_with_changes("checkout", "lambda/checkout-fn"))
        .await?;
    let other = env.second_app(&env.settings);
    let e = env.end;
    let event = change_fixture(
        "change-lambda-update-function-code.json",
        e - 30 * MIN,
        None,
    )?;
    let (a, b) = tokio::join!(env.alarm(&env.app, &event), env.alarm(&other, &event));
    let (a, b) = (a?, b?);
    assert_eq!(
        [a.changes[0].recorded, b.changes[0].recorded]
            .iter()
            .filter(|r| **r)
            .count(),
        1,
        "{a:?} {b:?}"
    );
    let stored = env
        .app
        .store
        .changes("lambda/checkout-fn", e - 3600, e)
        .await?;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].what, "UpdateFunctionCode");
    Ok(())
}
