//! sloguard-core: the domain and the use cases of an AWS-native SLO engine, with no AWS
//! crate in its dependency tree. The domain (`slo`, `report`, `cost`) is pure data and
//! functions; `app` holds the use cases, written against small ports (`app::ports`) that
//! `sloguard-aws` implements with the AWS SDK, or that you implement for your own metric
//! source, store or notifier. The in-memory ports are behind the `testing` feature.
//!
//! Load OpenSLO definitions, store them, and run one evaluation cycle over an in-memory
//! metric source (100 requests a minute, 1 of them failing, against a 99.9% objective):
//!
//! ```
//! use sloguard_core::app::memory::{FakeMetrics, FakeNotifier, MemoryStore};
//! use sloguard_core::slo::status::Status;
//! use sloguard_core::{apply, load, run_cycle, App, Config, CycleRequest, SourceFile};
//!
//! let files = [SourceFile {
//!     name: "checkout.yaml".into(),
//!     text: r#"
//! apiVersion: openslo/v1
//! kind: SLO
//! metadata:
//!   name: checkout
//! spec:
//!   service: webshop
//!   indicator:
//!     metadata:
//!       name: checkout-errors
//!     spec:
//!       ratioMetric:
//!         counter: true
//!         bad:
//!           metricSource:
//!             type: CloudWatch
//!             spec: {region: eu-west-1, namespace: Shop, metricName: Errors, stat: Sum}
//!         total:
//!           metricSource:
//!             type: CloudWatch
//!             spec: {region: eu-west-1, namespace: Shop, metricName: Requests, stat: Sum}
//!   timeWindow:
//!     - duration: 30d
//!       isRolling: true
//!   budgetingMethod: Occurrences
//!   objectives:
//!     - target: 0.999
//! "#
//!     .into(),
//! }];
//! // Every problem names its file and line; these files have none.
//! let loaded = load(&files);
//! assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
//!
//! let app = App {
//!     // Per-minute values of each metric: 1% of the requests fail.
//!     metrics: FakeMetrics::new(|metric, _minute| match metric {
//!         "Requests" => Some(100.0),
//!         "Errors" => Some(1.0),
//!         _ => None,
//!     }),
//!     store: MemoryStore::default(),
//!     notifier: FakeNotifier::default(),
//!     config: Config::default(),
//! };
//! let now = 1_800_000_000; // 2027-01-15T08:00:00Z
//! let report = tokio::runtime::Runtime::new().unwrap().block_on(async {
//!     apply(&app.store, &files, Default::default()).await.unwrap();
//!     run_cycle(&app, CycleRequest { trigger: now, now, ..CycleRequest::default() }).await
//! })?;
//!
//! let checkout = report.slos[0].snapshot.as_ref().expect("evaluated");
//! assert_eq!(checkout.attainment, Some(0.99));
//! // Failing 10 times the budget's rate: the budget is long gone, and on-call is paged.
//! assert_eq!(report.slos[0].status, Some(Status::Exhausted));
//! assert!(checkout.budget_remaining.unwrap() < 0.0);
//! assert!(!app.notifier.take().is_empty());
//! # Ok::<(), sloguard_core::app::cycle::CycleError>(())
//! ```

pub mod app;
pub mod cost;
pub mod report;
pub mod settings;
pub mod slo;

pub use app::apply::{apply, ApplyOptions};
pub use app::cycle::{run_cycle, CycleError, CycleReport, CycleRequest};
pub use app::ports::{
    BudgetStore, ChangeStore, Channel, DedupStore, DefinitionStore, HistoryStore, MetricSource,
    Notifier, Outbox, StateStore, StreamCacheStore,
};
pub use app::{App, Config};
pub use settings::{SettingError, Settings};
pub use slo::evaluate::{evaluate, Evaluation};
pub use slo::load::{load, Loaded, SourceFile};
pub use slo::model::SloDefinition;
pub use slo::plan::{EvalTime, QueryPlan};
pub use slo::snapshot::Snapshot;
