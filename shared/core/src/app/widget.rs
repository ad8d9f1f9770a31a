//! The CloudWatch dashboard's custom widget: a `widgetContext` request in, HTML
//! from the report renderer out, read from DynamoDB only. A malformed request gets
//! a readable error panel, never a failed invocation (the dashboard shows the panel).

use serde_json::Value;

use crate::report::{error_panel, info_panel, widget, Theme};

use super::events::EventError;
use super::ports::{DefinitionStore, HistoryStore};
use super::report::{slo_views_of, FLEET_POINTS, MAX_POINTS};

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

/// Answer one widget call: HTML (or the describe markdown as JSON); never an error.
pub async fn handle_widget_event<S: DefinitionStore + HistoryStore + super::ports::ChangeStore>(
    store: &S,
    payload: &Value,
) -> Value {
    let req = match parse_widget_event(payload) {
        Ok(WidgetCall::Describe) => return serde_json::json!({ "markdown": DESCRIBE }),
        Ok(WidgetCall::Render(r)) => r,
        Err(e) => return Value::String(error_panel(&e.to_string())),
    };
    let names = match &req.view {
        WidgetView::NotChosen => return Value::String(info_panel(CHOOSE_AN_SLO, req.theme)),
        WidgetView::Fleet => None,
        WidgetView::Slo(s) => Some(vec![s.clone()]),
    };
    // The fleet shows a sparkline per SLO: a hundred points each is plenty, and keeps the
    // answer small (Lambda returns at most 6 MB) for a fleet of thousands.
    let points = match req.view {
        WidgetView::Fleet => FLEET_POINTS,
        _ => MAX_POINTS,
    };
    match slo_views_of(store, names.as_deref(), req.start, req.end, points).await {
        Ok(views) if views.is_empty() => Value::String(error_panel(
            "no SLOs in the table yet: apply some with `sloguard apply`",
        )),
        Ok(views) => Value::String(widget(
            &views,
            (req.start, req.end),
            (req.width, req.height),
            req.theme,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "widget could not read history");
            Value::String(error_panel(&e.to_string()))
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
        let html = handle_widget_event(&app.store, &v).await;
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
