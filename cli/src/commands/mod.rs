//! One module per verb; what several verbs share (connecting, reading files, times,
//! advice on AWS errors) lives here, rendering in `sloguard_cli::output`.

pub mod apply;
pub mod backfill;
pub mod changes;
pub mod convert;
pub mod correct;
pub mod cost;
pub mod evaluate;
pub mod gate;
pub mod history;
pub mod incidents;
pub mod init;
pub mod report;
pub mod review;
pub mod silence;
pub mod status;
pub mod validate;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use sloguard_aws::{build_app, load_config, AwsApp, Environment, EnvironmentError, Timeouts};
use sloguard_core::app::apply::ApplyError;
use sloguard_core::app::backfill::BackfillError;
use sloguard_core::app::changes::ChangeError;
use sloguard_core::app::cycle::{CycleError, DeliveryError, SloError};
use sloguard_core::app::gate::GateError;
use sloguard_core::app::incidents::IncidentError;
use sloguard_core::app::ports::StoredDefinition;
use sloguard_core::app::ports::{AccessProblem, NotifyError, SourceError, StoreError, Timeout};
use sloguard_core::app::report::ReportError;
use sloguard_core::app::select::Filter;
use sloguard_core::app::DefinitionStore;
use sloguard_core::settings::{self, Overrides};
use sloguard_core::slo::load::SourceFile;
use sloguard_core::slo::message::count;

/// The SLOs' notification topics outside `allowed` (SLO_ALLOWED_TOPICS), each once, as
/// problems at the SLO's line: `validate` warns of them, `apply` refuses them.
pub fn outside_allowed(
    slos: &[sloguard_core::slo::model::SloDefinition],
    allowed: &sloguard_core::slo::route::AllowedTopics,
    stack_topic: Option<&str>,
) -> Vec<sloguard_core::slo::load::Problem> {
    use sloguard_core::slo::route::{outside, outside_message};
    let mut out: Vec<sloguard_core::slo::load::Problem> = Vec::new();
    for (slo, topic) in outside(slos, allowed, stack_topic) {
        let p = sloguard_core::slo::load::Problem {
            file: slo.file.clone(),
            line: slo.line,
            path: "spec.alertPolicies".into(),
            message: outside_message(slo, topic, allowed),
        };
        // Objectives of one SLO share its line and policies: one problem each.
        if !out
            .iter()
            .any(|o| o.file == p.file && o.line == p.line && o.message.contains(topic))
        {
            out.push(p);
        }
    }
    out
}

/// The clients and settings a verb works with, built once.
pub struct Connection {
    pub app: AwsApp,
    pub settings: Environment,
    pub sdk: aws_config::SdkConfig,
}

/// The table flag, on the verbs that read or write it (not on `validate`).
#[derive(clap::Args)]
pub struct Store {
    /// DynamoDB table (overrides SLO_TABLE).
    #[arg(long)]
    pub table: Option<String>,
}

impl Store {
    /// Connect with this table and no topic: only the verbs that notify take one.
    pub async fn connect(&self) -> Result<Connection> {
        connect(self.table.as_deref(), None).await
    }
}

/// `--team` and `--service`: the SLOs of one team and/or one service, on the verbs that
/// read the fleet (status, history, report, review, gate). Each team sees its own.
#[derive(clap::Args, Clone, Default)]
pub struct Scope {
    /// Only the SLOs this team owns (metadata.labels.team, or apply --owner).
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// Only the SLOs of this service.
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
}

impl Scope {
    /// The filter the flags ask for.
    pub fn filter(&self) -> Filter {
        Filter::new(self.team.as_deref(), self.service.as_deref())
    }
}

/// The table, the one SLO and the `--since` of a verb about one SLO's past (`changes`);
/// the verb words the SLO's and `--since`'s help with `mut_arg`, as it reads them.
#[derive(clap::Args)]
pub struct SloSince {
    #[command(flatten)]
    pub store: Store,
    /// The SLO.
    pub slo: String,
    /// From this time.
    #[arg(long)]
    pub since: Option<String>,
}

/// Read the environment (with the verb's --table and --topic-arn on top) and build the AWS clients.
pub async fn connect(table: Option<&str>, topic_arn: Option<&str>) -> Result<Connection> {
    connect_with(
        &Overrides::default()
            .set(&settings::TABLE, table)
            .set(&settings::TOPIC_ARN, topic_arn),
    )
    .await
}

/// The CLI's settings: the environment with the verb's flags on top, checked by the same
/// rules as the functions' (`sloguard_core::settings`).
pub fn read_settings(
    get: impl Fn(&str) -> Option<String>,
    flags: &Overrides,
) -> Result<Environment, EnvironmentError> {
    Environment::from_lookup_with(get, flags)
}

/// Read the environment with the verb's flags on top (`flags`) and build the AWS clients.
pub async fn connect_with(flags: &Overrides) -> Result<Connection> {
    let settings = read_settings(|k| std::env::var(k).ok(), flags)?;
    let sdk = load_config(Timeouts::of(&settings)).await;
    let Some(region) = sdk.region() else {
        bail!("no AWS region: set AWS_REGION (e.g. export AWS_REGION=eu-west-1)");
    };
    let _ = REGION.set(region.to_string());
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
        let near = sloguard_core::slo::suggest::near(slo, defs.iter().map(|d| d.name.as_str()));
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
    match sloguard_core::slo::duration::parse(s) {
        Ok(sloguard_core::slo::duration::Duration::Seconds(n)) => Ok(n),
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
            if meta.len() > sloguard_core::slo::load::MAX_FILE_BYTES as u64 {
                bail!(
                    "{}: {} bytes; SLO files may be at most {} bytes",
                    p.display(),
                    meta.len(),
                    sloguard_core::slo::load::MAX_FILE_BYTES
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

/// A credentials, reachability or time-limit problem an error stands for, if it is one.
/// Implemented here for every error the use cases return, with matches that name each
/// variant, so a variant added to one of them fails to compile until it is classified.
trait Access {
    /// The problem a person must fix before AWS can be used, if this error is one.
    fn access(&self) -> Option<AccessProblem>;
}

impl Access for IncidentError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            IncidentError::Store(e) => e.access(),
            IncidentError::BadId(_) | IncidentError::Unknown(_) => None,
        }
    }
}

impl Access for StoreError {
    fn access(&self) -> Option<AccessProblem> {
        StoreError::access(self)
    }
}

impl Access for SourceError {
    fn access(&self) -> Option<AccessProblem> {
        SourceError::access(self)
    }
}

impl Access for NotifyError {
    fn access(&self) -> Option<AccessProblem> {
        NotifyError::access(self)
    }
}

impl Access for SloError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            SloError::Metrics(e) => e.access(),
            SloError::Store(e) => e.access(),
            SloError::Unreadable { .. }
            | SloError::Unknown
            | SloError::Deferred
            | SloError::Evaluate(_)
            | SloError::LostRace(_)
            | SloError::Composite(_) => None,
        }
    }
}

impl Access for DeliveryError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            DeliveryError::Notify(e) => e.access(),
            DeliveryError::Store(e) => e.access(),
        }
    }
}

impl Access for CycleError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            CycleError::Definitions(e) | CycleError::States(e) | CycleError::Corrections(e) => {
                Access::access(e)
            }
            CycleError::NothingEvaluated { first, .. } => Access::access(first),
            CycleError::BadEvent(_) | CycleError::FutureTrigger { .. } => None,
        }
    }
}

impl Access for ApplyError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            ApplyError::Store(e) => e.access(),
            ApplyError::Invalid(_)
            | ApplyError::NoSlos
            | ApplyError::BadOwner(_)
            | ApplyError::NotOwner(_)
            | ApplyError::PruneRefused { .. } => None,
        }
    }
}

impl Access for BackfillError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            BackfillError::Store(e) => e.access(),
            BackfillError::Cycle(e) => Access::access(e),
            BackfillError::EmptyRange { .. }
            | BackfillError::Step
            | BackfillError::Future(_)
            | BackfillError::TooOld(_)
            | BackfillError::BeyondRetention { .. }
            | BackfillError::UnknownSlo(_) => None,
        }
    }
}

impl Access for ReportError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            ReportError::Store(e) => e.access(),
            ReportError::Notify(e) => e.access(),
            ReportError::UnknownSlo { .. } | ReportError::Filter(_) => None,
        }
    }
}

impl Access for GateError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            GateError::Store(e) => e.access(),
            GateError::UnknownSlo { .. } | GateError::NothingSelected(_) | GateError::Filter(_) => {
                None
            }
        }
    }
}

impl Access for ChangeError {
    fn access(&self) -> Option<AccessProblem> {
        match self {
            ChangeError::Store(e) => e.access(),
            ChangeError::BadEvent(_) => None,
        }
    }
}

/// The credentials or reachability problem behind an error: every error in its chain
/// (context added on the way up, `source()`s) is tried as each type that can carry one.
fn access_problem(e: &anyhow::Error) -> Option<AccessProblem> {
    /// The first of these types `c` is that names an access problem.
    macro_rules! first_of {
        ($c:expr; $($t:ty),+ $(,)?) => {
            None $(.or_else(|| $c.downcast_ref::<$t>().and_then(Access::access)))+
        };
    }
    e.chain().find_map(|c| {
        first_of!(c; StoreError, SourceError, NotifyError, SloError, DeliveryError, CycleError,
                  ApplyError, BackfillError, ReportError, GateError, ChangeError, IncidentError)
    })
}

/// The region the SDK resolved (from AWS_REGION, a profile or the instance), recorded by
/// `connect` so advice names the region actually used.
static REGION: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The most a time limit's variable accepts (its setting's bound), so advice never
/// suggests a value the CLI would refuse.
pub fn max_seconds(limit: Timeout) -> u64 {
    Timeouts::max_seconds(limit)
}

/// What to do when `limit` ran out: the variable that sets it and a higher value to try,
/// never above what the variable accepts.
pub fn timeout_advice(limit: Timeout) -> String {
    let seconds = Timeouts::from_env().unwrap_or_default().seconds(limit);
    advice_for(limit, seconds)
}

/// The advice when `limit`, set to `seconds`, ran out.
fn advice_for(limit: Timeout, seconds: u64) -> String {
    let var = Timeouts::var(limit);
    let max = max_seconds(limit);
    let what = match limit {
        Timeout::Connect => "no connection",
        Timeout::Attempt => "no answer",
    };
    let fix = if seconds >= max {
        format!(
            "it is at its maximum ({max} s), so check the network, AWS_REGION and AWS_ENDPOINT_URL"
        )
    } else {
        format!(
            "on a slow network or a far region, raise it (e.g. export {var}={}); \
             check AWS_REGION and AWS_ENDPOINT_URL too",
            (seconds * 3).min(max)
        )
    };
    format!("{what} from {} within {seconds} s ({var}): {fix}", target())
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
        Some(AccessProblem::TimedOut(limit)) => detail(timeout_advice(limit)),
        None => format!("{e:#}"),
    }
}

/// What the CLI talks to: the endpoint when one is set, else AWS in the region the SDK
/// resolved (`?` when none was).
fn target() -> String {
    std::env::var("AWS_ENDPOINT_URL").map_or_else(
        |_| {
            let region = REGION
                .get()
                .cloned()
                .or_else(|| std::env::var("AWS_REGION").ok())
                .unwrap_or_else(|| "?".into());
            format!("AWS in region {region}")
        },
        |u| format!("the endpoint {u}"),
    )
}

#[cfg(test)]
mod tests;
