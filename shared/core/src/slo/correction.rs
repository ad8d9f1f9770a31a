//! Budget corrections (Datadog SLO corrections, Nobl9 budget adjustments): time people
//! decided, before or after the fact, must not count against an SLO's budget — a
//! maintenance window, the hours outside service, a deployment. Unlike the
//! `sloguard.dev/exclusions` annotation they live outside the SLO file, may recur, and
//! are audited: every change is a new version, never an edit, and a withdrawal is one too.
//! Evaluation removes corrected time exactly as it removes an exclusion.

use std::collections::BTreeMap;
use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::message::rfc3339;
use super::model::SloDefinition;
use super::rrule::RRule;
use super::window;

/// Why the time was corrected (the anchors' categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Maintenance,
    OutsideHours,
    Deployment,
    Other,
}

impl Category {
    /// The name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Maintenance => "maintenance",
            Category::OutsideHours => "outside-hours",
            Category::Deployment => "deployment",
            Category::Other => "other",
        }
    }

    /// The category named `s`, or a message listing the names.
    pub fn parse(s: &str) -> Result<Category, String> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "maintenance" => Ok(Category::Maintenance),
            "outside-hours" => Ok(Category::OutsideHours),
            "deployment" => Ok(Category::Deployment),
            "other" => Ok(Category::Other),
            _ => Err(format!(
                "category `{s}`: use maintenance, outside-hours, deployment or other"
            )),
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which SLOs a correction applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// These SLOs, by name.
    Slos { names: Vec<String> },
    /// Every SLO of a service (its `spec.service`), including SLOs applied later.
    Service { service: String },
    /// Every SLO a team owns (`metadata.labels.team`, or `apply --owner`), including SLOs applied later.
    Team { team: String },
}

impl Scope {
    /// Whether the correction applies to `slo`.
    pub fn covers(&self, slo: &SloDefinition) -> bool {
        match self {
            Scope::Slos { names } => names
                .iter()
                .any(|n| *n == slo.name || slo.parent.as_deref() == Some(n.as_str())),
            Scope::Service { service } => *service == slo.service,
            Scope::Team { team } => slo.owner.as_ref() == Some(team),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Slos { names } => write!(f, "slo {}", names.join(",")),
            Scope::Service { service } => write!(f, "service {service}"),
            Scope::Team { team } => write!(f, "team {team}"),
        }
    }
}

/// When a correction applies: one window, or a recurrence of windows of one length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum When {
    /// `[start, end)`, epoch seconds.
    Window { start: i64, end: i64 },
    /// Windows of `duration` seconds starting at each occurrence of `rule`, the first at
    /// `start`, wall-clock times kept in `tz`.
    Recurring {
        start: i64,
        rule: RRule,
        duration: i64,
        tz: Tz,
    },
}

impl When {
    /// The corrected windows that overlap `[from, to)`, clipped to it, in order.
    pub fn windows(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let raw = match self {
            When::Window { start, end } => vec![(*start, *end)],
            When::Recurring {
                start,
                rule,
                duration,
                tz,
            } => rule
                .occurrences(*start, *tz, from - duration, to)
                .into_iter()
                .map(|s| (s, s + duration))
                .collect(),
        };
        raw.into_iter()
            .map(|(s, e)| (s.max(from), e.min(to)))
            .filter(|(s, e)| s < e)
            .collect()
    }

    /// The first corrected instant and the end of the last window (None: it recurs for ever).
    pub fn span(&self) -> (i64, Option<i64>) {
        match self {
            When::Window { start, end } => (*start, Some(*end)),
            When::Recurring {
                start,
                rule,
                duration,
                tz,
            } => (*start, rule.last(*start, *tz).map(|l| l + duration)),
        }
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Window { start, end } => write!(f, "{}/{}", rfc3339(*start), rfc3339(*end)),
            When::Recurring {
                start,
                rule,
                duration,
                tz,
            } => write!(
                f,
                "{rule} from {} for {} ({tz})",
                rfc3339(*start),
                super::duration::label(*duration)
            ),
        }
    }
}

/// The IANA time zone named `name` (None: UTC), or a message saying what is expected.
pub fn parse_tz(name: Option<&str>) -> Result<Tz, String> {
    match name {
        None => Ok(chrono_tz::UTC),
        Some(z) => z
            .trim()
            .parse()
            .map_err(|_| format!("`{z}` is not an IANA time zone like Europe/Berlin")),
    }
}

/// One version of a correction, as stored: versions are added, never edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// Stable across versions.
    pub id: String,
    /// 1 for the first; each change adds one.
    pub version: u32,
    pub scope: Scope,
    pub when: When,
    pub category: Category,
    pub reason: String,
    /// Who recorded this version (the caller's identity).
    pub by: String,
    /// When this version was recorded (epoch seconds).
    pub at: i64,
    /// This version withdraws the correction: its time counts again.
    #[serde(default)]
    pub withdrawn: bool,
}

/// Every version of every correction, grouped by id (oldest version first), ids in order.
pub fn by_id(all: &[Correction]) -> BTreeMap<&str, Vec<&Correction>> {
    let mut out: BTreeMap<&str, Vec<&Correction>> = BTreeMap::new();
    for c in all {
        out.entry(c.id.as_str()).or_default().push(c);
    }
    for v in out.values_mut() {
        v.sort_by_key(|c| c.version);
    }
    out
}

/// The corrections in force: the newest version of each, unless it withdraws it.
pub fn in_force(all: &[Correction]) -> Vec<&Correction> {
    by_id(all)
        .into_values()
        .filter_map(|v| v.last().copied())
        .filter(|c| !c.withdrawn)
        .collect()
}

/// How far back from an evaluation time corrected time can still count: the longest
/// window the SLO evaluates (its own, or an alert window), and a day of margin.
fn reach(slo: &SloDefinition) -> i64 {
    let alerts = slo.conditions.iter().map(|c| c.long_seconds).max();
    window::max_length(&slo.window).max(alerts.unwrap_or(0)) + 86_400
}

/// Add the windows of the corrections in force that apply to `slo` to its exclusions, as
/// needed to evaluate it at `at`: from then on evaluation leaves them out as it leaves out
/// an exclusion. Returns how many windows were added.
pub fn apply(slo: &mut SloDefinition, in_force: &[&Correction], at: i64) -> usize {
    let (from, to) = (at - reach(slo), at + 86_400);
    let before = slo.settings.exclusions.len();
    let windows: Vec<(i64, i64)> = in_force
        .iter()
        .filter(|c| c.scope.covers(slo))
        .flat_map(|c| c.when.windows(from, to))
        .collect();
    slo.settings.exclusions.extend(windows);
    if slo.settings.exclusions.len() > before {
        slo.settings.exclusions.sort_unstable();
    }
    slo.settings.exclusions.len() - before
}

/// The longest reach among `slos`: how long after a correction's end evaluations still see it.
pub fn longest_reach<'a>(slos: impl IntoIterator<Item = &'a SloDefinition>) -> i64 {
    slos.into_iter().map(reach).max().unwrap_or(0)
}

#[cfg(test)]
#[path = "correction_tests.rs"]
mod tests;
