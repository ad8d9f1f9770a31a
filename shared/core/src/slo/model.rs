//! The SLO model after loading and validation: plain data, no YAML, no AWS.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::duration::CalendarUnit;

/// One SLO, fully resolved (indicator and alert policies inlined), ready to evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloDefinition {
    pub name: String,
    pub display_name: Option<String>,
    pub service: String,
    pub description: Option<String>,
    pub indicator: Indicator,
    pub window: TimeWindow,
    pub method: BudgetingMethod,
    pub objective: Objective,
    pub conditions: Vec<BurnRateCondition>,
    pub settings: Settings,
    /// Annotations outside the `sloguard.dev/` prefix, kept as written.
    pub annotations: BTreeMap<String, String>,
    /// The team that owns the SLO (`metadata.labels.team`, else `apply --owner`); None for
    /// an SLO applied with neither, which only an apply with neither updates or prunes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The SLO as written when it has several objectives: each objective loads as an SLO of
    /// its own (`NAME-OBJECTIVE`) with its own budget, history and incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The SNS topics its AlertPolicies' AlertNotificationTargets name, each once: its
    /// messages for people go there instead of the stack topic (`slo::route`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Where the SLO was defined, for messages.
    pub file: String,
    pub line: usize,
}

/// What is measured: a ratio of two counts, or one metric compared to a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Indicator {
    Ratio {
        /// True when the numerator counts good events, false when it counts bad ones.
        good: bool,
        numerator: MetricSpec,
        total: MetricSpec,
    },
    Threshold {
        metric: MetricSpec,
    },
    /// A precomputed ratio series (OpenSLO `raw`), each value a fraction in [0, 1].
    Raw {
        /// True when the series is the success ratio (`rawType: success`), false for failures.
        success: bool,
        metric: MetricSpec,
    },
    /// Several parts, each judged on its own, whose weighted bad parts add up
    /// (see `slo::composite` and docs/composites.md).
    Composite(Composite),
}

/// Most parts one composite level may have (as Nobl9 allows).
pub const MAX_COMPOSITE_PARTS: usize = 20;

/// The parts of a composite SLO and what a part without data counts as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Composite {
    pub parts: Vec<CompositePart>,
    #[serde(default)]
    pub missing: MissingPolicy,
}

/// One part of a composite: its name in messages, its weight and where its data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositePart {
    /// The objective's key (OpenSLO form) or the part SLO's name (`sloguard.dev/composite-of`).
    pub name: String,
    /// Greater than 0; 1 unless the file says otherwise.
    pub weight: f64,
    pub source: PartSource,
}

/// Where a part's data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PartSource {
    /// Its own indicator and objective: written inline, or a stored SLO once resolved.
    Own {
        indicator: Box<Indicator>,
        objective: Objective,
    },
    /// Another stored SLO, by name: resolved against the stored definitions when evaluated.
    Slo,
}

/// What a part without data in a window (or slice) counts as (`sloguard.dev/composite-missing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    /// Left out, with its share of the budget: the others' bad parts are scaled to the whole.
    #[default]
    Ignore,
    /// Counts as all good.
    CountAsGood,
    /// Counts as all bad.
    CountAsBad,
}

impl MissingPolicy {
    /// The annotation spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MissingPolicy::Ignore => "ignore",
            MissingPolicy::CountAsGood => "count-as-good",
            MissingPolicy::CountAsBad => "count-as-bad",
        }
    }
}

impl Indicator {
    /// Every metric spec this indicator reads, a composite's parts in order (resolved ones only).
    pub fn metric_specs(&self) -> Vec<&MetricSpec> {
        match self {
            Indicator::Ratio {
                numerator, total, ..
            } => vec![numerator, total],
            Indicator::Threshold { metric } | Indicator::Raw { metric, .. } => vec![metric],
            Indicator::Composite(c) => c
                .parts
                .iter()
                .flat_map(|p| match &p.source {
                    PartSource::Own { indicator, .. } => indicator.metric_specs(),
                    PartSource::Slo => Vec::new(),
                })
                .collect(),
        }
    }
}

/// A CloudWatch metric query, as the Nobl9 CloudWatch source spec defines it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MetricSpec {
    /// A single metric with one statistic.
    Metric {
        region: String,
        account_id: Option<String>,
        namespace: String,
        metric_name: String,
        stat: String,
        /// Sorted by name, so equal metrics compare equal.
        dimensions: Vec<(String, String)>,
    },
    /// A list of MetricDataQuery objects (metric math or one Metrics Insights query),
    /// exactly one returning data.
    Queries {
        region: String,
        queries: Vec<QuerySpec>,
    },
}

/// One MetricDataQuery of a `json` spec: a metric with a stat, or an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuerySpec {
    pub id: String,
    pub return_data: bool,
    pub expression: Option<String>,
    pub metric: Option<MetricStatSpec>,
    pub account_id: Option<String>,
}

/// The metric half of a MetricDataQuery.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricStatSpec {
    pub namespace: String,
    pub metric_name: String,
    pub stat: String,
    pub dimensions: Vec<(String, String)>,
}

impl MetricSpec {
    /// The AWS region the metric lives in; GetMetricData calls are per region.
    pub fn region(&self) -> &str {
        match self {
            MetricSpec::Metric { region, .. } | MetricSpec::Queries { region, .. } => region,
        }
    }

    /// A Metrics Insights query (`SELECT ...`): CloudWatch takes one per GetMetricData call.
    pub fn is_insights(&self) -> bool {
        match self {
            MetricSpec::Metric { .. } => false,
            MetricSpec::Queries { queries, .. } => queries
                .iter()
                .any(|q| q.expression.as_deref().is_some_and(super::plan::is_select)),
        }
    }

    /// The metrics this spec reads, to match alarms against.
    pub fn metrics(&self) -> Vec<MetricRef<'_>> {
        match self {
            MetricSpec::Metric {
                namespace,
                metric_name,
                dimensions,
                ..
            } => vec![MetricRef {
                namespace,
                metric_name,
                dimensions,
            }],
            MetricSpec::Queries { queries, .. } => queries
                .iter()
                .filter_map(|q| q.metric.as_ref())
                .map(|m| MetricRef {
                    namespace: &m.namespace,
                    metric_name: &m.metric_name,
                    dimensions: &m.dimensions,
                })
                .collect(),
        }
    }
}

/// A metric by identity (namespace, name, dimensions), as alarms name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricRef<'a> {
    pub namespace: &'a str,
    pub metric_name: &'a str,
    pub dimensions: &'a [(String, String)],
}

/// The SLO window: rolling (last N seconds) or the current calendar period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TimeWindow {
    Rolling {
        seconds: i64,
    },
    Calendar {
        unit: CalendarUnit,
        /// Periods of `count` units (`2M`, `366d`), counted from `start`; 1 for most windows.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        count: u32,
        /// Fixes the week's first day; periods start at local midnight.
        start: DateTime<Utc>,
        tz: Tz,
    },
}

/// How the budget is counted (OpenSLO `budgetingMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BudgetingMethod {
    Occurrences,
    Timeslices,
    RatioTimeslices,
}

/// Comparison used by threshold objectives and burn-rate conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Op {
    /// Whether `left op right` holds.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Lt => left < right,
            Op::Lte => left <= right,
            Op::Gt => left > right,
            Op::Gte => left >= right,
        }
    }

    /// The OpenSLO spelling, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
        }
    }

    /// The symbol people read at a glance: `burn > 14.4x`.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::Gt => ">",
            Op::Gte => ">=",
        }
    }
}

/// The promise: a target fraction and, for timeslices, what makes a slice good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub display_name: Option<String>,
    /// 0 < target < 1.
    pub target: f64,
    /// For threshold indicators: a value is good when `value op threshold` holds.
    pub op: Option<Op>,
    pub value: Option<f64>,
    /// For RatioTimeslices: a slice is good when its ratio is at least this.
    pub time_slice_target: Option<f64>,
    /// Slice length in seconds, for the timeslice methods.
    pub time_slice_seconds: Option<i64>,
}

/// How urgent a notification is; also the SNS `severity` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Ticket,
    Page,
}

impl Severity {
    /// The contract spelling (`page`, `ticket`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Ticket => "ticket",
            Severity::Page => "page",
        }
    }
}

/// A multiwindow burn-rate condition: fires when both windows burn past the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnRateCondition {
    pub name: String,
    pub severity: Severity,
    /// The severity as the AlertCondition wrote it (`sev1`, `critical`), when not page/ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_label: Option<String>,
    pub op: Op,
    pub threshold: f64,
    pub long_seconds: i64,
    pub short_seconds: i64,
    /// How long the condition must hold before it fires.
    pub alert_after_seconds: i64,
}

/// sloguard's own settings, from `sloguard.dev/*` annotations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Alarm names or ARNs whose state changes re-evaluate this SLO.
    pub alarms: Vec<String>,
    pub runbook: Option<String>,
    /// Low-traffic guard: a window with fewer events cannot fire a condition.
    pub min_events: u64,
    /// Maintenance windows removed from the budget, as [start, end) epoch seconds.
    pub exclusions: Vec<(i64, i64)>,
    /// Percent of the budget consumed at which to tell the owners (once a window period each);
    /// exhaustion (100) is always announced.
    #[serde(default)]
    pub budget_alerts: Vec<u32>,
    /// Severity of the exhaustion message: ticket unless the SLO asks for a page.
    #[serde(default = "ticket")]
    pub exhaustion_severity: Severity,
    /// Change targets (`stack/shop-api`, ...) whose deployments messages list before a burn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// How far before an incident opened its changes are listed, in seconds.
    #[serde(default = "lookback", skip_serializing_if = "is_default_lookback")]
    pub changes_lookback: i64,
}

fn lookback() -> i64 {
    super::change::DEFAULT_LOOKBACK_SECONDS
}

fn is_default_lookback(s: &i64) -> bool {
    *s == lookback()
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn ticket() -> Severity {
    Severity::Ticket
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            alarms: Vec::new(),
            runbook: None,
            min_events: 0,
            exclusions: Vec::new(),
            budget_alerts: Vec::new(),
            exhaustion_severity: Severity::Ticket,
            changes: Vec::new(),
            changes_lookback: lookback(),
        }
    }
}

impl SloDefinition {
    /// The stored form (JSON), which `from_stored` reads back bit for bit, floats included:
    /// an unchanged file must compare equal to what is stored, or apply re-versions it.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes")
    }

    /// Read the stored form back.
    pub fn from_stored(text: &str) -> Result<SloDefinition, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Human label of the SLO window, as the JSON contract spells it ("30d", "calendar month").
    pub fn window_label(&self) -> String {
        match &self.window {
            TimeWindow::Rolling { seconds } => super::duration::label(*seconds),
            TimeWindow::Calendar { unit, count: 1, .. } => format!("calendar {unit}"),
            TimeWindow::Calendar { unit, count, .. } => format!("calendar {count} {unit}s"),
        }
    }

    /// Every metric spec the indicator reads.
    pub fn metric_specs(&self) -> Vec<&MetricSpec> {
        self.indicator.metric_specs()
    }

    /// The slice (or datapoint) length the SLO is counted in; None when it sums events.
    /// Occurrences over a threshold or raw metric count datapoints: the loader sets their
    /// period in `time_slice_seconds`.
    pub fn slice_seconds(&self) -> Option<i64> {
        match (&self.indicator, self.method) {
            (Indicator::Ratio { .. } | Indicator::Composite(_), BudgetingMethod::Occurrences) => {
                None
            }
            _ => self.objective.time_slice_seconds,
        }
    }

    /// The SLO this objective belongs to, as written (several objectives load as several SLOs).
    pub fn slo_name(&self) -> &str {
        self.parent.as_deref().unwrap_or(&self.name)
    }
}
