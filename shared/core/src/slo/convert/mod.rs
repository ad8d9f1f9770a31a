//! `sloguard convert`: OpenSLO files from openslo/v1 to openslo.com/v2alpha and back.
//!
//! The files are loaded first (a file with problems is not converted), each document is
//! rewritten as its tree, and the result is loaded again: a conversion is handed out only when
//! it loads into the same SLOs as the original. What one version cannot say is refused at its
//! line (a calendar month in v2alpha, a list of label values); what sloguard does not keep and
//! the other version has no place for is dropped with a note (an SLI's displayName in v2alpha).
//! Comments are not carried over: the YAML reader does not keep them.

use thiserror::Error;

use crate::slo::load::{load, Problem, SourceFile, Version, DISPLAY_NAME_ANNOTATION, V1, V2ALPHA};
use crate::slo::model::SloDefinition;
use crate::slo::yaml::{self, Node, Value};

mod emit;
#[cfg(test)]
mod tests;
mod tree;

use tree::{get_mut, insert_after, remove, rename, scalar};

/// Keys whose values are durations, wherever they are.
const DURATION_KEYS: [&str; 4] = [
    "duration",
    "timeSliceWindow",
    "lookbackWindow",
    "alertAfter",
];

/// The note on a displayName v2alpha has no place for.
const DROPPED_TITLE: &str =
    "dropped: openslo.com/v2alpha metadata has no displayName, and sloguard shows only an SLO's";

/// Why files were not converted.
#[derive(Debug, Error)]
pub enum ConvertError {
    /// The input does not load: fix it first (`sloguard validate` lists the same problems).
    #[error("the files have problems; fix them first")]
    Invalid(Vec<Problem>),
    /// The input says something the target version cannot.
    #[error("some of it has no {0} form")]
    NoForm(&'static str, Vec<Problem>),
    /// The converted files would not load as the originals do: a bug in the converter.
    #[error("the converted files do not load as the originals do: {0}")]
    Changed(String),
}

/// Converted files, with notes on what was dropped on the way.
#[derive(Debug)]
pub struct Conversion {
    /// One per input file, with the input's name.
    pub files: Vec<SourceFile>,
    /// Things the target version has no place for and sloguard does not keep.
    pub dropped: Vec<Problem>,
}

/// The `apiVersion` a version is written as.
pub fn api_version(v: Version) -> &'static str {
    match v {
        Version::V1 => V1,
        Version::V2alpha => V2ALPHA,
    }
}

/// Converts every document of `files` to the version `to` (documents already in it are
/// written as they are), and checks that the result loads into the same SLOs.
pub fn convert(files: &[SourceFile], to: Version) -> Result<Conversion, ConvertError> {
    let before = load(files);
    if !before.problems.is_empty() {
        return Err(ConvertError::Invalid(before.problems));
    }
    let mut cx = Cx {
        file: String::new(),
        to,
        problems: Vec::new(),
        dropped: Vec::new(),
    };
    let mut out = Vec::new();
    for f in files {
        cx.file = f.name.clone();
        let text = f.text.strip_prefix('\u{feff}').unwrap_or(&f.text);
        let docs = yaml::parse(text).map_err(|e| ConvertError::Changed(e.message))?;
        let docs = docs.into_iter().flat_map(|d| match d.value {
            Value::Seq(items) => items,
            _ => vec![d],
        });
        let mut body = format!(
            "# Converted by `sloguard convert --to {}` from {}; the original's comments are not carried over.\n",
            short(to),
            f.name
        );
        for (i, mut d) in docs.enumerate() {
            cx.document(&mut d);
            if i > 0 {
                body.push_str("---\n");
            }
            body.push_str(&emit::document(&d));
        }
        out.push(SourceFile {
            name: f.name.clone(),
            text: body,
        });
    }
    if !cx.problems.is_empty() {
        return Err(ConvertError::NoForm(api_version(to), cx.problems));
    }
    let after = load(&out);
    if let Some(p) = after.problems.first() {
        return Err(ConvertError::Changed(format!("{p}")));
    }
    if let Some(name) = first_difference(&before.slos, &after.slos) {
        return Err(ConvertError::Changed(format!("SLO `{name}` differs")));
    }
    Ok(Conversion {
        files: out,
        dropped: cx.dropped,
    })
}

/// `v1` or `v2alpha`, as `--to` spells it.
fn short(v: Version) -> &'static str {
    match v {
        Version::V1 => "v1",
        Version::V2alpha => "v2alpha",
    }
}

/// The name of the first SLO that is not the same in `a` and `b` (where it was written aside).
pub fn first_difference(a: &[SloDefinition], b: &[SloDefinition]) -> Option<String> {
    let norm = |s: &[SloDefinition]| {
        let mut v: Vec<SloDefinition> = s
            .iter()
            .cloned()
            .map(|mut d| {
                d.file.clear();
                d.line = 0;
                d
            })
            .collect();
        v.sort_by(|x, y| x.name.cmp(&y.name));
        v
    };
    let (a, b) = (norm(a), norm(b));
    if a.len() != b.len() {
        return Some(format!("{} SLOs became {}", a.len(), b.len()));
    }
    a.iter()
        .zip(&b)
        .find(|(x, y)| x != y)
        .map(|(x, _)| x.name.clone())
}

/// The conversion of one file under way.
struct Cx {
    file: String,
    to: Version,
    problems: Vec<Problem>,
    dropped: Vec<Problem>,
}

impl Cx {
    fn refuse(&mut self, line: usize, path: &str, message: String) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            path: path.to_string(),
            message,
        });
    }

    fn drop_note(&mut self, line: usize, path: &str, message: &str) {
        self.dropped.push(Problem {
            file: self.file.clone(),
            line,
            path: path.to_string(),
            message: message.to_string(),
        });
    }

    /// One document, in place.
    fn document(&mut self, d: &mut Node) {
        let from = match d.get("apiVersion").and_then(Node::as_scalar) {
            Some(V1) => Version::V1,
            _ => Version::V2alpha,
        };
        if from == self.to {
            return;
        }
        let kind = d
            .get("kind")
            .and_then(Node::as_scalar)
            .unwrap_or_default()
            .to_string();
        self.walk(d, "");
        if let Some(meta) = get_mut(d, "metadata") {
            self.metadata(meta, kind == "SLO");
        }
        let Some(spec) = get_mut(d, "spec") else {
            return;
        };
        match kind.as_str() {
            "SLO" => self.slo_spec(spec),
            "SLI" => self.sli_spec(spec, "spec"),
            _ => {}
        }
    }

    /// apiVersion (inline documents have one too) and durations, wherever they are.
    fn walk(&mut self, n: &mut Node, path: &str) {
        match &mut n.value {
            Value::Map(entries) => {
                for (k, v) in entries.iter_mut() {
                    let key = k.as_scalar().unwrap_or_default().to_string();
                    let p = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if key == "apiVersion" {
                        *v = scalar(api_version(self.to), v.line);
                    } else if key == "metadata" && !path.is_empty() && self.to == Version::V2alpha {
                        // An inline SLI's, policy's or condition's: sloguard shows none of them.
                        if let Some(d) = remove(v, "displayName") {
                            self.drop_note(d.line, &format!("{p}.displayName"), DROPPED_TITLE);
                        }
                        self.walk(v, &p);
                    } else if DURATION_KEYS.contains(&key.as_str()) {
                        self.duration(v, &p);
                    } else {
                        self.walk(v, &p);
                    }
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk(item, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// A duration in the units of the target version (v2alpha: m, h, d, w).
    fn duration(&mut self, v: &mut Node, path: &str) {
        if self.to == Version::V1 {
            return; // every v2alpha unit is a v1 unit
        }
        let Some(text) = v.as_scalar().map(str::trim) else {
            return;
        };
        let digits = text.trim_end_matches(|c: char| !c.is_ascii_digit());
        let unit = &text[digits.len()..];
        let n: Option<u64> = digits.parse().ok();
        match (n, unit) {
            (Some(n), "s") if n % 60 == 0 => *v = scalar(&format!("{}m", n / 60), v.line),
            (_, "s") => self.refuse(
                v.line,
                path,
                format!("`{text}` has no v2alpha form: its durations are whole minutes (m, h, d, w)"),
            ),
            (_, "M" | "Q" | "y" | "Y") => self.refuse(
                v.line,
                path,
                format!("`{text}` has no v2alpha form: its durations end in m (minutes), h, d or w, so calendar months, quarters and years cannot be written; keep this SLO in openslo/v1"),
            ),
            _ => {}
        }
    }

    /// displayName (an SLO's title moves to and from an annotation) and labels.
    fn metadata(&mut self, meta: &mut Node, slo: bool) {
        match self.to {
            Version::V2alpha => {
                if let Some(title) = remove(meta, "displayName") {
                    if slo {
                        let annotations = match get_mut(meta, "annotations") {
                            Some(a) => a,
                            None => {
                                insert_after(meta, "name", "annotations", map_node(title.line));
                                get_mut(meta, "annotations").expect("just inserted")
                            }
                        };
                        insert_after(annotations, "", DISPLAY_NAME_ANNOTATION, title);
                    } else {
                        self.drop_note(title.line, "metadata.displayName", DROPPED_TITLE);
                    }
                }
                if let Some(Value::Map(labels)) = meta.get("labels").map(|l| &l.value) {
                    for (k, v) in labels {
                        if !matches!(v.value, Value::Scalar { .. } | Value::Null) {
                            let key = k.as_scalar().unwrap_or_default();
                            self.refuse(
                                v.line,
                                &format!("metadata.labels.{key}"),
                                "has no v2alpha form: labels are a map of strings there (one value per name)".to_string(),
                            );
                        }
                    }
                }
            }
            Version::V1 => {
                let title =
                    get_mut(meta, "annotations").and_then(|a| remove(a, DISPLAY_NAME_ANNOTATION));
                if let Some(title) = title.filter(|_| slo) {
                    insert_after(meta, "name", "displayName", title);
                }
                if get_mut(meta, "annotations")
                    .is_some_and(|a| matches!(&a.value, Value::Map(e) if e.is_empty()))
                {
                    remove(meta, "annotations");
                }
            }
        }
    }

    /// An SLO's spec: the indicator's field names, the objectives', and the inline SLI.
    fn slo_spec(&mut self, spec: &mut Node) {
        let [from_inline, from_ref] = other(self.to).sli_keys();
        let [inline, by_ref] = self.to.sli_keys();
        if self.to == Version::V1 {
            rename(spec, "serviceRef", "service");
        }
        rename(spec, from_inline, inline);
        rename(spec, from_ref, by_ref);
        if let Some(s) = get_mut(spec, inline).and_then(|i| get_mut(i, "spec")) {
            self.sli_spec(s, &format!("spec.{from_inline}.spec"));
        }
        let to = self.to;
        if let Some(Value::Seq(objectives)) = get_mut(spec, "objectives").map(|o| &mut o.value) {
            for (i, o) in objectives.iter_mut().enumerate() {
                if to == Version::V2alpha {
                    let part = ["indicator", "indicatorRef", "compositeWeight"]
                        .into_iter()
                        .find_map(|k| o.get(k).map(|n| (k, n.line)));
                    if let Some((k, line)) = part {
                        self.refuse(
                            line,
                            &format!("spec.objectives[{i}].{k}"),
                            "has no v2alpha form here: sloguard reads composite SLOs (objectives with their own indicator) in openslo/v1 only".to_string(),
                        );
                    }
                }
                rename(o, from_inline, inline);
                rename(o, from_ref, by_ref);
                if to == Version::V1 {
                    if let Some(l) = remove(o, "labels") {
                        self.drop_note(
                            l.line,
                            &format!("spec.objectives[{i}].labels"),
                            "dropped: openslo/v1 objectives have no labels, and sloguard keeps none",
                        );
                    }
                }
                if let Some(s) = get_mut(o, inline).and_then(|i| get_mut(i, "spec")) {
                    self.sli_spec(s, &format!("spec.objectives[{i}].{from_inline}.spec"));
                }
            }
        }
    }

    /// An SLI spec at `path` (as the input file names it): each of its metrics.
    fn sli_spec(&mut self, spec: &mut Node, path: &str) {
        if let Some(m) = get_mut(spec, "thresholdMetric") {
            self.metric(m, &format!("{path}.thresholdMetric"));
        }
        if let Some(r) = get_mut(spec, "ratioMetric") {
            for role in ["good", "bad", "total", "raw"] {
                if let Some(m) = get_mut(r, role) {
                    self.metric(m, &format!("{path}.ratioMetric.{role}"));
                }
            }
        }
    }

    /// One metric: v1's `metricSource` to v2alpha's `dataSourceRef`/`dataSourceSpec` + `spec`.
    fn metric(&mut self, m: &mut Node, path: &str) {
        match self.to {
            Version::V2alpha => {
                let Some(mut src) = remove(m, "metricSource") else {
                    return;
                };
                let line = src.line;
                let mut spec = remove(&mut src, "spec").unwrap_or_else(|| map_node(line));
                let mut entries = Vec::new();
                match remove(&mut src, "metricSourceRef") {
                    Some(r) => entries.push((scalar("dataSourceRef", r.line), r)),
                    None => {
                        // CloudWatch's connection is its region: it moves to the DataSource.
                        let ty =
                            remove(&mut src, "type").unwrap_or_else(|| scalar("CloudWatch", line));
                        let mut details = map_node(line);
                        if let Some(region) = remove(&mut spec, "region") {
                            insert_after(&mut details, "", "region", region);
                        }
                        let mut ds = map_node(line);
                        insert_after(&mut ds, "", "type", ty);
                        insert_after(&mut ds, "type", "connectionDetails", details);
                        entries.push((scalar("dataSourceSpec", line), ds));
                    }
                }
                entries.push((scalar("spec", spec.line), spec));
                m.value = Value::Map(entries);
            }
            Version::V1 => {
                let mut spec = remove(m, "spec").unwrap_or_else(|| map_node(m.line));
                let mut src = map_node(m.line);
                if let Some(r) = remove(m, "dataSourceRef") {
                    insert_after(&mut src, "", "metricSourceRef", r);
                } else if let Some(mut ds) = remove(m, "dataSourceSpec") {
                    let ty =
                        remove(&mut ds, "type").unwrap_or_else(|| scalar("CloudWatch", ds.line));
                    insert_after(&mut src, "", "type", ty);
                    let mut details =
                        remove(&mut ds, "connectionDetails").unwrap_or_else(|| map_node(ds.line));
                    self.inline_source(&mut details, &mut spec, path);
                    if let Some(d) = remove(&mut ds, "description") {
                        self.drop_note(
                            d.line,
                            &format!("{path}.dataSourceSpec.description"),
                            "dropped: an openslo/v1 metric has no place for its DataSource's description",
                        );
                    }
                }
                insert_after(&mut src, "", "spec", spec);
                m.value = Value::Map(vec![(scalar("metricSource", m.line), src)]);
            }
        }
    }

    /// v2alpha's inline DataSource, which v1 has no place for: its region and account go into
    /// the metric's spec; credentials are dropped (sloguard never reads them).
    fn inline_source(&mut self, details: &mut Node, spec: &mut Node, path: &str) {
        for key in ["region", "accountId"] {
            let Some(v) = remove(details, key) else {
                continue;
            };
            if spec.get(key).is_some() {
                continue; // the metric's own wins, as when loading
            }
            if key == "accountId" && spec.get("json").is_some() {
                self.refuse(
                    v.line,
                    &format!("{path}.dataSourceSpec.connectionDetails.accountId"),
                    "has no openslo/v1 form beside json queries: give each query its AccountId"
                        .to_string(),
                );
                continue;
            }
            insert_after(spec, "", key, v);
        }
        if let Value::Map(rest) = &details.value {
            for (k, _) in rest {
                self.drop_note(
                    k.line,
                    &format!(
                        "{path}.dataSourceSpec.connectionDetails.{}",
                        k.as_scalar().unwrap_or_default()
                    ),
                    "dropped: sloguard reads CloudWatch with its own IAM role and never keeps credentials",
                );
            }
        }
    }
}

/// The version converted from.
fn other(v: Version) -> Version {
    match v {
        Version::V1 => Version::V2alpha,
        Version::V2alpha => Version::V1,
    }
}

/// An empty mapping at `line`.
fn map_node(line: usize) -> Node {
    Node {
        value: Value::Map(Vec::new()),
        line,
    }
}
