//! Events as they arrive (JSON), through the readers and the use cases: an alarm or a
//! deployment event is taken only when every account and region it names is well-formed,
//! agrees, and is the stack's (issue 20.3, 20.4). The checks themselves are
//! `sloguard_core::app::provenance`; what they are given is read here.

use serde_json::Value;
use sloguard_core::app::alarm::{AlarmOutcome, HandlerContext};
use sloguard_core::app::changes::changes_of;
use sloguard_core::app::memory::{app_with, store_naming_changes as store_with, TestApp};
use sloguard_core::app::DefinitionStore;
use sloguard_core::slo::message::rfc3339;
use sloguard_core::slo::origin::AccountId;

use super::{handle_alarm_event_in, record_change_event};

/// An hour boundary the tests evaluate around.
const T: i64 = 1_800_000_000;

/// The checkout alarm's transition to `state` at `t`, as its EventBridge event.
fn alarm_event(state: &str, t: i64) -> Value {
    serde_json::json!({
        "version": "0", "id": "x", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": "123456789012", "time": rfc3339(t), "region": "eu-west-1",
        "resources": ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx-high"],
        "detail": {
            "alarmName": "checkout-5xx-high",
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": rfc3339(t)},
            "previousState": {"value": "OK", "reason": "", "timestamp": rfc3339(t - 600)},
            "configuration": {"metrics": []}
        }
    })
}

fn assert_refused(outcome: &AlarmOutcome, why: &str) {
    let refused = outcome.refused.as_deref().expect("refused");
    assert!(refused.contains(why), "{refused:?} should say {why:?}");
}

fn home() -> HandlerContext {
    HandlerContext::from_function_arn(
        "arn:aws:lambda:eu-west-1:123456789012:function:sloguard-alarm-handler",
        None,
    )
    .expect("a function ARN")
}

/// The checkout alarm at `T` with `edit` applied, as the stack's handler sees it.
async fn outcome_of(
    app: &TestApp,
    edit: impl FnOnce(&mut Value),
    ctx: &HandlerContext,
) -> AlarmOutcome {
    let mut event = alarm_event("ALARM", T);
    edit(&mut event);
    let r = handle_alarm_event_in(app, &event, T, ctx).await.unwrap();
    r.alarms.into_iter().next().expect("one alarm")
}

/// An SNS delivery of the checkout alarm at `T` whose notification is edited by `edit`.
fn sns_alarm(edit: impl Fn(&mut Value)) -> Value {
    let mut m = serde_json::json!({
        "AlarmName": "checkout-5xx-high", "AWSAccountId": "123456789012",
        "NewStateValue": "ALARM", "OldStateValue": "OK", "NewStateReason": "Threshold Crossed",
        "StateChangeTime": rfc3339(T), "Region": "EU (Ireland)",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx-high",
    });
    edit(&mut m);
    serde_json::json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:alarms:x",
        "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms",
            "Subject": "ALARM", "Message": m.to_string(), "Timestamp": rfc3339(T),
            "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "x", "UnsubscribeUrl": "x",
            "MessageAttributes": {}}}]})
}

#[tokio::test]
async fn an_eventbridge_alarm_of_another_account_without_resources_is_refused() {
    let app = app_with(|_| 0.0).await;
    let out = outcome_of(
        &app,
        |e| {
            e["account"] = "999999999999".into();
            e["resources"] = serde_json::json!([]);
        },
        &home(),
    )
    .await;
    assert_refused(&out, "999999999999");
    assert!(out.cycle.is_none() && out.touched.is_empty());
    assert!(app.notifier.take().is_empty());
}

#[tokio::test]
async fn an_sns_alarm_without_an_arn_from_another_account_is_refused() {
    let app = app_with(|_| 0.0).await;
    let payload = sns_alarm(|m| {
        m["AWSAccountId"] = "999999999999".into();
        m.as_object_mut().unwrap().remove("AlarmArn");
    });
    let r = handle_alarm_event_in(&app, &payload, T, &home())
        .await
        .unwrap();
    assert_refused(&r.alarms[0], "999999999999");
    assert!(r.alarms[0].cycle.is_none());
    assert!(app.notifier.take().is_empty());
}

#[tokio::test]
async fn an_alarm_that_names_no_account_is_refused_even_where_the_home_is_unknown() {
    let app = app_with(|_| 0.0).await;
    for ctx in [home(), HandlerContext::default()] {
        let out = outcome_of(
            &app,
            |e| {
                e.as_object_mut().unwrap().remove("account");
                e["resources"] = serde_json::json!([]);
            },
            &ctx,
        )
        .await;
        assert_refused(&out, "names no account");
        assert!(out.cycle.is_none());
    }
    let payload = sns_alarm(|m| {
        let m = m.as_object_mut().unwrap();
        m.remove("AlarmArn");
        m.remove("AWSAccountId");
    });
    let r = handle_alarm_event_in(&app, &payload, T, &home())
        .await
        .unwrap();
    assert_refused(&r.alarms[0], "names no account");
    assert!(app.notifier.take().is_empty());
}

#[tokio::test]
async fn an_alarm_whose_arn_and_envelope_disagree_on_the_account_is_refused() {
    let app = app_with(|_| 0.0).await;
    // The envelope is the stack's, the ARN another account's; and the other way round where
    // the handler does not know its own account (the CLI).
    let foreign_arn = "arn:aws:cloudwatch:eu-west-1:999999999999:alarm:checkout-5xx-high";
    let out = outcome_of(
        &app,
        |e| e["resources"] = serde_json::json!([foreign_arn]),
        &home(),
    )
    .await;
    assert_refused(&out, "999999999999");
    let out = outcome_of(
        &app,
        |e| e["resources"] = serde_json::json!([foreign_arn]),
        &HandlerContext::default(),
    )
    .await;
    assert_refused(&out, "999999999999");
    assert!(out.cycle.is_none());
    let out = outcome_of(&app, |e| e["account"] = "999999999999".into(), &home()).await;
    assert_refused(&out, "999999999999");
    assert!(app.notifier.take().is_empty());
}

#[tokio::test]
async fn an_alarm_of_another_region_or_with_regions_that_disagree_is_refused() {
    let app = app_with(|_| 0.0).await;
    // The ARN is in the stack's region, the envelope says another.
    let out = outcome_of(&app, |e| e["region"] = "us-east-1".into(), &home()).await;
    assert_refused(&out, "us-east-1");
    let out = outcome_of(
        &app,
        |e| e["region"] = "us-east-1".into(),
        &HandlerContext::default(),
    )
    .await;
    assert_refused(&out, "us-east-1");
    // An alarm action with no ARN whose region is another.
    let action = serde_json::json!({"source": "aws.cloudwatch", "accountId": "123456789012", "region": "us-east-1",
        "time": rfc3339(T), "alarmData": {"alarmName": "checkout-5xx-high", "configuration": {},
        "state": {"value": "ALARM", "reason": "r", "timestamp": rfc3339(T)}}});
    let r = handle_alarm_event_in(&app, &action, T, &home())
        .await
        .unwrap();
    assert_refused(&r.alarms[0], "us-east-1");
    // A region that is not a region is refused, not used.
    let out = outcome_of(
        &app,
        |e| e["region"] = "evil.example/x?".into(),
        &HandlerContext::default(),
    )
    .await;
    assert_refused(&out, "not an AWS region");
    assert!(app.notifier.take().is_empty());
}

#[tokio::test]
async fn a_refused_record_does_not_stop_the_others_of_its_batch() {
    let app = app_with(|_| 0.0).await;
    let mut payload = sns_alarm(|m| {
        m["AWSAccountId"] = "999999999999".into();
        m.as_object_mut().unwrap().remove("AlarmArn");
    });
    let good = sns_alarm(|_| {})["Records"][0].clone();
    payload["Records"].as_array_mut().unwrap().push(good);
    let r = handle_alarm_event_in(&app, &payload, T, &home())
        .await
        .unwrap();
    assert_eq!(r.alarms.len(), 2);
    assert_refused(&r.alarms[0], "999999999999");
    assert!(r.alarms[1].refused.is_none(), "{:?}", r.alarms[1]);
    assert_eq!(r.alarms[1].cycle.as_ref().map(|c| c.evaluated), Some(1));
    assert_eq!(app.notifier.take().len(), 1);
}

// ---------- deployment events ----------

/// examples/events/change-cloudformation-update-complete.json.
fn fixture() -> Value {
    serde_json::from_str(include_str!(
        "../../../../examples/events/change-cloudformation-update-complete.json"
    ))
    .expect("fixture is JSON")
}

/// What became of `payload` with the stack's handler (account 111122223333) and with one
/// that does not know its account (the CLI): None when stored, else why it was refused.
/// A refusal is an outcome, never an error, and leaves nothing stored.
async fn refusals(payload: &Value) -> [Option<String>; 2] {
    let mut out = [None, None];
    for (i, home) in [Some("111122223333"), None].into_iter().enumerate() {
        let store =
            store_with("stack/shop-api, ecs/main-cluster/checkout, lambda/checkout-fn").await;
        let home: Option<AccountId> = home.map(|h| h.parse().unwrap());
        let r = record_change_event(&store, payload, 90, home.as_ref())
            .await
            .expect("refused, not failed");
        let slo = store
            .definitions()
            .await
            .unwrap()
            .remove(0)
            .definition
            .unwrap();
        let kept = changes_of(&store, &slo, 0, i64::MAX / 2).await.unwrap();
        assert_eq!(r.recorded, r.refused.is_none(), "{r:?}");
        assert_eq!(r.recorded, kept.len() == 1, "{r:?} {kept:?}");
        out[i] = r.refused;
    }
    out
}

/// Asserts that both handlers refused, saying `why`.
fn assert_both_refused(got: &[Option<String>; 2], why: &str) {
    for r in got {
        let r = r.as_deref().expect("refused");
        assert!(
            r.contains(why) && r.ends_with("; not recorded"),
            "{r:?} should say {why:?}"
        );
    }
}

fn event(name: &str) -> Value {
    let path = format!(
        "{}/../../examples/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_cloudformation_event_with_a_hostile_region_and_no_account_is_not_stored() {
    let hostile = "evil.example/aws-console-login?next=";
    let v = event("change-cloudformation-hostile-region.json");
    assert_eq!(v["region"], hostile);
    assert_both_refused(&refusals(&v).await, "without `account`");
    // The hostile region alone (the account is the stack's) is refused too.
    let mut v = fixture();
    v["region"] = hostile.into();
    assert_both_refused(
        &refusals(&v).await,
        "whose `region` \"evil.example/aws-console-login?next=\" is not an AWS region",
    );
    assert_eq!(
        refusals(&fixture()).await,
        [None, None],
        "the fixture is stored"
    );
}

#[tokio::test]
async fn a_resource_arn_of_another_account_than_the_envelope_is_refused() {
    let foreign = |v: &Value| -> Value {
        serde_json::from_str(&v.to_string().replace("111122223333", "999999999999")).unwrap()
    };
    // The stack ARN (detail and resources) of another account, the envelope the stack's.
    let mut cfn = fixture();
    cfn["detail"] = foreign(&cfn["detail"]);
    cfn["resources"] = foreign(&cfn["resources"]);
    assert_both_refused(
        &refusals(&cfn).await,
        "`account` says account 111122223333 but `resources[0]` says 999999999999",
    );
    // The ECS service ARN; a Lambda function named by a partial ARN of another account;
    // CloudTrail's recipient account; a CodeDeploy group's ARN.
    let mut ecs = event("change-ecs-deployment.json");
    ecs["resources"] = foreign(&ecs["resources"]);
    assert_both_refused(&refusals(&ecs).await, "`resources[0]` says 999999999999");
    let mut lambda = event("change-lambda-publish-version.json");
    lambda["detail"]["requestParameters"] = foreign(&lambda["detail"]["requestParameters"]);
    assert_both_refused(
        &refusals(&lambda).await,
        "`requestParameters.functionName` says 999999999999",
    );
    let mut lambda = event("change-lambda-update-function-code.json");
    lambda["detail"]["recipientAccountId"] = "999999999999".into();
    assert_both_refused(
        &refusals(&lambda).await,
        "`detail.recipientAccountId` says 999999999999",
    );
    let mut deploy = event("change-codedeploy-deployment.json");
    deploy["resources"][1] = foreign(&deploy["resources"][1]);
    assert_both_refused(&refusals(&deploy).await, "`resources[1]` says 999999999999");
    // The whole event of another account: consistent, so only the stack's handler refuses it.
    let got = refusals(&foreign(&fixture())).await;
    assert_eq!(
        got[0].as_deref(),
        Some("deployment event of account 999999999999; this handler serves 111122223333; not recorded")
    );
    assert_eq!(got[1], None);
}

#[tokio::test]
async fn an_event_that_names_no_account_is_refused() {
    let mut v = fixture();
    v.as_object_mut().unwrap().remove("account");
    assert_both_refused(&refusals(&v).await, "without `account`");
    let mut v = fixture();
    v["account"] = "".into();
    assert_both_refused(&refusals(&v).await, "without `account`");
}

#[tokio::test]
async fn regions_that_disagree_are_refused() {
    let mut v = fixture();
    v["region"] = "us-east-1".into();
    assert_both_refused(
        &refusals(&v).await,
        "`region` says region us-east-1 but `resources[0]` says eu-west-1",
    );
    let mut v = event("change-lambda-update-alias.json");
    v["detail"]["awsRegion"] = "us-east-1".into();
    assert_both_refused(&refusals(&v).await, "`detail.awsRegion` says us-east-1");
    let mut v = event("change-codedeploy-deployment.json");
    v["detail"]["region"] = "evil.example".into();
    assert_both_refused(
        &refusals(&v).await,
        "`detail.region` \"evil.example\" is not an AWS region",
    );
}
