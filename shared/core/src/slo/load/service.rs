//! Service and AlertNotificationTarget documents: sloguard keeps nothing from them, but checks
//! them like the rest so a typo there is not silently ignored.

use std::collections::HashMap;

use crate::slo::yaml::Node;

use super::diag::{check_description, check_fields, expect_str, field, At, Ctx, Need::Required};

/// A Service document: a description only.
pub(super) fn read_service(ctx: &mut Ctx, at: At, doc: &Node) {
    if let Some(spec) = doc.get("spec") {
        check_fields(ctx, at, spec, "spec", &["description"]);
        check_description(ctx, at, spec, "spec");
    }
}

/// An AlertNotificationTarget document, or an inline one at `path`: `target` is required.
/// sloguard notifies through its SNS topic; the target is kept by the policy as documentation.
pub(super) fn read_target(ctx: &mut Ctx, at: At, spec: &Node, path: &str) -> Option<()> {
    check_fields(ctx, at, spec, path, &["description", "target"]);
    check_description(ctx, at, spec, path);
    field(ctx, at, spec, path, "target", Required, expect_str).map(|_| ())
}

/// AlertNotificationTargets by name, for `targetRef`.
pub(super) type Targets = HashMap<String, Option<()>>;
