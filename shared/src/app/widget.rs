//! The CloudWatch dashboard's custom widget: a `widgetContext` request in, HTML
//! from the report renderer out, read from DynamoDB only. A malformed request gets
//! a readable error panel, never a failed invocation (the dashboard shows the panel).

use serde_json::Value;

use crate::report::{error_panel, widget};

use super::events::EventError;
use super::ports::{DefinitionStore, HistoryStore};
use super::report::slo_views;

/// The dashboard variable's default value: no SLO chosen, show the fleet.
pub const ALL_SLOS: &str = "ALL_SLOS";

/// What a widget call asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetCall {
    /// `{"describe": true}`: the widget's documentation, shown in the widget editor.
    Describe,
    Render(WidgetRequest),
}

/// A render request: which SLO (None: the fleet), the dashboard's time range, size and theme.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetRequest {
    pub slo: Option<String>,
    pub start: i64,
    pub end: i64,
    pub width: f64,
    pub dark: bool,
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
    let slo = ctx
        .get("params")
        .and_then(|p| p.get("slo"))
        .or_else(|| v.get("slo"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != ALL_SLOS)
        .map(str::to_string);
    if slo.as_ref().is_some_and(|s| s.len() > 255) {
        return Err(bad("params.slo is longer than an SLO name can be"));
    }
    Ok(WidgetCall::Render(WidgetRequest {
        slo,
        start: start_ms.div_euclid(1000),
        end: end_ms.div_euclid(1000),
        width: ctx.get("width").and_then(Value::as_f64).unwrap_or(600.0),
        dark: ctx.get("theme").and_then(Value::as_str) == Some("dark"),
    }))
}

const DESCRIBE: &str = "## sloguard budget charts\n\nShows every SLO's error budget from the sloguard table, \
least budget left first. Set the parameter `slo` (or the dashboard's SLO field) to an SLO name to see its \
budget burn-down and burn rates over the dashboard's time range.\n\n```\nslo: checkout-availability\n```";

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
    let names = req.slo.clone().map(|s| vec![s]);
    match slo_views(store, names.as_deref(), req.start, req.end).await {
        Ok(views) if views.is_empty() => Value::String(error_panel(
            "no SLOs in the table yet: apply some with `sloguard apply`",
        )),
        Ok(views) => Value::String(widget(&views, (req.start, req.end), req.width, req.dark)),
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
        assert_eq!(r.slo.as_deref(), Some("checkout"));
        assert_eq!((r.start, r.end), (1627276030, 1627282956));
        assert!(r.dark);
        assert_eq!(r.width, 588.0);
        assert_eq!(
            parse_widget_event(&serde_json::json!({"describe": true})).unwrap(),
            WidgetCall::Describe
        );
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
