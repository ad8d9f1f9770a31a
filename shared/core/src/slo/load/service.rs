//! Service and AlertNotificationTarget documents, checked like the rest so a typo there is
//! not silently ignored. A target that is an SNS topic ARN routes messages (`slo::route`);
//! any other target is documentation.

use std::collections::HashMap;

use crate::slo::yaml::Node;

use crate::slo::route::{check_topic_arn, looks_like_topic};

use super::diag::{
    check_description, check_fields, expect_str, field, join, line_of, At, Ctx, Need::Required,
};

/// A Service document: a description only.
pub(super) fn read_service(ctx: &mut Ctx, at: At, doc: &Node) {
    if let Some(spec) = doc.get("spec") {
        check_fields(ctx, at, spec, "spec", &["description"]);
        check_description(ctx, at, spec, "spec");
    }
}

/// An AlertNotificationTarget document, or an inline one at `path`: `target` is required.
/// Returns the SNS topic it routes to (Some(None) for a target that is no topic ARN: kept as
/// documentation); a text that starts like a topic ARN must be a valid one.
pub(super) fn read_target(ctx: &mut Ctx, at: At, spec: &Node, path: &str) -> Option<Topic> {
    check_fields(ctx, at, spec, path, &["description", "target"]);
    check_description(ctx, at, spec, path);
    let target = field(ctx, at, spec, path, "target", Required, expect_str)?.trim();
    if !looks_like_topic(target) {
        return Some(None);
    }
    match check_topic_arn(target) {
        Ok(()) => Some(Some(target.to_string())),
        Err(m) => {
            ctx.report(at.file, line_of(spec, "target"), &join(path, "target"), m);
            None
        }
    }
}

/// The SNS topic ARN a target routes to; None for a target that is documentation only.
pub(super) type Topic = Option<String>;

/// AlertNotificationTargets by name, for `targetRef`.
pub(super) type Targets = HashMap<String, Option<Topic>>;
