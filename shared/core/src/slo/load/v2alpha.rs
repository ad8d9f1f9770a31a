//! What only openslo.com/v2alpha has: a metric written as `dataSourceRef` (a DataSource's name)
//! or `dataSourceSpec` (the DataSource inline) beside its `spec`, where v1 nests both in
//! `metricSource` (enhancements/v2alpha.md, SLI).

use crate::slo::model::MetricSpec;
use crate::slo::yaml::Node;

use super::datasource::read_data_source_spec;
use super::diag::{check_fields, expect_map, field, join, one_of, At, Blame, Ctx, Need, OneOf};
use super::document::resolve;
use super::indicator::{read_cloudwatch_spec, Sources};

/// A v2alpha metric at `path`: `dataSourceRef` or `dataSourceSpec`, and the CloudWatch `spec`.
pub(super) fn read_metric(
    ctx: &mut Ctx,
    at: At,
    node: &Node,
    path: &str,
    sources: &Sources,
) -> Option<MetricSpec> {
    let node = expect_map(ctx, at, node, path)?;
    check_fields(
        ctx,
        at,
        node,
        path,
        &["dataSourceRef", "dataSourceSpec", "spec"],
    );
    let source = one_of(
        ctx,
        at,
        node,
        path,
        ["dataSourceRef", "dataSourceSpec"],
        Blame::Fields,
        "missing required field: set dataSourceRef (the name of a DataSource) or dataSourceSpec (a DataSource's spec inline)",
    )
    .and_then(|choice| match choice {
        OneOf::First(r) => resolve(
            ctx,
            at,
            sources,
            "DataSource",
            r,
            &join(path, "dataSourceRef"),
        ),
        OneOf::Second(s) => read_data_source_spec(ctx, at, s, &join(path, "dataSourceSpec")),
    });
    let spec = field(ctx, at, node, path, "spec", Need::Required, expect_map)?;
    // As in v1, a source that did not load stops here: its region may be the one missing.
    read_cloudwatch_spec(ctx, at, spec, &join(path, "spec"), Some(&source?))
}
