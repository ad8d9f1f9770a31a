//! The SAM template, parsed and held to each hardening rule: self-monitoring per stack
//! and shard, retries and failure destinations, what survives deletion, who may publish,
//! and least privilege. cfn-lint, `sam validate --lint` and checkov run in `make test` too.

use sloguard_core::slo::yaml::{self, Node, Value};

fn template() -> Node {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/template.yaml"
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
}

/// Every resource of this type, by logical id.
fn resources_of<'a>(t: &'a Node, kind: &str) -> Vec<(&'a str, &'a Node)> {
    t.get("Resources")
        .and_then(Node::as_map)
        .unwrap()
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Node::as_scalar) == Some(kind))
        .map(|(name, r)| (name.as_scalar().unwrap(), r))
        .collect()
}

#[test]
fn every_schedule_target_has_no_retries_a_short_event_age_and_the_dead_letter_queue() {
    let t = template();
    let schedules: Vec<_> = resources_of(&t, "AWS::Events::Rule")
        .into_iter()
        .filter(|(_, r)| {
            r.get("Properties")
                .unwrap()
                .get("ScheduleExpression")
                .is_some()
        })
        .collect();
    let mut names: Vec<&str> = schedules.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Schedule0",
            "Schedule1",
            "Schedule2",
            "Schedule3",
            "WeeklyReviewSchedule"
        ],
        "every scheduled rule is checked below"
    );
    for (name, rule) in schedules {
        let targets = rule
            .get("Properties")
            .and_then(|p| p.get("Targets"))
            .and_then(Node::as_seq)
            .unwrap();
        assert!(!targets.is_empty(), "{name}");
        for target in targets {
            let retry = target
                .get("RetryPolicy")
                .unwrap_or_else(|| panic!("{name}: RetryPolicy"));
            assert_eq!(scalar(retry, "MaximumRetryAttempts"), "0", "{name}");
            let age: i64 = scalar(retry, "MaximumEventAgeInSeconds").parse().unwrap();
            assert!(
                (60..=300).contains(&age),
                "{name}: a stale schedule event is dropped, not replayed ({age} s)"
            );
            let dlq = flat(
                target
                    .get("DeadLetterConfig")
                    .unwrap_or_else(|| panic!("{name}: DeadLetterConfig")),
            );
            assert_eq!(dlq, "Arn: FailureQueue.Arn", "{name}");
        }
    }
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
    // Each function may write only the leading keys it writes (shared/aws/src/dynamodb.rs):
    // the alarm handler's dedup and debounce items, and the weekly review's, are apart.
    let leading = |role: &str| -> Vec<String> {
        let text = flat(props(&t, role));
        let at = text.find("dynamodb:LeadingKeys: ").expect(role) + 22;
        let rest = &text[at..];
        rest[..rest.find(" Sid:").unwrap_or(rest.len())]
            .split(' ')
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        leading("EvaluatorRole"),
        ["STATE", "SNAP#*", "OUTBOX#*", "INCIDENT", "REVIEW", "STREAM#*"]
    );
    assert_eq!(
        leading("AlarmHandlerRole"),
        ["STATE", "SNAP#*", "OUTBOX#*", "INCIDENT", "ALARM#*", "CHANGE#*", "STREAM#*"]
    );
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
    for (source, detail_type) in sloguard_aws::events::change::CHANGE_EVENTS {
        assert!(pattern.contains(source), "{source}");
        assert!(pattern.contains(detail_type), "{detail_type}");
    }
    for call in sloguard_aws::events::change::LAMBDA_CALLS {
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
        assert!(role.contains("event-bus/${AWS::StackName}-slo-events"));
        assert!(role.contains("event-bus/${SloEventBus}"));
    }
    let env = flat(
        t.get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .unwrap(),
    );
    assert!(
        env.contains("SLO_EVENT_BUS: CreateEventBus EventBus.Name SloEventBus"),
        "{env}"
    );
    assert!(
        env.contains("SLO_CHANGES_DAYS: ChangeRetentionDays"),
        "{env}"
    );
}

#[test]
fn the_functions_that_evaluate_read_and_write_stream_caches() {
    let t = template();
    for role in ["EvaluatorRole", "AlarmHandlerRole"] {
        let text = flat(props(&t, role));
        assert!(
            text.contains("dynamodb:BatchGetItem"),
            "{role} reads the caches"
        );
        assert!(text.contains("STREAM#*"), "{role} writes the caches");
    }
    let dash = flat(props(&t, "DashboardRole"));
    assert!(
        !dash.contains("STREAM#"),
        "the dashboard reads history only"
    );
    let reconcile = t
        .get("Parameters")
        .and_then(|p| p.get("ReconcileHours"))
        .unwrap();
    assert_eq!(scalar(reconcile, "Default"), "24");
    let variables = ["Globals", "Function", "Environment", "Variables"]
        .iter()
        .try_fold(&t, |n, k| n.get(k))
        .expect("the functions' environment");
    assert!(flat(
        variables
            .get("SLO_RECONCILE_HOURS")
            .expect("passed to the functions")
    )
    .contains("ReconcileHours"));
}

/// The mapping column an alarm's `Period` reads (`!FindInMap [Schedule, !Ref ScheduleMinutes, COLUMN]`).
fn period_column(alarm: &Node) -> &str {
    let find = alarm
        .get("Period")
        .and_then(Node::as_seq)
        .expect("Period from the mapping");
    assert_eq!(find[0].as_scalar(), Some("Schedule"));
    assert_eq!(find[1].as_scalar(), Some("ScheduleMinutes"));
    find[2].as_scalar().unwrap()
}

#[test]
fn self_monitoring_alarms_fire_after_three_schedule_periods_at_every_schedule() {
    let t = template();
    let schedule = t.get("Mappings").and_then(|m| m.get("Schedule")).unwrap();
    let failed = props(&t, "SlosFailedAlarm");
    let switch = props(&t, "DeadMansSwitchShard0Alarm");
    for description in [failed, switch].map(|p| flat(p.get("AlarmDescription").unwrap())) {
        assert!(
            description.contains("for 3 schedule periods"),
            "{description}"
        );
    }
    for (minutes, row) in schedule.as_map().unwrap() {
        let period = minutes.as_scalar().unwrap().parse::<i64>().unwrap() * 60;
        let window = |alarm: &Node| -> i64 {
            let seconds: i64 = scalar(row, period_column(alarm)).parse().unwrap();
            assert!(
                seconds % 60 == 0,
                "CloudWatch periods are whole minutes: {seconds}"
            );
            let n: i64 = scalar(alarm, "EvaluationPeriods").parse().unwrap();
            let m: i64 = alarm
                .get("DatapointsToAlarm")
                .map_or(n, |d| d.as_scalar().unwrap().parse().unwrap());
            assert_eq!(m, n, "every period of the window must breach");
            seconds * n
        };
        // SLOs failing in each of 3 consecutive periods (one cycle per period) fire it...
        assert_eq!(window(failed), 3 * period, "SlosFailedAlarm at {period} s");
        assert_eq!(
            scalar(failed, "EvaluationPeriods"),
            "3",
            "one period per datapoint"
        );
        // ...and 3 periods without a completed cycle fire the dead man's switch.
        assert_eq!(
            window(switch),
            3 * period,
            "dead man's switch at {period} s"
        );
    }
}

#[test]
fn the_health_alarms_watch_what_the_evaluator_emits() {
    use sloguard_core::app::cycle::CycleReport;
    use sloguard_core::app::emf::{cycle_lines, Source, NAMESPACE};
    let t = template();
    let report = CycleReport {
        evaluated_at: "2026-11-25T12:00:00Z".into(),
        slos: Vec::new(),
        evaluated: 1,
        failed: 1,
        notifications_sent: 0,
        metric_requests: 0,
    };
    let source = Source {
        stack: "prod-slos".into(),
        shard: "0".into(),
        slo_metrics: Default::default(),
    };
    // (metric name, dimension names) the evaluator's EMF lines publish.
    let mut emitted: Vec<(String, Vec<String>)> = Vec::new();
    for line in cycle_lines(&source, &report, 0) {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        for directive in v["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(directive["Namespace"], NAMESPACE);
            for metric in directive["Metrics"].as_array().unwrap() {
                for dims in directive["Dimensions"].as_array().unwrap() {
                    let mut names: Vec<String> = dims
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d.as_str().unwrap().to_string())
                        .collect();
                    for d in &names {
                        assert!(v[d.as_str()].is_string(), "{d} has a value in the line");
                    }
                    names.sort();
                    emitted.push((metric["Name"].as_str().unwrap().to_string(), names));
                }
            }
        }
    }
    let mut checked = 0;
    for (name, alarm) in resources_of(&t, "AWS::CloudWatch::Alarm") {
        let p = alarm.get("Properties").unwrap();
        let namespace = scalar(p, "Namespace");
        if namespace.starts_with("AWS/") {
            continue;
        }
        assert_eq!(namespace, NAMESPACE, "{name}");
        let metric = scalar(p, "MetricName");
        let mut dims: Vec<String> = p
            .get("Dimensions")
            .and_then(Node::as_seq)
            .unwrap()
            .iter()
            .map(|d| scalar(d, "Name").to_string())
            .collect();
        dims.sort();
        assert!(
            emitted.iter().any(|(m, d)| m == metric && *d == dims),
            "{name}: {metric} by {dims:?} is not emitted; emitted: {emitted:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 5, "four dead man's switches and SlosFailedAlarm");
}

#[test]
fn the_alarm_rule_forwards_only_the_name_prefix_when_one_is_set() {
    let t = template();
    let detail = props(&t, "AlarmStateRule")
        .get("EventPattern")
        .and_then(|p| p.get("detail"))
        .and_then(Node::as_seq)
        .expect("detail: !If [HasAlarmPrefix, ..., !Ref AWS::NoValue]");
    assert_eq!(detail[0].as_scalar(), Some("HasAlarmPrefix"));
    let prefix = detail[1]
        .get("alarmName")
        .and_then(Node::as_seq)
        .map(|s| &s[0])
        .expect("alarmName: [{prefix: ...}]");
    assert_eq!(scalar(prefix, "prefix"), "AlarmNamePrefix");
    assert_eq!(
        detail[2].as_scalar(),
        Some("AWS::NoValue"),
        "no prefix: no filter"
    );
    let condition = flat(
        t.get("Conditions")
            .and_then(|c| c.get("HasAlarmPrefix"))
            .unwrap(),
    );
    assert_eq!(
        condition, "AlarmNamePrefix ",
        "set when the prefix is not empty"
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
    let token = sloguard_core::app::widget::ALL_SLOS;
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
    // The health widget reads what the evaluator emits: CyclesCompleted exists only per
    // stack and shard (see emf.rs), so it is searched by shard, never asked for by stack.
    assert!(
        json.contains("MetricName=\\\"CyclesCompleted\\\""),
        "{json}"
    );
    assert!(!json.contains(r#""CyclesCompleted", "Stack""#));
}

/// Issue 20.1: `source: sloguard` is not reserved, so on the default bus anyone allowed
/// `events:PutEvents` could forge an SLO event that stops a deployment. By default the
/// stack has a bus of its own whose policy denies every principal but the two roles
/// that notify (an explicit deny binds principals of this account too).
#[test]
fn slo_events_go_to_the_stacks_own_bus_where_only_its_notifying_roles_may_put() {
    let t = template();
    let param = t
        .get("Parameters")
        .and_then(|p| p.get("SloEventBus"))
        .unwrap();
    assert_eq!(
        scalar(param, "Default"),
        "",
        "the stack's own bus by default"
    );
    let bus = resource(&t, "EventBus");
    assert_eq!(scalar(bus, "Condition"), "CreateEventBus");
    let policy = props(&t, "EventBus")
        .get("Policy")
        .expect("a resource policy");
    let statements = match &policy.get("Statement").expect("Statement").value {
        Value::Seq(items) => items,
        other => panic!("Statement is a list: {other:?}"),
    };
    assert_eq!(statements.len(), 1, "one deny, nothing allowed beyond IAM");
    let deny = flat(&statements[0]);
    assert!(deny.contains("Effect: Deny"), "{deny}");
    assert!(deny.contains("Principal: *"), "{deny}");
    assert!(deny.contains("Action: events:PutEvents"), "{deny}");
    // The exceptions are exactly the roles that hold events:PutEvents, and no other.
    let putters: Vec<&str> = resources_of(&t, "AWS::IAM::Role")
        .into_iter()
        .filter(|(_, r)| flat(r).contains("events:PutEvents"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(putters, ["EvaluatorRole", "AlarmHandlerRole"]);
    let condition = deny
        .split("ArnNotEquals: aws:PrincipalArn: ")
        .nth(1)
        .expect("the deny names its exceptions by aws:PrincipalArn");
    let exceptions: Vec<&str> = condition.split(' ').collect();
    assert_eq!(exceptions, ["EvaluatorRole.Arn", "AlarmHandlerRole.Arn"]);
    let output = flat(
        t.get("Outputs")
            .and_then(|o| o.get("SloEventBusArn"))
            .unwrap(),
    );
    assert!(output.contains("EventBus.Arn"), "{output}");
}

/// Issue 20.7: the dashboard widget reads definitions, state, history, changes and budget
/// corrections (issue 23.2, shaded on its charts); its
/// role may read those partitions and no other (not the outbox, caches or dedup items).
#[test]
fn the_dashboard_reads_only_the_partitions_it_shows() {
    let t = template();
    let dash = flat(props(&t, "DashboardRole"));
    let at = dash
        .find("dynamodb:LeadingKeys: ")
        .expect("the dashboard's reads are bound by leading key")
        + 22;
    let rest = &dash[at..];
    let keys: Vec<&str> = rest[..rest.find(" Sid:").unwrap_or(rest.len())]
        .split(' ')
        .collect();
    assert_eq!(keys, ["DEF", "STATE", "SNAP#*", "CHANGE#*", "CORR"]);
    assert!(dash.contains("ForAllValues:StringLike"), "{dash}");
}

#[test]
fn the_functions_publish_only_to_the_stack_topics_and_the_allowed_team_prefix() {
    let t = template();
    let prefix = t
        .get("Parameters")
        .and_then(|p| p.get("AllowedTopicPrefix"))
        .expect("AllowedTopicPrefix");
    assert_eq!(scalar(prefix, "Default"), "", "team topics are opt-in");
    let team_arn =
        "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${AllowedTopicPrefix}*";
    for role in ["EvaluatorRole", "AlarmHandlerRole"] {
        let text = flat(props(&t, role));
        // Every sns:Publish names its resources: the stack's topics, or the team prefix only
        // when one is set; never "*".
        assert!(!text.contains("Action: sns:Publish Resource: *"), "{role}");
        let at = text.find("Sid: NotifyTeamTopics").expect(role);
        let team = &text[at..at + text[at..].find(" Sid:").unwrap_or(text.len() - at)];
        assert!(
            team.contains(&format!("Resource: {team_arn}")),
            "{role}: {team}"
        );
        let before = &text[..at];
        assert!(
            before.ends_with("HasTeamTopics "),
            "{role}: conditional on the prefix"
        );
    }
    let dash = flat(props(&t, "DashboardRole"));
    assert!(
        !dash.contains("sns:Publish"),
        "the dashboard never publishes"
    );
    let env = flat(
        t.get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .unwrap(),
    );
    assert!(
        env.contains(&format!(
            "SLO_ALLOWED_TOPICS: HasTeamTopics {team_arn} none"
        )),
        "the functions know the same scope: {env}"
    );
    assert!(
        env.contains("SLO_COPY_ALL_TO_STACK_TOPIC: CopyAllToStackTopic"),
        "{env}"
    );
    // What the template passes, the functions read.
    let allowed = sloguard_core::slo::route::AllowedTopics::parse(
        "arn:aws:sns:eu-west-1:123456789012:slo-team-*",
    )
    .unwrap();
    assert!(allowed.allows("arn:aws:sns:eu-west-1:123456789012:slo-team-payments"));
    assert!(sloguard_core::slo::route::AllowedTopics::parse("none").is_ok());
}
