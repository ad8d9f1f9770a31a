//! DataSource documents: where CloudWatch metrics live (region, account), referred to from an
//! SLI's `metricSourceRef` so that the query and the connection are written apart.

use crate::slo::yaml::{Node, Value};

use super::diag::{
    check_description, check_fields, expect_map, field, join, parsed, truncate, At, Ctx,
    Need::{Optional, Required},
};
use super::indicator::{account_id, region};

/// Credentials the OpenSLO spec's CloudWatch example puts in `connectionDetails`: accepted
/// (converted public files carry them) but ignored, since sloguard uses its own role.
const CREDENTIALS: [&str; 3] = ["accessKeyID", "secretAccessKey", "sessionToken"];

/// What a CloudWatch DataSource gives the metrics that refer to it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DataSource {
    pub(super) region: Option<String>,
    pub(super) account_id: Option<String>,
}

/// A DataSource document; `None` when it has problems (all reported).
pub(super) fn read_data_source(ctx: &mut Ctx, at: At, doc: &Node) -> Option<DataSource> {
    read_data_source_spec(ctx, at, doc.get("spec")?, "spec")
}

/// The spec of a DataSource at `path`: a document's `spec`, or a v2alpha metric's inline
/// `dataSourceSpec`.
pub(super) fn read_data_source_spec(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    path: &str,
) -> Option<DataSource> {
    let spec = expect_map(ctx, at, spec, path)?;
    check_fields(
        ctx,
        at,
        spec,
        path,
        &["description", "type", "connectionDetails"],
    );
    check_description(ctx, at, spec, path);
    let type_ok = field(ctx, at, spec, path, "type", Required, parsed(|ty| {
        if ty.eq_ignore_ascii_case("cloudwatch") {
            Ok(())
        } else {
            Err(format!(
                "sloguard reads CloudWatch metrics only; a DataSource of type `{}` is not supported",
                truncate(ty, 40)
            ))
        }
    }))
    .is_some();
    let cp = &join(path, "connectionDetails");
    let details = field(
        ctx,
        at,
        spec,
        path,
        "connectionDetails",
        Required,
        expect_map,
    )?;
    // sloguard reads metrics with its function's own IAM role. The OpenSLO spec's own
    // CloudWatch example carries keys, so they are accepted with a warning, read no
    // further, and never reach the model (nothing stores them).
    for (k, _) in details.as_map().into_iter().flatten() {
        if let Some(key) = k.as_scalar().filter(|key| CREDENTIALS.contains(key)) {
            ctx.warn(
                at.file,
                k.line,
                &format!("{cp}.{key}"),
                "ignored: sloguard reads CloudWatch with its own IAM role and never reads or stores credentials; remove them from the file",
            );
        }
    }
    let mut plain = details.clone();
    if let Value::Map(entries) = &mut plain.value {
        entries.retain(|(k, _)| !k.as_scalar().is_some_and(|k| CREDENTIALS.contains(&k)));
    }
    check_fields(ctx, at, &plain, cp, &["region", "accountId"]);
    let region = field(ctx, at, details, cp, "region", Optional, parsed(region));
    let account_id = field(
        ctx,
        at,
        details,
        cp,
        "accountId",
        Optional,
        parsed(account_id),
    );
    let bad_region = details.get("region").is_some() && region.is_none();
    let bad_account = details.get("accountId").is_some() && account_id.is_none();
    (type_ok && !bad_region && !bad_account).then_some(DataSource { region, account_id })
}
