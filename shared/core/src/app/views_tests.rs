//! Reading views: thinning, pages, the read budget and its notes.

use super::*;
use crate::app::cycle::tests::{app_with, T};
use crate::app::memory::MemoryStore;
use crate::app::ports::HistoryStore;
use crate::slo::message::rfc3339;

fn snapshot(t: i64, budget: f64, note: bool) -> Snapshot {
    serde_json::from_value(serde_json::json!({
        "slo": "checkout", "service": "webshop", "objective": 0.999, "window": "30d",
        "evaluated_at": rfc3339(t), "status": "ok", "attainment": 0.9995,
        "budget_remaining": budget, "burn_rates": {}, "exhausts_at": null,
        "good": 999.5, "total": 1000.0, "conditions": [],
        "notifications": if note { vec!["page: opened"] } else { vec![] },
    }))
    .unwrap()
}

async fn whole(store: &MemoryStore, range: (i64, i64), points: usize) -> ChartHistory {
    thinned_history(
        store,
        "checkout",
        range,
        points,
        &mut ReadBudget::unlimited(),
        usize::MAX,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn long_histories_are_thinned_keeping_events_minima_and_the_newest() {
    let store = MemoryStore::default();
    // 30 days of 5-minute snapshots: 8,640, a page on one, the lowest budget on another.
    let n = 30 * 288;
    for k in 0..n {
        let t = T + k * 300;
        let budget = if k == 4321 {
            0.05
        } else {
            0.5 + (k % 7) as f64 * 0.01
        };
        store
            .put_snapshot(&snapshot(t, budget, k == 1234), t + 86_400)
            .await
            .unwrap();
    }
    let until = T + (n - 1) * 300;
    let read = whole(&store, (T, until), MAX_POINTS).await;
    assert_eq!((read.read_after, read.unreadable), (None, 0));
    let kept = read.snapshots;
    assert!(kept.len() <= MAX_POINTS + 2, "{} kept", kept.len());
    assert!(kept.len() >= MAX_POINTS / 2, "{} kept", kept.len());
    assert!(kept
        .windows(2)
        .all(|w| w[0].evaluated_at < w[1].evaluated_at));
    assert!(kept.iter().any(|s| !s.notifications.is_empty()), "the page");
    assert!(
        kept.iter().any(|s| s.budget_remaining == Some(0.05)),
        "the minimum"
    );
    assert_eq!(
        kept.last().unwrap().evaluated_at,
        rfc3339(until),
        "the newest"
    );
    assert_eq!(
        kept.first().unwrap().evaluated_at,
        rfc3339(T),
        "the oldest bucket's low"
    );
    // 8,640 snapshots are 9 pages of 1,000, newest first: 9 requests, not one a day.
    assert_eq!(store.history_reads(), 9);
    // A short history is kept whole.
    let all = whole(&store, (T, T + 3600), MAX_POINTS).await;
    assert_eq!(all.snapshots.len(), 13);
}

#[tokio::test]
async fn an_unknown_name_gets_near_names() {
    let app = app_with(|_| 0.0).await;
    let err = slo_views(&app.store, Some(&["checkuot".to_string()]), T, T + 60)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no SLO named `checkuot` in the table; did you mean checkout?"
    );
}

/// `days` of hourly snapshots of `slo` ending at T.
async fn hourly(store: &MemoryStore, slo: &str, days: i64) {
    for h in 0..days * 24 {
        let t = T - h * 3600;
        let mut s = snapshot(t, 0.5, false);
        s.slo = slo.into();
        store.put_snapshot(&s, t + 400 * 86_400).await.unwrap();
    }
}

#[tokio::test]
async fn a_capped_read_keeps_the_newest_pages_and_says_what_it_left_out() {
    let store = MemoryStore::default();
    hourly(&store, "checkout", 365).await; // 8,760 snapshots: 9 pages
    let mut budget = ReadBudget::new(3, None);
    let read = thinned_history(
        &store,
        "checkout",
        (T - 365 * 86_400, T),
        MAX_POINTS,
        &mut budget,
        usize::MAX,
    )
    .await
    .unwrap();
    assert_eq!(budget.spent(), 3);
    assert_eq!(store.history_reads(), 3);
    assert_eq!(budget.stopped(), Some(Stop::Requests(3)));
    // three pages of 1,000 hours, newest first: read back to 3,000 hours before T
    let oldest = T - 2_999 * 3600;
    assert_eq!(read.read_after, Some(oldest));
    assert_eq!(read.snapshots.last().unwrap().evaluated_at, rfc3339(T));
    assert_eq!(
        read.snapshots.first().unwrap().evaluated_at,
        rfc3339(oldest)
    );
}

#[tokio::test]
async fn a_fleet_over_the_cap_shows_every_slo_s_newest_page_first() {
    let app = app_with(|_| 0.0).await;
    // The app's SLO (checkout) and its history, a year of it.
    hourly(&app.store, "checkout", 365).await;
    let mut budget = ReadBudget::new(3, None);
    let views = slo_views_of(
        &app.store,
        None,
        &crate::app::select::Filter::default(),
        (T - 365 * 86_400, T),
        Detail::Overview,
        &mut budget,
    )
    .await
    .unwrap();
    // one read of the definitions, then the SLO's share: the two left
    assert_eq!(budget.spent(), 3);
    assert_eq!(views.slos.len(), 1);
    assert_eq!(
        views.slos[0].history.last().unwrap().evaluated_at,
        rfc3339(T)
    );
    let note = views.notes.join("\n");
    assert!(
        note.contains(&format!(
            "checkout: history before {} not read: the widget makes at most 3 reads per request",
            rfc3339(T - 1_999 * 3600)
        )),
        "{note}"
    );
}

#[tokio::test]
async fn reading_stops_at_the_deadline_with_what_it_read() {
    let store = MemoryStore::default();
    hourly(&store, "checkout", 365).await;
    store.delay_history(std::time::Duration::from_millis(100));
    let started = std::time::Instant::now();
    let deadline = Instant::now() + std::time::Duration::from_millis(250);
    let mut budget = ReadBudget::new(usize::MAX, Some(deadline));
    let read = thinned_history(
        &store,
        "checkout",
        (T - 365 * 86_400, T),
        MAX_POINTS,
        &mut budget,
        usize::MAX,
    )
    .await
    .unwrap();
    let took = started.elapsed();
    // Nine pages would take 900 ms: the answer comes at the deadline, not after them.
    assert!(took < std::time::Duration::from_millis(400), "{took:?}");
    assert_eq!(budget.stopped(), Some(Stop::Deadline));
    // one or two pages arrived before the deadline (as the machine allows), the next was
    // cut off by it; what arrived is kept, newest first
    assert_eq!(read.snapshots.last().unwrap().evaluated_at, rfc3339(T));
    let pages = [T - 999 * 3600, T - 1_999 * 3600];
    assert!(
        pages.contains(&read.read_after.unwrap()),
        "{:?}",
        read.read_after
    );
    assert_eq!(
        read.snapshots.first().unwrap().evaluated_at,
        rfc3339(read.read_after.unwrap())
    );
}
