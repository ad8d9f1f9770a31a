//! Widget answers are bounded: long ranges are clamped to the retention, and reads are
//! capped (counted through the history port). Nonsense ranges never get this far: the
//! request reader (`sloguard_aws::events::widget`) answers them with a panel.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::app::cycle::tests::{app_with, T};
use crate::app::memory::MemoryStore;
use crate::app::ports::{HistoryStore, FAR_FUTURE};
use crate::app::Snapshot;

const DAY: i64 = 86_400;

fn limits(history_days: i64) -> WidgetLimits {
    WidgetLimits {
        now: T,
        history_days,
        deadline: None,
    }
}

fn request(start_ms: i64, end_ms: i64, slo: Option<&str>) -> WidgetCall {
    WidgetCall::Render(WidgetRequest {
        team: None,
        view: slo.map_or(WidgetView::Fleet, |s| WidgetView::Slo(s.into())),
        start: start_ms.div_euclid(1000),
        end: end_ms.div_euclid(1000),
        width: 600.0,
        height: 400.0,
        theme: Theme::Light,
    })
}

/// `days` of hourly checkout snapshots ending at T.
async fn hourly(store: &MemoryStore, days: i64) {
    for h in 0..days * 24 {
        let t = T - h * 3600;
        let s: Snapshot = serde_json::from_value(json!({
            "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
            "evaluated_at": rfc3339(t), "status": "ok", "attainment": 0.9995,
            "budget_remaining": 0.5, "burn_rates": {"1h": 0.5}, "exhausts_at": null,
            "good": 999.5, "total": 1000.0, "conditions": []
        }))
        .unwrap();
        store.put_snapshot(&s, t + 400 * DAY).await.unwrap();
    }
}

/// The answer on a thread of its own, so a widget that never answers fails the test
/// instead of hanging it (a loop that never awaits cannot be timed out from inside).
fn answer_within(
    store: MemoryStore,
    call: WidgetCall,
    limits: WidgetLimits,
    within: Duration,
) -> (String, MemoryStore) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let html = match rt.block_on(answer_widget(&store, call, &limits)) {
            WidgetAnswer::Html(h) => h,
            WidgetAnswer::Markdown(m) => m.to_string(),
        };
        let _ = tx.send((html, store));
    });
    rx.recv_timeout(within).expect("the widget answers in time")
}

#[tokio::test]
async fn a_range_beyond_the_retention_is_clamped_to_it_and_says_so() {
    let app = app_with(|_| 0.0).await;
    hourly(&app.store, 60).await;
    // From 1970 to 9999: plausible times, but history holds only the last 30 days.
    let (html, store) = answer_within(
        app.store,
        request(0, FAR_FUTURE * 1000, Some("checkout")),
        limits(30),
        Duration::from_secs(10),
    );
    let from = T - 30 * DAY;
    assert!(
        html.contains(&format!(
            "showing from {}: history is kept 30 days (SLO_HISTORY_DAYS)",
            rfc3339(from)
        )),
        "{html}"
    );
    assert!(html.contains(&format!("showing up to now ({})", rfc3339(T))));
    // 30 days of hourly history: 721 snapshots, one page, drawn whole.
    assert!(
        html.contains(r#"data-slo="checkout" data-points="721""#),
        "{html}"
    );
    assert_eq!(store.history_reads(), 1);
    // A range wholly before the retention holds nothing: a panel, no reads.
    let (html, store) = answer_within(
        store,
        request(
            (T - 90 * DAY) * 1000,
            (T - 31 * DAY) * 1000,
            Some("checkout"),
        ),
        limits(30),
        Duration::from_secs(5),
    );
    assert!(
        html.contains(
            "nothing in this range is kept: history goes back 30 days (SLO_HISTORY_DAYS)"
        ),
        "{html}"
    );
    assert_eq!(store.history_reads(), 1);
}

#[tokio::test]
async fn a_one_year_range_reads_pages_not_days_and_stays_under_the_cap() {
    let app = app_with(|_| 0.0).await;
    hourly(&app.store, 365).await;
    let (html, store) = answer_within(
        app.store,
        request((T - 365 * DAY) * 1000, T * 1000, Some("checkout")),
        limits(400),
        Duration::from_secs(20),
    );
    // 8,760 hourly snapshots: 9 pages of 1,000 (a day at a time was 366 reads).
    assert_eq!(store.history_reads(), 9);
    assert!(
        html.contains(r#"class="chart burn-down" data-slo="checkout""#),
        "{html}"
    );
    assert!(
        !html.contains(r#"class="note""#),
        "nothing left out: {html}"
    );
}

#[tokio::test]
async fn reads_past_the_cap_stop_with_the_newest_history_and_a_note() {
    let app = app_with(|_| 0.0).await;
    // More history than an honest request reads: the cap ends it, newest first.
    hourly(&app.store, 400).await;
    let store = app.store;
    let mut budget = ReadBudget::new(5, None);
    let views = slo_views_of(
        &store,
        None,
        &crate::app::select::Filter::default(),
        (T - 400 * DAY, T),
        Detail::Sections,
        &mut budget,
    )
    .await
    .unwrap();
    assert_eq!(budget.spent(), 5);
    assert_eq!(
        store.history_reads(),
        3,
        "the definitions and the corrections, then three pages"
    );
    let h = &views.slos[0].history;
    assert_eq!(h.last().unwrap().evaluated_at, rfc3339(T));
    assert!(
        views.notes[0].starts_with(&format!(
            "checkout: history before {} not read: the widget makes at most 5 reads per request",
            rfc3339(T - 2_999 * 3600)
        )),
        "{:?}",
        views.notes
    );
}

#[tokio::test]
async fn a_slow_store_answers_by_the_deadline_with_what_it_read_and_a_note() {
    let app = app_with(|_| 0.0).await;
    hourly(&app.store, 365).await;
    app.store.delay_history(Duration::from_millis(200));
    // The function's deadline: the answer margin, and time for about one page.
    let deadline = tokio::time::Instant::now() + ANSWER_MARGIN + Duration::from_millis(300);
    let limits = WidgetLimits {
        deadline: Some(deadline),
        ..limits(400)
    };
    let started = Instant::now();
    let (html, _) = answer_within(
        app.store,
        request((T - 365 * DAY) * 1000, T * 1000, Some("checkout")),
        limits,
        Duration::from_secs(10),
    );
    // Nine pages would take 1.8 s: it answers once the 300 ms it had for reading are up
    // (with room for a loaded machine to draw the answer).
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    assert!(html.contains("reading stopped at the time limit"), "{html}");
    assert!(html.contains(r#"class="chart burn-down" data-slo="checkout""#));
}
