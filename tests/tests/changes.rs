//! Changes beside the burn, end to end on moto: a deployment event reaches the alarm
//! handler, is stored once, and the page of the SLO that names its target lists it.

use anyhow::Result;
use serde_json::{json, Value};
use sloguard_aws::events::handle_alarm_event_in;
use sloguard_core::app::alarm::HandlerContext;
use sloguard_core::app::ChangeStore;
use sloguard_core::slo::message::rfc3339;
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
        checkout.contains("30 min before  stack/shop-api  \"UPDATE_COMPLETE\""),
        "{checkout}"
    );
    assert!(checkout.contains("CHANGES BEFORE IT (2 h before the incident opened"));
    assert!(checkout.contains(
        "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/events?stackId=arn%3Aaws%3Acloudformation"
    ));
    assert_eq!(
        checkout
            .matches("stack/shop-api  \"UPDATE_COMPLETE\"")
            .count(),
        1
    );
    assert!(!checkout.contains("other-api"), "{checkout}");
    let payments = &page("payments").message;
    assert!(
        payments.contains("25 min before  stack/other-api  \"UPDATE_COMPLETE\""),
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

/// The stack's alarm handler as deployed: in eu-west-1 of account 123456789012.
fn home() -> HandlerContext {
    HandlerContext::from_function_arn(
        "arn:aws:lambda:eu-west-1:123456789012:function:sloguard-alarm-handler",
        None,
    )
    .expect("a function ARN")
}

/// A fixture made the stack's own: its account 111122223333 becomes 123456789012.
fn ours(v: Value) -> Result<Value> {
    Ok(serde_json::from_str(
        &v.to_string().replace("111122223333", "123456789012"),
    )?)
}

#[tokio::test]
async fn a_hostile_deployment_event_is_not_stored_and_a_forged_item_links_nowhere() -> Result<()> {
    let env = Env::new().await?;
    env.incident(&checkout_slo_with_changes("checkout", "stack/shop-api"))
        .await?;
    let e = env.end;
    let hostile_region = "evil.example/aws-console-login?next=";
    // A hostile region and no account...
    let hostile = ours(change_fixture(
        "change-cloudformation-hostile-region.json",
        e - 100 * MIN,
        None,
    )?)?;
    assert_eq!(hostile["region"], hostile_region);
    // ...and a stack of another account in an envelope of ours.
    let mut foreign = ours(change_fixture(CFN, e - 100 * MIN, None)?)?;
    let arn = foreign["detail"]["stack-id"]
        .as_str()
        .unwrap()
        .replace("123456789012", "999999999999");
    foreign["detail"]["stack-id"] = arn.clone().into();
    foreign["resources"] = json!([arn]);
    for (event, why) in [
        (hostile, "without `account`"),
        (
            foreign,
            "`account` says account 123456789012 but `resources[0]` says 999999999999",
        ),
    ] {
        // Refused, not failed: a retry would not change the answer.
        let r = handle_alarm_event_in(&env.app, &event, e, &home()).await?;
        assert!(!r.changes[0].recorded, "{r:?}");
        let refused = r.changes[0].refused.as_deref().unwrap_or_default();
        assert!(refused.contains(why), "{refused:?} should say {why:?}");
    }
    assert!(env
        .app
        .store
        .changes("stack/shop-api", 0, e)
        .await?
        .is_empty());
    // An item forged straight into the table (or stored by an older version) is data: its
    // change is listed, its link is not.
    let at = e - 100 * MIN;
    let forged = json!({"target": "stack/shop-api", "kind": "stack", "at": at, "what": "UPDATE_COMPLETE",
        "region": hostile_region, "account": null, "id": "UPDATE_COMPLETE",
        "link": format!("https://{hostile_region}.console.aws.amazon.com/cloudformation/home")});
    aws_sdk_dynamodb::Client::new(&env.sdk)
        .put_item()
        .table_name(&env.settings.table)
        .item("pk", attr("CHANGE#stack/shop-api"))
        .item("sk", attr(&format!("{}#UPDATE_COMPLETE", rfc3339(at))))
        .item("change", attr(&forged.to_string()))
        .send()
        .await?;
    env.scheduled(&env.app, e - 70 * MIN).await?;
    let inbox = env.inbox().await?;
    let page = inbox
        .iter()
        .find(|m| m.attributes["severity"] == "page")
        .unwrap_or_else(|| panic!("a page: {inbox:#?}"));
    assert!(
        page.message
            .contains("30 min before  stack/shop-api  \"UPDATE_COMPLETE\""),
        "{}",
        page.message
    );
    assert!(!page.message.contains("evil.example"), "{}", page.message);
    // Read back, it has no link, in JSON (`sloguard changes --json`) or in the report.
    let read = env.app.store.changes("stack/shop-api", 0, e).await?;
    assert_eq!(read.len(), 1);
    assert_eq!((read[0].link.as_str(), read[0].region.as_str()), (None, ""));
    assert_eq!(serde_json::to_value(&read[0])?["link"], Value::Null);
    let views =
        sloguard_core::app::report::slo_views(&env.app.store, None, e - 3 * 3600, e).await?;
    let html =
        sloguard_core::report::page("report", &views.slos, (e - 3 * 3600, e), e, &views.notes)
            .into_string();
    assert!(html.contains("stack/shop-api"), "the change is listed");
    assert!(!html.contains("evil.example"), "{html}");
    Ok(())
}

fn attr(s: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(s.to_string())
}
