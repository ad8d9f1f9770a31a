//! What the cycles read from CloudWatch and write as stream caches, simulated cycle by
//! cycle with the cycle's own planner (`slo::incremental`) on representative counts, so
//! the model counts what the code does: the tail of each cached stream every cycle, the
//! far edges a few hours at a time, the whole window at a reconciliation, and the cache
//! items written about once an hour.
//!
//! Streams whose plans look the same (the same segments relative to the evaluation time,
//! the same eligibility and role) evolve alike, so one of them is simulated for all.

use std::collections::HashMap;

use crate::slo::incremental::{self, assemble, plan_fetch, should_store, Fetch, StreamCache};
use crate::slo::model::{Indicator, SloDefinition};
use crate::slo::plan::{pack, EvalTime, QueryPlan, Segment};
use crate::slo::series::Series;

use super::estimate::metrics_per_query;
use super::layout::ItemLayout;

/// One simulated cycle: GetMetricData calls and metrics, and the stream-cache items read
/// and written (with their billed units).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CycleReads {
    /// GetMetricData calls.
    pub calls: usize,
    /// Metrics requested (what GetMetricData bills).
    pub metrics: usize,
    /// BatchGetItem calls for the caches (100 keys each).
    pub cache_read_requests: usize,
    /// Read units of those (eventually consistent: half a unit per 4 KB of each item).
    pub cache_read_units: f64,
    /// Cache items written.
    pub cache_writes: usize,
    /// Write units of those (1 per KB of each item).
    pub cache_write_units: f64,
    /// Bytes of the cache items as they stand after the cycle.
    pub cache_bytes: usize,
}

#[derive(Clone, Copy)]
enum Role {
    Small,
    Large,
}

/// Counts as a service of ~1,000 events a minute has them: large for totals and good
/// events (with the noise such counts have, about the square root of the count), small
/// for bad ones, a missing datapoint now and then.
fn fill(s: &mut Series, role: Role) {
    let minutes = (s.period / 60) as f64;
    let amplitude = (1000.0 * minutes).sqrt() as u64;
    for (k, v) in s.values.iter_mut().enumerate() {
        let b = (s.start / s.period) as u64 + k as u64;
        let noise = (b.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % (2 * amplitude + 1);
        *v = if b.is_multiple_of(97) {
            f64::NAN
        } else {
            match role {
                Role::Large => 1000.0 * minutes + noise as f64 - amplitude as f64,
                Role::Small => ((b % 3) as f64 * minutes * 0.37).round(),
            }
        };
    }
}

/// A stream's segments relative to the evaluation time, whether it is cached, whether its
/// counts are small.
type Shape = (Vec<(i64, i64, i64)>, bool, bool);

struct Group {
    /// A stream of the group and the SLOs that read it (their plan gives its segments).
    slos: Vec<usize>,
    stream: usize,
    /// Streams in the group.
    members: Vec<usize>,
    cached: bool,
    role: Role,
    /// The stored cache and its item's size (computed once, when it is written).
    cache: Option<(StreamCache, usize)>,
}

/// Simulate cycles at `times` (in order) from a cold table; `reconcile` as the cycle's
/// `reconcile_seconds` (0: every stream read whole); cache items sized by `items`.
pub fn simulate(
    slos: &[&SloDefinition],
    times: &[EvalTime],
    reconcile: i64,
    items: &dyn ItemLayout,
) -> Vec<CycleReads> {
    let Some(first) = times.first() else {
        return Vec::new();
    };
    let plan = QueryPlan::build(slos, *first);
    let n = plan.streams.len();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut cached = vec![reconcile > 0; n];
    let mut role = vec![Role::Large; n];
    for (k, (slo, ids)) in slos.iter().zip(&plan.slo_streams).enumerate() {
        for (j, i) in ids.iter().enumerate() {
            readers[*i].push(k);
            if !incremental::eligible(slo) {
                cached[*i] = false;
            }
            if j == 0 && matches!(slo.indicator, Indicator::Ratio { good: false, .. }) {
                role[*i] = Role::Small;
            }
        }
    }
    // Group streams by what their plan looks like relative to the evaluation time.
    let mut groups: Vec<Group> = Vec::new();
    let mut by_shape: HashMap<Shape, usize> = HashMap::new();
    for i in 0..n {
        let shape: Vec<(i64, i64, i64)> = plan.segments[i]
            .iter()
            .map(|s| (s.start - first.at, s.end - first.at, s.period))
            .collect();
        let key = (shape, cached[i], matches!(role[i], Role::Small));
        let g = *by_shape.entry(key).or_insert_with(|| {
            groups.push(Group {
                slos: readers[i].clone(),
                stream: i,
                members: Vec::new(),
                cached: cached[i],
                role: role[i],
                cache: None,
            });
            groups.len() - 1
        });
        groups[g].members.push(i);
    }

    let mut out = Vec::new();
    for t in times {
        let mut reads = CycleReads::default();
        let mut segments: Vec<Vec<Segment>> = vec![Vec::new(); n];
        let mut wanted = 0usize;
        for g in &mut groups {
            let own: Vec<&SloDefinition> = g.slos.iter().map(|k| slos[*k]).collect();
            let sub = QueryPlan::build(&own, *t);
            let Some(pos) = sub
                .streams
                .iter()
                .position(|s| *s == plan.streams[g.stream])
            else {
                continue;
            };
            let full = &sub.segments[pos];
            let fetch = if g.cached {
                wanted += g.members.len();
                let size = g.cache.as_ref().map_or(0, |(_, size)| *size);
                reads.cache_read_units +=
                    g.members.len() as f64 * 0.5 * size.div_ceil(4096).max(1) as f64;
                plan_fetch(full, g.cache.as_ref().map(|(c, _)| c), reconcile)
            } else {
                Fetch::Full(full.clone())
            };
            for m in &g.members {
                segments[*m] = fetch.segments().to_vec();
            }
            if g.cached {
                let fetched: Vec<Series> = fetch
                    .segments()
                    .iter()
                    .map(|s| {
                        let mut series = Series::empty(s.start, s.end, s.period);
                        fill(&mut series, g.role);
                        series
                    })
                    .collect();
                let old = g.cache.as_ref().map(|(c, _)| c);
                if let Some((_, next)) = assemble(full, &fetch, old, &fetched) {
                    if should_store(old, &fetch, next.read_at) {
                        let size = items.cache_size(&next);
                        reads.cache_writes += g.members.len();
                        reads.cache_write_units += (g.members.len() * size.div_ceil(1024)) as f64;
                        g.cache = Some((next, size));
                    }
                }
                if let Some((_, size)) = &g.cache {
                    reads.cache_bytes += g.members.len() * size;
                }
            }
        }
        reads.cache_read_requests = wanted.div_ceil(100);
        let requests = pack(&plan.streams, &segments);
        reads.calls = requests.len();
        reads.metrics = requests
            .iter()
            .flat_map(|r| &r.queries)
            .map(|q| metrics_per_query(&plan.streams[q.stream]))
            .sum();
        out.push(reads);
    }
    out
}
