//! Changes beside the burn, as use cases: record a deployment event for the SLOs whose
//! `sloguard.dev/changes` name its target (the alarm handler), and read back an SLO's
//! changes (messages, the report, `sloguard changes`).

use serde::Serialize;

use crate::slo::change::Change;
use crate::slo::message::rfc3339;
use crate::slo::model::SloDefinition;
use crate::slo::origin::AccountId;

use super::events::{ChangeEventError, Parsed};
use super::ports::{ChangeStore, DefinitionStore, StoreError};
use super::provenance::Refusal;

/// What the handler did with one deployment event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeOutcome {
    /// The target (`stack/shop-api`), when the event named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What happened (`UPDATE_COMPLETE`), for the handler's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// When it happened (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The SLOs that name the target.
    pub slos: Vec<String>,
    /// Stored now (false: not stored, or stored before from another delivery).
    pub recorded: bool,
    /// Delivered before: the same change is stored once.
    pub duplicate: bool,
    /// Why it was not recorded (not a change, no SLO names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// Why it was refused: its accounts or regions are malformed, disagree, or are not the
    /// stack's. Refused, not failed: a retry would not change the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Why a deployment event could not be handled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    BadEvent(#[from] ChangeEventError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

fn ignored(why: String) -> ChangeOutcome {
    ChangeOutcome {
        target: None,
        what: None,
        at: None,
        slos: Vec::new(),
        recorded: false,
        duplicate: false,
        ignored: Some(why),
        refused: None,
    }
}

fn refused(refusal: Refusal) -> ChangeOutcome {
    let why = format!("deployment event {refusal}; not recorded");
    tracing::warn!(reason = %why, "deployment event refused");
    ChangeOutcome {
        ignored: None,
        refused: Some(why),
        ..ignored(String::new())
    }
}

/// Record one deployment event for the SLOs that name its target, kept `days` days.
/// `account`: the stack's own; an event must name it (or, where it is unknown, name one
/// account consistently), or it is refused.
pub async fn record_change_event<S: DefinitionStore + ChangeStore>(
    store: &S,
    event: &Parsed,
    days: i64,
    account: Option<&AccountId>,
) -> Result<ChangeOutcome, ChangeError> {
    let change = match event {
        Parsed::Change(c) => c.clone(),
        Parsed::Ignored(why) => return Ok(ignored(why.clone())),
        Parsed::Refused(r) => return Ok(refused(r.clone())),
    };
    if let (Some(ours), Some(theirs)) = (account, &change.account) {
        if ours != theirs {
            return Ok(refused(Refusal::OtherAccount {
                theirs: theirs.clone(),
                ours: ours.clone(),
            }));
        }
    }
    let slos: Vec<String> = store
        .definitions()
        .await?
        .into_iter()
        .filter_map(|d| d.definition.ok())
        .filter(|d| d.settings.changes.contains(&change.target))
        .map(|d| d.name)
        .collect();
    let mut out = ChangeOutcome {
        target: Some(change.target.clone()),
        what: Some(change.what.clone()),
        at: Some(rfc3339(change.at)),
        slos,
        recorded: false,
        duplicate: false,
        ignored: None,
        refused: None,
    };
    if out.slos.is_empty() {
        out.ignored = Some(format!(
            "no SLO names {} in sloguard.dev/changes",
            change.target
        ));
        return Ok(out);
    }
    out.recorded = store
        .record_change(&change, change.at + days * 86_400)
        .await?;
    out.duplicate = !out.recorded;
    Ok(out)
}

/// The changes of every target `slo` names with times in [since, until], newest first.
pub async fn changes_of<S: ChangeStore>(
    store: &S,
    slo: &SloDefinition,
    since: i64,
    until: i64,
) -> Result<Vec<Change>, StoreError> {
    let mut all = Vec::new();
    for t in &slo.settings.changes {
        all.extend(store.changes(t, since, until).await?);
    }
    all.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.target.cmp(&b.target)));
    Ok(all)
}

/// The changes a message about events at `references` may list (each reference's lookback).
/// A read that fails is logged and leaves the list empty: a page never waits on it.
pub async fn for_messages<S: ChangeStore>(
    store: &S,
    slo: &SloDefinition,
    references: impl Iterator<Item = i64>,
) -> Vec<Change> {
    let refs: Vec<i64> = references.collect();
    let (Some(from), Some(to)) = (refs.iter().min(), refs.iter().max()) else {
        return Vec::new();
    };
    if slo.settings.changes.is_empty() {
        return Vec::new();
    }
    changes_of(store, slo, from - slo.settings.changes_lookback, *to)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(slo = %slo.name, error = %e, "cannot read recorded changes; the message goes without them");
            Vec::new()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::memory::MemoryStore;
    use crate::app::ports::DefinitionStore;
    use crate::slo::load::{load, SourceFile};

    /// examples/events/change-cloudformation-update-complete.json, as read.
    fn fixture() -> Parsed {
        Parsed::Change(Change {
            target: "stack/shop-api".into(),
            kind: crate::slo::change::ChangeKind::Stack,
            at: 1_764_237_600,
            what: "UPDATE_COMPLETE".into(),
            link: "https://eu-west-1.console.aws.amazon.com/cloudformation/".into(),
            region: "eu-west-1".into(),
            account: Some("111122223333".into()),
            id: "UPDATE_COMPLETE".into(),
        })
    }

    async fn store_with(changes: &str) -> MemoryStore {
        let yaml = crate::app::cycle::tests::checkout_yaml().replace(
            "  annotations:\n",
            &format!("  annotations:\n    sloguard.dev/changes: {changes}\n"),
        );
        let mut loaded = load(&[SourceFile {
            name: "c.yaml".into(),
            text: yaml,
        }]);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let store = MemoryStore::default();
        store.put_definition(&loaded.slos.remove(0)).await.unwrap();
        store
    }

    #[tokio::test]
    async fn a_change_is_recorded_once_for_the_slos_that_name_it() {
        let store = store_with("stack/shop-api, lambda/other").await;
        let home: AccountId = "111122223333".parse().unwrap();
        let first = record_change_event(&store, &fixture(), 90, Some(&home))
            .await
            .unwrap();
        assert!(first.recorded && !first.duplicate, "{first:?}");
        assert_eq!(first.target.as_deref(), Some("stack/shop-api"));
        assert_eq!(first.slos.len(), 1);
        let again = record_change_event(&store, &fixture(), 90, Some(&home))
            .await
            .unwrap();
        assert!(!again.recorded && again.duplicate, "{again:?}");
        let slo = store
            .definitions()
            .await
            .unwrap()
            .remove(0)
            .definition
            .unwrap();
        let got = changes_of(&store, &slo, 0, i64::MAX / 2).await.unwrap();
        assert_eq!(got.len(), 1);
    }

    #[tokio::test]
    async fn changes_nobody_names_or_of_another_account_are_not_recorded() {
        let store = store_with("stack/other-api").await;
        let out = record_change_event(&store, &fixture(), 90, None)
            .await
            .unwrap();
        assert!(!out.recorded);
        assert!(out.ignored.unwrap().contains("no SLO names stack/shop-api"));
        let store = store_with("stack/shop-api").await;
        let other: AccountId = "999999999999".parse().unwrap();
        let out = record_change_event(&store, &fixture(), 90, Some(&other))
            .await
            .unwrap();
        assert!(!out.recorded && out.ignored.is_none(), "{out:?}");
        assert_eq!(
            out.refused.as_deref(),
            Some("deployment event of account 111122223333; this handler serves 999999999999; not recorded")
        );
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
    fn assert_refused(got: &[Option<String>; 2], why: &str) {
        for r in got {
            let r = r.as_deref().expect("refused");
            assert!(
                r.contains(why) && r.ends_with("; not recorded"),
                "{r:?} should say {why:?}"
            );
        }
    }

    fn event(name: &str) -> Value {
        let path = format!("{}/../examples/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_cloudformation_event_with_a_hostile_region_and_no_account_is_not_stored() {
        let hostile = "evil.example/aws-console-login?next=";
        let v = event("change-cloudformation-hostile-region.json");
        assert_eq!(v["region"], hostile);
        assert_refused(&refusals(&v).await, "without `account`");
        // The hostile region alone (the account is the stack's) is refused too.
        let mut v = fixture();
        v["region"] = hostile.into();
        assert_refused(
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
        assert_refused(
            &refusals(&cfn).await,
            "`account` says account 111122223333 but `resources[0]` says 999999999999",
        );
        // The ECS service ARN; a Lambda function named by a partial ARN of another account;
        // CloudTrail's recipient account; a CodeDeploy group's ARN.
        let mut ecs = event("change-ecs-deployment.json");
        ecs["resources"] = foreign(&ecs["resources"]);
        assert_refused(&refusals(&ecs).await, "`resources[0]` says 999999999999");
        let mut lambda = event("change-lambda-publish-version.json");
        lambda["detail"]["requestParameters"] = foreign(&lambda["detail"]["requestParameters"]);
        assert_refused(
            &refusals(&lambda).await,
            "`requestParameters.functionName` says 999999999999",
        );
        let mut lambda = event("change-lambda-update-function-code.json");
        lambda["detail"]["recipientAccountId"] = "999999999999".into();
        assert_refused(
            &refusals(&lambda).await,
            "`detail.recipientAccountId` says 999999999999",
        );
        let mut deploy = event("change-codedeploy-deployment.json");
        deploy["resources"][1] = foreign(&deploy["resources"][1]);
        assert_refused(&refusals(&deploy).await, "`resources[1]` says 999999999999");
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
        assert_refused(&refusals(&v).await, "without `account`");
        let mut v = fixture();
        v["account"] = "".into();
        assert_refused(&refusals(&v).await, "without `account`");
    }

    #[tokio::test]
    async fn regions_that_disagree_are_refused() {
        let mut v = fixture();
        v["region"] = "us-east-1".into();
        assert_refused(
            &refusals(&v).await,
            "`region` says region us-east-1 but `resources[0]` says eu-west-1",
        );
        let mut v = event("change-lambda-update-alias.json");
        v["detail"]["awsRegion"] = "us-east-1".into();
        assert_refused(&refusals(&v).await, "`detail.awsRegion` says us-east-1");
        let mut v = event("change-codedeploy-deployment.json");
        v["detail"]["region"] = "evil.example".into();
        assert_refused(
            &refusals(&v).await,
            "`detail.region` \"evil.example\" is not an AWS region",
        );
    }
}
