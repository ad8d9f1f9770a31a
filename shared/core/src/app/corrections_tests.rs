//! Corrections over the in-memory ports: recording restores the budget in history and in
//! what `status` reads, never notifies; versions and withdrawals are audited; too old refused.

use super::*;
use crate::app::cycle::tests::{app_with, at, incident, TestApp, T};
use crate::app::latest::states_with_latest;
use crate::app::ports::{CorrectionStore, HistoryStore};

const MIN: i64 = 60;

fn window(start: i64, end: i64) -> When {
    When::Window { start, end }
}

fn request(now: i64, when: Option<When>, reason: &str) -> CorrectionRequest {
    CorrectionRequest {
        scope: Some(Scope::Service {
            service: "webshop".into(),
        }),
        when,
        category: Some(Category::Maintenance),
        reason: Some(reason.into()),
        by: "alice".into(),
        now,
        step: 3600,
    }
}

/// The incident (10% errors for 30 minutes from T) paged; evaluated every 5 minutes till T+2h.
async fn paged() -> TestApp {
    let app = app_with(incident).await;
    for k in 0..=24 {
        at(&app, T + k * 5 * MIN).await;
    }
    let subjects: Vec<String> = app.notifier.take().into_iter().map(|n| n.subject).collect();
    assert!(subjects.iter().any(|s| s.contains("PAGE")), "{subjects:?}");
    app
}

async fn newest_budget(app: &TestApp) -> f64 {
    let states = states_with_latest(&app.store).await.unwrap();
    states["checkout"]
        .latest
        .as_ref()
        .unwrap()
        .budget_remaining
        .unwrap()
}

#[tokio::test]
async fn a_correction_after_an_incident_restores_its_budget_in_history_and_status_and_never_notifies(
) {
    let app = paged().await;
    let now = T + 2 * 3600;
    let spent = newest_budget(&app).await;
    assert!(spent < 0.95, "the incident spent budget: {spent}");
    let before = app.store.history("checkout", T, now).await.unwrap();
    let told_before: Vec<Vec<String>> = before.iter().map(|s| s.notifications.clone()).collect();

    let out = record(
        &app,
        &Action::Add,
        request(
            now,
            Some(window(T, T + 30 * MIN)),
            "bad deploy, rolled back",
        ),
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(out.correction.id, "corr-1");
    assert_eq!(out.slos, ["checkout"]);
    assert!(
        app.notifier.take().is_empty(),
        "a correction never notifies"
    );

    // What status reads (the newest snapshot) and every rewritten snapshot have the budget back.
    assert_eq!(newest_budget(&app).await, 1.0);
    let after = app.store.history("checkout", T, now).await.unwrap();
    assert_eq!(after.len(), before.len(), "rewritten, not added beside");
    for s in &after {
        assert_eq!(s.budget_remaining, Some(1.0), "{}", s.evaluated_at);
    }
    // What the snapshots told people stays on record.
    let told_after: Vec<Vec<String>> = after.iter().map(|s| s.notifications.clone()).collect();
    assert_eq!(told_after, told_before);

    // The next live cycle keeps the correction: the incident resolves, nothing pages.
    at(&app, now + 5 * MIN).await;
    let subjects: Vec<String> = app.notifier.take().into_iter().map(|n| n.subject).collect();
    assert!(subjects.iter().all(|s| !s.contains("PAGE")), "{subjects:?}");
    assert_eq!(newest_budget(&app).await, 1.0);
}

#[tokio::test]
async fn versions_and_withdrawal_are_new_versions_never_edits() {
    let app = paged().await;
    let now = T + 2 * 3600;
    record(
        &app,
        &Action::Add,
        request(now, Some(window(T, T + 10 * MIN)), "first guess"),
        |_, _| {},
    )
    .await
    .unwrap();
    let partly = newest_budget(&app).await;
    assert!(
        partly < 1.0,
        "a third of the incident still counts: {partly}"
    );
    let v2 = record(
        &app,
        &Action::Update("corr-1".into()),
        CorrectionRequest {
            when: Some(window(T, T + 30 * MIN)),
            by: "bob".into(),
            now: now + 60,
            step: 3600,
            ..CorrectionRequest::default()
        },
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(v2.correction.version, 2);
    assert_eq!(
        v2.correction.reason, "first guess",
        "unchanged fields carry over"
    );
    assert_eq!(newest_budget(&app).await, 1.0);
    let w = record(
        &app,
        &Action::Withdraw("corr-1".into()),
        CorrectionRequest {
            reason: Some("the deploy was ours after all".into()),
            by: "carol".into(),
            now: now + 120,
            step: 3600,
            ..CorrectionRequest::default()
        },
        |_, _| {},
    )
    .await
    .unwrap();
    assert!(w.correction.withdrawn);
    assert!((newest_budget(&app).await - partly).abs() < 0.2);
    assert!(
        newest_budget(&app).await < partly,
        "the whole incident counts again"
    );
    assert!(app.notifier.take().is_empty());

    let listed = list(&app, Some("checkout")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, "withdrawn");
    let who: Vec<(u32, &str, bool)> = listed[0]
        .versions
        .iter()
        .map(|v| (v.version, v.by.as_str(), v.withdrawn))
        .collect();
    assert_eq!(
        who,
        [(1, "alice", false), (2, "bob", false), (3, "carol", true)]
    );
    // All three versions are stored; a version is never written twice.
    assert_eq!(app.store.corrections().await.unwrap().len(), 3);
    assert!(!app
        .store
        .add_correction(&listed[0].versions[0])
        .await
        .unwrap());
    // A withdrawn correction takes no more versions.
    let err = record(
        &app,
        &Action::Update("corr-1".into()),
        request(now, None, "again"),
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err, CorrectionError::Withdrawn("corr-1".into()));
}

#[tokio::test]
async fn a_correction_older_than_the_history_retention_is_refused() {
    let app = app_with(|_| 0.0).await;
    let now = T;
    let start = now - 401 * 86_400;
    let err = record(
        &app,
        &Action::Add,
        request(now, Some(window(start, start + 3600)), "too late"),
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CorrectionError::TooOld { days: 400, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("SLO_HISTORY_DAYS=400"), "{err}");
    assert!(app.store.corrections().await.unwrap().is_empty());
    // Unknown SLOs and empty scopes are refused too, and nothing is stored.
    let mut r = request(now, Some(window(now - 3600, now)), "x");
    r.scope = Some(Scope::Slos {
        names: vec!["nope".into()],
    });
    let err = record(&app, &Action::Add, r, |_, _| {}).await.unwrap_err();
    assert_eq!(err, CorrectionError::UnknownSlo("nope".into()));
    let mut r = request(now, Some(window(now - 3600, now)), "x");
    r.scope = Some(Scope::Team {
        team: "nobody".into(),
    });
    let err = record(&app, &Action::Add, r, |_, _| {}).await.unwrap_err();
    assert!(matches!(err, CorrectionError::NoSlo(_)), "{err}");
    assert!(app.store.corrections().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_report_shades_corrected_time_on_both_charts_with_its_reason_as_text() {
    let app = paged().await;
    let now = T + 2 * 3600;
    let reason = "<script>alert(1)</script> & rollback";
    record(
        &app,
        &Action::Add,
        request(now, Some(window(T, T + 30 * MIN)), reason),
        |_, _| {},
    )
    .await
    .unwrap();
    let range = (T - 3600, now);
    let views = crate::app::report::slo_views(&app.store, None, range.0, range.1)
        .await
        .unwrap();
    assert_eq!(views.slos[0].corrected.len(), 1);
    let html = crate::report::page("report", &views.slos, range, now, &[]).into_string();
    assert!(!html.contains("<script>"), "stored text is escaped");
    let doc = scraper::Html::parse_document(&html);
    for chart in ["burn-down", "burn-rates"] {
        let svg_sel = scraper::Selector::parse(&format!("svg.{chart}")).unwrap();
        let svg = doc.select(&svg_sel).next().expect(chart);
        let width: f64 = svg.value().attr("width").unwrap().parse().unwrap();
        let rect_sel = scraper::Selector::parse("rect.correction.maintenance").unwrap();
        let rects: Vec<_> = svg.select(&rect_sel).collect();
        assert_eq!(rects.len(), 1, "{chart}");
        let r = rects[0].value();
        assert_eq!(r.attr("data-correction"), Some("corr-1"));
        // T is a third into the three hours shown, the half hour corrected a sixth of them.
        let plot = width - 56.0 - 12.0;
        let x: f64 = r.attr("x").unwrap().parse().unwrap();
        let w: f64 = r.attr("width").unwrap().parse().unwrap();
        assert!((x - (56.0 + plot / 3.0)).abs() < 0.11, "{chart}: x {x}");
        assert!((w - plot / 6.0).abs() < 0.11, "{chart}: width {w}");
        let title: String = rects[0].text().collect();
        assert!(title.contains(reason), "{title}");
    }
}

#[tokio::test]
async fn the_dashboard_widget_shades_corrected_time_too() {
    let app = paged().await;
    let now = T + 2 * 3600;
    record(
        &app,
        &Action::Add,
        request(now, Some(window(T, T + 30 * MIN)), "planned failover"),
        |_, _| {},
    )
    .await
    .unwrap();
    use crate::app::widget::{answer_widget, WidgetAnswer, WidgetCall, WidgetRequest, WidgetView};
    use crate::report::Theme;
    let call = WidgetCall::Render(WidgetRequest {
        view: WidgetView::Slo("checkout".into()),
        team: None,
        start: T - 3600,
        end: now,
        width: 600.0,
        height: 400.0,
        theme: Theme::Dark,
    });
    let limits = crate::app::widget::WidgetLimits {
        now,
        history_days: 400,
        deadline: None,
    };
    let WidgetAnswer::Html(html) = answer_widget(&app.store, call, &limits).await else {
        panic!("a chart")
    };
    let doc = scraper::Html::parse_fragment(&html);
    let sel = scraper::Selector::parse("svg.burn-down rect.correction.maintenance").unwrap();
    let band = doc
        .select(&sel)
        .next()
        .expect("a shaded band in the widget");
    assert_eq!(band.value().attr("data-correction"), Some("corr-1"));
    assert!(band.text().collect::<String>().contains("planned failover"));
}
