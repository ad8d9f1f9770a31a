//! The SAM template, parsed and held to each hardening rule: self-monitoring per stack
//! (one dead man's switch over the fan-out, whatever the shard count), the shard queue and
//! its consumer, retries and failure destinations, what survives deletion, who may publish,
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

/// Every logical id under a section (Parameters, Conditions, Resources, Outputs).
fn ids<'a>(t: &'a Node, section: &str) -> Vec<&'a str> {
    t.get(section)
        .and_then(Node::as_map)
        .map(|m| m.iter().filter_map(|(k, _)| k.as_scalar()).collect())
        .unwrap_or_default()
}

#[test]
fn one_dead_mans_switch_watches_every_shard_and_failures_alarm() {
    let t = template();
    let p = props(&t, "DeadMansSwitchAlarm");
    assert_eq!(scalar(p, "Namespace"), "sloguard");
    assert_eq!(scalar(p, "MetricName"), "ShardsMissing");
    let dims = p.get("Dimensions").and_then(Node::as_seq).unwrap();
    assert_eq!(dims.len(), 1, "the stack only: no shard dimension");
    assert_eq!(scalar(&dims[0], "Name"), "Stack");
    assert_eq!(scalar(&dims[0], "Value"), "AWS::StackName");
    assert_eq!(scalar(p, "Statistic"), "Maximum");
    assert_eq!(scalar(p, "Threshold"), "0");
    assert_eq!(scalar(p, "ComparisonOperator"), "GreaterThanThreshold");
    assert_eq!(scalar(p, "EvaluationPeriods"), "2");
    assert_eq!(scalar(p, "DatapointsToAlarm"), "2");
    assert_eq!(
        period_column(p),
        "PeriodSeconds",
        "one datapoint per schedule"
    );
    // A dispatcher that stops emitting (or is never invoked) fires it too.
    assert_eq!(scalar(p, "TreatMissingData"), "breaching");
    assert!(flat(p.get("AlarmActions").unwrap()).contains("Topic"));
    assert!(flat(p.get("OKActions").unwrap()).contains("Topic"));
    // No shard is enumerated anywhere: no shard count, no per-shard condition, schedule,
    // permission or alarm, no Shard dimension.
    for section in ["Parameters", "Conditions", "Resources", "Outputs"] {
        for id in ids(&t, section) {
            assert!(
                !id.contains("HasShard") && !id.contains("ShardCount"),
                "{section}.{id}"
            );
            assert!(
                !id.chars().any(|c| c.is_ascii_digit()),
                "{section}.{id}: nothing numbered per shard"
            );
        }
    }
    let whole = flat(&t);
    for gone in [
        "ShardCount",
        "HasShard",
        "Name: Shard ",
        "\"shard\"",
        "CyclesCompleted",
    ] {
        assert!(!whole.contains(gone), "{gone} is still in the template");
    }
    let alarms: Vec<&str> = resources_of(&t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        alarms.len(),
        sloguard_core::cost::TEMPLATE_ALARMS,
        "{alarms:?}"
    );
    let failed = props(&t, "SlosFailedAlarm");
    assert_eq!(scalar(failed, "MetricName"), "SlosFailed");
    assert_eq!(scalar(failed, "Threshold"), "0");
    assert!(flat(failed.get("Dimensions").unwrap()).contains("Name: Stack"));
    // The alarm handler is invoked synchronously by CloudWatch alarms and EventBridge: its
    // errors and throttles are alarmed. The evaluator and the dispatcher are only invoked
    // asynchronously: a failed or throttled-out invocation lands in the failure queue, whose
    // alarm watches every function, and a shard left undone trips the switch.
    assert_eq!(
        scalar(props(&t, "AlarmHandlerThrottlesAlarm"), "MetricName"),
        "Throttles"
    );
    let errors = props(&t, "AlarmHandlerErrorsAlarm");
    assert_eq!(scalar(errors, "MetricName"), "Errors");
    for f in ["Evaluator", "Dispatcher"] {
        let invoke = props(&t, &format!("{f}Function"))
            .get("EventInvokeConfig")
            .unwrap();
        assert_eq!(
            flat(invoke.get("DestinationConfig").unwrap()),
            "OnFailure: Type: SQS Destination: FailureQueue.Arn",
            "{f}"
        );
    }
    let failures = props(&t, "FailureQueueAlarm");
    assert!(
        flat(failures).contains("FailureQueue.QueueName"),
        "{}",
        flat(failures)
    );
    assert!(
        flat(failures).contains("AlarmActions: Topic"),
        "{}",
        flat(failures)
    );
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
    for f in [
        "EvaluatorFunction",
        "AlarmHandlerFunction",
        "DispatcherFunction",
    ] {
        assert!(
            props(&t, f).get("DeadLetterQueue").is_none(),
            "{f}: one failure destination"
        );
        assert_eq!(
            flat(props(&t, f).get("EventInvokeConfig").unwrap())
                .split("Destination: ")
                .last(),
            Some("FailureQueue.Arn"),
            "{f}"
        );
    }
    // The dispatcher may be retried: a repeated schedule event resends only what was not
    // queued. One at a time, within one schedule period.
    let dispatcher = props(&t, "DispatcherFunction");
    let invoke = dispatcher.get("EventInvokeConfig").unwrap();
    assert_eq!(scalar(invoke, "MaximumRetryAttempts"), "2");
    assert_eq!(
        flat(invoke.get("MaximumEventAgeInSeconds").unwrap()),
        "Schedule ScheduleMinutes MaxEventAge"
    );
    assert_eq!(scalar(dispatcher, "ReservedConcurrentExecutions"), "1");
    assert_eq!(scalar(dispatcher, "Timeout"), "60");
    assert_eq!(scalar(dispatcher, "MemorySize"), "256");
    assert_eq!(
        scalar(
            resource(&t, "DispatcherFunction")
                .get("Metadata")
                .unwrap()
                .get("BuildProperties")
                .unwrap(),
            "Binary"
        ),
        "slo-dispatcher"
    );
}

/// The shard queue: an order in work is never handed out twice (its visibility timeout
/// outlasts the evaluator), a failed shard is tried once more and then dead-lettered (an
/// alarm watches), and only the dispatcher queues orders.
#[test]
fn the_shard_queue_retries_a_shard_once_and_outlasts_the_evaluator() {
    let t = template();
    let schedule = t.get("Mappings").and_then(|m| m.get("Schedule")).unwrap();
    for (minutes, row) in schedule.as_map().unwrap() {
        let timeout: i64 = scalar(row, "Timeout").parse().unwrap();
        let visibility: i64 = scalar(row, "ShardVisibility").parse().unwrap();
        assert!(
            visibility > timeout,
            "{minutes:?}: {visibility} s vs {timeout} s"
        );
        assert_eq!(visibility, timeout + 30, "{minutes:?}");
    }
    let queue = props(&t, "ShardQueue");
    assert_eq!(
        flat(queue.get("VisibilityTimeout").unwrap()),
        "Schedule ScheduleMinutes ShardVisibility"
    );
    assert_eq!(
        flat(props(&t, "EvaluatorFunction").get("Timeout").unwrap()),
        "Schedule ScheduleMinutes Timeout",
        "the same row's timeout"
    );
    assert_eq!(scalar(queue, "MessageRetentionPeriod"), "3600");
    assert_eq!(scalar(queue, "KmsMasterKeyId"), "Key");
    let redrive = queue.get("RedrivePolicy").expect("a redrive policy");
    assert_eq!(scalar(redrive, "maxReceiveCount"), "2", "one retry");
    // A shard that failed twice waits in the failure queue, which its alarm watches.
    assert_eq!(scalar(redrive, "deadLetterTargetArn"), "FailureQueue.Arn");
    for (policy, queue) in [
        ("ShardQueuePolicy", "ShardQueue"),
        ("FailureQueuePolicy", "FailureQueue"),
    ] {
        let text = flat(props(&t, policy));
        assert!(text.contains(&format!("Queues: {queue}")), "{text}");
        assert!(text.contains("Sid: DenyWithoutTls"), "{policy}");
        assert!(text.contains("aws:SecureTransport: false"), "{policy}");
    }
    let policy = flat(props(&t, "ShardQueuePolicy"));
    assert!(
        policy.contains(
            "Sid: DenySendByOthers Effect: Deny Principal: * Action: sqs:SendMessage Resource: ShardQueue.Arn Condition: StringNotEquals: aws:PrincipalArn: DispatcherRole.Arn"
        ),
        "{policy}"
    );
    // The roles that may send to it: the dispatcher only.
    let senders: Vec<&str> = resources_of(&t, "AWS::IAM::Role")
        .into_iter()
        .filter(|(_, r)| {
            statements(r).iter().any(|s| {
                s.actions.iter().any(|a| a == "sqs:SendMessage")
                    && s.resources.iter().any(|r| r == "ShardQueue.Arn")
            })
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(senders, ["DispatcherRole"]);
    let variables = ["Globals", "Function", "Environment", "Variables"]
        .iter()
        .try_fold(&t, |n, k| n.get(k))
        .unwrap();
    assert_eq!(scalar(variables, "SLO_SHARD_QUEUE_URL"), "ShardQueue");
    assert_eq!(scalar(variables, "SLO_SHARD_SIZE"), "ShardSize");
    assert_eq!(
        scalar(variables, "SLO_SHARD_CONCURRENCY"),
        "ShardConcurrency"
    );
    let own = ["Environment", "Variables"]
        .iter()
        .try_fold(props(&t, "DispatcherFunction"), |n, k| n.get(k))
        .unwrap();
    assert_eq!(
        scalar(own, "SLO_EVALUATOR_FUNCTION"),
        "EvaluatorFunction",
        "the dispatcher starts the evaluator as workers"
    );
    let url = t
        .get("Outputs")
        .and_then(|o| o.get("ShardQueueUrl"))
        .unwrap();
    assert_eq!(scalar(url, "Value"), "ShardQueue");
    let arn = t
        .get("Outputs")
        .and_then(|o| o.get("DispatcherFunctionArn"))
        .unwrap();
    assert_eq!(scalar(arn, "Value"), "DispatcherFunction.Arn");
}

/// Nothing polls the shard queue between cycles: the evaluator has no event source; the
/// dispatcher starts at most ShardConcurrency workers, under the evaluator's reserved
/// concurrency.
#[test]
fn the_evaluator_takes_shards_only_as_workers_within_the_shard_concurrency() {
    let t = template();
    let ev = props(&t, "EvaluatorFunction");
    assert!(
        ev.get("Events").is_none(),
        "no event source mapping polls the queue"
    );
    assert!(
        resources_of(&t, "AWS::Lambda::EventSourceMapping").is_empty(),
        "no event source mapping anywhere"
    );
    assert_eq!(
        scalar(ev, "ReservedConcurrentExecutions"),
        "EvaluatorConcurrency"
    );
    let param = |name: &str| t.get("Parameters").and_then(|p| p.get(name)).unwrap();
    let number = |name: &str, key: &str| -> i64 { scalar(param(name), key).parse().unwrap() };
    let sloguard_core::settings::Kind::Whole {
        default: workers, ..
    } = sloguard_core::settings::SHARD_CONCURRENCY.kind
    else {
        panic!("SLO_SHARD_CONCURRENCY is a whole number")
    };
    assert_eq!(number("ShardConcurrency", "Default"), workers);
    assert_eq!(number("ShardConcurrency", "MinValue"), 1);
    assert_eq!(number("EvaluatorConcurrency", "Default"), 10);
    assert!(number("EvaluatorConcurrency", "Default") > number("ShardConcurrency", "Default"));
    assert!(number("EvaluatorConcurrency", "MinValue") > number("ShardConcurrency", "MinValue"));
    assert!(scalar(param("EvaluatorConcurrency"), "Description")
        .contains("must exceed ShardConcurrency"));
    // The parameter takes what the functions accept (SLO_SHARD_SIZE).
    let sloguard_core::settings::Kind::Whole {
        default, min, max, ..
    } = sloguard_core::settings::SHARD_SIZE.kind
    else {
        panic!("SLO_SHARD_SIZE is a whole number")
    };
    assert_eq!(number("ShardSize", "Default"), default);
    assert_eq!(number("ShardSize", "MinValue"), min);
    assert_eq!(number("ShardSize", "MaxValue"), max);
    // The workers take orders as the evaluator's role.
    let role = statements(resource(&t, "EvaluatorRole"));
    let orders = role
        .iter()
        .find(|s| s.sid == "ShardOrders")
        .expect("ShardOrders");
    assert_eq!(
        orders.actions,
        [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility"
        ]
    );
    assert_eq!(orders.resources, ["ShardQueue.Arn"]);
    let key = role.iter().find(|s| s.sid == "Key").unwrap();
    assert!(key.actions.iter().any(|a| a == "kms:Decrypt"));
    assert!(key.conditions.contains("sqs.${AWS::Region}.amazonaws.com"));
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

/// One statement of a role's inline policies, as a reader checks it.
#[derive(Debug)]
struct Statement {
    sid: String,
    actions: Vec<String>,
    resources: Vec<String>,
    /// The condition block, flattened ("" when none).
    conditions: String,
}

/// Every statement of a role's inline policies; a statement under `!If [C, S, NoValue]`
/// counts as S.
fn statements(role: &Node) -> Vec<Statement> {
    let list = |n: Option<&Node>| -> Vec<String> {
        match n.map(|n| &n.value) {
            Some(Value::Seq(items)) => items.iter().map(flat).collect(),
            Some(_) => vec![flat(n.unwrap())],
            None => Vec::new(),
        }
    };
    let mut out = Vec::new();
    let policies = role
        .get("Properties")
        .and_then(|p| p.get("Policies"))
        .and_then(Node::as_seq)
        .expect("inline policies");
    for policy in policies {
        let items = policy
            .get("PolicyDocument")
            .and_then(|d| d.get("Statement"))
            .and_then(Node::as_seq)
            .unwrap();
        for item in items {
            let s = match &item.value {
                Value::Seq(branches) => &branches[1],
                _ => item,
            };
            out.push(Statement {
                sid: s
                    .get("Sid")
                    .and_then(Node::as_scalar)
                    .unwrap_or("")
                    .to_string(),
                actions: list(s.get("Action")),
                resources: list(s.get("Resource")),
                conditions: s.get("Condition").map(flat).unwrap_or_default(),
            });
        }
    }
    out
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
        ["Schedule", "WeeklyReviewSchedule"],
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
    // The evaluation schedule invokes the dispatcher with the scheduled time, nothing else
    // (schedules naming shard/shards are refused).
    let target = &props(&t, "Schedule")
        .get("Targets")
        .and_then(Node::as_seq)
        .unwrap()[0];
    assert_eq!(scalar(target, "Arn"), "DispatcherFunction.Arn");
    let input = target.get("InputTransformer").unwrap();
    assert_eq!(scalar(input, "InputTemplate"), r#"{"time": <time>}"#);
    assert_eq!(flat(input.get("InputPathsMap").unwrap()), "time: $.time");
    let permission = props(&t, "SchedulePermission");
    assert_eq!(scalar(permission, "FunctionName"), "DispatcherFunction");
    assert_eq!(scalar(permission, "SourceArn"), "Schedule.Arn");
    assert_eq!(scalar(permission, "Principal"), "events.amazonaws.com");
    let review = &props(&t, "WeeklyReviewSchedule")
        .get("Targets")
        .and_then(Node::as_seq)
        .unwrap()[0];
    assert_eq!(
        scalar(review, "Arn"),
        "EvaluatorFunction.Arn",
        "the review stays direct"
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
    for role in [
        "EvaluatorRole",
        "AlarmHandlerRole",
        "DashboardRole",
        "DispatcherRole",
    ] {
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
    // A worker marks its shards done: UpdateItem on CYCLE, and no other write there.
    let role = statements(resource(&t, "EvaluatorRole"));
    let done = role
        .iter()
        .find(|s| s.sid == "MarkShardsDone")
        .expect("MarkShardsDone");
    assert_eq!(done.actions, ["dynamodb:UpdateItem"]);
    assert_eq!(
        done.conditions,
        "ForAllValues:StringLike: dynamodb:LeadingKeys: CYCLE"
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

/// The dispatcher reads SLO names (DEF), the fleet version (FLEET) and cycle records
/// (CYCLE), writes only cycle records, queues shard orders, starts the evaluator as workers
/// and dead-letters a failed invocation: nothing else.
#[test]
fn the_dispatcher_role_grants_only_what_the_dispatcher_uses() {
    let t = template();
    let role = statements(resource(&t, "DispatcherRole"));
    let granted: Vec<(&str, Vec<&str>, Vec<&str>, &str)> = role
        .iter()
        .map(|s| {
            (
                s.sid.as_str(),
                s.actions.iter().map(String::as_str).collect(),
                s.resources.iter().map(String::as_str).collect(),
                s.conditions.as_str(),
            )
        })
        .collect();
    let region = |service: &str| format!("{service}.${{AWS::Region}}.amazonaws.com");
    let key_services = format!(
        "StringEquals: kms:ViaService: {} {} {}",
        region("dynamodb"),
        region("sqs"),
        region("lambda")
    );
    assert_eq!(
        granted,
        [
            (
                "ReadNamesAndCycles",
                vec!["dynamodb:GetItem", "dynamodb:Query"],
                vec!["Table.Arn"],
                "ForAllValues:StringLike: dynamodb:LeadingKeys: DEF CYCLE FLEET"
            ),
            (
                "WriteCycles",
                vec!["dynamodb:PutItem", "dynamodb:UpdateItem"],
                vec!["Table.Arn"],
                "ForAllValues:StringLike: dynamodb:LeadingKeys: CYCLE"
            ),
            (
                "QueueShardOrders",
                vec!["sqs:SendMessage", "sqs:GetQueueAttributes"],
                vec!["ShardQueue.Arn"],
                ""
            ),
            (
                "StartWorkers",
                vec!["lambda:InvokeFunction"],
                vec!["EvaluatorFunction.Arn"],
                ""
            ),
            (
                "FailureDestination",
                vec!["sqs:SendMessage"],
                vec!["FailureQueue.Arn"],
                ""
            ),
            (
                "Key",
                vec!["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                vec!["Key.Arn"],
                key_services.as_str()
            ),
            (
                "Logs",
                vec!["logs:CreateLogStream", "logs:PutLogEvents"],
                vec!["DispatcherLogGroup.Arn"],
                ""
            ),
        ]
    );
    let p = props(&t, "DispatcherFunction");
    assert_eq!(scalar(p, "Role"), "DispatcherRole.Arn");
    assert_eq!(
        flat(p.get("LoggingConfig").unwrap()),
        "LogGroup: DispatcherLogGroup"
    );
    assert!(p.get("Events").is_none(), "only the schedule invokes it");
    let skips = flat(
        resource(&t, "DispatcherFunction")
            .get("Metadata")
            .and_then(|m| m.get("checkov"))
            .unwrap(),
    );
    assert!(
        skips.contains("CKV_AWS_117") && skips.contains("CKV_AWS_116"),
        "{skips}"
    );
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
    let switch = props(&t, "DeadMansSwitchAlarm");
    for (alarm, periods) in [(failed, 3), (switch, 2)] {
        let description = flat(alarm.get("AlarmDescription").unwrap());
        assert!(
            description.contains(&format!("for {periods} schedule periods")),
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
            assert_eq!(seconds, period, "one datapoint per schedule period");
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
        // ...and 2 schedules in a row that find the cycle before incomplete (or no
        // dispatch at all) fire the dead man's switch: a cycle is judged one schedule
        // later, so a blind stack is called out within 3 periods too.
        assert_eq!(
            window(switch),
            2 * period,
            "dead man's switch at {period} s"
        );
    }
}

/// (metric name, sorted dimension names) of every metric the evaluator's and the
/// dispatcher's EMF lines publish.
fn emitted_health_metrics() -> Vec<(String, Vec<String>)> {
    use sloguard_core::app::cycle::CycleReport;
    use sloguard_core::app::emf::{cycle_lines, dispatch_lines, Source, NAMESPACE};
    use sloguard_core::app::fanout::DispatchReport;
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
        slo_metrics: Default::default(),
    };
    let dispatch = DispatchReport {
        cycle: 1_795_000_000,
        slos: 2500,
        shards: 3,
        dispatched: 3,
        previous: Some(1_794_999_700),
        previous_missing: 1,
        ..Default::default()
    };
    let lines = cycle_lines(&source, &report, 0)
        .into_iter()
        .chain(dispatch_lines("prod-slos", &dispatch, 0));
    let mut emitted = Vec::new();
    for line in lines {
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
    emitted
}

#[test]
fn the_health_alarms_watch_what_the_evaluator_emits() {
    use sloguard_core::app::emf::NAMESPACE;
    let t = template();
    let emitted = emitted_health_metrics();
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
    assert_eq!(checked, 2, "the dead man's switch and SlosFailedAlarm");
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
    // The health widget reads the stack's metrics as the dispatcher and the evaluator emit
    // them (by stack, no shard dimension).
    let emitted = emitted_health_metrics();
    let health: Vec<&serde_json::Value> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["type"] == "metric")
        .collect();
    assert_eq!(health.len(), 1);
    let mut shown = Vec::new();
    for metric in health[0]["properties"]["metrics"].as_array().unwrap() {
        let m = metric.as_array().unwrap();
        assert_eq!(m[0], "sloguard", "{metric}");
        assert_eq!(m[2], "Stack", "{metric}");
        assert_eq!(m[3], "s", "{metric}: this stack's");
        let name = m[1].as_str().unwrap();
        assert!(
            emitted
                .iter()
                .any(|(n, d)| n == name && *d == ["Stack".to_string()]),
            "{name} by Stack is emitted"
        );
        shown.push(name);
    }
    assert_eq!(shown, ["ShardsMissing", "SlosFailed"]);
    assert!(!json.contains("CyclesCompleted") && !json.contains("SEARCH("));
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
