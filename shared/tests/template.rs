//! The SAM template, parsed and held to each hardening rule: self-monitoring per stack
//! and shard, retries and failure destinations, what survives deletion, who may publish,
//! and least privilege. cfn-lint, `sam validate --lint` and checkov run in `make test` too.

use sloguard::slo::yaml::{self, Node, Value};

fn template() -> Node {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/template.yaml"
    ))
    .expect("the template");
    yaml::parse(&text).expect("valid YAML").remove(0)
}

/// Everything below a node as one string, for "mentions" checks.
fn flat(n: &Node) -> String {
    match &n.value {
        Value::Null => String::new(),
        Value::Scalar { text, .. } => text.clone(),
        Value::Seq(items) => items.iter().map(flat).collect::<Vec<_>>().join(" "),
        Value::Map(kv) => kv
            .iter()
            .map(|(k, v)| format!("{}: {}", flat(k), flat(v)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn resource<'a>(t: &'a Node, name: &str) -> &'a Node {
    t.get("Resources")
        .and_then(|r| r.get(name))
        .unwrap_or_else(|| panic!("resource {name}"))
}

fn props<'a>(t: &'a Node, name: &str) -> &'a Node {
    resource(t, name).get("Properties").expect("Properties")
}

fn scalar<'a>(n: &'a Node, key: &str) -> &'a str {
    n.get(key)
        .and_then(Node::as_scalar)
        .unwrap_or_else(|| panic!("{key}"))
}

#[test]
fn every_shard_has_its_own_dead_mans_switch_and_failures_alarm() {
    let t = template();
    for shard in 0..4 {
        let p = props(&t, &format!("DeadMansSwitchShard{shard}Alarm"));
        let dims = flat(p.get("Dimensions").unwrap());
        assert!(
            dims.contains("Name: Stack") && dims.contains(&format!("Name: Shard Value: {shard}")),
            "{dims}"
        );
        assert_eq!(scalar(p, "MetricName"), "CyclesCompleted");
        assert_eq!(scalar(p, "TreatMissingData"), "breaching");
    }
    let failed = props(&t, "SlosFailedAlarm");
    assert_eq!(scalar(failed, "MetricName"), "SlosFailed");
    assert_eq!(scalar(failed, "Threshold"), "0");
    assert_eq!(scalar(failed, "EvaluationPeriods"), "3");
    assert!(flat(failed.get("Dimensions").unwrap()).contains("Name: Stack"));
    for f in ["Evaluator", "AlarmHandler"] {
        assert_eq!(
            scalar(props(&t, &format!("{f}ThrottlesAlarm")), "MetricName"),
            "Throttles"
        );
    }
    let env = flat(t.get("Globals").unwrap());
    assert!(env.contains("SLO_STACK_NAME: AWS::StackName"), "{env}");
}

#[test]
fn cycles_never_overlap_and_are_not_replayed() {
    let t = template();
    let schedule = t.get("Mappings").and_then(|m| m.get("Schedule")).unwrap();
    for (minutes, row) in schedule.as_map().unwrap() {
        let period: i64 = minutes.as_scalar().unwrap().parse::<i64>().unwrap() * 60;
        let timeout: i64 = scalar(row, "Timeout").parse().unwrap();
        assert!(
            timeout < period || period > 240,
            "timeout {timeout} s vs period {period} s"
        );
    }
    let ev = props(&t, "EvaluatorFunction");
    assert!(
        flat(ev.get("Timeout").unwrap()).contains("Timeout"),
        "from the mapping"
    );
    assert_eq!(
        scalar(ev.get("EventInvokeConfig").unwrap(), "MaximumRetryAttempts"),
        "0"
    );
    for f in ["EvaluatorFunction", "AlarmHandlerFunction"] {
        assert!(
            props(&t, f).get("DeadLetterQueue").is_none(),
            "{f}: one failure destination"
        );
    }
    let s0 = flat(props(&t, "Schedule0").get("Targets").unwrap());
    assert!(
        s0.contains("RetryPolicy") && s0.contains("DeadLetterConfig"),
        "{s0}"
    );
}

#[test]
fn only_this_accounts_alarms_reach_the_handler() {
    let t = template();
    let pattern = flat(props(&t, "AlarmStateRule").get("EventPattern").unwrap());
    assert!(pattern.contains("account: AWS::AccountId"), "{pattern}");
    let perm = props(&t, "AlarmActionPermission");
    assert!(perm.get("SourceAccount").is_some());
    assert!(scalar(perm, "SourceArn").contains(":alarm:*"));
}

#[test]
fn the_table_and_its_key_survive_stack_deletion() {
    let t = template();
    for r in ["Table", "Key"] {
        assert_eq!(scalar(resource(&t, r), "DeletionPolicy"), "Retain", "{r}");
        assert_eq!(
            scalar(resource(&t, r), "UpdateReplacePolicy"),
            "Retain",
            "{r}"
        );
    }
    assert_eq!(
        scalar(props(&t, "Table"), "DeletionProtectionEnabled"),
        "true"
    );
}

#[test]
fn only_sloguard_and_this_accounts_alarms_publish_over_tls() {
    let t = template();
    let policy = flat(props(&t, "TopicPolicy"));
    for sid in [
        "DenyPublishWithoutTls",
        "DenyPublishByOthers",
        "DenyAlarmsOfOtherAccounts",
    ] {
        assert!(policy.contains(sid), "{sid}");
    }
    assert!(policy.contains("aws:SecureTransport"));
    assert!(policy.contains("aws:PrincipalArn"));
}

#[test]
fn roles_grant_only_what_is_used() {
    let t = template();
    for role in ["EvaluatorRole", "AlarmHandlerRole", "DashboardRole"] {
        let text = flat(props(&t, role));
        assert!(!text.contains("ConditionCheckItem"), "{role}");
        assert!(!text.contains("kms:Encrypt"), "{role}");
        assert!(text.contains("kms:ViaService"), "{role}");
    }
    let ev = flat(props(&t, "EvaluatorRole"));
    assert!(ev.contains("dynamodb:LeadingKeys"), "{ev}");
    assert!(!ev.contains("LeadingKeys: DEF"), "never writes definitions");
    assert!(ev.contains("aws:RequestedRegion"));
    let dash = flat(props(&t, "DashboardRole"));
    assert!(
        !dash.contains("PutItem") && !dash.contains("UpdateItem"),
        "read-only"
    );
    let retention = t
        .get("Parameters")
        .and_then(|p| p.get("LogRetentionDays"))
        .unwrap();
    assert_eq!(scalar(retention, "Default"), "365");
}

#[test]
fn deployment_events_of_this_account_reach_the_handler_and_slo_events_go_to_the_bus() {
    let t = template();
    let pattern = flat(
        props(&t, "DeploymentEventsRule")
            .get("EventPattern")
            .unwrap(),
    );
    assert!(pattern.contains("account: AWS::AccountId"), "{pattern}");
    // The rule forwards exactly the kinds the handler reads.
    for (source, detail_type) in sloguard::app::change_events::CHANGE_EVENTS {
        assert!(pattern.contains(source), "{source}");
        assert!(pattern.contains(detail_type), "{detail_type}");
    }
    for call in sloguard::app::change_events::LAMBDA_CALLS {
        assert!(pattern.contains(&format!("prefix: {call}")), "{call}");
    }
    let handler = flat(props(&t, "AlarmHandlerRole"));
    assert!(handler.contains("CHANGE#*"), "the handler stores changes");
    let evaluator = flat(props(&t, "EvaluatorRole"));
    assert!(
        !evaluator.contains("CHANGE#*"),
        "the evaluator only reads them"
    );
    for role in [&handler, &evaluator] {
        assert!(role.contains("events:PutEvents"));
        assert!(role.contains("event-bus/${SloEventBus}"));
    }
    let env = flat(
        t.get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .unwrap(),
    );
    assert!(env.contains("SLO_EVENT_BUS: SloEventBus"), "{env}");
    assert!(
        env.contains("SLO_CHANGES_DAYS: ChangeRetentionDays"),
        "{env}"
    );
}

#[test]
fn only_the_per_slo_widget_holds_the_dashboard_variables_token() {
    let t = template();
    let body = flat(props(&t, "Dashboard").get("DashboardBody").unwrap());
    let body = body
        .trim_start_matches("Fn::Sub: ")
        .trim_start_matches("!Sub ");
    // Fill in the ${...} substitutions so the body parses as the JSON CloudWatch gets.
    let json = body
        .replace("${DashboardFunction.Arn}", "arn:fn")
        .replace("${AWS::Region}", "eu-west-1")
        .replace("${AWS::StackName}", "s");
    let body: serde_json::Value = serde_json::from_str(&json).expect("the dashboard body is JSON");
    let token = sloguard::app::widget::ALL_SLOS;
    let var = &body["variables"][0];
    assert_eq!(var["type"], "pattern");
    assert_eq!(var["pattern"], token);
    assert_eq!(var["id"], "slo");
    let custom: Vec<&serde_json::Value> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["type"] == "custom")
        .collect();
    assert_eq!(custom.len(), 2);
    let holding: Vec<String> = custom
        .iter()
        .filter(|w| w.to_string().contains(token))
        .map(|w| w["properties"]["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        holding,
        ["Budget burn-down and burn rates of the SLO chosen above"],
        "only the per-SLO widget may hold the token"
    );
    assert_eq!(custom[0]["properties"]["params"]["view"], "fleet");
    assert_eq!(custom[1]["properties"]["params"]["slo"], token);
}
