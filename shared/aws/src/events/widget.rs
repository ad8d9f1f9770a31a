//! The CloudWatch dashboard's custom widget request (the shape in the CloudWatch
//! documentation: `widgetContext` with its time range, size, theme and params, or
//! `{"describe": true}`) read into `sloguard_core::app::widget::WidgetCall`, and the
//! answer written back as the JSON the console expects.

use serde_json::Value;
use sloguard_core::app::events::EventError;
use sloguard_core::app::ports::{ChangeStore, DefinitionStore, HistoryStore, FAR_FUTURE};
use sloguard_core::app::widget::{
    answer_widget, bad_request, WidgetAnswer, WidgetCall, WidgetLimits, WidgetRequest, WidgetView,
    ALL_SLOS,
};
use sloguard_core::report::Theme;

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
    let team = match param("team") {
        None | Some("") => None,
        Some(t) => match sloguard_core::slo::load::check_name(t) {
            Ok(()) => Some(t.to_string()),
            Err(m) => return Err(bad(format!("params.team: {m}"))),
        },
    };
    Ok(WidgetCall::Render(WidgetRequest {
        view,
        team,
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

/// The answer as the console takes it: HTML as a JSON string, the describe markdown as
/// `{"markdown": ...}`.
pub fn answer_json(answer: WidgetAnswer) -> Value {
    match answer {
        WidgetAnswer::Markdown(m) => serde_json::json!({ "markdown": m }),
        WidgetAnswer::Html(h) => Value::String(h),
    }
}

/// Answer one widget invocation: read the request, answer it (never an error: a bad
/// request is an error panel), within `limits`.
pub async fn handle_widget_event<
    S: DefinitionStore + HistoryStore + ChangeStore + sloguard_core::app::CorrectionStore,
>(
    store: &S,
    payload: &Value,
    limits: &WidgetLimits,
) -> Value {
    answer_json(match parse_widget_event(payload) {
        Ok(call) => answer_widget(store, call, limits).await,
        Err(e) => bad_request(&e),
    })
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

    #[test]
    fn the_team_parameter_is_a_name_or_an_error_that_says_so() {
        use serde_json::json;
        assert_eq!(
            render(json!({"team": "payments"})).team.as_deref(),
            Some("payments")
        );
        assert_eq!(render(json!({"team": ""})).team, None);
        let v = json!({"widgetContext": {"timeRange": {"start": 1000, "end": 2000},
            "params": {"team": "Pay ments"}}});
        let e = parse_widget_event(&v).unwrap_err();
        assert!(e.to_string().contains("params.team:"), "{e}");
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

    #[tokio::test]
    async fn the_widest_range_gets_a_clear_panel_at_once_and_reads_nothing() {
        let app = sloguard_core::app::memory::app_with(|_| 0.0).await;
        let v = serde_json::json!({"widgetContext": {"timeRange": {"start": i64::MIN, "end": i64::MAX},
            "theme": "light", "params": {"slo": "checkout"}, "width": 600, "height": 400}});
        let limits = WidgetLimits {
            now: 1_800_000_000,
            history_days: 400,
            deadline: None,
        };
        let html = handle_widget_event(&app.store, &v, &limits).await;
        let html = html.as_str().unwrap();
        assert!(
            html.contains("widgetContext.timeRange.start is not a time between 1970 and 9999 (epoch milliseconds): -9223372036854775808"),
            "{html}"
        );
        assert_eq!(app.store.history_reads(), 0);
        let describe =
            handle_widget_event(&app.store, &serde_json::json!({"describe": true}), &limits).await;
        assert!(describe["markdown"]
            .as_str()
            .unwrap()
            .contains("sloguard budget charts"));
    }
}
