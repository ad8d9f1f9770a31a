//! The default alert policy of an SLO that sets no `alertPolicies`: multiwindow,
//! multi-burn-rate alerts as the Google SRE Workbook recommends them in the chapter
//! "Alerting on SLOs" (<https://sre.google/workbook/alerting-on-slos/>), from its table of
//! recommended windows:
//!
//! | severity | budget consumed | long window | short window |
//! |----------|-----------------|-------------|--------------|
//! | page     | 2%              | 1h          | 5m           |
//! | page     | 5%              | 6h          | 30m          |
//! | ticket   | 10%             | 3d          | 6h           |
//!
//! The workbook states the thresholds as burn rates for a 30-day window (14.4, 6 and 1).
//! Here they follow from the budget consumed, so they scale to the SLO's own window:
//! consuming `c` of the budget in `long` is a burn rate of `c × window / long`. A burn rate
//! of at most 1 cannot spend the budget within the window, so no threshold is below 1.

use super::model::{BurnRateCondition, Op, Severity, TimeWindow};
use super::window::nominal_length;

/// The SRE-workbook policy as budget consumption, scaled to the SLO window.
pub fn default_conditions(window: &TimeWindow) -> Vec<BurnRateCondition> {
    let w = nominal_length(window) as f64;
    let cond = |name: &str, severity, consumption: f64, long: i64, short: i64| BurnRateCondition {
        severity_label: None,
        name: name.to_string(),
        severity,
        op: Op::Gt,
        // A burn rate of at most 1 cannot spend the budget within the window: never alert below it.
        threshold: (consumption * w / long as f64).max(1.0),
        long_seconds: long,
        short_seconds: short,
        alert_after_seconds: 0,
    };
    vec![
        cond("page-1h", Severity::Page, 0.02, 3600, 300),
        cond("page-6h", Severity::Page, 0.05, 6 * 3600, 1800),
        cond("ticket-3d", Severity::Ticket, 0.10, 3 * 86_400, 6 * 3600),
    ]
}
