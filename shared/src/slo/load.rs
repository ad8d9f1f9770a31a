//! Load OpenSLO v1 documents from several files, resolve references across
//! them, and validate everything at once, so a user sees every problem in one run.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::duration::{self, CalendarUnit, Duration};
use super::model::*;
use super::plan::retention_seconds;
use super::yaml::{self, Node, Value};

/// Annotation prefix of sloguard's own settings.
pub const ANNOTATION_PREFIX: &str = "sloguard.dev/";
const SLO_ANNOTATIONS: [&str; 6] = [
    "alarms",
    "runbook",
    "min-events",
    "exclusions",
    "budget-alerts",
    "exhaustion-severity",
];
const CONDITION_ANNOTATIONS: [&str; 1] = ["short-window"];
/// Largest SLO file accepted: definitions are small; anything bigger is a mistake.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
const MAX_DIMENSIONS: usize = 30;
const MAX_NAME_LEN: usize = 63;

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

/// A document of one file, before its kind is interpreted.
struct Doc<'a> {
    file: &'a str,
    node: &'a Node,
    name: String,
    /// A second definition of a name: still validated (every problem is reported), never used.
    duplicate: bool,
}

struct Ctx {
    problems: Vec<Problem>,
}

impl Ctx {
    fn report(&mut self, file: &str, line: usize, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_string(),
            line,
            path: path.to_string(),
            message: message.into(),
        });
    }
}

/// Where we are: the file and the dotted path of the node being read.
#[derive(Clone, Copy)]
struct At<'a> {
    file: &'a str,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Load and validate OpenSLO documents from several files at once.
pub fn load(files: &[SourceFile]) -> Loaded {
    let mut ctx = Ctx {
        problems: Vec::new(),
    };
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
        match yaml::parse(&f.text) {
            Ok(docs) => trees.push((&f.name, docs)),
            Err(e) => ctx.report(&f.name, e.line, "", format!("invalid YAML: {}", e.message)),
        }
    }

    let mut by_kind: HashMap<&'static str, Vec<Doc>> = HashMap::new();
    let mut first_seen: HashMap<(&'static str, String), (String, usize)> = HashMap::new();
    for (file, docs) in &trees {
        for node in docs {
            let at = At { file };
            if let Some((kind, name)) = read_header(&mut ctx, at, node) {
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
                });
            }
        }
    }

    let docs_of = |k: &str| by_kind.get(k).map(Vec::as_slice).unwrap_or(&[]);

    // Referenced kinds are validated once each, where they are defined.
    let mut slis: HashMap<String, Option<Indicator>> = HashMap::new();
    for d in docs_of("SLI") {
        let spec = d.node.get("spec");
        let ind = spec.and_then(|s| read_sli_spec(&mut ctx, At { file: d.file }, s, "spec"));
        if !d.duplicate {
            slis.insert(d.name.clone(), ind);
        }
    }
    let mut conditions: HashMap<String, Option<BurnRateCondition>> = HashMap::new();
    for d in docs_of("AlertCondition") {
        let c = read_condition(&mut ctx, At { file: d.file }, d.node, "");
        if !d.duplicate {
            conditions.insert(d.name.clone(), c);
        }
    }
    let mut policies: HashMap<String, Option<Vec<BurnRateCondition>>> = HashMap::new();
    for d in docs_of("AlertPolicy") {
        let p = read_policy(&mut ctx, At { file: d.file }, d.node, "", &conditions);
        if !d.duplicate {
            policies.insert(d.name.clone(), p);
        }
    }

    let mut slos = Vec::new();
    for d in docs_of("SLO") {
        if let Some(slo) = read_slo(&mut ctx, d, &slis, &policies, &conditions) {
            if !d.duplicate {
                slos.push(slo);
            }
        }
    }
    Loaded {
        slos,
        problems: ctx.problems,
    }
}

/// Check apiVersion, kind and metadata.name; returns the kind and name.
fn read_header(ctx: &mut Ctx, at: At, node: &Node) -> Option<(&'static str, String)> {
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
        at,
        node,
        "",
        &["apiVersion", "kind", "metadata", "spec"],
    );
    let mut ok = true;
    match req_str(ctx, at, node, "", "apiVersion") {
        Some("openslo/v1") => {}
        Some(other) => {
            ctx.report(
                at.file,
                node.get("apiVersion").map_or(node.line, |n| n.line),
                "apiVersion",
                format!("unsupported apiVersion `{other}`; sloguard reads `openslo/v1`"),
            );
            ok = false;
        }
        None => ok = false,
    }
    let kind = match req_str(ctx, at, node, "", "kind") {
        Some("SLO") => "SLO",
        Some("SLI") => "SLI",
        Some("AlertPolicy") => "AlertPolicy",
        Some("AlertCondition") => "AlertCondition",
        Some("Service") => "Service",
        Some("DataSource") => "DataSource",
        Some("AlertNotificationTarget") => "AlertNotificationTarget",
        Some(other) => {
            ctx.report(
                at.file,
                node.get("kind").map_or(node.line, |n| n.line),
                "kind",
                format!(
                    "unknown kind `{other}`; expected SLO, SLI, AlertPolicy, AlertCondition, Service, DataSource or AlertNotificationTarget"
                ),
            );
            return None;
        }
        None => return None,
    };
    let name = read_metadata_name(ctx, at, node, "")?;
    if node.get("spec").is_none() {
        ctx.report(at.file, node.line, "spec", "missing required field");
        ok = false;
    } else if node.get("spec").and_then(Node::as_map).is_none() {
        let s = node.get("spec").expect("checked");
        ctx.report(
            at.file,
            s.line,
            "spec",
            format!("expected a mapping, found {}", s.kind_name()),
        );
        ok = false;
    }
    ok.then_some((kind, name))
}

fn read_metadata_name(ctx: &mut Ctx, at: At, parent: &Node, prefix: &str) -> Option<String> {
    let meta = req_map(ctx, at, parent, prefix, "metadata")?;
    let path = &join(prefix, "metadata");
    check_fields(
        ctx,
        at,
        meta,
        path,
        &["name", "displayName", "labels", "annotations", "namespace"],
    );
    let p = join(path, "name");
    let name = req_str(ctx, at, meta, path, "name")?;
    let line = meta.get("name").map_or(meta.line, |n| n.line);
    if let Err(msg) = check_name(name) {
        // Reported, but the document is still read so that every other problem shows too.
        ctx.report(at.file, line, &p, msg);
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

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

// ---------- field helpers ----------

fn check_fields(ctx: &mut Ctx, at: At, node: &Node, path: &str, allowed: &[&str]) {
    let Some(entries) = node.as_map() else { return };
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in entries {
        match k.as_scalar() {
            Some(key) => {
                if seen.contains(&key) {
                    ctx.report(at.file, k.line, &join(path, key), "duplicate key");
                } else if !allowed.contains(&key) {
                    ctx.report(
                        at.file,
                        k.line,
                        &join(path, key),
                        format!("unknown field; expected one of: {}", allowed.join(", ")),
                    );
                }
                seen.push(key);
            }
            None => ctx.report(at.file, k.line, path, "mapping keys must be plain strings"),
        }
    }
}

fn req<'n>(ctx: &mut Ctx, at: At, node: &'n Node, path: &str, key: &str) -> Option<&'n Node> {
    match node.get(key) {
        Some(n) if n.value != Value::Null => Some(n),
        Some(n) => {
            ctx.report(at.file, n.line, &join(path, key), "must not be empty");
            None
        }
        None => {
            ctx.report(
                at.file,
                node.line,
                &join(path, key),
                "missing required field",
            );
            None
        }
    }
}

fn req_map<'n>(ctx: &mut Ctx, at: At, node: &'n Node, path: &str, key: &str) -> Option<&'n Node> {
    let n = req(ctx, at, node, path, key)?;
    expect_map(ctx, at, n, &join(path, key))
}

fn expect_map<'n>(ctx: &mut Ctx, at: At, n: &'n Node, path: &str) -> Option<&'n Node> {
    if n.as_map().is_some() {
        Some(n)
    } else {
        ctx.report(
            at.file,
            n.line,
            path,
            format!("expected a mapping, found {}", n.kind_name()),
        );
        None
    }
}

fn req_str<'n>(ctx: &mut Ctx, at: At, node: &'n Node, path: &str, key: &str) -> Option<&'n str> {
    let n = req(ctx, at, node, path, key)?;
    expect_str(ctx, at, n, &join(path, key))
}

fn opt_str<'n>(ctx: &mut Ctx, at: At, node: &'n Node, path: &str, key: &str) -> Option<&'n str> {
    match node.get(key) {
        None => None,
        Some(n) if n.value == Value::Null => None,
        Some(n) => expect_str(ctx, at, n, &join(path, key)),
    }
}

fn expect_str<'n>(ctx: &mut Ctx, at: At, n: &'n Node, path: &str) -> Option<&'n str> {
    match n.as_scalar() {
        Some(s) => Some(s),
        None => {
            ctx.report(
                at.file,
                n.line,
                path,
                format!("expected a string, found {}", n.kind_name()),
            );
            None
        }
    }
}

fn expect_f64(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<f64> {
    match &n.value {
        Value::Scalar {
            text,
            quoted: false,
        } => match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                ctx.report(
                    at.file,
                    n.line,
                    path,
                    format!("expected a number, found `{}`", truncate(text, 40)),
                );
                None
            }
        },
        _ => {
            ctx.report(
                at.file,
                n.line,
                path,
                format!("expected a number, found {}", describe(n)),
            );
            None
        }
    }
}

fn expect_bool(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<bool> {
    match &n.value {
        Value::Scalar {
            text,
            quoted: false,
        } if matches!(text.as_str(), "true" | "True" | "TRUE") => Some(true),
        Value::Scalar {
            text,
            quoted: false,
        } if matches!(text.as_str(), "false" | "False" | "FALSE") => Some(false),
        _ => {
            ctx.report(
                at.file,
                n.line,
                path,
                format!("expected true or false, found {}", describe(n)),
            );
            None
        }
    }
}

fn describe(n: &Node) -> String {
    match &n.value {
        Value::Scalar { text, quoted: true } => format!("the string \"{}\"", truncate(text, 40)),
        Value::Scalar { text, .. } => format!("`{}`", truncate(text, 40)),
        _ => n.kind_name().to_string(),
    }
}

fn opt<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    node.get(key).filter(|n| n.value != Value::Null)
}

fn expect_duration(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<Duration> {
    let s = expect_str(ctx, at, n, path)?;
    match duration::parse(s) {
        Ok(d) => Some(d),
        Err(msg) => {
            ctx.report(at.file, n.line, path, msg);
            None
        }
    }
}

/// A fixed duration in whole minutes (CloudWatch periods are multiples of 60 s).
fn expect_minutes(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<i64> {
    match expect_duration(ctx, at, n, path)? {
        Duration::Seconds(s) if s % 60 == 0 => Some(s),
        Duration::Seconds(_) => {
            ctx.report(
                at.file,
                n.line,
                path,
                "must be a whole number of minutes (CloudWatch periods are multiples of 60 s)",
            );
            None
        }
        Duration::Calendar(..) => {
            ctx.report(
                at.file,
                n.line,
                path,
                "must be a fixed duration (s, m, h, d or w), not a calendar unit",
            );
            None
        }
    }
}

// ---------- SLI ----------

fn read_sli_spec(ctx: &mut Ctx, at: At, spec: &Node, path: &str) -> Option<Indicator> {
    let spec = expect_map(ctx, at, spec, path)?;
    check_fields(
        ctx,
        at,
        spec,
        path,
        &["description", "thresholdMetric", "ratioMetric"],
    );
    match (opt(spec, "thresholdMetric"), opt(spec, "ratioMetric")) {
        (Some(_), Some(r)) => {
            ctx.report(
                at.file,
                r.line,
                path,
                "set exactly one of thresholdMetric and ratioMetric, not both",
            );
            None
        }
        (None, None) => {
            ctx.report(
                at.file,
                spec.line,
                path,
                "missing indicator: set thresholdMetric or ratioMetric",
            );
            None
        }
        (Some(t), None) => {
            let metric = read_metric(ctx, at, t, &join(path, "thresholdMetric"))?;
            Some(Indicator::Threshold { metric })
        }
        (None, Some(r)) => {
            let p = join(path, "ratioMetric");
            let r = expect_map(ctx, at, r, &p)?;
            check_fields(
                ctx,
                at,
                r,
                &p,
                &["counter", "good", "bad", "total", "rawType", "raw"],
            );
            if let Some(c) = opt(r, "counter") {
                // Sum per period is already an increment, so counter true/false read alike.
                expect_bool(ctx, at, c, &join(&p, "counter"));
            }
            if let Some(raw) = opt(r, "raw") {
                ctx.report(
                    at.file,
                    raw.line,
                    &join(&p, "raw"),
                    "raw ratio metrics are not supported; use good or bad with total",
                );
                return None;
            }
            let (good, numerator) = match (opt(r, "good"), opt(r, "bad")) {
                (Some(_), Some(b)) => {
                    ctx.report(
                        at.file,
                        b.line,
                        &join(&p, "bad"),
                        "set exactly one of good and bad, not both",
                    );
                    return None;
                }
                (None, None) => {
                    ctx.report(
                        at.file,
                        r.line,
                        &join(&p, "good"),
                        "missing required field: set good or bad",
                    );
                    return None;
                }
                (Some(g), None) => (true, read_metric(ctx, at, g, &join(&p, "good"))),
                (None, Some(b)) => (false, read_metric(ctx, at, b, &join(&p, "bad"))),
            };
            let total = req(ctx, at, r, &p, "total")
                .and_then(|t| read_metric(ctx, at, t, &join(&p, "total")));
            Some(Indicator::Ratio {
                good,
                numerator: numerator?,
                total: total?,
            })
        }
    }
}

fn read_metric(ctx: &mut Ctx, at: At, node: &Node, path: &str) -> Option<MetricSpec> {
    let node = expect_map(ctx, at, node, path)?;
    check_fields(ctx, at, node, path, &["metricSource"]);
    let p = join(path, "metricSource");
    let src = req_map(ctx, at, node, path, "metricSource")?;
    check_fields(ctx, at, src, &p, &["metricSourceRef", "type", "spec"]);
    if let Some(r) = opt(src, "metricSourceRef") {
        ctx.report(
            at.file,
            r.line,
            &join(&p, "metricSourceRef"),
            "DataSource references are not supported; write `type: CloudWatch` and its spec inline",
        );
        return None;
    }
    let ty = req_str(ctx, at, src, &p, "type")?;
    if !ty.eq_ignore_ascii_case("cloudwatch") {
        let line = src.get("type").map_or(src.line, |n| n.line);
        ctx.report(
            at.file,
            line,
            &join(&p, "type"),
            format!(
                "sloguard reads CloudWatch metrics only; type `{}` is not supported",
                truncate(ty, 40)
            ),
        );
        return None;
    }
    let sp = join(&p, "spec");
    let spec = req_map(ctx, at, src, &p, "spec")?;
    check_fields(
        ctx,
        at,
        spec,
        &sp,
        &[
            "region",
            "namespace",
            "metricName",
            "stat",
            "dimensions",
            "accountId",
            "json",
            "sql",
        ],
    );
    let region = req_str(ctx, at, spec, &sp, "region").and_then(|r| {
        let line = spec.get("region").map_or(spec.line, |n| n.line);
        if valid_region(r) {
            Some(r.to_string())
        } else {
            ctx.report(
                at.file,
                line,
                &join(&sp, "region"),
                format!("`{}` is not an AWS region like us-east-1", truncate(r, 40)),
            );
            None
        }
    });
    if let Some(sql) = opt(spec, "sql") {
        ctx.report(
            at.file,
            sql.line,
            &join(&sp, "sql"),
            "CloudWatch Metrics Insights (sql) is not supported yet; use namespace/metricName/stat or json",
        );
        return None;
    }
    if let Some(json) = opt(spec, "json") {
        for k in ["namespace", "metricName", "stat", "dimensions", "accountId"] {
            if let Some(n) = opt(spec, k) {
                ctx.report(
                    at.file,
                    n.line,
                    &join(&sp, k),
                    "not allowed together with json; put it inside the json queries",
                );
            }
        }
        let jp = join(&sp, "json");
        let text = expect_str(ctx, at, json, &jp)?;
        let queries = match parse_queries_json(text) {
            Ok(q) => q,
            Err(msg) => {
                ctx.report(at.file, json.line, &jp, msg);
                return None;
            }
        };
        return Some(MetricSpec::Queries {
            region: region?,
            queries,
        });
    }
    let namespace = req_str(ctx, at, spec, &sp, "namespace").map(str::to_string);
    let metric_name = req_str(ctx, at, spec, &sp, "metricName").map(str::to_string);
    let stat = req_str(ctx, at, spec, &sp, "stat").and_then(|s| {
        let line = spec.get("stat").map_or(spec.line, |n| n.line);
        match check_stat(s) {
            Ok(()) => Some(s.to_string()),
            Err(m) => {
                ctx.report(at.file, line, &join(&sp, "stat"), m);
                None
            }
        }
    });
    let account_id = opt_str(ctx, at, spec, &sp, "accountId").and_then(|a| {
        if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
            Some(Some(a.to_string()))
        } else {
            let line = spec.get("accountId").map_or(spec.line, |n| n.line);
            ctx.report(
                at.file,
                line,
                &join(&sp, "accountId"),
                "must be a 12-digit AWS account id",
            );
            None
        }
    });
    let dimensions = match opt(spec, "dimensions") {
        None => Some(Vec::new()),
        Some(d) => read_dimensions(ctx, at, d, &join(&sp, "dimensions")),
    };
    Some(MetricSpec::Metric {
        region: region?,
        account_id: account_id.unwrap_or(None),
        namespace: namespace?,
        metric_name: metric_name?,
        stat: stat?,
        dimensions: dimensions?,
    })
}

fn read_dimensions(ctx: &mut Ctx, at: At, d: &Node, path: &str) -> Option<Vec<(String, String)>> {
    let Some(items) = d.as_seq() else {
        ctx.report(
            at.file,
            d.line,
            path,
            format!(
                "expected a list of {{name, value}}, found {}",
                d.kind_name()
            ),
        );
        return None;
    };
    if items.len() > MAX_DIMENSIONS {
        ctx.report(
            at.file,
            d.line,
            path,
            format!(
                "{} dimensions; CloudWatch allows at most {MAX_DIMENSIONS}",
                items.len()
            ),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{path}[{i}]");
        let Some(item) = expect_map(ctx, at, item, &ip) else {
            ok = false;
            continue;
        };
        check_fields(ctx, at, item, &ip, &["name", "value"]);
        match (
            req_str(ctx, at, item, &ip, "name"),
            req_str(ctx, at, item, &ip, "value"),
        ) {
            (Some(n), Some(v)) => out.push((n.to_string(), v.to_string())),
            _ => ok = false,
        }
    }
    out.sort();
    for w in out.windows(2) {
        if w[0].0 == w[1].0 {
            ctx.report(
                at.file,
                d.line,
                path,
                format!("dimension `{}` is given twice", w[0].0),
            );
            ok = false;
        }
    }
    ok.then_some(out)
}

fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn check_stat(s: &str) -> Result<(), String> {
    const NAMED: [&str; 6] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"];
    let extended = [
        "p", "tm", "wm", "tc", "ts", "pr", "TM", "WM", "TC", "TS", "PR",
    ]
    .iter()
    .any(|pre| {
        s.strip_prefix(pre).is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_digit() || b == b'(')
        })
    });
    if NAMED.contains(&s) || extended {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a CloudWatch statistic; use Sum, SampleCount, Average, Minimum, Maximum or a percentile like p99",
            truncate(s, 40)
        ))
    }
}

/// Parse the Nobl9 `json` spec: a list of MetricDataQuery objects, exactly one returning data.
pub fn parse_queries_json(text: &str) -> Result<Vec<QuerySpec>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("json is not valid JSON: {e}"))?;
    let items = v
        .as_array()
        .ok_or("json must be a list of MetricDataQuery objects")?;
    if items.is_empty() || items.len() > 50 {
        return Err(format!(
            "json must hold 1 to 50 queries, found {}",
            items.len()
        ));
    }
    let mut out = Vec::new();
    for (i, q) in items.iter().enumerate() {
        let obj = q
            .as_object()
            .ok_or(format!("json[{i}] must be an object"))?;
        for k in obj.keys() {
            if ![
                "Id",
                "Expression",
                "MetricStat",
                "ReturnData",
                "AccountId",
                "Label",
                "Period",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("json[{i}].{k}: unknown MetricDataQuery field"));
            }
        }
        let id = obj
            .get("Id")
            .and_then(|x| x.as_str())
            .ok_or(format!("json[{i}].Id: missing or not a string"))?;
        let id_ok = id.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && id.len() <= 255;
        if !id_ok {
            return Err(format!("json[{i}].Id: `{}` must start with a lowercase letter and hold only letters, digits and _", truncate(id, 40)));
        }
        if out.iter().any(|o: &QuerySpec| o.id == id) {
            return Err(format!("json[{i}].Id: `{id}` is used twice"));
        }
        let return_data = match obj.get("ReturnData") {
            None => true,
            Some(b) => b
                .as_bool()
                .ok_or(format!("json[{i}].ReturnData: expected true or false"))?,
        };
        let account_id = obj
            .get("AccountId")
            .and_then(|x| x.as_str())
            .map(str::to_string);
        let expression = obj
            .get("Expression")
            .map(|e| {
                e.as_str()
                    .map(str::to_string)
                    .ok_or(format!("json[{i}].Expression: expected a string"))
            })
            .transpose()?;
        let metric = match obj.get("MetricStat") {
            None => None,
            Some(ms) => {
                let m = ms
                    .get("Metric")
                    .ok_or(format!("json[{i}].MetricStat.Metric: missing"))?;
                let s = |o: &serde_json::Value, k: &str, p: &str| -> Result<String, String> {
                    o.get(k)
                        .and_then(|x| x.as_str())
                        .map(str::to_string)
                        .ok_or(format!("json[{i}].{p}{k}: missing or not a string"))
                };
                let namespace = s(m, "Namespace", "MetricStat.Metric.")?;
                let metric_name = s(m, "MetricName", "MetricStat.Metric.")?;
                let stat = s(ms, "Stat", "MetricStat.")?;
                check_stat(&stat).map_err(|e| format!("json[{i}].MetricStat.Stat: {e}"))?;
                let mut dimensions = Vec::new();
                if let Some(ds) = m.get("Dimensions") {
                    let ds = ds.as_array().ok_or(format!(
                        "json[{i}].MetricStat.Metric.Dimensions: expected a list"
                    ))?;
                    if ds.len() > MAX_DIMENSIONS {
                        return Err(format!(
                            "json[{i}].MetricStat.Metric.Dimensions: at most {MAX_DIMENSIONS}"
                        ));
                    }
                    for d in ds {
                        dimensions.push((
                            s(d, "Name", "MetricStat.Metric.Dimensions[].")?,
                            s(d, "Value", "MetricStat.Metric.Dimensions[].")?,
                        ));
                    }
                }
                dimensions.sort();
                Some(MetricStatSpec {
                    namespace,
                    metric_name,
                    stat,
                    dimensions,
                })
            }
        };
        match (&expression, &metric) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(format!(
                    "json[{i}]: set exactly one of Expression and MetricStat"
                ));
            }
            _ => {}
        }
        out.push(QuerySpec {
            id: id.to_string(),
            return_data,
            expression,
            metric,
            account_id,
        });
    }
    let returning = out.iter().filter(|q| q.return_data).count();
    if returning != 1 {
        return Err(format!(
            "exactly one query must return data (ReturnData true or absent); found {returning}: set \"ReturnData\": false on the helpers"
        ));
    }
    Ok(out)
}

// ---------- alert conditions and policies ----------

fn read_condition(ctx: &mut Ctx, at: At, doc: &Node, path: &str) -> Option<BurnRateCondition> {
    let name = read_metadata_name(ctx, at, doc, path)?;
    let meta = doc.get("metadata").expect("name was read");
    let mut short_override = None;
    for (key, value, line) in annotations(ctx, at, meta, &join(path, "metadata.annotations")) {
        let ap = format!("{}.metadata.annotations.{key}", path)
            .trim_start_matches('.')
            .to_string();
        if let Some(k) = key.strip_prefix(ANNOTATION_PREFIX) {
            if CONDITION_ANNOTATIONS.contains(&k) {
                match duration::parse(&value) {
                    Ok(Duration::Seconds(s)) if s % 60 == 0 => short_override = Some(s),
                    _ => ctx.report(
                        at.file,
                        line,
                        &ap,
                        format!(
                            "`{}` is not a whole-minute duration like 5m",
                            truncate(&value, 40)
                        ),
                    ),
                }
            } else {
                ctx.report(
                    at.file,
                    line,
                    &ap,
                    format!(
                        "unknown sloguard setting; AlertConditions accept: {}",
                        prefixed(&CONDITION_ANNOTATIONS)
                    ),
                );
            }
        }
    }
    let sp = join(path, "spec");
    let spec = req_map(ctx, at, doc, path, "spec")?;
    check_fields(
        ctx,
        at,
        spec,
        &sp,
        &["description", "severity", "condition"],
    );
    let severity = req_str(ctx, at, spec, &sp, "severity").and_then(|s| {
        let line = spec.get("severity").map_or(spec.line, |n| n.line);
        match s.to_ascii_lowercase().as_str() {
            "page" | "critical" | "high" => Some(Severity::Page),
            "ticket" | "warning" | "medium" | "low" => Some(Severity::Ticket),
            _ => {
                ctx.report(
                    at.file,
                    line,
                    &join(&sp, "severity"),
                    format!("unknown severity `{}`; use page or ticket", truncate(s, 40)),
                );
                None
            }
        }
    });
    let cp = join(&sp, "condition");
    let cond = req_map(ctx, at, spec, &sp, "condition")?;
    check_fields(
        ctx,
        at,
        cond,
        &cp,
        &["kind", "op", "threshold", "lookbackWindow", "alertAfter"],
    );
    let kind_ok = match req_str(ctx, at, cond, &cp, "kind") {
        Some("burnrate") => true,
        Some(k) => {
            let line = cond.get("kind").map_or(cond.line, |n| n.line);
            ctx.report(
                at.file,
                line,
                &join(&cp, "kind"),
                format!(
                    "unknown condition kind `{}`; sloguard evaluates `burnrate`",
                    truncate(k, 40)
                ),
            );
            false
        }
        None => false,
    };
    let op = req_str(ctx, at, cond, &cp, "op").and_then(|o| {
        let line = cond.get("op").map_or(cond.line, |n| n.line);
        parse_op(ctx, at, o, line, &join(&cp, "op"))
    });
    let threshold = req(ctx, at, cond, &cp, "threshold").and_then(|n| {
        let v = expect_f64(ctx, at, n, &join(&cp, "threshold"))?;
        if v > 0.0 {
            Some(v)
        } else {
            ctx.report(
                at.file,
                n.line,
                &join(&cp, "threshold"),
                "a burn-rate threshold must be greater than 0",
            );
            None
        }
    });
    let long = req(ctx, at, cond, &cp, "lookbackWindow")
        .and_then(|n| expect_minutes(ctx, at, n, &join(&cp, "lookbackWindow")));
    let alert_after = match opt(cond, "alertAfter") {
        None => Some(0),
        Some(n)
            if n.as_scalar().is_some_and(|s| {
                s.trim_end_matches(['s', 'm', 'h'])
                    .bytes()
                    .all(|b| b == b'0')
            }) =>
        {
            Some(0)
        }
        Some(n) => expect_minutes(ctx, at, n, &join(&cp, "alertAfter")),
    };
    let long = long?;
    let short = short_override.unwrap_or_else(|| (long / 12 / 60).max(1) * 60);
    if short > long {
        ctx.report(
            at.file,
            meta.line,
            &join(path, "metadata.annotations"),
            "sloguard.dev/short-window must not be longer than lookbackWindow",
        );
        return None;
    }
    if !kind_ok {
        return None;
    }
    Some(BurnRateCondition {
        name,
        severity: severity?,
        op: op?,
        threshold: threshold?,
        long_seconds: long,
        short_seconds: short,
        alert_after_seconds: alert_after?,
    })
}

fn parse_op(ctx: &mut Ctx, at: At, o: &str, line: usize, path: &str) -> Option<Op> {
    match o {
        "lt" => Some(Op::Lt),
        "lte" => Some(Op::Lte),
        "gt" => Some(Op::Gt),
        "gte" => Some(Op::Gte),
        _ => {
            ctx.report(
                at.file,
                line,
                path,
                format!("unknown op `{}`; use lt, lte, gt or gte", truncate(o, 20)),
            );
            None
        }
    }
}

fn read_policy(
    ctx: &mut Ctx,
    at: At,
    doc: &Node,
    path: &str,
    conditions: &HashMap<String, Option<BurnRateCondition>>,
) -> Option<Vec<BurnRateCondition>> {
    read_metadata_name(ctx, at, doc, path)?;
    let sp = join(path, "spec");
    let spec = req_map(ctx, at, doc, path, "spec")?;
    check_fields(
        ctx,
        at,
        spec,
        &sp,
        &[
            "description",
            "alertWhenNoData",
            "alertWhenResolved",
            "alertWhenBreaching",
            "conditions",
            "notificationTargets",
        ],
    );
    for k in ["alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"] {
        if let Some(n) = opt(spec, k) {
            expect_bool(ctx, at, n, &join(&sp, k));
        }
    }
    let cp = join(&sp, "conditions");
    let list = req(ctx, at, spec, &sp, "conditions")?;
    let Some(items) = list.as_seq() else {
        ctx.report(
            at.file,
            list.line,
            &cp,
            format!("expected a list, found {}", list.kind_name()),
        );
        return None;
    };
    if items.is_empty() {
        ctx.report(
            at.file,
            list.line,
            &cp,
            "an alert policy needs at least one condition",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{cp}[{i}]");
        let Some(item) = expect_map(ctx, at, item, &ip) else {
            ok = false;
            continue;
        };
        if let Some(r) = item.get("conditionRef") {
            check_fields(ctx, at, item, &ip, &["conditionRef"]);
            let Some(name) = expect_str(ctx, at, r, &join(&ip, "conditionRef")) else {
                ok = false;
                continue;
            };
            match conditions.get(name) {
                Some(Some(c)) => out.push(c.clone()),
                Some(None) => ok = false, // reported where it is defined
                None => {
                    ctx.report(
                        at.file,
                        r.line,
                        &join(&ip, "conditionRef"),
                        format!(
                            "no AlertCondition named `{}` in the files given",
                            truncate(name, 80)
                        ),
                    );
                    ok = false;
                }
            }
        } else {
            check_fields(
                ctx,
                at,
                item,
                &ip,
                &["kind", "metadata", "spec", "apiVersion"],
            );
            if let Some(k) = opt_str(ctx, at, item, &ip, "kind") {
                if k != "AlertCondition" {
                    let line = item.get("kind").map_or(item.line, |n| n.line);
                    ctx.report(
                        at.file,
                        line,
                        &join(&ip, "kind"),
                        "an inline condition must have kind AlertCondition",
                    );
                    ok = false;
                    continue;
                }
            }
            match read_condition(ctx, at, item, &ip) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
    }
    ok.then_some(out)
}

fn prefixed(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{ANNOTATION_PREFIX}{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn annotations(ctx: &mut Ctx, at: At, meta: &Node, path: &str) -> Vec<(String, String, usize)> {
    let Some(a) = opt(meta, "annotations") else {
        return Vec::new();
    };
    let Some(entries) = a.as_map() else {
        ctx.report(
            at.file,
            a.line,
            path,
            format!("expected a mapping of strings, found {}", a.kind_name()),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let (Some(key), Some(text)) = (k.as_scalar(), v.as_scalar()) else {
            ctx.report(
                at.file,
                k.line,
                path,
                "annotation keys and values must be strings",
            );
            continue;
        };
        out.push((key.to_string(), text.to_string(), v.line));
    }
    out
}

// ---------- SLO ----------

fn read_slo(
    ctx: &mut Ctx,
    d: &Doc,
    slis: &HashMap<String, Option<Indicator>>,
    policies: &HashMap<String, Option<Vec<BurnRateCondition>>>,
    conditions: &HashMap<String, Option<BurnRateCondition>>,
) -> Option<SloDefinition> {
    let at = At { file: d.file };
    let node = d.node;
    let meta = node.get("metadata").expect("header was read");
    let display_name = opt_str(ctx, at, meta, "metadata", "displayName").map(str::to_string);
    let (settings, annotations) = read_settings(ctx, at, meta);
    let spec = node.get("spec").expect("header was read");
    check_fields(
        ctx,
        at,
        spec,
        "spec",
        &[
            "description",
            "service",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        ],
    );
    let description = opt_str(ctx, at, spec, "spec", "description").map(str::to_string);
    let service = req_str(ctx, at, spec, "spec", "service").and_then(|s| {
        let line = spec.get("service").map_or(spec.line, |n| n.line);
        match check_name(s) {
            Ok(()) => Some(s.to_string()),
            Err(m) => {
                ctx.report(at.file, line, "spec.service", m);
                None
            }
        }
    });

    let indicator = match (opt(spec, "indicator"), opt(spec, "indicatorRef")) {
        (Some(_), Some(r)) => {
            ctx.report(
                at.file,
                r.line,
                "spec.indicatorRef",
                "set exactly one of indicator and indicatorRef, not both",
            );
            None
        }
        (None, None) => {
            ctx.report(
                at.file,
                spec.line,
                "spec.indicator",
                "missing required field: set indicator or indicatorRef",
            );
            None
        }
        (Some(ind), None) => expect_map(ctx, at, ind, "spec.indicator").and_then(|ind| {
            check_fields(
                ctx,
                at,
                ind,
                "spec.indicator",
                &["metadata", "spec", "kind", "apiVersion"],
            );
            if ind.get("metadata").is_some() {
                read_metadata_name(ctx, at, ind, "spec.indicator");
            }
            let s = req(ctx, at, ind, "spec.indicator", "spec")?;
            read_sli_spec(ctx, at, s, "spec.indicator.spec")
        }),
        (None, Some(r)) => {
            expect_str(ctx, at, r, "spec.indicatorRef").and_then(|name| match slis.get(name) {
                Some(i) => i.clone(),
                None => {
                    ctx.report(
                        at.file,
                        r.line,
                        "spec.indicatorRef",
                        format!("no SLI named `{}` in the files given", truncate(name, 80)),
                    );
                    None
                }
            })
        }
    };

    let window = read_window(ctx, at, spec);
    let method = req_str(ctx, at, spec, "spec", "budgetingMethod").and_then(|m| {
        let line = spec.get("budgetingMethod").map_or(spec.line, |n| n.line);
        match m {
            "Occurrences" => Some(BudgetingMethod::Occurrences),
            "Timeslices" | "TimeSlices" => Some(BudgetingMethod::Timeslices),
            "RatioTimeslices" | "RatioTimeSlices" => Some(BudgetingMethod::RatioTimeslices),
            _ => {
                ctx.report(at.file, line, "spec.budgetingMethod", format!("unknown budgeting method `{}`; use Occurrences, Timeslices or RatioTimeslices", truncate(m, 40)));
                None
            }
        }
    });
    let objective = read_objective(ctx, at, spec);

    let conds = match opt(spec, "alertPolicies") {
        None => Some(None),
        Some(list) => read_slo_policies(ctx, at, list, policies, conditions).map(Some),
    };

    let (indicator, window, method, objective, conds, service) =
        (indicator?, window?, method?, objective?, conds?, service?);
    let objective = check_method(ctx, at, spec, &indicator, method, objective)?;
    let conditions = conds.unwrap_or_else(|| default_conditions(&window));
    check_retention(
        ctx,
        at,
        spec,
        &window,
        method,
        &objective,
        &conditions,
        &indicator,
    )?;
    Some(SloDefinition {
        name: d.name.clone(),
        display_name,
        service,
        description,
        indicator,
        window,
        method,
        objective,
        conditions,
        settings: settings?,
        annotations,
        file: d.file.to_string(),
        line: node.line,
    })
}

fn read_settings(
    ctx: &mut Ctx,
    at: At,
    meta: &Node,
) -> (Option<Settings>, BTreeMap<String, String>) {
    let mut settings = Settings::default();
    let mut others = BTreeMap::new();
    let mut ok = true;
    for (key, value, line) in annotations(ctx, at, meta, "metadata.annotations") {
        let path = format!("metadata.annotations.{key}");
        let Some(k) = key.strip_prefix(ANNOTATION_PREFIX) else {
            others.insert(key, value);
            continue;
        };
        let mut bad = |ctx: &mut Ctx, msg: String| {
            ctx.report(at.file, line, &path, msg);
            ok = false;
        };
        match k {
            "alarms" => {
                for a in value.split(',').map(str::trim) {
                    if a.is_empty() || a.len() > 255 || a.chars().any(|c| c.is_control()) {
                        bad(ctx, format!("`{}` is not an alarm name or ARN (1 to 255 printable characters, comma-separated)", truncate(a, 60)));
                    } else if a.starts_with("arn:") && !a.starts_with("arn:aws") {
                        bad(
                            ctx,
                            format!("`{}` is not a CloudWatch alarm ARN", truncate(a, 60)),
                        );
                    } else {
                        settings.alarms.push(a.to_string());
                    }
                }
            }
            "runbook" => match check_url(&value) {
                Ok(()) => settings.runbook = Some(value),
                Err(m) => bad(ctx, m),
            },
            "min-events" => match value.trim().parse::<u64>() {
                Ok(n) => settings.min_events = n,
                Err(_) => bad(
                    ctx,
                    format!("`{}` is not a whole number of events", truncate(&value, 40)),
                ),
            },
            "exclusions" => match parse_exclusions(&value) {
                Ok(x) => settings.exclusions = x,
                Err(m) => bad(ctx, m),
            },
            "budget-alerts" => match parse_budget_alerts(&value) {
                Ok(x) => settings.budget_alerts = x,
                Err(m) => bad(ctx, m),
            },
            "exhaustion-severity" => match value.trim() {
                "page" => settings.exhaustion_severity = Severity::Page,
                "ticket" => settings.exhaustion_severity = Severity::Ticket,
                other => bad(
                    ctx,
                    format!("`{}` is not `page` or `ticket`", truncate(other, 40)),
                ),
            },
            _ => bad(
                ctx,
                format!(
                    "unknown sloguard setting; SLOs accept: {}",
                    prefixed(&SLO_ANNOTATIONS)
                ),
            ),
        }
    }
    (ok.then_some(settings), others)
}

/// Parse `50,75,100`: percentages of the error budget consumed, each announced once a period.
pub fn parse_budget_alerts(v: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.trim_end_matches('%').parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => out.push(n),
            _ => {
                return Err(format!(
                    "`{}` is not a percentage of the budget consumed (1 to 100, e.g. 50,75,100)",
                    truncate(part, 40)
                ))
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn check_url(u: &str) -> Result<(), String> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && !r.starts_with('/')
                && !u.chars().any(|c| c.is_whitespace() || c.is_control())
                && u.len() <= 2048 =>
        {
            Ok(())
        }
        _ => Err(format!("`{}` is not an http(s) URL", truncate(u, 60))),
    }
}

/// Parse `start/end,start/end` RFC 3339 ranges into sorted [start, end) epoch seconds.
pub fn parse_exclusions(v: &str) -> Result<Vec<(i64, i64)>, String> {
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('/').ok_or_else(|| {
            format!(
                "`{}` is not a range `start/end` of RFC 3339 times",
                truncate(part, 60)
            )
        })?;
        let parse = |s: &str| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.timestamp())
                .map_err(|_| {
                    format!(
                        "`{}` is not an RFC 3339 time like 2026-01-31T22:00:00Z",
                        truncate(s, 40)
                    )
                })
        };
        let (a, b) = (parse(a)?, parse(b)?);
        if a >= b {
            return Err(format!(
                "`{}`: the start must be before the end",
                truncate(part, 60)
            ));
        }
        out.push((a, b));
    }
    out.sort();
    Ok(out)
}

/// The one mapping in the list `spec.<key>`; `many` words the problem when there are more or fewer.
fn single_entry<'n>(
    ctx: &mut Ctx,
    at: At,
    spec: &'n Node,
    key: &str,
    many: &dyn Fn(usize) -> String,
) -> Option<&'n Node> {
    let path = join("spec", key);
    let list = req(ctx, at, spec, "spec", key)?;
    let Some(items) = list.as_seq() else {
        ctx.report(
            at.file,
            list.line,
            &path,
            format!("expected a list with one entry, found {}", list.kind_name()),
        );
        return None;
    };
    if items.len() != 1 {
        ctx.report(at.file, list.line, &path, many(items.len()));
        return None;
    }
    expect_map(ctx, at, &items[0], &format!("{path}[0]"))
}

fn read_window(ctx: &mut Ctx, at: At, spec: &Node) -> Option<TimeWindow> {
    let w = single_entry(ctx, at, spec, "timeWindow", &|n| {
        format!("must have exactly one entry, found {n}")
    })?;
    let p = "spec.timeWindow[0]";
    check_fields(ctx, at, w, p, &["duration", "isRolling", "calendar"]);
    let dn = req(ctx, at, w, p, "duration")?;
    let dur = expect_duration(ctx, at, dn, &join(p, "duration"))?;
    let rolling = match opt(w, "isRolling") {
        Some(n) => expect_bool(ctx, at, n, &join(p, "isRolling"))?,
        None => opt(w, "calendar").is_none(),
    };
    if rolling {
        if let Some(c) = opt(w, "calendar") {
            ctx.report(
                at.file,
                c.line,
                &join(p, "calendar"),
                "a rolling window has no calendar; drop it or set isRolling: false",
            );
            return None;
        }
        return match dur {
            Duration::Seconds(s) if s % 60 != 0 || s < 300 => {
                ctx.report(
                    at.file,
                    dn.line,
                    &join(p, "duration"),
                    "a rolling window must be whole minutes and at least 5m",
                );
                None
            }
            Duration::Seconds(s) if s > 455 * 86_400 => {
                ctx.report(
                    at.file,
                    dn.line,
                    &join(p, "duration"),
                    "CloudWatch keeps data for 455 days; the window must not be longer",
                );
                None
            }
            Duration::Seconds(seconds) => Some(TimeWindow::Rolling { seconds }),
            Duration::Calendar(..) => {
                ctx.report(at.file, dn.line, &join(p, "duration"), "a rolling window needs a fixed length (m, h, d, w); calendar months, quarters and years need isRolling: false and calendar");
                None
            }
        };
    }
    let unit = match dur {
        Duration::Seconds(86_400) => CalendarUnit::Day,
        Duration::Seconds(604_800) => CalendarUnit::Week,
        Duration::Calendar(1, u) => u,
        _ => {
            ctx.report(
                at.file,
                dn.line,
                &join(p, "duration"),
                "a calendar window is one of 1d, 1w, 1M, 1Q, 1y",
            );
            return None;
        }
    };
    let cp = join(p, "calendar");
    let cal = req_map(ctx, at, w, p, "calendar")?;
    check_fields(ctx, at, cal, &cp, &["startTime", "timeZone"]);
    let start = req_str(ctx, at, cal, &cp, "startTime").and_then(|s| {
        let line = cal.get("startTime").map_or(cal.line, |n| n.line);
        let parsed = DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                    .ok()
                    .map(|n| n.and_utc())
            })
            .or_else(|| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|n| n.and_utc())
            });
        if parsed.is_none() {
            ctx.report(
                at.file,
                line,
                &join(&cp, "startTime"),
                format!(
                    "`{}` is not a time like 2026-01-05 00:00:00",
                    truncate(s, 40)
                ),
            );
        }
        parsed
    });
    let tz = req_str(ctx, at, cal, &cp, "timeZone").and_then(|z| {
        let line = cal.get("timeZone").map_or(cal.line, |n| n.line);
        match z.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                ctx.report(
                    at.file,
                    line,
                    &join(&cp, "timeZone"),
                    format!(
                        "`{}` is not an IANA time zone like Europe/Berlin or UTC",
                        truncate(z, 40)
                    ),
                );
                None
            }
        }
    });
    Some(TimeWindow::Calendar {
        unit,
        start: start?,
        tz: tz?,
    })
}

fn read_objective(ctx: &mut Ctx, at: At, spec: &Node) -> Option<Objective> {
    let o = single_entry(ctx, at, spec, "objectives", &|n| {
        format!("sloguard evaluates exactly one objective per SLO, found {n}; split them into several SLOs")
    })?;
    let p = "spec.objectives[0]";
    check_fields(
        ctx,
        at,
        o,
        p,
        &[
            "displayName",
            "op",
            "value",
            "target",
            "targetPercent",
            "timeSliceTarget",
            "timeSliceWindow",
            "indicator",
            "indicatorRef",
            "compositeWeight",
        ],
    );
    for k in ["indicator", "indicatorRef", "compositeWeight"] {
        if let Some(n) = opt(o, k) {
            ctx.report(
                at.file,
                n.line,
                &join(p, k),
                "composite SLOs are not supported; give the indicator in spec.indicator",
            );
        }
    }
    let display_name = opt_str(ctx, at, o, p, "displayName").map(str::to_string);
    let target = match (opt(o, "target"), opt(o, "targetPercent")) {
        (Some(_), Some(n)) => {
            ctx.report(at.file, n.line, &join(p, "targetPercent"), "set exactly one of target and targetPercent, not both");
            None
        }
        (None, None) => {
            ctx.report(at.file, o.line, &join(p, "target"), "missing required field: set target (0..1) or targetPercent (0..100)");
            None
        }
        (Some(n), None) => expect_f64(ctx, at, n, &join(p, "target")).and_then(|t| {
            if t > 0.0 && t < 1.0 {
                Some(t)
            } else {
                ctx.report(at.file, n.line, &join(p, "target"), format!("{t} is out of range: a target is a fraction strictly between 0 and 1 (e.g. 0.999)"));
                None
            }
        }),
        (None, Some(n)) => expect_f64(ctx, at, n, &join(p, "targetPercent")).and_then(|t| {
            if t > 0.0 && t < 100.0 {
                Some(t / 100.0)
            } else {
                ctx.report(at.file, n.line, &join(p, "targetPercent"), format!("{t} is out of range: targetPercent is strictly between 0 and 100"));
                None
            }
        }),
    };
    let op = opt(o, "op").and_then(|n| {
        let s = expect_str(ctx, at, n, &join(p, "op"))?;
        parse_op(ctx, at, s, n.line, &join(p, "op"))
    });
    let value = opt(o, "value").and_then(|n| expect_f64(ctx, at, n, &join(p, "value")));
    let time_slice_target = opt(o, "timeSliceTarget").and_then(|n| {
        let v = expect_f64(ctx, at, n, &join(p, "timeSliceTarget"))?;
        if v > 0.0 && v <= 1.0 {
            Some(v)
        } else {
            ctx.report(
                at.file,
                n.line,
                &join(p, "timeSliceTarget"),
                format!("{v} is out of range: a fraction in (0, 1]"),
            );
            None
        }
    });
    let time_slice_seconds = opt(o, "timeSliceWindow")
        .and_then(|n| expect_minutes(ctx, at, n, &join(p, "timeSliceWindow")));
    Some(Objective {
        display_name,
        target: target?,
        op,
        value,
        time_slice_target,
        time_slice_seconds,
    })
}

/// Cross-field rules between indicator, budgeting method and objective.
fn check_method(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    ind: &Indicator,
    method: BudgetingMethod,
    obj: Objective,
) -> Option<Objective> {
    let o = spec
        .get("objectives")
        .and_then(|l| l.as_seq())
        .and_then(|s| s.first())
        .expect("objective was read");
    let p = "spec.objectives[0]";
    let line_of = |k: &str| o.get(k).map_or(o.line, |n| n.line);
    let mut ok = true;
    let mut report = |ctx: &mut Ctx, line: usize, path: &str, msg: &str| {
        ctx.report(at.file, line, path, msg);
        ok = false;
    };
    let threshold = matches!(ind, Indicator::Threshold { .. });
    match method {
        BudgetingMethod::Occurrences => {
            if threshold {
                report(ctx, line_of("op"), "spec.budgetingMethod", "Occurrences counts events and needs a ratioMetric; a thresholdMetric needs Timeslices");
            }
            if let Indicator::Ratio {
                numerator, total, ..
            } = ind
            {
                for m in [numerator, total] {
                    if let MetricSpec::Metric { stat, .. } = m {
                        if stat != "Sum" && stat != "SampleCount" {
                            report(ctx, spec.get("indicator").or(spec.get("indicatorRef")).map_or(spec.line, |n| n.line), "spec.indicator", &format!("Occurrences counts events, so the stat must be Sum or SampleCount, not {stat}"));
                        }
                    }
                }
            }
        }
        BudgetingMethod::Timeslices => {
            if !threshold {
                report(ctx, line_of("target"), "spec.budgetingMethod", "Timeslices compares one metric to op/value and needs a thresholdMetric; a ratioMetric needs Occurrences or RatioTimeslices");
            }
        }
        BudgetingMethod::RatioTimeslices => {
            if threshold {
                report(
                    ctx,
                    line_of("target"),
                    "spec.budgetingMethod",
                    "RatioTimeslices needs a ratioMetric",
                );
            }
            if obj.time_slice_target.is_none() {
                report(ctx, o.line, &join(p, "timeSliceTarget"), "missing required field for RatioTimeslices: the ratio a slice must reach to be good");
            }
        }
    }
    if threshold {
        if obj.op.is_none() {
            report(
                ctx,
                o.line,
                &join(p, "op"),
                "missing required field for a thresholdMetric: lt, lte, gt or gte",
            );
        }
        if obj.value.is_none() {
            report(
                ctx,
                o.line,
                &join(p, "value"),
                "missing required field for a thresholdMetric: the threshold a good value meets",
            );
        }
    } else {
        for k in ["op", "value"] {
            if o.get(k).is_some() {
                report(
                    ctx,
                    line_of(k),
                    &join(p, k),
                    "op and value apply to thresholdMetric indicators only",
                );
            }
        }
    }
    if method == BudgetingMethod::Occurrences {
        for k in ["timeSliceTarget", "timeSliceWindow"] {
            if o.get(k).is_some() {
                report(
                    ctx,
                    line_of(k),
                    &join(p, k),
                    "applies to Timeslices and RatioTimeslices only",
                );
            }
        }
    } else if obj.time_slice_seconds.is_none() && o.get("timeSliceWindow").is_none() {
        report(
            ctx,
            o.line,
            &join(p, "timeSliceWindow"),
            "missing required field for timeslices: the slice length, e.g. 5m",
        );
    } else if obj.time_slice_seconds.is_none() {
        ok = false;
    }
    ok.then_some(obj)
}

/// Windows CloudWatch cannot serve: data older than its retention at that resolution.
#[allow(clippy::too_many_arguments)]
fn check_retention(
    ctx: &mut Ctx,
    at: At,
    spec: &Node,
    window: &TimeWindow,
    method: BudgetingMethod,
    obj: &Objective,
    conditions: &[BurnRateCondition],
    _ind: &Indicator,
) -> Option<()> {
    let lookback = conditions
        .iter()
        .map(|c| c.long_seconds)
        .chain(std::iter::once(super::window::max_length(window)))
        .max()
        .unwrap_or(0);
    if lookback > 455 * 86_400 {
        ctx.report(
            at.file,
            spec.line,
            "spec.alertPolicies",
            "an alert lookbackWindow goes back further than the 455 days CloudWatch keeps data",
        );
        return None;
    }
    if method == BudgetingMethod::Occurrences {
        return Some(());
    }
    let slice = obj.time_slice_seconds.expect("checked by check_method");
    let o = spec
        .get("objectives")
        .and_then(|l| l.as_seq())
        .and_then(|s| s.first())
        .expect("objective was read");
    let line = o.get("timeSliceWindow").map_or(o.line, |n| n.line);
    if lookback > retention_seconds(slice) {
        let fits = [300, 3600]
            .into_iter()
            .find(|s| lookback <= retention_seconds(*s))
            .map_or("none fits".to_string(), duration::label);
        ctx.report(
            at.file,
            line,
            "spec.objectives[0].timeSliceWindow",
            format!(
                "{}-slices need data back {}, but CloudWatch keeps data at that resolution for {} only; use timeSliceWindow: {fits}",
                duration::label(slice),
                duration::label(lookback),
                duration::label(retention_seconds(slice)),
            ),
        );
        return None;
    }
    Some(())
}

fn read_slo_policies(
    ctx: &mut Ctx,
    at: At,
    list: &Node,
    policies: &HashMap<String, Option<Vec<BurnRateCondition>>>,
    conditions: &HashMap<String, Option<BurnRateCondition>>,
) -> Option<Vec<BurnRateCondition>> {
    let p = "spec.alertPolicies";
    let Some(items) = list.as_seq() else {
        ctx.report(
            at.file,
            list.line,
            p,
            format!("expected a list, found {}", list.kind_name()),
        );
        return None;
    };
    let mut out: Vec<BurnRateCondition> = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}[{i}]");
        let Some(item) = expect_map(ctx, at, item, &ip) else {
            ok = false;
            continue;
        };
        let got = if let Some(r) = item.get("alertPolicyRef") {
            check_fields(ctx, at, item, &ip, &["alertPolicyRef"]);
            expect_str(ctx, at, r, &join(&ip, "alertPolicyRef")).and_then(|name| {
                match policies.get(name) {
                    Some(p) => p.clone(),
                    None => {
                        ctx.report(
                            at.file,
                            r.line,
                            &join(&ip, "alertPolicyRef"),
                            format!(
                                "no AlertPolicy named `{}` in the files given",
                                truncate(name, 80)
                            ),
                        );
                        None
                    }
                }
            })
        } else {
            check_fields(
                ctx,
                at,
                item,
                &ip,
                &["kind", "metadata", "spec", "apiVersion"],
            );
            read_policy(ctx, at, item, &ip, conditions)
        };
        match got {
            Some(cs) => {
                for c in cs {
                    if out.iter().any(|o| o.name == c.name) {
                        ctx.report(
                            at.file,
                            item.line,
                            &ip,
                            format!("condition `{}` is used twice", c.name),
                        );
                        ok = false;
                    }
                    out.push(c);
                }
            }
            None => ok = false,
        }
    }
    if out.is_empty() && ok {
        ctx.report(
            at.file,
            list.line,
            p,
            "empty list; omit alertPolicies to use the default multiwindow policy",
        );
        return None;
    }
    ok.then_some(out)
}

/// The SRE-workbook policy as budget consumption, scaled to the SLO window.
pub fn default_conditions(window: &TimeWindow) -> Vec<BurnRateCondition> {
    let w = super::window::nominal_length(window) as f64;
    let cond = |name: &str, severity, consumption: f64, long: i64, short: i64| BurnRateCondition {
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
