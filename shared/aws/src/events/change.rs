//! Deployment events from EventBridge, read into `slo::change::Change`: CloudFormation
//! stack status changes, CodeDeploy deployment state changes, ECS deployment state
//! changes, and Lambda code and alias updates seen through CloudTrail ("AWS API Call via
//! CloudTrail": UpdateFunctionCode, UpdateAlias, PublishVersion). The envelope is
//! `aws_lambda_events`' `EventBridgeEvent`, CodeDeploy's detail its
//! `CodeDeployEventDetail`; the other details are read tolerantly field by field (real
//! CloudTrail records vary too much for a strict struct). A bad event is a typed error
//! that names the field, never a panic. Every account and region the event names (its
//! envelope, the ARNs of what changed, CloudTrail's `awsRegion`) must be well-formed and
//! agree (`app::provenance`); the console link is built only then, from the checked region.

use aws_lambda_events::event::codedeploy::CodeDeployEventDetail;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde_json::Value;

use sloguard_core::app::events::{ChangeEventError, Parsed, MAX_CHANGE_EVENT_BYTES};
use sloguard_core::app::provenance::Claims;
use sloguard_core::slo::change::{parse_target, Change, ChangeKind, ConsolePage};
use sloguard_core::slo::origin::{AccountId, AwsRegion};

use super::alarm::parse_timestamp_ms;

/// The EventBridge sources and detail-types read here; the template's rule forwards these.
pub const CHANGE_EVENTS: [(&str, &str); 4] = [
    ("aws.cloudformation", "CloudFormation Stack Status Change"),
    (
        "aws.codedeploy",
        "CodeDeploy Deployment State-change Notification",
    ),
    ("aws.ecs", "ECS Deployment State Change"),
    ("aws.lambda", "AWS API Call via CloudTrail"),
];

/// The Lambda API calls that change what runs (CloudTrail names carry a version suffix,
/// e.g. `UpdateFunctionCode20150331v2`).
pub const LAMBDA_CALLS: [&str; 3] = ["UpdateFunctionCode", "UpdateAlias", "PublishVersion"];

/// Whether a payload is one of the deployment events (by its `source` and `detail-type`),
/// so the alarm handler sends it here rather than to the alarm reader.
pub fn is_change_event(v: &Value) -> bool {
    let field = |k: &str| v.get(k).and_then(Value::as_str);
    match (field("source"), field("detail-type")) {
        (Some(s), Some(d)) => CHANGE_EVENTS.iter().any(|(cs, cd)| *cs == s && *cd == d),
        _ => false,
    }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn need<'a>(
    v: &'a Value,
    key: &'static str,
    event: &'static str,
) -> Result<&'a str, ChangeEventError> {
    text(v, key).ok_or(ChangeEventError::Missing { event, field: key })
}

/// A target built from event fields, checked like the annotation checks it.
fn target(event: &'static str, field: &'static str, t: String) -> Result<String, ChangeEventError> {
    parse_target(&t).map_err(|_| ChangeEventError::Invalid {
        event,
        field,
        value: short(&t),
        why: "does not name a target (no spaces or slashes in names, at most 512 characters)",
    })
}

/// What a kind's reader makes of an event: a change still without its link, or why not.
enum Read {
    Change(Draft),
    Ignored(String),
}

/// A change read from an event before its accounts and regions are checked.
struct Draft {
    target: String,
    kind: ChangeKind,
    at: i64,
    what: String,
    id: String,
    page: ConsolePage,
}

impl Draft {
    fn into_change(self, region: &AwsRegion, account: AccountId) -> Change {
        Change {
            target: self.target,
            kind: self.kind,
            at: self.at,
            what: self.what,
            region: region.to_string(),
            account: Some(account),
            link: self.page.link(region),
            id: self.id,
        }
    }
}

/// A kind's reader: the event, its time, and the claims it adds from its detail.
type Reader =
    fn(&EventBridgeEvent<Value>, Option<i64>, &mut Claims) -> Result<Read, ChangeEventError>;

/// Read one deployment event.
pub fn parse_change_event(v: &Value) -> Result<Parsed, ChangeEventError> {
    let size = v.to_string().len();
    if size > MAX_CHANGE_EVENT_BYTES {
        return Err(ChangeEventError::TooLarge(size));
    }
    let ev: EventBridgeEvent<Value> = serde_json::from_value(v.clone())
        .map_err(|e| ChangeEventError::NotAnEvent(short(&e.to_string())))?;
    if !ev.detail.is_object() {
        return Err(ChangeEventError::NotAnEvent(
            "`detail` is not an object".into(),
        ));
    }
    if ev.region.as_deref().is_none_or(str::is_empty) {
        return Err(ChangeEventError::Missing {
            event: "EventBridge",
            field: "region",
        });
    }
    let at = ev.time.map(|t| t.timestamp());
    let (service, read): (&'static str, Reader) =
        match (ev.source.as_str(), ev.detail_type.as_str()) {
            ("aws.cloudformation", "CloudFormation Stack Status Change") => {
                ("cloudformation", cloudformation)
            }
            ("aws.codedeploy", "CodeDeploy Deployment State-change Notification") => {
                ("codedeploy", codedeploy)
            }
            ("aws.ecs", "ECS Deployment State Change") => ("ecs", ecs),
            ("aws.lambda", "AWS API Call via CloudTrail") => ("lambda", lambda),
            (s, d) => {
                return Err(ChangeEventError::Unsupported {
                    origin: short(s),
                    detail_type: short(d),
                })
            }
        };
    let mut claims = Claims::default();
    claims
        .required_account("account", ev.account.as_deref())
        .region("region", ev.region.as_deref());
    for (i, r) in ev.resources.iter().flatten().enumerate() {
        claims.arn(&format!("resources[{i}]"), Some(r), service);
    }
    let draft = match read(&ev, at, &mut claims)? {
        Read::Change(d) => d,
        Read::Ignored(why) => return Ok(Parsed::Ignored(why)),
    };
    // Whose it is is checked against the stack's by the caller; here only that it says one thing.
    let origin = claims
        .check(None, None)
        .map_err(ChangeEventError::Provenance)?;
    let region = origin.region.ok_or(ChangeEventError::Missing {
        event: "EventBridge",
        field: "region",
    })?;
    Ok(Parsed::Change(draft.into_change(&region, origin.account)))
}

fn time(at: Option<i64>, event: &'static str) -> Result<i64, ChangeEventError> {
    at.ok_or(ChangeEventError::Missing {
        event,
        field: "time",
    })
}

fn cloudformation(
    ev: &EventBridgeEvent<Value>,
    at: Option<i64>,
    claims: &mut Claims,
) -> Result<Read, ChangeEventError> {
    const E: &str = "CloudFormation";
    let d = &ev.detail;
    let stack_id = need(d, "stack-id", E)?;
    claims.arn("detail.stack-id", Some(stack_id), "cloudformation");
    // arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID
    let name = stack_id
        .split_once(":stack/")
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ChangeEventError::Invalid {
            event: E,
            field: "stack-id",
            value: short(stack_id),
            why: "not a stack ARN (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID)",
        })?;
    let details = d.get("status-details").unwrap_or(&Value::Null);
    let status = need(details, "status", E).map_err(|_| ChangeEventError::Missing {
        event: E,
        field: "status-details.status",
    })?;
    if !(status.ends_with("_COMPLETE") || status.contains("_ROLLBACK_")) {
        return Ok(Read::Ignored(format!(
            "stack {name} is {}: only *_COMPLETE and *_ROLLBACK_* are changes",
            short(status)
        )));
    }
    let at = time(at, E)?;
    Ok(Read::Change(Draft {
        target: target(E, "stack-id", format!("stack/{name}"))?,
        kind: ChangeKind::Stack,
        at,
        what: short(status),
        page: ConsolePage::Stack(stack_id.to_string()),
        id: short(status),
    }))
}

fn codedeploy(
    ev: &EventBridgeEvent<Value>,
    at: Option<i64>,
    claims: &mut Claims,
) -> Result<Read, ChangeEventError> {
    const E: &str = "CodeDeploy";
    let d: CodeDeployEventDetail =
        serde_json::from_value(ev.detail.clone()).map_err(|e| ChangeEventError::Invalid {
            event: E,
            field: "detail",
            value: short(&e.to_string()),
            why: "not a deployment state-change detail",
        })?;
    let some = |v: &Option<String>, field: &'static str| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or(ChangeEventError::Missing { event: E, field })
    };
    let app = some(&d.application, "application")?;
    let group = some(&d.deployment_group, "deploymentGroup")?;
    let id = some(&d.deployment_id, "deploymentId")?;
    claims.region("detail.region", d.region.as_deref().map(str::trim));
    let state = d.state.trim();
    if state.is_empty() {
        return Err(ChangeEventError::Missing {
            event: E,
            field: "state",
        });
    }
    Ok(Read::Change(Draft {
        target: target(E, "application", format!("codedeploy/{app}/{group}"))?,
        kind: ChangeKind::CodeDeploy,
        at: time(at, E)?,
        what: format!("deployment {} {}", short(&id), short(state)),
        id: format!("{}#{}", short(&id), short(state)),
        page: ConsolePage::CodeDeploy(id),
    }))
}

/// The service ARN is one of the `resources`, whose accounts and regions are claims already.
fn ecs(
    ev: &EventBridgeEvent<Value>,
    at: Option<i64>,
    _claims: &mut Claims,
) -> Result<Read, ChangeEventError> {
    const E: &str = "ECS";
    let d = &ev.detail;
    let name = need(d, "eventName", E)?;
    let deployment = need(d, "deploymentId", E)?;
    let service_arn = ev
        .resources
        .iter()
        .flatten()
        .find(|r| r.contains(":service/"))
        .ok_or(ChangeEventError::Missing {
            event: E,
            field: "resources (the service ARN)",
        })?;
    // arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE (the old format has no cluster).
    let parts: Vec<&str> = service_arn
        .split_once(":service/")
        .map(|(_, r)| r.split('/').collect())
        .unwrap_or_default();
    let [cluster, service] = parts[..] else {
        return Err(ChangeEventError::Invalid {
            event: E,
            field: "resources",
            value: short(service_arn),
            why: "not a service ARN with its cluster (arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE)",
        });
    };
    // The time the deployment changed state, else the event's.
    let at = text(d, "updatedAt")
        .and_then(parse_timestamp_ms)
        .map(|ms| ms.div_euclid(1000))
        .or(at);
    Ok(Read::Change(Draft {
        target: target(E, "resources", format!("ecs/{cluster}/{service}"))?,
        kind: ChangeKind::Ecs,
        at: time(at, E)?,
        what: format!("{} {}", short(name), short(deployment)),
        id: format!("{}#{}", short(deployment), short(name)),
        page: ConsolePage::Ecs(cluster.to_string(), service.to_string()),
    }))
}

fn lambda(
    ev: &EventBridgeEvent<Value>,
    at: Option<i64>,
    claims: &mut Claims,
) -> Result<Read, ChangeEventError> {
    const E: &str = "CloudTrail";
    let d = &ev.detail;
    let call = need(d, "eventName", E)?;
    let Some(base) = LAMBDA_CALLS.iter().find(|c| call.starts_with(**c)) else {
        return Ok(Read::Ignored(format!(
            "Lambda API call {} does not change what runs",
            short(call)
        )));
    };
    if let Some(code) = text(d, "errorCode") {
        return Ok(Read::Ignored(format!(
            "{base} failed ({}): nothing changed",
            short(code)
        )));
    }
    let request = d.get("requestParameters").unwrap_or(&Value::Null);
    let given = text(request, "functionName")
        .or_else(|| {
            d.get("responseElements")
                .and_then(|r| text(r, "functionName"))
        })
        .ok_or(ChangeEventError::Missing {
            event: E,
            field: "requestParameters.functionName",
        })?;
    // A name, a full ARN or a partial ARN (ACCOUNT:function:NAME), with or without a
    // qualifier: the account and region in it, and those CloudTrail names, are claims.
    const FUNCTION: &str = "requestParameters.functionName";
    if given.starts_with("arn:") {
        claims.arn(FUNCTION, Some(given), "lambda");
    } else if let Some((account, _)) = given.split_once(":function:") {
        claims.account(FUNCTION, Some(account));
    }
    let response = d.get("responseElements").unwrap_or(&Value::Null);
    for field in ["functionArn", "aliasArn"] {
        if let Some(arn) = text(response, field) {
            claims.arn(&format!("responseElements.{field}"), Some(arn), "lambda");
        }
    }
    claims
        .account("detail.recipientAccountId", text(d, "recipientAccountId"))
        .region("detail.awsRegion", text(d, "awsRegion"));
    let name = match given.split_once("function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or_default(),
        None => given.split(':').next().unwrap_or_default(),
    };
    let at = text(d, "eventTime")
        .and_then(parse_timestamp_ms)
        .map(|ms| ms.div_euclid(1000))
        .or(at);
    let detail = match *base {
        "UpdateAlias" => text(request, "name")
            .map(|a| format!(" alias {}", short(a)))
            .unwrap_or_default(),
        "PublishVersion" => d
            .get("responseElements")
            .and_then(|r| text(r, "version"))
            .map(|v| format!(" version {}", short(v)))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let id = text(d, "eventID")
        .or_else(|| text(d, "requestID"))
        .map(short)
        .or_else(|| ev.id.clone())
        .ok_or(ChangeEventError::Missing {
            event: E,
            field: "eventID",
        })?;
    Ok(Read::Change(Draft {
        target: target(E, FUNCTION, format!("lambda/{name}"))?,
        kind: ChangeKind::Lambda,
        at: time(at, E)?,
        what: format!("{base}{detail}"),
        id,
        page: ConsolePage::Lambda(name.to_string()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sloguard_core::app::provenance::Refusal;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../examples/events/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture exists"))
            .expect("fixture is JSON")
    }

    fn change(name: &str) -> Change {
        let v = fixture(name);
        assert!(is_change_event(&v), "{name}");
        match parse_change_event(&v) {
            Ok(Parsed::Change(c)) => c,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn documented_shapes_give_their_targets() {
        let c = change("change-cloudformation-update-complete.json");
        assert_eq!(c.target, "stack/shop-api");
        assert_eq!(c.what, "UPDATE_COMPLETE");
        assert_eq!(c.at, 1_764_237_600);
        assert!(c
            .link
            .starts_with("https://eu-west-1.console.aws.amazon.com/cloudformation/"));
        let c = change("change-cloudformation-rollback.json");
        assert_eq!(
            (c.target.as_str(), c.what.as_str()),
            ("stack/shop-api", "UPDATE_ROLLBACK_IN_PROGRESS")
        );
        let c = change("change-codedeploy-deployment.json");
        assert_eq!(c.target, "codedeploy/shop/prod");
        assert_eq!(c.what, "deployment d-ABCDEF123 SUCCESS");
        assert!(c.link.contains("/codedeploy/deployments/d-ABCDEF123"));
        let c = change("change-ecs-deployment.json");
        assert_eq!(c.target, "ecs/main-cluster/checkout");
        assert!(
            c.what.starts_with("SERVICE_DEPLOYMENT_COMPLETED"),
            "{}",
            c.what
        );
        let c = change("change-lambda-update-function-code.json");
        assert_eq!(
            (c.target.as_str(), c.what.as_str()),
            ("lambda/checkout-fn", "UpdateFunctionCode")
        );
        let c = change("change-lambda-update-alias.json");
        assert_eq!(c.target, "lambda/checkout-fn");
        assert_eq!(c.what, "UpdateAlias alias live");
        let c = change("change-lambda-publish-version.json");
        assert_eq!(c.what, "PublishVersion version 7");
    }

    #[test]
    fn a_change_names_its_checked_account_and_links_only_to_its_checked_region() {
        for f in [
            "change-cloudformation-update-complete.json",
            "change-cloudformation-rollback.json",
            "change-codedeploy-deployment.json",
            "change-ecs-deployment.json",
            "change-lambda-update-function-code.json",
            "change-lambda-update-alias.json",
            "change-lambda-publish-version.json",
        ] {
            let c = change(f);
            assert_eq!(
                c.account.as_ref().map(|a| a.as_str()),
                Some("111122223333"),
                "{f}"
            );
            assert_eq!(c.region, "eu-west-1", "{f}");
            assert!(
                c.link
                    .starts_with("https://eu-west-1.console.aws.amazon.com/"),
                "{f}: {}",
                c.link
            );
        }
        let mut v = fixture("change-cloudformation-update-complete.json");
        v["region"] = "evil.example/aws-console-login?next=".into();
        let e = parse_change_event(&v).unwrap_err();
        assert!(
            matches!(e, ChangeEventError::Provenance(Refusal::NotARegion { .. })),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("deployment event whose `region` \"evil.example/"),
            "{e}"
        );
    }

    #[test]
    fn the_same_change_twice_has_the_same_identity() {
        let a = change("change-cloudformation-update-complete.json");
        let mut v = fixture("change-cloudformation-update-complete.json");
        v["id"] = Value::String("another-delivery".into());
        let Ok(Parsed::Change(b)) = parse_change_event(&v) else {
            panic!("parses")
        };
        assert_eq!((a.target, a.at, a.id), (b.target, b.at, b.id));
    }

    #[test]
    fn in_progress_and_failed_calls_are_acknowledged_not_recorded() {
        let mut v = fixture("change-cloudformation-update-complete.json");
        v["detail"]["status-details"]["status"] = "UPDATE_IN_PROGRESS".into();
        assert!(
            matches!(parse_change_event(&v), Ok(Parsed::Ignored(w)) if w.contains("UPDATE_IN_PROGRESS"))
        );
        let mut v = fixture("change-lambda-update-function-code.json");
        v["detail"]["errorCode"] = "AccessDenied".into();
        assert!(
            matches!(parse_change_event(&v), Ok(Parsed::Ignored(w)) if w.contains("AccessDenied"))
        );
        let mut v = fixture("change-lambda-update-function-code.json");
        v["detail"]["eventName"] = "GetFunction20150331v2".into();
        assert!(matches!(parse_change_event(&v), Ok(Parsed::Ignored(_))));
    }

    #[test]
    fn malformed_events_are_typed_errors_that_name_the_field() {
        let e = parse_change_event(&fixture("change-malformed-stack-id.json")).unwrap_err();
        assert!(
            matches!(
                e,
                ChangeEventError::Invalid {
                    field: "stack-id",
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_change_event(&fixture("change-malformed-codedeploy.json")).unwrap_err();
        assert!(
            matches!(
                e,
                ChangeEventError::Missing {
                    field: "deploymentGroup",
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_change_event(&fixture("change-malformed-ecs-old-arn.json")).unwrap_err();
        assert!(e.to_string().contains("with its cluster"), "{e}");
        let e = parse_change_event(&serde_json::json!({"source": "aws.ecs"})).unwrap_err();
        assert!(matches!(e, ChangeEventError::NotAnEvent(_)), "{e}");
        let e = parse_change_event(&serde_json::json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "region": "r", "detail": {}})).unwrap_err();
        assert!(matches!(e, ChangeEventError::Unsupported { .. }), "{e}");
        let mut v = fixture("change-lambda-update-function-code.json");
        v["detail"]["requestParameters"]["functionName"] = "my fn".into();
        let e = parse_change_event(&v).unwrap_err();
        assert!(e.to_string().contains("`lambda/my fn`"), "{e}");
        let big = serde_json::json!({"detail": "x".repeat(MAX_CHANGE_EVENT_BYTES)});
        assert!(matches!(
            parse_change_event(&big),
            Err(ChangeEventError::TooLarge(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_details_never_panic(detail in proptest::arbitrary::any::<std::collections::HashMap<String, String>>(), i in 0usize..4) {
            let (source, detail_type) = CHANGE_EVENTS[i];
            let v = serde_json::json!({"source": source, "detail-type": detail_type, "region": "eu-west-1",
                "time": "2026-11-27T10:00:00Z", "resources": ["arn:aws:ecs:eu-west-1:1:service/c/s"], "detail": detail});
            let _ = parse_change_event(&v);
        }
    }
}
