//! Routing end to end on moto: two teams, each with its own SNS topic and an SQS inbox
//! subscribed to it; each inbox gets only its own team's pages, once; a team topic that
//! fails is retried alone; the copy-all setting copies every page to the stack topic.

use anyhow::Result;
use sloguard_e2e::{checkout_slo, Env};
use sloguard_testing::emulator::{self, Received};

const MIN: i64 = 60;

/// The checkout SLO `name` of `team`, whose policy pages the topic `topic`.
fn team_slo(name: &str, team: &str, topic: &str) -> String {
    checkout_slo(name).replace("  annotations:\n", &format!("  labels:\n    team: {team}\n  annotations:\n"))
        + &format!(
            "  alertPolicies:\n    - kind: AlertPolicy\n      metadata:\n        name: {name}-pages\n      spec:\n        conditions:\n          - kind: AlertCondition\n            metadata:\n              name: {name}-fast\n            spec:\n              severity: page\n              condition: {{kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 0m}}\n        notificationTargets:\n          - kind: AlertNotificationTarget\n            metadata:\n              name: {team}-pager\n            spec:\n              target: {topic}\n"
        )
}

/// A team: its topic and the inbox queue subscribed to it.
struct Team {
    topic: String,
    inbox: String,
}

async fn team(env: &Env, name: &str) -> Result<Team> {
    let topic = emulator::create_topic(&env.sns, name).await?;
    let inbox =
        emulator::subscribe_queue(&env.sqs, &env.sns, &topic, &format!("{name}-inbox")).await?;
    Ok(Team { topic, inbox })
}

async fn drain(env: &Env, t: &Team) -> Result<Vec<Received>> {
    emulator::drain(&env.sqs, &t.inbox).await
}

/// Two teams with an SLO each over the same burning checkout traffic (both page at once).
async fn two_teams(env: &Env) -> Result<(Team, Team)> {
    let a = team(env, "team-a-pages").await?;
    let b = team(env, "team-b-pages").await?;
    env.apply(
        &(team_slo("checkout-a", "team-a", &a.topic)
            + "---\n"
            + &team_slo("checkout-b", "team-b", &b.topic)),
    )
    .await?;
    // The standard incident: 10% of checkouts fail from 90 to 60 minutes before the end.
    let end = env.end;
    env.checkout_traffic(|t| {
        if t >= end - 90 * MIN && t < end - 60 * MIN {
            10.0
        } else {
            0.0
        }
    })
    .await?;
    Ok((a, b))
}

/// The SLO each message is about.
fn slos(got: &[Received]) -> Vec<&str> {
    got.iter().map(|m| m.attributes["slo"].as_str()).collect()
}

#[tokio::test]
async fn each_teams_inbox_holds_only_its_own_pages_once() -> Result<()> {
    let env = Env::new().await?;
    let (a, b) = two_teams(&env).await?;
    let e = env.end;
    let r = env.scheduled(&env.app, e - 80 * MIN).await?;
    assert_eq!(r.notifications_sent, 2, "{r:?}");
    env.scheduled(&env.app, e - 75 * MIN).await?;
    let (got_a, got_b) = (drain(&env, &a).await?, drain(&env, &b).await?);
    assert_eq!(slos(&got_a), ["checkout-a"], "{got_a:#?}");
    assert_eq!(slos(&got_b), ["checkout-b"], "{got_b:#?}");
    for (got, team) in [(&got_a, "team-a"), (&got_b, "team-b")] {
        assert_eq!(got[0].attributes["severity"], "page");
        assert_eq!(got[0].attributes["team"], team);
        assert_eq!(got[0].attributes["service"], "webshop");
        assert!(
            got[0].subject.starts_with("[PAGE] webshop checkout-"),
            "{}",
            got[0].subject
        );
    }
    assert!(
        env.inbox().await?.is_empty(),
        "the stack topic gets none of them"
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_team_topic_is_retried_alone_next_cycle() -> Result<()> {
    let env = Env::new().await?;
    let (a, b) = two_teams(&env).await?;
    // Team B's topic is deleted (its subscription with it): SNS answers NotFound.
    env.sns.delete_topic().topic_arn(&b.topic).send().await?;
    let e = env.end;
    let r = env.scheduled(&env.app, e - 80 * MIN).await?;
    assert_eq!(r.notifications_sent, 1, "{r:?}");
    let b_outcome = r.slos.iter().find(|o| o.slo == "checkout-b").unwrap();
    assert_eq!(b_outcome.notify_errors.len(), 1, "{b_outcome:?}");
    assert_eq!(slos(&drain(&env, &a).await?), ["checkout-a"]);
    // The topic is back (same name, same ARN) with the inbox subscribed again.
    let again = team(&env, "team-b-pages").await?;
    assert_eq!(again.topic, b.topic);
    let r = env.scheduled(&env.app, e - 75 * MIN).await?;
    assert_eq!(r.notifications_sent, 1, "B's page alone: {r:?}");
    let got_b = drain(&env, &again).await?;
    assert_eq!(slos(&got_b), ["checkout-b"], "{got_b:#?}");
    assert_eq!(got_b[0].attributes["severity"], "page");
    assert!(
        drain(&env, &a).await?.is_empty(),
        "A's page is not sent again"
    );
    env.scheduled(&env.app, e - 70 * MIN).await?;
    assert!(drain(&env, &again).await?.is_empty(), "once");
    assert!(env.inbox().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn copy_all_sends_the_stack_topic_a_copy_of_every_team_page() -> Result<()> {
    let env = Env::new().await?;
    let (a, b) = two_teams(&env).await?;
    let mut settings = env.settings.clone();
    settings.copy_all_to_stack_topic = true;
    let app = env.second_app(&settings);
    let e = env.end;
    let r = env.scheduled(&app, e - 80 * MIN).await?;
    assert_eq!(r.notifications_sent, 4, "{r:?}");
    assert_eq!(slos(&drain(&env, &a).await?), ["checkout-a"]);
    assert_eq!(slos(&drain(&env, &b).await?), ["checkout-b"]);
    let mut stack = env.inbox().await?;
    stack.sort_by(|x, y| x.attributes["slo"].cmp(&y.attributes["slo"]));
    assert_eq!(slos(&stack), ["checkout-a", "checkout-b"], "{stack:#?}");
    env.scheduled(&app, e - 75 * MIN).await?;
    assert!(env.inbox().await?.is_empty(), "once each");
    Ok(())
}
