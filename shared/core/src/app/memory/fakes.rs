//! The fakes at the other ports (metrics, notifications) and the checkout test app built
//! over them and the in-memory store.

use super::*;

/// Per-minute values of a metric (by name) at a minute's start; None is no data.
pub type Minutes = Box<dyn Fn(&str, i64) -> Option<f64> + Send + Sync>;

/// CloudWatch, computed: each bucket is the sum of the per-minute values inside it.
pub struct FakeMetrics {
    /// The values the answers are summed from.
    pub minutes: Minutes,
    /// GetMetricData calls made, for assertions.
    pub calls: AtomicUsize,
    /// Metrics requested (queries over all calls): what GetMetricData bills.
    pub queries: AtomicUsize,
}

impl FakeMetrics {
    /// Metrics from a per-minute function.
    pub fn new(minutes: impl Fn(&str, i64) -> Option<f64> + Send + Sync + 'static) -> Self {
        FakeMetrics {
            minutes: Box::new(minutes),
            calls: AtomicUsize::new(0),
            queries: AtomicUsize::new(0),
        }
    }
}

impl MetricSource for FakeMetrics {
    async fn alarm_metrics(
        &self,
        _region: &str,
        _alarm_names: &[String],
    ) -> Result<Vec<(String, Vec<AlarmMetric>)>, SourceError> {
        Ok(Vec::new())
    }

    async fn get_metric_data(
        &self,
        request: &MetricRequest,
        streams: &[MetricSpec],
    ) -> Result<Vec<QueryResult>, SourceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.queries
            .fetch_add(request.queries.len(), Ordering::Relaxed);
        Ok(request
            .queries
            .iter()
            .map(|q| {
                let name = match &streams[q.stream] {
                    MetricSpec::Metric { metric_name, .. } => metric_name.clone(),
                    MetricSpec::Queries { .. } => String::new(),
                };
                let points = (request.start..request.end)
                    .step_by(q.period as usize)
                    .filter_map(|b| {
                        let values: Vec<f64> = (b..b + q.period)
                            .step_by(60)
                            .filter_map(|m| (self.minutes)(&name, m))
                            .collect();
                        (!values.is_empty()).then(|| (b, values.iter().sum()))
                    })
                    .collect();
                QueryResult {
                    id: q.id.clone(),
                    points,
                }
            })
            .collect())
    }
}

/// SNS, recorded; it can be told to fail, to test what stays pending.
#[derive(Default)]
pub struct FakeNotifier {
    /// What was published, by channel, until `take`n.
    pub sent: Mutex<Vec<(Channel, Notification)>>,
    /// Publishes to fail before succeeding again.
    pub failures: AtomicUsize,
    /// Also deliver to the EventBridge bus channel.
    pub bus: bool,
    /// Puts on the bus to fail before succeeding again (SNS unaffected).
    pub bus_failures: AtomicUsize,
    /// What was published to team topics (topic, notification), until `take_routed`.
    pub routed: Mutex<Vec<(String, Notification)>>,
    /// Team topics that do not exist (publishes fail until removed).
    pub missing_topics: Mutex<Vec<String>>,
    /// Team topics that deny the stack (IAM): publishes to them are `Denied`.
    pub denied_topics: Mutex<Vec<String>>,
}

impl FakeNotifier {
    /// Take what was published so far.
    pub fn take(&self) -> Vec<Notification> {
        std::mem::take(&mut *self.sent.lock().expect("unpoisoned"))
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    }
}

impl FakeNotifier {
    /// Take what was published to team topics so far, as (topic, notification id).
    pub fn take_routed(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.routed.lock().expect("unpoisoned"))
            .into_iter()
            .map(|(t, n)| (t, n.id))
            .collect()
    }
}

impl Notifier for FakeNotifier {
    async fn publish_to(&self, topic: &str, n: &Notification) -> Result<(), NotifyError> {
        let has =
            |list: &Mutex<Vec<String>>| list.lock().expect("unpoisoned").iter().any(|t| t == topic);
        if has(&self.denied_topics) {
            return Err(NotifyError::Denied {
                topic: topic.to_string(),
                message: "AuthorizationError: not authorized to perform SNS:Publish".into(),
            });
        }
        if has(&self.missing_topics) {
            return Err(NotifyError::TopicMissing(topic.to_string()));
        }
        self.routed
            .lock()
            .expect("unpoisoned")
            .push((topic.to_string(), n.clone()));
        Ok(())
    }

    fn channels(&self) -> Vec<Channel> {
        let mut c = vec![Channel::People];
        if self.bus {
            c.push(Channel::Bus);
        }
        c
    }

    async fn publish(&self, channel: Channel, n: &Notification) -> Result<(), NotifyError> {
        if channel == Channel::Bus
            && self
                .bus_failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
                .is_ok()
        {
            return Err(NotifyError::Bus {
                bus: "default".into(),
                message: "injected failure".into(),
                access: None,
            });
        }
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok()
        {
            return Err(NotifyError::Unavailable("injected failure".into()));
        }
        self.sent
            .lock()
            .expect("unpoisoned")
            .push((channel, n.clone()));
        Ok(())
    }
}

/// The use cases over the in-memory ports, as the tests (here and in sloguard-aws) build them.
pub type TestApp = super::super::App<FakeMetrics, MemoryStore, FakeNotifier>;

/// The checkout SLO (`slo::fixtures`) applied; 100 requests a minute, `errors(minute)` of
/// them failing; no lag.
pub async fn app_with(errors: impl Fn(i64) -> f64 + Send + Sync + 'static) -> TestApp {
    let app = super::super::App {
        metrics: FakeMetrics::new(move |name, t| match name {
            "Requests" => Some(100.0),
            "Errors" => Some(errors(t)),
            _ => None,
        }),
        store: MemoryStore::default(),
        notifier: FakeNotifier::default(),
        config: super::super::Config {
            lag_seconds: 0,
            ..super::super::Config::default()
        },
    };
    let files = [crate::slo::load::SourceFile {
        name: "checkout.yaml".into(),
        text: crate::slo::fixtures::checkout_yaml(),
    }];
    super::super::apply::apply(
        &app.store,
        &files,
        super::super::apply::ApplyOptions::default(),
    )
    .await
    .expect("valid SLO");
    app
}

/// A store holding the checkout SLO whose `sloguard.dev/changes` names `changes`: what the
/// deployment-event tests (here and in sloguard-aws) record changes against.
pub async fn store_naming_changes(changes: &str) -> MemoryStore {
    let yaml = crate::slo::fixtures::checkout_yaml().replace(
        "  annotations:\n",
        &format!("  annotations:\n    sloguard.dev/changes: {changes}\n"),
    );
    let mut loaded = crate::slo::load::load(&[crate::slo::load::SourceFile {
        name: "c.yaml".into(),
        text: yaml,
    }]);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let store = MemoryStore::default();
    super::super::ports::DefinitionStore::put_definition(&store, &loaded.slos.remove(0))
        .await
        .expect("the memory store keeps it");
    store
}

/// Deliveries before the queue dead-letters an order (the template's maxReceiveCount).
pub const MAX_RECEIVES: u32 = 2;

struct QueuedOrder {
    id: u64,
    order: ShardOrder,
    receives: u32,
    in_flight: bool,
}

#[derive(Default)]
struct QueueState {
    next: u64,
    messages: Vec<QueuedOrder>,
    dead: Vec<ShardOrder>,
}

/// The shard queue in memory, as SQS keeps it: an order taken is in flight until settled,
/// comes back when retried, and is dead-lettered on its third delivery. `fail_after` makes
/// the next sends fail after part of their orders went out (a call that fails half-way).
#[derive(Default)]
pub struct MemoryQueue {
    state: Mutex<QueueState>,
    /// The next sends that fail after queueing this many of their orders.
    pub fail_after: Mutex<Vec<usize>>,
}

impl MemoryQueue {
    fn with<R>(&self, f: impl FnOnce(&mut QueueState) -> R) -> R {
        f(&mut self.state.lock().expect("queue lock"))
    }

    /// Every order queued and not settled, in order (what workers would receive).
    pub fn orders(&self) -> Vec<ShardOrder> {
        self.with(|q| q.messages.iter().map(|m| m.order.clone()).collect())
    }

    /// Orders dead-lettered after failing twice.
    pub fn dead_letters(&self) -> Vec<ShardOrder> {
        self.with(|q| q.dead.clone())
    }

    /// Orders in flight come back, as when their visibility timeout runs out (a worker died).
    pub fn time_out_in_flight(&self) {
        self.with(|q| q.messages.iter_mut().for_each(|m| m.in_flight = false));
    }
}

impl ShardQueue for MemoryQueue {
    async fn send(&self, orders: &[ShardOrder]) -> Result<(), QueueError> {
        let fail = {
            let mut f = self.fail_after.lock().expect("queue lock");
            (!f.is_empty()).then(|| f.remove(0))
        };
        let n = fail.unwrap_or(orders.len()).min(orders.len());
        self.with(|q| {
            for o in &orders[..n] {
                q.next += 1;
                let id = q.next;
                q.messages.push(QueuedOrder {
                    id,
                    order: o.clone(),
                    receives: 0,
                    in_flight: false,
                });
            }
        });
        match fail {
            Some(_) => Err(QueueError {
                queued: n,
                total: orders.len(),
                message: "the queue stopped answering".into(),
            }),
            None => Ok(()),
        }
    }

    async fn receive(&self, _wait_seconds: i32) -> Result<Option<Received>, QueueError> {
        Ok(self.with(|q| loop {
            let pos = q.messages.iter().position(|m| !m.in_flight)?;
            if q.messages[pos].receives >= MAX_RECEIVES {
                let dead = q.messages.remove(pos);
                q.dead.push(dead.order);
                continue;
            }
            let m = &mut q.messages[pos];
            m.receives += 1;
            m.in_flight = true;
            return Some(Received {
                receipt: format!("{}#{}", m.id, m.receives),
                order: Ok(m.order.clone()),
            });
        }))
    }

    async fn pending(&self) -> Result<u64, QueueError> {
        Ok(self.with(|q| q.messages.len() as u64))
    }

    async fn done(&self, receipt: &str) -> Result<(), QueueError> {
        self.with(|q| {
            q.messages
                .retain(|m| format!("{}#{}", m.id, m.receives) != receipt)
        });
        Ok(())
    }

    async fn retry_soon(&self, receipt: &str) -> Result<(), QueueError> {
        self.with(|q| {
            for m in &mut q.messages {
                if format!("{}#{}", m.id, m.receives) == receipt {
                    m.in_flight = false;
                }
            }
        });
        Ok(())
    }
}

/// Workers started, kept: (how many, for which cycle).
#[derive(Default)]
pub struct MemoryWorkers {
    pub started: Mutex<Vec<(u32, i64)>>,
}

impl Workers for MemoryWorkers {
    async fn start(&self, n: u32, cycle: i64) -> Result<(), QueueError> {
        self.started.lock().expect("workers lock").push((n, cycle));
        Ok(())
    }
}
