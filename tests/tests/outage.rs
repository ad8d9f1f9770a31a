//! AWS unreachable in the middle of a cycle (a loopback proxy cuts and refuses
//! connections after N requests), then healed: afterwards every snapshot exists
//! once and every status change was announced exactly once.

use anyhow::Result;
use sloguard_aws::build_app;
use sloguard_core::app::StateStore;
use sloguard_e2e::proxy::Proxy;
use sloguard_e2e::{checkout_slo, Env, REGION};
use sloguard_testing::cbor_front::{self, CborFront};

const MIN: i64 = 60;

#[tokio::test]
async fn cut_mid_cycle_then_healed_loses_nothing_and_repeats_nothing() -> Result<()> {
    let mut faults = 0;
    for cut_after in [2, 5, 8, 11, 14] {
        let env = Env::new().await?;
        let names = ["checkout-a", "checkout-b", "checkout-c"];
        env.apply(
            &names
                .iter()
                .map(|n| checkout_slo(n))
                .collect::<Vec<_>>()
                .join("---\n"),
        )
        .await?;
        let end = env.end;
        env.checkout_traffic(|t| {
            if t >= end - 90 * MIN && t < end - 60 * MIN {
                10.0
            } else {
                0.0
            }
        })
        .await?;

        let proxy = Proxy::start(env.moto.port).await?;
        // CloudWatch's CBOR goes through a front of its own whose moto is the proxy, so
        // its calls count and are cut like the others.
        let front = CborFront::start(cbor_front::cloudwatch()?, &proxy.endpoint)?;
        let sdk =
            sloguard_testing::emulator::sdk_config_for(&proxy.endpoint, &front.endpoint, REGION)
                .await;
        let app = build_app(&env.settings, &sdk);
        let t1 = end - 70 * MIN;
        proxy.fail_after(cut_after);
        let broken = env.scheduled(&app, t1).await; // fails in part or whole
        faults += 1;
        proxy.heal();
        // Lambda retries the failed invocation; then the next schedule comes.
        env.scheduled(&app, t1).await?;
        env.scheduled(&app, t1 + 5 * MIN).await?;

        let inbox = env.inbox().await?;
        let mut paged: Vec<String> = inbox.iter().map(|m| m.attributes["slo"].clone()).collect();
        paged.sort();
        assert_eq!(
            paged, names,
            "cut after {cut_after} requests ({broken:?}): one page per SLO, {inbox:#?}"
        );
        for n in names {
            let h = env.history(n).await?;
            let times: Vec<&str> = h.iter().map(|s| s.evaluated_at.as_str()).collect();
            assert_eq!(
                h.len(),
                2,
                "{n}: one snapshot per evaluation time, got {times:?}"
            );
            assert!(
                env.app.store.state(n).await?.unwrap().pending.is_empty(),
                "{n}: nothing left pending"
            );
        }
    }
    println!("outage test: {faults} cuts injected, 0 lost snapshots, 0 duplicate messages");
    Ok(())
}
