//! Budget charts seen in a real browser: the report and the dashboard widget, drawn
//! from a moto scenario's history, rendered by headless Chromium; the DOM holds one
//! chart per SLO with every point, and the screenshot is not blank.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sloguard_aws::events::widget::handle_widget_event;
use sloguard_core::app::report::slo_views;
use sloguard_core::app::widget::WidgetLimits;
use sloguard_core::report::page;
use sloguard_e2e::{checkout_slo, Env, DAY, HOUR, REGION};
use sloguard_testing::browser;

const MIN: i64 = 60;

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/charts")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Share of pixels that differ from the top-left (background) pixel, and whether the
/// budget line's blue is there.
fn ink(png: &Path) -> Result<(f64, bool)> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png)?));
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf)?;
    let channels = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let bg = px[0];
    let different = px.iter().filter(|p| p[..3] != bg[..3]).count();
    // #0969da, the burn-down line, give or take anti-aliasing
    let blue = px
        .iter()
        .any(|p| p[0] < 40 && (80..=130).contains(&p[1]) && p[2] > 190);
    Ok((different as f64 / px.len() as f64, blue))
}

/// Share of pixels darker than a dark theme's text and lines (luma below 60).
fn dark_share(png: &Path) -> Result<f64> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png)?));
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf)?;
    let px: Vec<&[u8]> = buf[..info.buffer_size()]
        .chunks(info.color_type.samples())
        .collect();
    let dark = px
        .iter()
        .filter(|p| {
            0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]) < 60.0
        })
        .count();
    Ok(dark as f64 / px.len() as f64)
}

/// The function's limits now: the default retention, a 30 s deadline like the function's.
fn limits() -> WidgetLimits {
    WidgetLimits {
        now: chrono::Utc::now().timestamp(),
        history_days: 400,
        deadline: Some(tokio::time::Instant::now() + std::time::Duration::from_secs(30)),
    }
}

/// Two SLOs with history every 10 minutes over 2 hours around the standard incident.
async fn scenario() -> Result<(Env, i64, i64)> {
    let env = Env::new().await?;
    env.incident(&format!(
        "{}---\n{}",
        checkout_slo("checkout"),
        checkout_slo("checkout-b")
    ))
    .await?;
    let (from, to) = (env.end - 2 * HOUR, env.end);
    let mut t = from;
    while t <= to {
        env.scheduled(&env.app, t).await?;
        t += 10 * MIN;
    }
    Ok((env, from, to))
}

#[tokio::test]
async fn the_report_draws_one_chart_per_slo_in_a_real_browser() -> Result<()> {
    let (env, from, to) = scenario().await?;
    let views = slo_views(&env.app.store, None, from, to).await?;
    assert!(views.notes.is_empty(), "{:?}", views.notes);
    let views = views.slos;
    assert_eq!(views.len(), 2);
    let html = page("SLO report", &views, (from, to), to, &[]).into_string();
    let dir = out_dir();
    let file = dir.join("report.html");
    std::fs::write(&file, &html)?;

    let dom = browser::dump_dom(&file).context("the browser renders the report")?;
    for v in &views {
        assert_eq!(v.history.len(), 13, "{}", v.name);
        let chart = format!(
            r#"<svg class="chart burn-down" data-slo="{}" data-points="13""#,
            v.name
        );
        assert_eq!(
            dom.matches(&chart).count(),
            1,
            "one burn-down for {}",
            v.name
        );
        let rates = format!(r#"<svg class="chart burn-rates" data-slo="{}""#, v.name);
        assert_eq!(dom.matches(&rates).count(), 1);
    }
    // the incident opened a page in each SLO: shaded in the browser's DOM
    assert!(dom.matches(r#"class="incident page""#).count() >= 2);

    let png = dir.join("report.png");
    browser::screenshot(&file, &png, 1000, 1400)?;
    let (share, blue) = ink(&png)?;
    assert!(share > 0.03, "the screenshot is nearly blank: {share}");
    assert!(blue, "the budget line is drawn");
    Ok(())
}

#[tokio::test]
async fn the_dashboard_widget_answers_a_recorded_request() -> Result<()> {
    let (env, from, to) = scenario().await?;
    let limits = limits();
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/events/widget-context.json"),
    )?;
    let mut event: serde_json::Value = serde_json::from_str(&fixture)?;
    // The recorded request, moved to the scenario's time range and SLO.
    event["widgetContext"]["timeRange"]["start"] = (from * 1000).into();
    event["widgetContext"]["timeRange"]["end"] = (to * 1000).into();
    event["widgetContext"]["params"]["slo"] = "checkout".into();
    let answer = handle_widget_event(&env.app.store, &event, &limits).await;
    let html = answer.as_str().context("the widget answers HTML")?;
    assert!(html.contains(r#"data-slo="checkout" data-points="13""#));
    assert!(
        !html.contains(r#"data-slo="checkout-b""#),
        "only the chosen SLO"
    );

    let dir = out_dir();
    let file = dir.join("widget.html");
    std::fs::write(
        &file,
        format!(r#"<!DOCTYPE html><html><body style="margin:0">{html}</body></html>"#),
    )?;
    let dom = browser::dump_dom(&file)?;
    assert_eq!(dom.matches(r#"class="chart burn-down""#).count(), 1);
    let png = dir.join("widget.png");
    browser::screenshot(&file, &png, 620, 440)?;
    let (share, blue) = ink(&png)?;
    assert!(share > 0.03 && blue, "{share} {blue}");
    assert!(dark_share(&png)? < 0.05, "the light theme is light");
    // The fixture's widget is 369 px high: both charts at the 120 px floor.
    assert_eq!(html.matches(r#"height="120""#).count(), 2);

    // The dashboard's dark theme wins over the browser's light default: a dark widget.
    event["widgetContext"]["theme"] = "dark".into();
    let dark = handle_widget_event(&env.app.store, &event, &limits).await;
    let dark = dark.as_str().context("the widget answers HTML")?;
    assert!(dark.contains(r#"<div class="dark">"#));
    let file = dir.join("widget-dark.html");
    std::fs::write(
        &file,
        format!(r#"<!DOCTYPE html><html><body style="margin:0">{dark}</body></html>"#),
    )?;
    let png = dir.join("widget-dark.png");
    browser::screenshot(&file, &png, 620, 400)?;
    let share = dark_share(&png)?;
    assert!(
        share > 0.8,
        "a dark background: {share} of the pixels are dark"
    );
    let (ink_share, _) = ink(&png)?;
    assert!(
        ink_share > 0.03,
        "and the charts are drawn on it: {ink_share}"
    );

    // The template's fleet widget: the fleet table, both SLOs, whatever the SLO field says.
    event["widgetContext"]["params"] = serde_json::json!({"view": "fleet"});
    event["view"] = "fleet".into();
    let fleet = handle_widget_event(&env.app.store, &event, &limits).await;
    let fleet = fleet.as_str().unwrap();
    assert!(
        fleet.contains(r#"<tr data-slo="checkout">"#)
            && fleet.contains(r#"<tr data-slo="checkout-b">"#)
    );
    // The per-SLO widget before an SLO is typed in: how to choose one, not an error.
    event["widgetContext"]["params"] = serde_json::json!({"slo": "ALL_SLOS"});
    event["slo"] = "ALL_SLOS".into();
    event.as_object_mut().unwrap().remove("view");
    let choose = handle_widget_event(&env.app.store, &event, &limits).await;
    let choose = choose.as_str().unwrap();
    assert!(
        choose.contains("Type an SLO name in the SLO field") && !choose.contains("<svg"),
        "{choose}"
    );

    // A malformed request and an unknown SLO get a readable panel, not a failure.
    let panel = handle_widget_event(&env.app.store, &serde_json::json!({"oops": 1}), &limits).await;
    assert!(panel.as_str().unwrap().contains("widgetContext is missing"));
    event["widgetContext"]["params"]["slo"] = "nope".into();
    let panel = handle_widget_event(&env.app.store, &event, &limits).await;
    assert!(panel.as_str().unwrap().contains("no SLO named `nope`"));
    let describe = handle_widget_event(
        &env.app.store,
        &serde_json::json!({"describe": true}),
        &limits,
    )
    .await;
    assert!(describe["markdown"]
        .as_str()
        .unwrap()
        .contains("sloguard budget charts"));
    Ok(())
}

#[tokio::test]
async fn the_review_digest_names_the_noisy_alarm_and_the_exhausted_slo() -> Result<()> {
    use sloguard_e2e::{alarm_fixture, checkout_slo_with_alarms};
    use sloguard_testing::emulator::{self, Point};
    let env = Env::new().await?;
    // checkout: quiet traffic, and an alarm of its own that fires anyway;
    // payments: half of all requests failing for an hour, far past its budget.
    let payments = checkout_slo("payments").replace("value: checkout", "value: payments");
    env.apply(&format!(
        "{}---\n{payments}",
        checkout_slo_with_alarms("checkout", "checkout-5xx-high")
    ))
    .await?;
    env.checkout_traffic(|_| 0.0).await?;
    let mut pts = Vec::new();
    let mut t = env.end - 30 * 86_400;
    while t < env.end {
        let recent = t >= env.end - 2 * HOUR;
        let (requests, errors) = if recent { (100.0, 50.0) } else { (6000.0, 0.0) };
        for (metric, v) in [("Requests", requests), ("Errors", errors)] {
            pts.push(Point {
                namespace: "Test".into(),
                metric: metric.into(),
                dimensions: vec![("Endpoint".into(), "payments".into())],
                timestamp: t,
                value: v,
            });
        }
        t += if recent { MIN } else { HOUR };
    }
    emulator::put_metrics(&aws_sdk_cloudwatch::Client::new(&env.sdk), &pts).await?;
    env.scheduled(&env.app, env.end - 20 * MIN).await?;
    env.alarm(
        &env.app,
        &alarm_fixture("alarm-action-metric.json", env.end - 15 * MIN)?,
    )
    .await?;
    env.scheduled(&env.app, env.end - 10 * MIN).await?;
    env.inbox().await?;

    let sent =
        sloguard_core::app::report::send_review(&env.app.store, &env.app.notifier, 28, env.end)
            .await?;
    assert!(sent);
    let got = env.inbox().await?;
    assert_eq!(got.len(), 1, "{got:#?}");
    let digest = &got[0];
    assert_eq!(digest.attributes["severity"], "info");
    assert!(
        digest.subject.contains("2 SLOs") && digest.subject.contains("1 exhausted"),
        "{}",
        digest.subject
    );
    assert!(
        digest.message.contains(
            "noisy alarm: checkout-5xx-high fired 1 time with no burn-rate condition met"
        ),
        "{}",
        digest.message
    );
    // payments is named with its overspent budget (one exhausted window is an incident,
    // not yet a too-tight objective: that needs most of several windows)
    assert!(
        digest.message.contains("\npayments\n") && digest.message.contains("budget left -"),
        "{}",
        digest.message
    );
    // the same week again: nothing more
    assert!(
        !sloguard_core::app::report::send_review(
            &env.app.store,
            &env.app.notifier,
            28,
            env.end + 60
        )
        .await?
    );
    Ok(())
}

#[tokio::test]
async fn widget_ranges_are_bounded_in_requests_to_dynamodb() -> Result<()> {
    use sloguard_e2e::proxy::Proxy;
    use std::sync::atomic::Ordering;
    let (env, _, to) = scenario().await?;
    // The widget's store, through a proxy that counts the requests reaching moto.
    let proxy = Proxy::start(env.moto.port).await?;
    let sdk = sloguard_testing::emulator::sdk_config_for(
        &proxy.endpoint,
        &env.moto.cloudwatch_endpoint,
        REGION,
    )
    .await;
    let store = sloguard_aws::build_store(&env.settings, &sdk);
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/events/widget-context.json"),
    )?;
    let mut event: serde_json::Value = serde_json::from_str(&fixture)?;
    event["widgetContext"]["params"]["slo"] = "checkout".into();
    let requests = || proxy.switch.requests.load(Ordering::SeqCst);

    // The widest range a request can carry: a panel at once, nothing read.
    event["widgetContext"]["timeRange"]["start"] = i64::MIN.into();
    event["widgetContext"]["timeRange"]["end"] = i64::MAX.into();
    let started = std::time::Instant::now();
    let panel = handle_widget_event(&store, &event, &limits()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        panel
            .as_str()
            .unwrap()
            .contains("is not a time between 1970 and 9999"),
        "{panel}"
    );
    assert_eq!(requests(), 0);

    // A year to now: the definitions, one page of history (13 snapshots, thinned to the
    // year's buckets: 7 points): a day at a time this was 366 Queries.
    event["widgetContext"]["timeRange"]["start"] = ((to - 365 * DAY) * 1000).into();
    event["widgetContext"]["timeRange"]["end"] = (to * 1000).into();
    let html = handle_widget_event(&store, &event, &limits()).await;
    assert!(
        html.as_str()
            .unwrap()
            .contains(r#"data-slo="checkout" data-points="7""#),
        "{html}"
    );
    assert!(requests() <= 3, "{} requests", requests());

    // From 1970 to 9999 with a 10-day retention: clamped to it, said, and as cheap.
    let before = requests();
    event["widgetContext"]["timeRange"]["start"] = 0.into();
    event["widgetContext"]["timeRange"]["end"] = (253_402_300_799_i64 * 1000).into();
    let short = WidgetLimits {
        history_days: 10,
        ..limits()
    };
    let html = handle_widget_event(&store, &event, &short).await;
    let html = html.as_str().unwrap();
    assert!(
        html.contains("history is kept 10 days (SLO_HISTORY_DAYS)")
            && html.contains(r#"class="chart burn-down" data-slo="checkout""#)
            && !html.contains("no history in this range"),
        "{html}"
    );
    assert!(requests() - before <= 3, "{} requests", requests() - before);
    Ok(())
}

#[tokio::test]
async fn history_pages_chain_newest_first_and_refuse_foreign_items() -> Result<()> {
    use sloguard_core::app::{HistoryStore, Snapshot};
    use sloguard_core::slo::message::rfc3339;
    let env = Env::new().await?;
    let t0 = env.end - 10 * HOUR;
    for i in 0..5 {
        let s: Snapshot = serde_json::from_value(serde_json::json!({
            "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
            "evaluated_at": rfc3339(t0 + i * HOUR), "status": "ok", "attainment": 0.9995,
            "budget_remaining": 0.5, "burn_rates": {}, "exhausts_at": null,
            "good": 999.5, "total": 1000.0, "conditions": []
        }))?;
        env.app.store.put_snapshot(&s, env.end + DAY).await?;
    }
    // An item someone else wrote between them: its status is no status.
    aws_sdk_dynamodb::Client::new(&env.sdk)
        .put_item()
        .table_name(&env.settings.table)
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("SNAP#checkout".into()),
        )
        .item(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(rfc3339(t0 + 2 * HOUR + 60)),
        )
        .item(
            "snapshot",
            aws_sdk_dynamodb::types::AttributeValue::S(
                r#"{"slo":"checkout","status":"<script>"}"#.into(),
            ),
        )
        .send()
        .await?;
    // Two at a time, newest first, from an hour after t0 on: 4 snapshots and the foreign item.
    let (mut after, mut seen, mut refused, mut pages) = (None::<String>, Vec::new(), 0, 0);
    loop {
        let page = env
            .app
            .store
            .history_page("checkout", t0 + HOUR, env.end, after.as_deref(), 2)
            .await?;
        pages += 1;
        refused += page.unreadable;
        seen.extend(page.snapshots.into_iter().map(|s| s.evaluated_at));
        match page.next {
            Some(k) => after = Some(k),
            None => break,
        }
        assert!(pages < 10, "the cursor moves on");
    }
    let expected: Vec<String> = (1..5).rev().map(|i| rfc3339(t0 + i * HOUR)).collect();
    assert_eq!(seen, expected);
    assert_eq!(refused, 1);
    assert!((3..=4).contains(&pages), "{pages} pages");
    Ok(())
}
