//! One module per verb; what several verbs share (connecting, reading files, times,
//! advice on AWS errors) lives here, rendering in `sloguard_cli::output`.

pub mod apply;
pub mod backfill;
pub mod changes;
pub mod cost;
pub mod evaluate;
pub mod gate;
pub mod history;
pub mod init;
pub mod report;
pub mod silence;
pub mod status;
pub mod validate;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use sloguard::app::apply::ApplyError;
use sloguard::app::backfill::BackfillError;
use sloguard::app::cycle::CycleError;
use sloguard::app::ports::StoredDefinition;
use sloguard::app::ports::{AccessProblem, NotifyError, SourceError, StoreError, Timeout};
use sloguard::app::report::ReportError;
use sloguard::app::DefinitionStore;
use sloguard::aws::{build_app, load_config, AwsApp, Environment, Timeouts};
use sloguard::slo::load::SourceFile;
use sloguard::slo::message::count;

/// The clients and settings a verb works with, built once.
pub struct Connection {
    pub app: AwsApp,
    pub settings: Environment,
    pub sdk: aws_config::SdkConfig,
}

/// Read the environment (with the verb's --table and --topic-arn on top) and build the AWS clients.
pub async fn connect(table: Option<&str>, topic_arn: Option<&str>) -> Result<Connection> {
    let settings = Environment::from_lookup(|k| match k {
        "SLO_TABLE" if table.is_some() => table.map(str::to_string),
        "SLO_TOPIC_ARN" if topic_arn.is_some() => topic_arn.map(str::to_string),
        _ => std::env::var(k).ok(),
    })?;
    let sdk = load_config(Timeouts::from_env()?).await;
    if sdk.region().is_none() {
        bail!("no AWS region: set AWS_REGION (e.g. export AWS_REGION=eu-west-1)");
    }
    Ok(Connection {
        app: build_app(&settings, &sdk),
        settings,
        sdk,
    })
}

/// An SLO name the table does not hold (exit 2), with the stored names it may have meant.
#[derive(Debug)]
pub struct UnknownSlo {
    pub name: String,
    pub near: Vec<String>,
    pub stored: usize,
}

impl std::fmt::Display for UnknownSlo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no SLO named `{}` in the table", self.name)?;
        match (self.stored, self.near.as_slice()) {
            (0, _) => write!(f, "; it holds no SLO yet: `sloguard apply FILE...`"),
            (_, []) => write!(
                f,
                " ({} stored; `sloguard status` lists them)",
                count(self.stored, "SLO")
            ),
            (_, near) => write!(f, "; did you mean {}?", near.join(", ")),
        }
    }
}

impl std::error::Error for UnknownSlo {}

impl UnknownSlo {
    /// `slo` is not among the stored definitions `defs`.
    pub fn among(slo: &str, defs: &[StoredDefinition]) -> UnknownSlo {
        let near = sloguard::slo::suggest::near(slo, defs.iter().map(|d| d.name.as_str()));
        UnknownSlo {
            name: slo.to_string(),
            near: near.into_iter().map(str::to_string).collect(),
            stored: defs.len(),
        }
    }
}

/// Whether the table defines `slo`; an `UnknownSlo` naming what it holds that is close.
pub async fn require_slo(app: &AwsApp, slo: &str) -> Result<()> {
    let defs = app.store.definitions().await?;
    if defs.iter().any(|d| d.name == slo) {
        return Ok(());
    }
    Err(UnknownSlo::among(slo, &defs).into())
}

/// Parse an RFC 3339 time given to `flag`, naming the flag when it is not one.
pub fn parse_time(s: &str, flag: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|_| anyhow!("{flag}: `{s}` is not an RFC 3339 time like 2026-11-25T12:00:00Z"))
}

/// Parse a fixed duration (`90m`, `2h`, `1d`) given to `flag`, in seconds.
pub fn parse_span(s: &str, flag: &str) -> Result<i64> {
    match sloguard::slo::duration::parse(s) {
        Ok(sloguard::slo::duration::Duration::Seconds(n)) => Ok(n),
        Ok(_) => Err(anyhow!(
            "{flag}: `{s}` is a calendar length; use m, h, d or w (e.g. 2h)"
        )),
        Err(e) => Err(anyhow!("{flag}: {e}")),
    }
}

/// Read SLO files; a directory is read whole (subfolders too, hidden ones skipped), so
/// `validate slos/` checks every file `apply slos/` would store.
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<SourceFile>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            yaml_files_under(p, &mut found)?;
            if found.is_empty() {
                bail!(
                    "{}: no .yaml or .yml files in this folder or its subfolders",
                    p.display()
                );
            }
            found.sort();
            out.extend(read_files(&found)?);
        } else {
            let meta =
                std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
            if meta.len() > sloguard::slo::load::MAX_FILE_BYTES as u64 {
                bail!(
                    "{}: {} bytes; SLO files may be at most {} bytes",
                    p.display(),
                    meta.len(),
                    sloguard::slo::load::MAX_FILE_BYTES
                );
            }
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            out.push(SourceFile {
                name: p.display().to_string(),
                text,
            });
        }
    }
    Ok(out)
}

/// Collect the YAML files below `dir`, descending into subfolders but not hidden ones
/// (`.git`, `.github`...), which hold no SLOs.
fn yaml_files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read directory {}", dir.display()))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() {
            if !hidden {
                yaml_files_under(&path, out)?;
            }
        } else if !hidden && path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// The credentials or reachability problem behind an error, found by type anywhere in its chain.
fn access_problem(e: &anyhow::Error) -> Option<AccessProblem> {
    e.chain().find_map(|c| {
        c.downcast_ref::<StoreError>()
            .and_then(StoreError::access)
            .or_else(|| {
                c.downcast_ref::<SourceError>()
                    .and_then(SourceError::access)
            })
            .or_else(|| {
                c.downcast_ref::<NotifyError>()
                    .and_then(NotifyError::access)
            })
            .or_else(|| c.downcast_ref::<CycleError>().and_then(CycleError::access))
            .or_else(|| match c.downcast_ref::<ApplyError>() {
                Some(ApplyError::Store(s)) => s.access(),
                _ => None,
            })
            .or_else(|| match c.downcast_ref::<ReportError>() {
                Some(ReportError::Store(s)) => s.access(),
                Some(ReportError::Notify(n)) => n.access(),
                _ => None,
            })
            .or_else(|| match c.downcast_ref::<BackfillError>() {
                Some(BackfillError::Store(s)) => s.access(),
                Some(BackfillError::Cycle(c)) => c.access(),
                _ => None,
            })
    })
}

/// Turn an AWS access failure into advice a person can act on; the SDK's own
/// details only with `-v`.
pub fn advise(e: anyhow::Error, verbose: bool) -> String {
    let detail = |msg: String| {
        if verbose {
            format!("{msg}\n  ({e:#})")
        } else {
            format!("{msg}\n  (run with -v for the AWS SDK's details)")
        }
    };
    match access_problem(&e) {
        Some(AccessProblem::Credentials) => detail(
            "no usable AWS credentials (missing or expired): set AWS_PROFILE (after `aws sso login` if you use SSO) \
             or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .into(),
        ),
        Some(AccessProblem::Unreachable) => detail(format!(
            "cannot reach {}: check AWS_REGION and AWS_ENDPOINT_URL, and that the service is up",
            target()
        )),
        Some(AccessProblem::TimedOut(limit)) => {
            let var = Timeouts::var(limit);
            let seconds = Timeouts::from_env().unwrap_or_default().seconds(limit);
            let what = match limit {
                Timeout::Connect => "no connection",
                Timeout::Attempt => "no answer",
            };
            detail(format!(
                "{what} from {} within {seconds} s ({var}): on a slow network or a far region, \
                 raise it (e.g. export {var}={}); check AWS_REGION and AWS_ENDPOINT_URL too",
                target(),
                seconds * 3
            ))
        }
        None => format!("{e:#}"),
    }
}

/// What the CLI talks to: the endpoint when one is set, else AWS in the region.
fn target() -> String {
    std::env::var("AWS_ENDPOINT_URL").map_or_else(
        |_| {
            format!(
                "AWS in region {}",
                std::env::var("AWS_REGION").unwrap_or_else(|_| "?".into())
            )
        },
        |u| format!("the endpoint {u}"),
    )
}
