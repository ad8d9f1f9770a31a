//! Reading the SLO views the pages draw: each SLO's history page by page, newest first,
//! thinned as it comes, within a read budget (requests and a deadline), so a reader
//! that must answer in time (the dashboard widget) answers with what it read and says
//! what it left out.

use tokio::time::Instant;

use crate::app::snapshot::Snapshot;
use crate::report::SloView;
use crate::slo::message::{count, rfc3339};
use crate::slo::model::TimeWindow;

use super::ports::{
    ChangeStore, CorrectionStore, DefinitionStore, HistoryStore, StoreError, StoredDefinition,
};
use super::report::{near, ReportError};
use super::select::Filter;
use crate::report::CorrectedSpan;
use crate::slo::correction::{self, Correction};
use crate::slo::model::SloDefinition;

/// Snapshots kept per SLO in a view: a chart is a few hundred pixels wide, and a 90-day
/// range holds 26,000 five-minute snapshots per SLO.
pub const MAX_POINTS: usize = 1_000;
/// Snapshots kept per SLO in the fleet overview (a sparkline and the latest numbers).
pub const FLEET_POINTS: usize = 100;
/// Snapshots asked for per history request: a stored snapshot is 0.6 to 1 KB, so a page
/// stays under DynamoDB's 1 MB and in memory only one page is held unthinned.
pub const PAGE_SNAPSHOTS: usize = 1_000;

/// Why reading stopped before the range was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The request cap was reached (the cap).
    Requests(usize),
    /// The deadline passed.
    Deadline,
}

/// What one answer may spend reading the store: requests and time. The CLI reads without
/// bound; the dashboard widget within its cap and the function's timeout.
#[derive(Debug)]
pub struct ReadBudget {
    cap: usize,
    deadline: Option<Instant>,
    spent: usize,
    stopped: Option<Stop>,
}

impl ReadBudget {
    /// No cap and no deadline.
    pub fn unlimited() -> ReadBudget {
        ReadBudget::new(usize::MAX, None)
    }

    /// At most `cap` requests, none started after `deadline`, and none awaited past it.
    pub fn new(cap: usize, deadline: Option<Instant>) -> ReadBudget {
        ReadBudget {
            cap,
            deadline,
            spent: 0,
            stopped: None,
        }
    }

    /// Requests made so far.
    pub fn spent(&self) -> usize {
        self.spent
    }

    /// Requests still allowed.
    pub fn left(&self) -> usize {
        if self.stopped.is_some() {
            0
        } else {
            self.cap.saturating_sub(self.spent)
        }
    }

    /// Why reading stopped early, if it did.
    pub fn stopped(&self) -> Option<Stop> {
        self.stopped
    }

    /// Whether `n` more requests may start now; records why not.
    fn allow(&mut self, n: usize) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped = Some(Stop::Deadline);
        } else if self.spent.saturating_add(n) > self.cap {
            self.stopped = Some(Stop::Requests(self.cap));
        }
        self.stopped.is_none()
    }

    /// Run one request within the deadline: None (and reading stops) when it passes first.
    async fn run<T>(
        &mut self,
        requests: usize,
        read: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<Option<T>, StoreError> {
        if !self.allow(requests) {
            return Ok(None);
        }
        self.spent += requests;
        match self.deadline {
            None => read.await.map(Some),
            Some(d) => match tokio::time::timeout_at(d, read).await {
                Ok(r) => r.map(Some),
                Err(_) => {
                    self.stopped = Some(Stop::Deadline);
                    Ok(None)
                }
            },
        }
    }
}

/// A snapshot that says something happened: a message, an alarm, a status change. Kept
/// whatever the thinning, so incidents, marks and reviews see every event.
fn eventful(s: &Snapshot) -> bool {
    !s.notifications.is_empty() || s.alarm.is_some() || s.change.is_some()
}

/// Thins snapshots as they come, in any order: every eventful one, and of the others the
/// newest and the lowest-budget one of each equal bucket of the range.
struct Thinner {
    since: i64,
    width: i64,
    kept: Vec<Snapshot>,
    /// The bucket being filled: its newest snapshot and its lowest-budget one.
    open: Option<(i64, Snapshot, Snapshot)>,
}

impl Thinner {
    fn new(since: i64, until: i64, max_points: usize) -> Thinner {
        let buckets = (max_points / 2).max(1) as i64;
        Thinner {
            since,
            width: (until.saturating_sub(since) / buckets).max(1),
            kept: Vec::new(),
            open: None,
        }
    }

    fn flush(&mut self) {
        if let Some((_, newest, low)) = self.open.take() {
            if low.evaluated_at != newest.evaluated_at {
                self.kept.push(low);
            }
            self.kept.push(newest);
        }
    }

    fn add(&mut self, s: Snapshot) {
        if eventful(&s) {
            self.kept.push(s);
            return;
        }
        let b = crate::report::parse_time(&s.evaluated_at)
            .map_or(0, |t| t.saturating_sub(self.since) / self.width);
        // Lower budget first; of equal ones, the older.
        let lower = |a: &Snapshot, b: &Snapshot| {
            let (x, y) = (
                a.budget_remaining.unwrap_or(f64::INFINITY),
                b.budget_remaining.unwrap_or(f64::INFINITY),
            );
            x < y || (x == y && a.evaluated_at < b.evaluated_at)
        };
        match &mut self.open {
            Some((ob, newest, low)) if *ob == b => {
                if lower(&s, low) {
                    *low = s.clone();
                }
                if s.evaluated_at > newest.evaluated_at {
                    *newest = s;
                }
            }
            _ => {
                self.flush();
                self.open = Some((b, s.clone(), s));
            }
        }
    }

    fn finish(mut self) -> Vec<Snapshot> {
        self.flush();
        let mut kept = self.kept;
        kept.sort_by(|a, b| a.evaluated_at.cmp(&b.evaluated_at));
        kept.dedup_by(|a, b| a.evaluated_at == b.evaluated_at);
        kept
    }
}

/// One SLO's history as a chart needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartHistory {
    /// Thinned, oldest first.
    pub snapshots: Vec<Snapshot>,
    /// Stored items refused as not sloguard's snapshots.
    pub unreadable: usize,
    /// Reading stopped before the range's start: only history after this time was read.
    pub read_after: Option<i64>,
}

/// One SLO's history in `[since, until]`, newest first, at most `pages` requests (and
/// what the budget allows), thinned to about `max_points`: every eventful snapshot, and
/// of the others the newest and the lowest-budget one of each of `max_points` / 2 equal
/// buckets (so lines keep their shape and minima are never lost).
pub async fn thinned_history<S: HistoryStore>(
    store: &S,
    slo: &str,
    (since, until): (i64, i64),
    max_points: usize,
    budget: &mut ReadBudget,
    pages: usize,
) -> Result<ChartHistory, StoreError> {
    let mut thin = Thinner::new(since, until, max_points);
    let mut out = ChartHistory::default();
    let mut after: Option<String> = None;
    let mut read = 0;
    loop {
        let page = if read < pages {
            budget
                .run(
                    1,
                    store.history_page(slo, since, until, after.as_deref(), PAGE_SNAPSHOTS),
                )
                .await?
        } else {
            // This SLO's share is read; whether the whole budget is too is recorded.
            budget.allow(1);
            None
        };
        let Some(page) = page else {
            // Stopped: history from the oldest snapshot read on (or none of it) is shown.
            let oldest = after
                .as_deref()
                .and_then(crate::report::parse_time)
                .unwrap_or(until);
            out.read_after = Some(oldest);
            break;
        };
        read += 1;
        out.unreadable += page.unreadable;
        for s in page.snapshots {
            thin.add(s);
        }
        match page.next {
            Some(k) => after = Some(k),
            None => break,
        }
    }
    out.snapshots = thin.finish();
    Ok(out)
}

/// How much a page shows of each SLO, which decides what is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Each SLO's section: charts of up to `MAX_POINTS` and the changes before incidents.
    Sections,
    /// The fleet table: a sparkline of up to `FLEET_POINTS`; no changes.
    Overview,
}

/// The views a page draws, and what it should say it left out.
#[derive(Debug, Clone, Default)]
pub struct Views {
    pub slos: Vec<SloView>,
    pub notes: Vec<String>,
}

/// The SLOs (all, or those named) with their history in `[since, until]`, thinned to
/// about `MAX_POINTS` snapshots each, read whole (the CLI's report).
pub async fn slo_views<S: DefinitionStore + HistoryStore + ChangeStore + CorrectionStore>(
    store: &S,
    names: Option<&[String]>,
    since: i64,
    until: i64,
) -> Result<Views, ReportError> {
    slo_views_of(
        store,
        names,
        &Filter::default(),
        (since, until),
        Detail::Sections,
        &mut ReadBudget::unlimited(),
    )
    .await
}

/// `slo_views` of the SLOs `filter` selects (a team's, a service's) among those named (or
/// all), within `budget`: each SLO gets an equal share of the requests left (at
/// least one page, its newest), so every SLO shows its latest numbers before any SLO
/// reads far back; SLOs the budget does not reach are left out, and the notes say so.
pub async fn slo_views_of<S: DefinitionStore + HistoryStore + ChangeStore + CorrectionStore>(
    store: &S,
    names: Option<&[String]>,
    filter: &Filter,
    range: (i64, i64),
    detail: Detail,
    budget: &mut ReadBudget,
) -> Result<Views, ReportError> {
    let Some(defs) = budget.run(1, store.definitions()).await? else {
        return Ok(Views {
            slos: Vec::new(),
            notes: vec![stopped_note(budget, "the SLO definitions were not read")],
        });
    };
    let stored: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    if let Some(asked) = names {
        if let Some(missing) = asked.iter().find(|n| !stored.contains(n)) {
            return Err(ReportError::UnknownSlo {
                name: missing.clone(),
                near: near(missing, &stored),
            });
        }
    }
    filter.check(&defs)?;
    filter.check_names(names.unwrap_or_default(), &defs)?;
    let chosen: Vec<StoredDefinition> = defs
        .into_iter()
        .filter(|d| names.is_none_or(|n| n.contains(&d.name)) && filter.matches(d))
        .collect();
    let total = chosen.len();
    let mut out = Views::default();
    // Sections shade corrected time: one request for every correction, read before the
    // histories share out what is left.
    let mut corrections: Vec<Correction> = Vec::new();
    if detail == Detail::Sections && total > 0 {
        match budget.run(1, store.corrections()).await? {
            Some(c) => corrections = c,
            None => out
                .notes
                .push(stopped_note(budget, "budget corrections not read")),
        }
    }
    let in_force = correction::in_force(&corrections);
    for (i, d) in chosen.into_iter().enumerate() {
        let share = (budget.left() / (total - i)).max(1);
        if budget.left() == 0 {
            out.notes.push(stopped_note(
                budget,
                &format!(
                    "{} of {} not shown",
                    count(total - i, "SLO"),
                    count(total, "SLO")
                ),
            ));
            break;
        }
        let corrected = match &d.definition {
            Ok(def) => corrected_spans(def, &in_force, range),
            Err(_) => Vec::new(),
        };
        let (mut view, notes) = view_of(store, d, range, detail, budget, share).await?;
        view.corrected = corrected;
        out.slos.push(view);
        out.notes.extend(notes);
    }
    Ok(out)
}

/// Why reading stopped, after `what` it left out.
fn stopped_note(budget: &ReadBudget, what: &str) -> String {
    match budget.stopped() {
        Some(Stop::Deadline) => format!(
            "{what}: reading stopped at the time limit ({} made); narrow the time range or pick one SLO",
            count(budget.spent(), "read")
        ),
        Some(Stop::Requests(cap)) => format!(
            "{what}: the widget makes at most {} per request; narrow the time range or pick one SLO",
            count(cap, "read")
        ),
        None => format!("{what}: the read limit was reached"),
    }
}

/// One stored SLO's view (its thinned history, and for sections the changes before and
/// in the range), reading at most `pages` pages of history, with notes on what it left out.
pub(super) async fn view_of<S: HistoryStore + ChangeStore>(
    store: &S,
    d: StoredDefinition,
    (since, until): (i64, i64),
    detail: Detail,
    budget: &mut ReadBudget,
    pages: usize,
) -> Result<(SloView, Vec<String>), ReportError> {
    let points = match detail {
        Detail::Sections => MAX_POINTS,
        Detail::Overview => FLEET_POINTS,
    };
    let mut notes = Vec::new();
    // Its changes first (a request per target it names): they are few and small.
    let (mut changes, mut changes_lookback) =
        (Vec::new(), crate::slo::change::DEFAULT_LOOKBACK_SECONDS);
    if let (Ok(def), Detail::Sections) = (&d.definition, detail) {
        changes_lookback = def.settings.changes_lookback;
        if !def.settings.changes.is_empty() {
            let read = super::changes::changes_of(store, def, since - changes_lookback, until);
            match budget.run(def.settings.changes.len(), read).await? {
                Some(c) => changes = c,
                None => notes.push(stopped_note(
                    budget,
                    &format!("{}: deployments not read", d.name),
                )),
            }
        }
    }
    let h = thinned_history(store, &d.name, (since, until), points, budget, pages).await?;
    if let Some(t) = h.read_after {
        let what = if t >= until {
            format!("{}: no history read", d.name)
        } else {
            format!("{}: history before {} not read", d.name, rfc3339(t))
        };
        notes.push(if budget.stopped().is_some() {
            stopped_note(budget, &what)
        } else {
            format!("{what}: the widget shares its reads among the SLOs it shows; pick one SLO to see all of it")
        });
    }
    if h.unreadable > 0 {
        notes.push(format!(
            "{}: {} refused: not in the form sloguard writes (see the log)",
            d.name,
            count(h.unreadable, "stored snapshot")
        ));
    }
    let (service, objective, window, time_zone) = match &d.definition {
        Ok(def) => (
            def.service.clone(),
            def.objective.target,
            def.window_label(),
            match &def.window {
                TimeWindow::Calendar { tz, .. } => Some(tz.name().to_string()),
                TimeWindow::Rolling { .. } => None,
            },
        ),
        Err(_) => (String::new(), f64::NAN, String::new(), None),
    };
    let view = SloView {
        name: d.name,
        service,
        objective,
        window,
        time_zone,
        history: h.snapshots,
        changes,
        changes_lookback,
        corrected: Vec::new(),
    };
    Ok((view, notes))
}

/// The corrected time of `def` in `range`, as the charts shade it.
fn corrected_spans(
    def: &SloDefinition,
    in_force: &[&Correction],
    (since, until): (i64, i64),
) -> Vec<CorrectedSpan> {
    in_force
        .iter()
        .filter(|c| c.scope.covers(def))
        .flat_map(|c| {
            c.when
                .windows(since, until)
                .into_iter()
                .map(|(start, end)| CorrectedSpan {
                    start,
                    end,
                    id: c.id.clone(),
                    category: c.category.to_string(),
                    reason: c.reason.clone(),
                })
        })
        .collect()
}

#[cfg(test)]
#[path = "views_tests.rs"]
mod tests;
