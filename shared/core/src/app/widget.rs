//! The CloudWatch dashboard's custom widget: a `widgetContext` request in, HTML
//! from the report renderer out, read from DynamoDB only. A malformed request gets
//! a readable error panel, never a failed invocation (the dashboard shows the panel).
//! Every answer is bounded: its range is clamped to what history keeps, its reads are
//! capped, and it answers before the function's deadline with what it read and a note.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::report::{error_panel, info_panel, widget, Theme};
use crate::slo::message::{count, rfc3339};

use super::events::EventError;
use super::ports::{DefinitionStore, HistoryStore, FAR_FUTURE};
use super::views::{slo_views_of, Detail, ReadBudget};

/// The dashboard variable's pattern and default value: the per-SLO widget's params hold
/// it until someone types an SLO name in the dashboard's SLO field.
pub const ALL_SLOS: &str = "ALL_SLOS";

/// What a widget call asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetCall {
    /// `{"describe": true}`: the widget's documentation, shown in the widget editor.
    Describe,
    Render(WidgetRequest),
}

/// What a render request shows.
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetView {
    /// Every SLO, least budget left first (`{"view": "fleet"}` or no params).
    Fleet,
    /// One SLO's charts.
    Slo(String),
    /// The per-SLO widget before anyone chose an SLO: the variable still holds its placeholder.
    NotChosen,
}

/// A render request: what to show, the dashboard's time range, size and theme.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetRequest {
    pub view: WidgetView,
    pub start: i64,
    pub end: i64,
    pub width: f64,
    pub height: f64,
    pub theme: Theme,
}

fn bad(m: impl Into<String>) -> EventError {
    EventError(m.into())
}

/// Read the custom-widget event (the shape in the CloudWatch documentation).
pub fn parse_widget_event(v: &Value) -> Result<WidgetCall, EventError> {
    if v.get("describe").and_then(Value::as_bool) == Some(true) {
        return Ok(WidgetCall::Describe);
    }
    let ctx = v
        .get("widgetContext")
        .filter(|c| c.is_object())
        .ok_or_else(|| bad("not a CloudWatch custom widget request: widgetContext is missing"))?;
    let range = ctx
        .get("timeRange")
        .ok_or_else(|| bad("widgetContext.timeRange is missing"))?;
    // The zoomed range wins when the user has zoomed in.
    let pick = |k: &str| {
        range
            .get("zoom")
            .and_then(|z| z.get(k))
            .and_then(Value::as_i64)
            .or_else(|| range.get(k).and_then(Value::as_i64))
    };
    let (Some(start_ms), Some(end_ms)) = (pick("start"), pick("end")) else {
        return Err(bad(
            "widgetContext.timeRange.start and .end must be epoch milliseconds",
        ));
    };
    for (name, ms) in [("start", start_ms), ("end", end_ms)] {
        if !(0..=FAR_FUTURE).contains(&ms.div_euclid(1000)) {
            return Err(bad(format!(
                "widgetContext.timeRange.{name} is not a time between 1970 and 9999 (epoch milliseconds): {ms}"
            )));
        }
    }
    if start_ms >= end_ms {
        return Err(bad("widgetContext.timeRange.start is not before its end"));
    }
    // Parameters arrive inside widgetContext.params and, for custom widgets, at the top level too.
    let param = |k: &str| {
        ctx.get("params")
            .and_then(|p| p.get(k))
            .or_else(|| v.get(k))
            .and_then(Value::as_str)
            .map(str::trim)
    };
    let view = match (param("view"), param("slo")) {
        (Some("fleet"), _) | (_, None | Some("")) => WidgetView::Fleet,
        (_, Some(ALL_SLOS)) => WidgetView::NotChosen,
        (_, Some(s)) if s.len() > 255 => {
            return Err(bad("params.slo is longer than an SLO name can be"))
        }
        (_, Some(s)) => WidgetView::Slo(s.to_string()),
    };
    Ok(WidgetCall::Render(WidgetRequest {
        view,
        start: start_ms.div_euclid(1000),
        end: end_ms.div_euclid(1000),
        width: ctx.get("width").and_then(Value::as_f64).unwrap_or(600.0),
        height: ctx.get("height").and_then(Value::as_f64).unwrap_or(400.0),
        theme: match ctx.get("theme").and_then(Value::as_str) {
            Some("dark") => Theme::Dark,
            Some("light") => Theme::Light,
            _ => Theme::System,
        },
    }))
}

const DESCRIBE: &str = "## sloguard budget charts\n\nShows every SLO's error budget from the sloguard table, \
least budget left first. Set the parameter `slo` (or the dashboard's SLO field) to an SLO name to see its \
budget burn-down and burn rates over the dashboard's time range; `view: fleet` always shows the whole fleet.\n\n```\nslo: checkout-availability\n```";

/// What the per-SLO widget says until an SLO is chosen.
pub const CHOOSE_AN_SLO: &str =
    "Type an SLO name in the SLO field above to see its budget burn-down and burn rates.";

/// Store requests one widget answer may make. The per-SLO widget over the whole default
/// retention (400 days: 15 days of 5-minute snapshots and hourly ones after, ~13,600
/// snapshots) needs 14 history pages of 1,000, one read of the definitions and one per
/// deployment target: about 20; over the longest retention allowed (3,650 days) about 90.
/// The fleet overview needs one or two pages per SLO over the dashboard's default week, so
/// 250 draws ~120 SLOs whole; a larger fleet gets each SLO's newest page (its latest
/// numbers), up to 250 SLOs, and a note. At ~1 MB a page, 250 pages also fit the
/// function's 256 MB and, at DynamoDB's speed, its 30 s.
pub const READS_PER_REQUEST: usize = 250;

/// Time kept back from the function's deadline to draw the answer and return it.
pub const ANSWER_MARGIN: Duration = Duration::from_secs(3);

/// How far past now a range may reach and still be read: trigger times up to 5 minutes
/// in the future are accepted, so snapshots may be that new.
const FUTURE_SLACK: i64 = 300;

/// What bounds one widget answer besides its cap: the clock, the retention, the deadline.
#[derive(Debug, Clone, Copy)]
pub struct WidgetLimits {
    /// Now, epoch seconds.
    pub now: i64,
    /// SLO_HISTORY_DAYS: no snapshot is kept longer.
    pub history_days: i64,
    /// When the function must have answered (the Lambda context's deadline); None: no deadline.
    pub deadline: Option<Instant>,
}

/// The part of `[start, end]` history can hold (the retention up to now), with a note when
/// it is narrower than asked; Err with what to say when it holds none of it.
pub fn clamp_range(
    start: i64,
    end: i64,
    limits: &WidgetLimits,
) -> Result<((i64, i64), Vec<String>), String> {
    let oldest = limits.now - limits.history_days.max(1) * 86_400;
    let newest = limits.now + FUTURE_SLACK;
    if end < oldest {
        return Err(format!(
            "nothing in this range is kept: history goes back {} (SLO_HISTORY_DAYS), to {}; choose a later range",
            count(limits.history_days.max(1) as usize, "day"),
            rfc3339(oldest)
        ));
    }
    if start > newest {
        return Err(format!(
            "this range starts after now ({}): there is no history in it yet",
            rfc3339(limits.now)
        ));
    }
    let mut notes = Vec::new();
    if start < oldest {
        notes.push(format!(
            "showing from {}: history is kept {} (SLO_HISTORY_DAYS)",
            rfc3339(oldest),
            count(limits.history_days.max(1) as usize, "day")
        ));
    }
    if end > newest {
        notes.push(format!("showing up to now ({})", rfc3339(limits.now)));
    }
    Ok(((start.max(oldest), end.min(newest)), notes))
}

/// Answer one widget call: HTML (or the describe markdown as JSON); never an error, and
/// within `limits` (a clamped range, at most `READS_PER_REQUEST` reads, the deadline).
pub async fn handle_widget_event<
    S: DefinitionStore + HistoryStore + super::ports::ChangeStore + super::ports::CorrectionStore,
>(
    store: &S,
    payload: &Value,
    limits: &WidgetLimits,
) -> Value {
    let req = match parse_widget_event(payload) {
        Ok(WidgetCall::Describe) => return serde_json::json!({ "markdown": DESCRIBE }),
        Ok(WidgetCall::Render(r)) => r,
        Err(e) => return Value::String(error_panel(&e.to_string()).into_string()),
    };
    let names = match &req.view {
        WidgetView::NotChosen => {
            return Value::String(info_panel(CHOOSE_AN_SLO, req.theme).into_string())
        }
        WidgetView::Fleet => None,
        WidgetView::Slo(s) => Some(vec![s.clone()]),
    };
    let (range, mut notes) = match clamp_range(req.start, req.end, limits) {
        Ok(r) => r,
        Err(m) => return Value::String(info_panel(&m, req.theme).into_string()),
    };
    // The fleet shows a sparkline per SLO: a hundred points each is plenty, and keeps the
    // answer small (Lambda returns at most 6 MB) for a fleet of thousands.
    let detail = match req.view {
        WidgetView::Fleet => Detail::Overview,
        _ => Detail::Sections,
    };
    let deadline = limits
        .deadline
        .map(|d| d.checked_sub(ANSWER_MARGIN).unwrap_or(d));
    let mut budget = ReadBudget::new(READS_PER_REQUEST, deadline);
    let read = slo_views_of(store, names.as_deref(), range, detail, &mut budget).await;
    tracing::info!(
        reads = budget.spent(),
        stopped = ?budget.stopped(),
        "widget read history"
    );
    match read {
        Ok(v) if v.slos.is_empty() && v.notes.is_empty() => Value::String(
            error_panel("no SLOs in the table yet: apply some with `sloguard apply`").into_string(),
        ),
        Ok(v) if v.slos.is_empty() => Value::String(error_panel(&v.notes.join("; ")).into_string()),
        Ok(v) => {
            notes.extend(v.notes);
            Value::String(
                widget(&v.slos, range, (req.width, req.height), req.theme, &notes).into_string(),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "widget could not read history");
            Value::String(error_panel(&e.to_string()).into_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_event_parses_and_zoom_wins() {
        let v = serde_json::json!({"widgetContext": {"dashboardName": "d", "widgetId": "widget-16", "accountId": "012345678901",
            "locale": "en", "timezone": {"label": "UTC", "offsetISO": "+00:00", "offsetInMinutes": 0}, "period": 300,
            "isAutoPeriod": true, "timeRange": {"mode": "relative", "start": 1627236199729_i64, "end": 1627322599729_i64,
            "relativeStart": 86400012, "zoom": {"start": 1627276030434_i64, "end": 1627282956521_i64}}, "theme": "dark",
            "linkCharts": true, "title": "t", "forms": {"all": {}}, "params": {"slo": "checkout"}, "width": 588, "height": 369}});
        let WidgetCall::Render(r) = parse_widget_event(&v).unwrap() else {
            panic!("a render call")
        };
        assert_eq!(r.view, WidgetView::Slo("checkout".into()));
        assert_eq!((r.start, r.end), (1627276030, 1627282956));
        assert_eq!(r.theme, Theme::Dark);
        assert_eq!((r.width, r.height), (588.0, 369.0));
        assert_eq!(
            parse_widget_event(&serde_json::json!({"describe": true})).unwrap(),
            WidgetCall::Describe
        );
    }

    fn render(params: Value) -> WidgetRequest {
        let v = serde_json::json!({"widgetContext": {"timeRange": {"start": 1000, "end": 2000},
            "theme": "light", "params": params}});
        match parse_widget_event(&v).unwrap() {
            WidgetCall::Render(r) => r,
            WidgetCall::Describe => panic!("a render call"),
        }
    }

    #[test]
    fn the_fleet_widget_ignores_the_variable_and_the_placeholder_asks_for_a_name() {
        use serde_json::json;
        // The template's two widgets: the fleet one has no pattern token; the per-SLO one
        // holds the token until the SLO field is filled in.
        assert_eq!(render(json!({"view": "fleet"})).view, WidgetView::Fleet);
        assert_eq!(
            render(json!({"view": "fleet", "slo": "checkout"})).view,
            WidgetView::Fleet
        );
        assert_eq!(render(json!({})).view, WidgetView::Fleet);
        assert_eq!(render(json!({"slo": ALL_SLOS})).view, WidgetView::NotChosen);
        assert_eq!(
            render(json!({"slo": " checkout "})).view,
            WidgetView::Slo("checkout".into())
        );
        assert_eq!(render(json!({})).theme, Theme::Light);
    }

    #[tokio::test]
    async fn the_per_slo_widget_before_a_choice_shows_how_to_choose() {
        let app = crate::app::cycle::tests::app_with(|_| 0.0).await;
        let v = serde_json::json!({"widgetContext": {"timeRange": {"start": 1000, "end": 2000},
            "theme": "dark", "params": {"slo": ALL_SLOS}}});
        let limits = WidgetLimits {
            now: 3,
            history_days: 400,
            deadline: None,
        };
        let html = handle_widget_event(&app.store, &v, &limits).await;
        let html = html.as_str().unwrap();
        assert!(html.contains("Type an SLO name in the SLO field"), "{html}");
        assert!(html.contains(r#"class="dark""#), "{html}");
        assert!(!html.contains("no SLO named"), "{html}");
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        for (v, msg) in [
            (serde_json::json!({"hello": 1}), "widgetContext is missing"),
            (
                serde_json::json!({"widgetContext": {}}),
                "timeRange is missing",
            ),
            (
                serde_json::json!({"widgetContext": {"timeRange": {"start": "x"}}}),
                "epoch milliseconds",
            ),
            (
                serde_json::json!({"widgetContext": {"timeRange": {"start": 5, "end": 1}}}),
                "not before its end",
            ),
        ] {
            let e = parse_widget_event(&v).unwrap_err();
            assert!(e.to_string().contains(msg), "{e}");
        }
    }
}

#[cfg(test)]
#[path = "widget_tests.rs"]
mod bounded_tests;
