//! DataSource documents: where CloudWatch metrics live (region, account), referred to from an
//! SLI's `metricSourceRef` so that the query and the connection are written apart.

use crate::slo::yaml::Node;

use super::diag::{
    check_description, check_fields, opt_parse, req_map, req_parse, truncate, At, Ctx,
};
use super::indicator::{valid_account_id, valid_region};

/// What a CloudWatch DataSource gives the metrics that refer to it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DataSource {
    pub(super) region: Option<String>,
    pub(super) account_id: Option<String>,
}

/// A DataSource document; `None` when it has problems (all reported).
pub(super) fn read_data_source(ctx: &mut Ctx, at: At, doc: &Node) -> Option<DataSource> {
    let spec = doc.get("spec")?;
    check_fields(
        ctx,
        at,
        spec,
        "spec",
        &["description", "type", "connectionDetails"],
    );
    check_description(ctx, at, spec, "spec");
    let type_ok = req_parse(ctx, at, spec, "spec", "type", |ty| {
        if ty.eq_ignore_ascii_case("cloudwatch") {
            Ok(())
        } else {
            Err(format!(
                "sloguard reads CloudWatch metrics only; a DataSource of type `{}` is not supported",
                truncate(ty, 40)
            ))
        }
    })
    .is_some();
    let cp = "spec.connectionDetails";
    let details = req_map(ctx, at, spec, "spec", "connectionDetails")?;
    // sloguard reads metrics with its function's own IAM role: no keys or role ARNs here.
    check_fields(ctx, at, details, cp, &["region", "accountId"]);
    let region = opt_parse(ctx, at, details, cp, "region", |r| {
        if valid_region(r) {
            Ok(r.to_string())
        } else {
            Err(format!(
                "`{}` is not an AWS region like us-east-1",
                truncate(r, 40)
            ))
        }
    });
    let account_id = opt_parse(ctx, at, details, cp, "accountId", |a| {
        if valid_account_id(a) {
            Ok(a.to_string())
        } else {
            Err("must be a 12-digit AWS account id".to_string())
        }
    });
    let bad_region = details.get("region").is_some() && region.is_none();
    let bad_account = details.get("accountId").is_some() && account_id.is_none();
    (type_ok && !bad_region && !bad_account).then_some(DataSource { region, account_id })
}
