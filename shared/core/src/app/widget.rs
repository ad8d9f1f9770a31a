//! The CloudWatch dashboard's custom widget: a typed request in (`sloguard_aws::events`
//! reads the `widgetContext` JSON into a `WidgetCall`), HTML from the report renderer
//! out, read from the store only. A malformed request gets a readable error panel
//! (`bad_request`), never a failed invocation (the dashboard shows the panel).
//! Every answer is bounded: its range is clamped to what history keeps, its reads are
//! capped, and it answers before the function's deadline with what it read and a note.

use std::time::Duration;

use tokio::time::Instant;

use crate::report::{error_panel, info_panel, widget, Theme};
use crate::slo::message::{count, rfc3339};

use super::events::EventError;
use super::ports::{DefinitionStore, HistoryStore};
use super::select::Filter;
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

/// A render request: what to show (of which team), the dashboard's time range, size and theme.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetRequest {
    pub view: WidgetView,
    /// Only this team's SLOs (`params.team`): each team's dashboard shows its own.
    pub team: Option<String>,
    pub start: i64,
    pub end: i64,
    pub width: f64,
    pub height: f64,
    pub theme: Theme,
}

/// What the widget answers: the describe markdown, or HTML (a chart or a panel).
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetAnswer {
    /// The widget's documentation, for `{"describe": true}`.
    Markdown(&'static str),
    /// The charts, or a panel saying why there are none.
    Html(String),
}

/// The answer to a request that could not be read: an error panel that says why.
pub fn bad_request(e: &EventError) -> WidgetAnswer {
    WidgetAnswer::Html(error_panel(&e.to_string()).into_string())
}

const DESCRIBE: &str = "## sloguard budget charts\n\nShows every SLO's error budget from the sloguard table, \
least budget left first. Set the parameter `slo` (or the dashboard's SLO field) to an SLO name to see its \
budget burn-down and burn rates over the dashboard's time range; `view: fleet` always shows the whole fleet. \
Set `team` to show only the SLOs that team owns (metadata.labels.team).\n\n```\nslo: checkout-availability\nteam: payments\n```";

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

/// Answer one widget call: HTML (or the describe markdown); never an error, and within
/// `limits` (a clamped range, at most `READS_PER_REQUEST` reads, the deadline).
pub async fn answer_widget<
    S: DefinitionStore + HistoryStore + super::ports::ChangeStore + super::ports::CorrectionStore,
>(
    store: &S,
    call: WidgetCall,
    limits: &WidgetLimits,
) -> WidgetAnswer {
    let req = match call {
        WidgetCall::Describe => return WidgetAnswer::Markdown(DESCRIBE),
        WidgetCall::Render(r) => r,
    };
    let names = match &req.view {
        WidgetView::NotChosen => {
            return WidgetAnswer::Html(info_panel(CHOOSE_AN_SLO, req.theme).into_string())
        }
        WidgetView::Fleet => None,
        WidgetView::Slo(s) => Some(vec![s.clone()]),
    };
    let (range, mut notes) = match clamp_range(req.start, req.end, limits) {
        Ok(r) => r,
        Err(m) => return WidgetAnswer::Html(info_panel(&m, req.theme).into_string()),
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
    let filter = Filter::new(req.team.as_deref(), None);
    let read = slo_views_of(store, names.as_deref(), &filter, range, detail, &mut budget).await;
    tracing::info!(
        reads = budget.spent(),
        stopped = ?budget.stopped(),
        "widget read history"
    );
    match read {
        Ok(v) if v.slos.is_empty() && v.notes.is_empty() => WidgetAnswer::Html(
            error_panel("no SLOs in the table yet: apply some with `sloguard apply`").into_string(),
        ),
        Ok(v) if v.slos.is_empty() => {
            WidgetAnswer::Html(error_panel(&v.notes.join("; ")).into_string())
        }
        Ok(v) => {
            notes.extend(v.notes);
            WidgetAnswer::Html(
                widget(&v.slos, range, (req.width, req.height), req.theme, &notes).into_string(),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "widget could not read history");
            WidgetAnswer::Html(error_panel(&e.to_string()).into_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_per_slo_widget_before_a_choice_shows_how_to_choose() {
        let app = crate::app::cycle::tests::app_with(|_| 0.0).await;
        let call = WidgetCall::Render(WidgetRequest {
            view: WidgetView::NotChosen,
            team: None,
            start: 1,
            end: 2,
            width: 600.0,
            height: 400.0,
            theme: Theme::Dark,
        });
        let limits = WidgetLimits {
            now: 3,
            history_days: 400,
            deadline: None,
        };
        let WidgetAnswer::Html(html) = answer_widget(&app.store, call, &limits).await else {
            panic!("HTML")
        };
        assert!(html.contains("Type an SLO name in the SLO field"), "{html}");
        assert!(html.contains(r#"class="dark""#), "{html}");
        assert!(!html.contains("no SLO named"), "{html}");
        assert_eq!(
            answer_widget(&app.store, WidgetCall::Describe, &limits).await,
            WidgetAnswer::Markdown(DESCRIBE)
        );
        let bad = bad_request(&EventError("widgetContext is missing".into()));
        assert!(matches!(&bad, WidgetAnswer::Html(h) if h.contains("widgetContext is missing")));
    }

    #[tokio::test]
    async fn the_team_parameter_shows_that_teams_slos_only() {
        use crate::app::apply::{apply, ApplyOptions};
        use crate::slo::load::SourceFile;
        let store = crate::app::memory::MemoryStore::default();
        for (name, team) in [("pay-api", "payments"), ("search-api", "search")] {
            let text = crate::slo::fixtures::checkout_yaml().replace(
                "  name: checkout\n",
                &format!("  name: {name}\n  labels:\n    team: {team}\n"),
            );
            let files = [SourceFile {
                name: format!("{name}.yaml"),
                text,
            }];
            apply(&store, &files, ApplyOptions::default())
                .await
                .unwrap();
        }
        let limits = WidgetLimits {
            now: 3,
            history_days: 400,
            deadline: None,
        };
        let html = |slo: Option<&str>, team: Option<&str>| {
            let call = WidgetCall::Render(WidgetRequest {
                view: slo.map_or(WidgetView::Fleet, |s| WidgetView::Slo(s.to_string())),
                team: team.map(str::to_string),
                start: 1,
                end: 2,
                width: 600.0,
                height: 400.0,
                theme: Theme::System,
            });
            let store = &store;
            async move {
                match answer_widget(store, call, &limits).await {
                    WidgetAnswer::Html(h) => h,
                    other => panic!("{other:?}"),
                }
            }
        };
        let all = html(None, None).await;
        assert!(
            all.contains("pay-api") && all.contains("search-api"),
            "{all}"
        );
        let payments = html(None, Some("payments")).await;
        assert!(payments.contains("pay-api"), "{payments}");
        assert!(!payments.contains("search-api"), "{payments}");
        let unknown = html(None, Some("billing")).await;
        assert!(
            unknown.contains("no SLO of team `billing`; teams: payments, search"),
            "{unknown}"
        );
        let other = html(Some("search-api"), Some("payments")).await;
        assert!(
            other.contains("`search-api` is not an SLO of team payments"),
            "{other}"
        );
    }
}

#[cfg(test)]
#[path = "widget_tests.rs"]
mod bounded_tests;
