//! Documents: the header every document starts with (apiVersion, kind, metadata.name), the
//! index of documents by kind and name, and references from one document to another.

use std::collections::HashMap;

use crate::slo::model::{BurnRateCondition, Indicator};
use crate::slo::yaml::Node;

use super::diag::{
    check_fields, expect_map, expect_str, field, join, line_of, opt, parsed, truncate, At, Ctx,
    Need::Required,
};
use super::version::{check_labels, Version, DISPLAY_NAME_ANNOTATION};

const MAX_NAME_LEN: usize = 63;
const KINDS: [&str; 7] = [
    "SLO",
    "SLI",
    "AlertPolicy",
    "AlertCondition",
    "Service",
    "DataSource",
    "AlertNotificationTarget",
];

/// A document of one file, before its kind is interpreted.
pub(super) struct Doc<'a> {
    pub(super) file: &'a str,
    pub(super) node: &'a Node,
    pub(super) name: String,
    /// A second definition of a name: still validated (every problem is reported), never used.
    pub(super) duplicate: bool,
    /// The OpenSLO version of its `apiVersion`.
    pub(super) version: Version,
}

impl<'a> Doc<'a> {
    /// Where problems in this document are reported.
    pub(super) fn at(&self) -> At<'a> {
        At {
            file: self.file,
            version: self.version,
        }
    }
}

/// Every document with a valid header, by kind, in the order of the files. A second document of
/// the same kind and name is reported, citing the first one's `name:` line, and marked duplicate.
pub(super) fn index<'a>(
    ctx: &mut Ctx,
    trees: &'a [(&'a str, Vec<Node>)],
) -> HashMap<&'static str, Vec<Doc<'a>>> {
    let mut by_kind: HashMap<&'static str, Vec<Doc>> = HashMap::new();
    let mut first_seen: HashMap<(&'static str, String), (String, usize)> = HashMap::new();
    for (file, docs) in trees {
        for node in docs {
            let mut at = At {
                file,
                version: Version::V1,
            };
            let Some((kind, name, version)) = read_header(ctx, &mut at, node) else {
                continue;
            };
            let name_line = node
                .get("metadata")
                .and_then(|m| m.get("name"))
                .map_or(node.line, |n| n.line);
            let duplicate = match first_seen.get(&(kind, name.clone())) {
                Some((f0, l0)) => {
                    ctx.report(
                        file,
                        name_line,
                        "metadata.name",
                        format!("duplicate {kind} name `{name}` (first defined at {f0}:{l0})"),
                    );
                    true
                }
                None => {
                    first_seen.insert((kind, name.clone()), (file.to_string(), name_line));
                    false
                }
            };
            by_kind.entry(kind).or_default().push(Doc {
                file,
                node,
                name,
                duplicate,
                version,
            });
        }
    }
    by_kind
}

/// Check apiVersion, kind and metadata.name; returns the kind, name and version (also set in
/// `at`, so that the metadata is read as its version writes it).
fn read_header(ctx: &mut Ctx, at: &mut At, node: &Node) -> Option<(&'static str, String, Version)> {
    if node.as_map().is_none() {
        ctx.report(
            at.file,
            node.line,
            "",
            format!(
                "an OpenSLO document must be a mapping, found {}",
                node.kind_name()
            ),
        );
        return None;
    }
    check_fields(
        ctx,
        *at,
        node,
        "",
        &["apiVersion", "kind", "metadata", "spec"],
    );
    let version = field(
        ctx,
        *at,
        node,
        "",
        "apiVersion",
        Required,
        parsed(Version::parse),
    );
    let mut ok = version.is_some();
    at.version = version.unwrap_or_default();
    let at = *at;
    let kind = field(
        ctx,
        at,
        node,
        "",
        "kind",
        Required,
        parsed(|k| {
            KINDS.into_iter().find(|known| *known == k).ok_or_else(|| {
            format!(
                "unknown kind `{k}`; expected SLO, SLI, AlertPolicy, AlertCondition, Service, DataSource or AlertNotificationTarget"
            )
        })
        }),
    )?;
    let name = read_metadata_name(ctx, at, node, "")?;
    match node.get("spec") {
        None => {
            ctx.report(at.file, node.line, "spec", "missing required field");
            ok = false;
        }
        Some(spec) => ok &= expect_map(ctx, at, spec, "spec").is_some(),
    }
    ok.then_some((kind, name, at.version))
}

/// Check `metadata` of the document at `prefix`; returns its name, even an invalid one (reported)
/// so that the rest of the document is still read.
pub(super) fn read_metadata_name(
    ctx: &mut Ctx,
    at: At,
    parent: &Node,
    prefix: &str,
) -> Option<String> {
    let meta = field(ctx, at, parent, prefix, "metadata", Required, expect_map)?;
    let path = &join(prefix, "metadata");
    check_fields(
        ctx,
        at,
        meta,
        path,
        &["name", "displayName", "labels", "annotations", "namespace"],
    );
    if at.version == Version::V2alpha {
        // Kubernetes ObjectMeta (enhancements/v2alpha.md, General Schema 2 and 3).
        if let Some(d) = meta.get("displayName") {
            ctx.report(
                at.file,
                d.line,
                &join(path, "displayName"),
                format!("openslo.com/v2alpha has no metadata.displayName; give an SLO its title with the annotation {DISPLAY_NAME_ANNOTATION}"),
            );
        }
        if let Some(l) = opt(meta, "labels") {
            check_labels(ctx, at, l, &join(path, "labels"));
        }
    }
    let p = join(path, "name");
    let name = field(ctx, at, meta, path, "name", Required, expect_str)?;
    if let Err(msg) = check_name(name) {
        // Reported, but the document is still read so that every other problem shows too.
        ctx.report(at.file, line_of(meta, "name"), &p, msg);
    }
    Some(name.to_string())
}

/// Names become DynamoDB keys and SNS attributes: keep them to RFC 1123 labels.
pub fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a valid name: use 1 to {MAX_NAME_LEN} lowercase letters, digits and '-', starting and ending with a letter or digit",
            truncate(name, 80)
        ))
    }
}

// ---------- references ----------

/// What documents refer to by name. A `None` value is a definition that did not load: its
/// problems are reported where it is defined, not again at every reference.
#[derive(Default)]
pub(super) struct Refs {
    pub(super) sources: super::indicator::Sources,
    pub(super) targets: super::service::Targets,
    pub(super) slis: HashMap<String, Option<Indicator>>,
    pub(super) conditions: HashMap<String, Option<BurnRateCondition>>,
    pub(super) policies: HashMap<String, Option<super::alerting::Policy>>,
}

/// Records what the document `d` defines, unless it is a duplicate of an earlier name.
pub(super) fn define<T>(table: &mut HashMap<String, Option<T>>, d: &Doc, value: Option<T>) {
    if !d.duplicate {
        table.insert(d.name.clone(), value);
    }
}

/// What the reference `r` (a name of a `kind` document, at `path`) points to.
pub(super) fn resolve<T: Clone>(
    ctx: &mut Ctx,
    at: At,
    table: &HashMap<String, Option<T>>,
    kind: &str,
    r: &Node,
    path: &str,
) -> Option<T> {
    let name = expect_str(ctx, at, r, path)?;
    match table.get(name) {
        Some(value) => value.clone(),
        None => {
            ctx.report(
                at.file,
                r.line,
                path,
                format!(
                    "no {kind} named `{}` in the files given",
                    truncate(name, 80)
                ),
            );
            None
        }
    }
}
