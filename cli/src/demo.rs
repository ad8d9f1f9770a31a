//! `sloguard demo`: the whole loop on a local emulator, no AWS account.
//! moto starts on a free port; the example SLOs are applied; a few hours of
//! customer-service metrics with an incident are written; evaluation cycles run
//! through the scheduled Lambda's own handler; then on-call's view: the status
//! table, the budget history and the notifications as an SQS subscriber got them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use super::commands::history::Format::Table;
use anyhow::{Context, Result};
use serde_json::json;
use sloguard_aws::events::{handle_alarm_event, handle_scheduled_event};
use sloguard_aws::{build_app, Environment};
use sloguard_core::app::apply::{apply, ApplyOptions};
use sloguard_core::app::{Silence, StateStore};
use sloguard_core::slo::message::{count, rfc3339};
use sloguard_testing::emulator::{self, Moto, Point};

const REGION: &str = "eu-west-1";
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// The demo stack's own SLO event bus, named as the template names it (`STACK-slo-events`).
const DEMO_BUS: &str = "sloguard-demo-slo-events";
/// The support team's topic: the name examples/slos/alerting.yaml's target ARN ends in.
const SUPPORT_TOPIC: &str = "support-pages";

/// `N messages: SLO (count), ...` of one inbox, to show whose messages it holds.
fn inbox_summary(inbox: &[emulator::Received]) -> String {
    let mut by_slo: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for m in inbox {
        *by_slo
            .entry(m.attributes.get("slo").map_or("?", String::as_str))
            .or_default() += 1;
    }
    let list: Vec<String> = by_slo.iter().map(|(s, n)| format!("{s} ({n})")).collect();
    format!("{}: {}", count(inbox.len(), "message"), list.join(", "))
}

/// Every notification of one inbox exactly as its subscriber received it.
fn print_inbox(who: &str, topic: &str, inbox: &[emulator::Received]) {
    println!(
        "\n== what {who} received: {} on {topic}",
        count(inbox.len(), "notification")
    );
    for m in inbox {
        println!("\n--- Subject: {}", m.subject);
        println!(
            "    Attributes: {}",
            m.attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for line in m.message.lines() {
            println!("    {line}");
        }
    }
}

fn point(ns: &str, metric: &str, dims: &[(&str, &str)], t: i64, v: f64) -> Point {
    Point {
        namespace: ns.into(),
        metric: metric.into(),
        dimensions: dims
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        timestamp: t,
        value: v,
    }
}

/// Synthetic traffic: 4 hours at minute resolution with an incident 3h..2h20m ago,
/// and hourly totals for the 27 days before (so 28- and 30-day budgets are realistic).
fn synthetic(end: i64) -> Vec<Point> {
    let start = end - 4 * HOUR;
    let incident = |t: i64| t >= end - 3 * HOUR && t < end - 3 * HOUR + 40 * 60;
    // With the budget already spent, a new outage: half of all checkouts fail for 15 minutes.
    let second_outage = |t: i64| t >= end - 50 * 60 && t < end - 35 * 60;
    // The support queue takes longer to drain: premium tickets are answered late for an hour.
    let support_backlog = |t: i64| t >= end - 3 * HOUR && t < end - 2 * HOUR;
    let premium = [("Tier", "premium")];
    let mut pts = Vec::new();
    // Older history, one datapoint per hour.
    let mut t = start - 27 * DAY;
    while t < start {
        pts.push(point("Shop", "CheckoutRequests", &[], t, 12_000.0));
        // Errors have eaten almost all of checkout's 30-day budget before the tour starts.
        pts.push(point("Shop", "CheckoutErrors", &[], t, 12.0));
        pts.push(point(
            "CustomerService",
            "TicketsOpened",
            &premium,
            t,
            600.0,
        ));
        pts.push(point(
            "CustomerService",
            "FirstResponseWithinTarget",
            &premium,
            t,
            590.0,
        ));
        t += HOUR;
    }
    let mut t = start;
    while t < end {
        let minute = (t / 60) % 7;
        pts.push(point("Shop", "CheckoutRequests", &[], t, 200.0));
        pts.push(point(
            "Shop",
            "CheckoutErrors",
            &[],
            t,
            if second_outage(t) {
                100.0
            } else if incident(t) {
                14.0
            } else if minute == 0 {
                1.0
            } else {
                0.0
            },
        ));
        pts.push(point("CustomerService", "TicketsOpened", &premium, t, 10.0));
        pts.push(point(
            "CustomerService",
            "FirstResponseWithinTarget",
            &premium,
            t,
            if support_backlog(t) { 2.0 } else { 10.0 },
        ));
        if t % 300 == 0 {
            let wait = if t >= end - 3 * HOUR + 10 * 60 && t < end - 3 * HOUR + 55 * 60 {
                140.0
            } else {
                25.0 + (minute as f64) * 3.0
            };
            pts.push(point(
                "CustomerService",
                "ChatWaitSeconds",
                &[("Channel", "chat")],
                t,
                wait,
            ));
            pts.push(point(
                "CustomerService",
                "HelpCenterPageLoads",
                &[],
                t,
                500.0,
            ));
            pts.push(point(
                "CustomerService",
                "HelpCenterPageLoadsOk",
                &[],
                t,
                499.0,
            ));
        }
        t += 60;
    }
    pts
}

/// The CloudFormation event of examples/events (as AWS documents it) for `stack`, at `t`.
fn cloudformation_update(stack: &str, t: i64) -> Result<serde_json::Value> {
    let text = include_str!("../../examples/events/change-cloudformation-update-complete.json")
        .replace("stack/shop-api/", &format!("stack/{stack}/"))
        .replace("111122223333", "123456789012");
    let mut v: serde_json::Value = serde_json::from_str(&text)?;
    v["time"] = rfc3339(t).into();
    Ok(v)
}

/// `sloguard demo`'s flags.
#[derive(clap::Args)]
pub struct Args {
    /// Path of moto_server (default: $SLOGUARD_MOTO_SERVER or .venv/bin/moto_server).
    #[arg(long)]
    moto_server: Option<PathBuf>,
    /// Directory of SLO files to use.
    #[arg(long, default_value = "examples/slos")]
    slos: PathBuf,
}

/// Take the tour from the repository root, where the example SLOs are.
pub async fn run(args: &Args) -> Result<ExitCode> {
    if !args.slos.exists() {
        anyhow::bail!(
            "{} not found: run the demo from the repository root (make demo)",
            args.slos.display()
        );
    }
    tour(args.moto_server.as_deref(), &args.slos).await?;
    Ok(ExitCode::SUCCESS)
}

/// The tour.
async fn tour(moto_server: Option<&Path>, slo_dir: &Path) -> Result<()> {
    let started = Instant::now();
    let binary = emulator::find_moto(moto_server)?;
    let moto = Moto::start(&binary)?;
    println!(
        "== sloguard demo: local AWS emulator (moto) at {}, CloudWatch through its CBOR front at {}",
        moto.endpoint, moto.cloudwatch_endpoint
    );
    let sdk = moto.sdk_config(REGION).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = sloguard_testing::aws_sdk_sqs::Client::new(&sdk);
    let topic = emulator::create_topic(&sns, "sloguard-demo").await?;
    let queue = emulator::subscribe_queue(&sqs, &sns, &topic, "oncall-inbox").await?;
    // A second team, support, with its own topic (the one examples/slos/alerting.yaml's
    // AlertNotificationTarget names) and its own inbox.
    let support_topic = emulator::create_topic(&sns, SUPPORT_TOPIC).await?;
    let support_queue =
        emulator::subscribe_queue(&sqs, &sns, &support_topic, "support-inbox").await?;
    let settings = Environment {
        table: "sloguard-demo".into(),
        topic_arn: Some(topic.clone()),
        events_topic_arn: None,
        lag_seconds: 0,
        history_days: 400,
        schedule_minutes: 5,
        dashboard_url: None,
        stack_name: "sloguard-demo".into(),
        slo_metrics: Default::default(),
        // As deployed: SLO events on the stack's own bus (STACK-slo-events), whose policy
        // lets only the stack's functions put events (the emulator does not enforce it).
        event_bus: Some(DEMO_BUS.into()),
        changes_days: 90,
        reconcile_hours: 24,
        // As a stack deployed with AllowedTopicPrefix=support- would be.
        allowed_topics: Some(
            sloguard_core::slo::route::AllowedTopics::parse(&format!(
                "arn:aws:sns:{REGION}:123456789012:support-*"
            ))
            .map_err(anyhow::Error::msg)?,
        ),
        ..Environment::default()
    };
    let app = build_app(&settings, &sdk);

    println!("\n== sloguard init");
    app.store.create_table_if_missing().await?;
    println!("table {} created; topic {topic}; an SQS queue subscribed to it stands in for on-call's inbox", settings.table);
    println!("a second team, support: its own topic {support_topic} and inbox queue; the support SLO's alert policy names that topic (examples/slos/alerting.yaml), so its messages go there and nowhere else");

    // A rule on the stack's bus, as a user would add one to stop a deployment or call a webhook.
    let events = sloguard_testing::aws_sdk_eventbridge::Client::new(&sdk);
    events.create_event_bus().name(DEMO_BUS).send().await?;
    let automation = emulator::rule_to_queue(
        &events,
        &sqs,
        DEMO_BUS,
        "slo-automation",
        &json!({"source": ["sloguard"]}),
    )
    .await?;
    println!("the stack's own bus {DEMO_BUS} (only the stack's functions may put events on it) and a rule on it (source sloguard) that forwards SLO events to an SQS queue, as a rollback or chat automation would get them");

    println!("\n== sloguard apply {}", slo_dir.display());
    let files = super::commands::read_files(&[slo_dir.to_path_buf()])?;
    for (name, change) in apply(&app.store, &files, ApplyOptions::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        println!("{name}: {change:?}");
    }

    let now = chrono::Utc::now().timestamp();
    let end = now - now % 60;
    let points = synthetic(end);
    let calls = emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &points).await?;
    println!(
        "\n== metrics: {} in {}: 4 hours of checkout, support and chat traffic,\n   with an incident from {} (checkout errors at 7% for 40 minutes, chat queue backing up,\n   80% of premium tickets answered late for an hour), then a second checkout outage from {}\n   (half of all checkouts failing) after checkout's budget is already spent",
        count(points.len(), "datapoint"),
        count(calls, "PutMetricData call"),
        rfc3339(end - 3 * HOUR),
        rfc3339(end - 50 * 60)
    );

    // A deployment shortly before the incident: the stack checkout-availability names
    // (sloguard.dev/changes: stack/shop-api) is updated 12 minutes before errors start.
    let deployed = end - 3 * HOUR - 12 * 60;
    let deployment = cloudformation_update("shop-api", deployed)?;
    println!(
        "\n== a deployment: CloudFormation stack shop-api UPDATE_COMPLETE at {}, delivered by EventBridge to the alarm handler (twice, as EventBridge may)",
        rfc3339(deployed)
    );
    for _ in 0..2 {
        let report = handle_alarm_event(&app, &deployment, now)
            .await
            .context("deployment event")?;
        for c in &report.changes {
            println!(
                "  {} {}: {}",
                c.target.as_deref().unwrap_or("?"),
                c.what.as_deref().unwrap_or("?"),
                if c.recorded {
                    format!("recorded for {}", c.slos.join(", "))
                } else if c.duplicate {
                    "already recorded (stored once)".to_string()
                } else {
                    c.refused.clone().or(c.ignored.clone()).unwrap_or_default()
                }
            );
        }
    }

    // The chat team knows about the queue and asks for quiet while they work on it.
    let until = end - 3 * HOUR + 35 * 60;
    println!(
        "\n== sloguard silence chat-wait-time --until {} --reason \"chat team is on the queue\"",
        rfc3339(until)
    );
    app.store
        .set_silence(
            "chat-wait-time",
            Some(&Silence {
                until,
                reason: "chat team is on the queue".into(),
                created_at: end - 4 * HOUR,
            }),
        )
        .await?;
    println!("chat-wait-time: still evaluated and recorded; page and ticket messages held back until then");

    println!("\n== evaluation cycles, through the scheduled Lambda's handler (one every 15 minutes of the last 3.5 hours)");
    let mut t = end - 3 * HOUR - 30 * 60;
    while t <= end {
        let event = json!({"version": "0", "id": format!("demo-{t}"), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": rfc3339(t), "region": REGION, "resources": [], "detail": {}});
        let report = handle_scheduled_event(&app, &event, t)
            .await
            .context("evaluation cycle")?;
        let changes: Vec<String> = report
            .slos
            .iter()
            .flat_map(|o| {
                let told = o
                    .snapshot
                    .iter()
                    .flat_map(|s| s.notifications.iter())
                    .map(|n| format!("{} {n}", o.slo));
                let failed = o.error.iter().map(|e| format!("{}: error {e}", o.slo));
                told.chain(failed).collect::<Vec<_>>()
            })
            .collect();
        println!(
            "  {}  {}, {}, {} sent{}",
            report.evaluated_at,
            count(report.evaluated, "SLO"),
            count(report.metric_requests, "GetMetricData call"),
            report.notifications_sent,
            if changes.is_empty() {
                String::new()
            } else {
                format!("  <- {}", changes.join("; "))
            }
        );
        t += 15 * 60;
    }

    println!("\n== sloguard status");
    super::commands::status::print(&app, false).await?;
    println!("\n== sloguard history checkout-availability");
    let last_4h = super::commands::history::Range {
        since: end - 4 * HOUR,
        until: end,
        limit: None,
        since_defaulted: false,
        every: None,
    };
    super::commands::history::print(&app, "checkout-availability", last_4h, Table).await?;
    println!("\n== sloguard history chat-wait-time (the silenced page is recorded, not sent)");
    super::commands::history::print(&app, "chat-wait-time", last_4h, Table).await?;

    println!("\n== sloguard gate --service webshop --min-budget 25% --no-open-incident   (a release pipeline asks before it deploys)");
    // The verdict is printed; in a pipeline its exit code (3 on FAIL) stops the deploy.
    let webshop = super::commands::gate::Selection {
        names: &[],
        team: None,
        service: Some("webshop"),
        policy: sloguard_core::app::gate::GatePolicy {
            min_budget: Some(0.25),
            no_open_incident: true,
        },
    };
    let _exit = super::commands::gate::judge(&app, webshop, false).await?;

    println!("\n== sloguard changes checkout-availability");
    super::commands::changes::print(&app, "checkout-availability", end - DAY, end, false).await?;

    println!("\n== sloguard incidents --since 4h   (each incident's record: burn start, time to detect, duration, budget spent, changes before, silences during)");
    super::commands::incidents::print(&app, None, end - 4 * HOUR, end, false).await?;

    let report = Path::new("target/demo-report.html");
    std::fs::create_dir_all("target")?;
    println!("\n== sloguard report --since 4h --out {}", report.display());
    super::commands::report::report(&app, &[], 4 * HOUR, report, end).await?;

    let inbox = emulator::drain(&sqs, &queue).await?;
    let support_inbox = emulator::drain(&sqs, &support_queue).await?;
    println!(
        "\n== what each team's inbox received: only its own SLOs' messages, each once\n   on-call (stack topic {topic}): {}\n   support ({support_topic}): {}",
        inbox_summary(&inbox),
        inbox_summary(&support_inbox)
    );
    print_inbox("on-call", &topic, &inbox);
    print_inbox("the support team", &support_topic, &support_inbox);
    let slo_events = emulator::drain_events(&sqs, &automation).await?;
    println!(
        "\n== what the EventBridge rule received: {} (source sloguard, one per incident transition and budget event)",
        count(slo_events.len(), "event")
    );
    for e in &slo_events {
        println!(
            "  {:<26} {:<22} severity {}",
            e["detail-type"].as_str().unwrap_or_default(),
            e["detail"]["slo"].as_str().unwrap_or_default(),
            e["detail"]["severity"].as_str().unwrap_or_default()
        );
    }
    println!(
        "\n== done in {:.0} s; the emulator is stopped. Budget charts: target/demo-report.html. Next: `make install`, then README.md, \"Write an SLO for your own metrics\" (all of it: docs/writing-slos.md).",
        started.elapsed().as_secs_f64()
    );
    drop(moto);
    Ok(())
}
