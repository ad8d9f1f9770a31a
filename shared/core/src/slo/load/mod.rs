//! Load OpenSLO v1 documents from several files, resolve references across
//! them, and validate everything at once, so a user sees every problem in one run.
//!
//! The stages, each in its own module:
//! - [`document`]: every document's header (apiVersion, kind, metadata.name), duplicates,
//!   and references by name from one document to another;
//! - [`indicator`]: SLIs and their CloudWatch metrics (inline, `json`, `sql` or `raw`);
//! - [`datasource`]: DataSources, which give metrics their region and account;
//! - [`service`]: Service and AlertNotificationTarget documents, checked and otherwise unused;
//! - [`alerting`]: AlertConditions, AlertPolicies and an SLO's `alertPolicies`;
//! - [`slo`]: SLOs (window, budgeting method, retention) and the rules across their fields;
//! - [`objective`]: objectives, one SLO each, and what each budgeting method asks of them;
//! - [`composite`]: composite SLOs (OpenSLO objectives with indicators, `sloguard.dev/composite-of`);
//! - [`settings`]: sloguard's own `sloguard.dev/` annotations;
//! - [`labels`]: the `team` label, the SLO's owner;
//! - [`diag`]: where problems are collected, and the field readers all stages share.
//!
//! Referenced kinds (SLI, AlertCondition, AlertPolicy) are validated once, where they are
//! defined; a reference to one that failed is not reported again.

use std::fmt;

use super::model::SloDefinition;
use super::yaml::{self, Node};

mod alerting;
mod composite;
mod datasource;
mod diag;
mod document;
mod indicator;
mod labels;
mod metric_math;
mod objective;
mod service;
mod settings;
mod slo;
#[cfg(test)]
mod tests;
mod v2alpha;
mod version;

// The default policy lives in `slo::policy`; re-exported so `load::default_conditions` still works.
pub use super::policy::default_conditions;
pub use composite::{parse_composite_of, COMPOSITE_MISSING, COMPOSITE_OF};
pub use document::check_name;
pub use labels::TEAM_LABEL;
pub use metric_math::parse_queries_json;
pub use settings::{parse_budget_alerts, parse_exclusions};
pub use version::{Version, DISPLAY_NAME_ANNOTATION, V1, V2ALPHA};

use diag::Ctx;
use document::{define, Refs};

/// Annotation prefix of sloguard's own settings.
pub const ANNOTATION_PREFIX: &str = "sloguard.dev/";
/// Largest SLO file accepted: definitions are small; anything bigger is a mistake.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// One validation problem, printed as `file:line: path.to.field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: {}: {}",
                self.file, self.line, self.path, self.message
            )
        }
    }
}

/// A file's name (for messages) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// Everything loaded: the valid SLOs and every problem found on the way.
#[derive(Debug, Default)]
pub struct Loaded {
    pub slos: Vec<SloDefinition>,
    pub problems: Vec<Problem>,
    /// Worth a look but not wrong (e.g. a field that has no effect): printed, never fatal.
    pub warnings: Vec<Problem>,
}

impl Loaded {
    /// The SLOs when there were no problems at all, else the problems.
    pub fn into_result(self) -> Result<Vec<SloDefinition>, Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(self.slos)
        } else {
            Err(self.problems)
        }
    }
}

/// Documents as the tools write them: `---` separated, or one YAML list of documents (the
/// OpenSLO go-sdk, oslo and Nobl9's converters write the list). Each list item keeps its line.
fn flatten_lists(docs: Vec<Node>) -> Vec<Node> {
    docs.into_iter()
        .flat_map(|d| match d.value {
            yaml::Value::Seq(items) => items,
            _ => vec![d],
        })
        .collect()
}

/// Load and validate OpenSLO documents from several files at once.
pub fn load(files: &[SourceFile]) -> Loaded {
    let mut ctx = Ctx::default();
    let mut trees: Vec<(&str, Vec<Node>)> = Vec::new();
    for f in files {
        if f.text.len() > MAX_FILE_BYTES {
            ctx.report(
                &f.name,
                1,
                "",
                format!(
                    "file is {} bytes; SLO files may be at most {} bytes: split it",
                    f.text.len(),
                    MAX_FILE_BYTES
                ),
            );
            continue;
        }
        // Editors on Windows write a byte-order mark; it is not part of the YAML.
        let text = f.text.strip_prefix('\u{feff}').unwrap_or(&f.text);
        match yaml::parse(text) {
            Ok(docs) => trees.push((&f.name, flatten_lists(docs))),
            Err(e) => ctx.report(&f.name, e.line, "", format!("invalid YAML: {}", e.message)),
        }
    }

    let by_kind = document::index(&mut ctx, &trees);
    let docs_of = |k: &str| by_kind.get(k).map(Vec::as_slice).unwrap_or(&[]);

    // Referenced kinds are validated once each, where they are defined.
    let mut refs = Refs::default();
    for d in docs_of("DataSource") {
        let source = datasource::read_data_source(&mut ctx, d.at(), d.node);
        define(&mut refs.sources, d, source);
    }
    for d in docs_of("Service") {
        service::read_service(&mut ctx, d.at(), d.node);
    }
    for d in docs_of("AlertNotificationTarget") {
        let spec = d.node.get("spec");
        let target = spec.and_then(|s| service::read_target(&mut ctx, d.at(), s, "spec"));
        define(&mut refs.targets, d, target);
    }
    for d in docs_of("SLI") {
        let spec = d.node.get("spec");
        let ind =
            spec.and_then(|s| indicator::read_sli_spec(&mut ctx, d.at(), s, "spec", &refs.sources));
        define(&mut refs.slis, d, ind);
    }
    for d in docs_of("AlertCondition") {
        let c = alerting::read_condition(&mut ctx, d.at(), d.node, "");
        define(&mut refs.conditions, d, c);
    }
    for d in docs_of("AlertPolicy") {
        let p = alerting::read_policy(
            &mut ctx,
            d.at(),
            d.node,
            "",
            &refs.conditions,
            &refs.targets,
        );
        define(&mut refs.policies, d, p);
    }

    let mut slos = Vec::new();
    for d in docs_of("SLO") {
        let read = slo::read_slo(&mut ctx, d, &refs);
        if !d.duplicate {
            slos.extend(read);
        }
    }
    composite::check_cycles(&mut ctx, docs_of("SLO"), &slos);
    // An objective's name (`NAME-OBJECTIVE`) must not take another SLO's.
    let mut seen = std::collections::HashMap::new();
    for s in &slos {
        if let Some((file, line)) = seen.insert(s.name.clone(), (s.file.clone(), s.line)) {
            ctx.report(
                &s.file,
                s.line,
                "metadata.name",
                format!(
                    "`{}` names both an SLO and an objective of another (first at {file}:{line}); rename one",
                    s.name
                ),
            );
        }
    }
    Loaded {
        slos,
        problems: ctx.problems,
        warnings: ctx.warnings,
    }
}
