//! Incremental reading of one metric stream, pure: between cycles a stream keeps the
//! Sum of each closed hour and the fine buckets of the far window edges (a cache), so a
//! cycle reads one 1-minute tail (at least `MIN_TAIL` long, covering every short alert
//! window) and, once an hour, the far edges' new hour; the window's hours come from the
//! cache. The data handed to `evaluate` covers the same buckets the full plan fetches,
//! so both give the same numbers (up to floating-point summation order).
//!
//! When the cache cannot be trusted the stream is read whole (the full plan), and the
//! cache is rebuilt from that read: no cache (a cold table, a restart), a cache last
//! read more than `STALE_AFTER` ago (late datapoints may have landed in hours that left
//! the tail meanwhile), or a reconciliation due (late datapoints older than the tail).
//!
//! Only Occurrences over `Sum` streams can be read this way (an hour's Sum is the sum of
//! its minutes; an Average or a Maximum is not): `eligible` says which.
//!
//! A far edge is read `EDGE_AHEAD` at once: the edge moves forward with T, and the data
//! it will need in the next hours is already old, so one query serves many cycles.
//! `should_store` says when a cycle's new cache is worth writing (about once an hour).

use std::collections::BTreeMap;

mod codec;
pub use codec::CodecError;

use super::model::{BudgetingMethod, MetricSpec, SloDefinition};
use super::plan::Segment;
use super::series::{Series, StreamData};

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

/// The 1-minute tail always reaches this far back (rounded down to the hour), so late
/// datapoints that land within it are read fresh, and every short alert window (up to 6h)
/// is in it.
pub const MIN_TAIL: i64 = 6 * HOUR;
/// Fine segments that start within this of T are read from the tail; older ones (the far
/// window edges, e.g. of 3d and 30d) are cached by the hour.
pub const TAIL_REACH: i64 = 24 * HOUR;
/// A cache read longer ago than this is not trusted: hours may have left the tail unread.
pub const STALE_AFTER: i64 = 2 * HOUR;
/// A far edge's fine buckets are read this far ahead: one query per edge every few hours
/// instead of one an hour.
pub const EDGE_AHEAD: i64 = 12 * HOUR;

fn floor(t: i64, p: i64) -> i64 {
    t - t.rem_euclid(p)
}

/// What one stream keeps between cycles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamCache {
    /// Hour start -> the hour's Sum (NaN: no datapoint in the hour).
    pub hours: BTreeMap<i64, f64>,
    /// Fine buckets at the far window edges (each a whole hour, or the part of one the
    /// full read fetched).
    pub edges: Vec<Series>,
    /// The T of the last cycle that read this stream.
    pub read_at: i64,
    /// The T of the last full read (every hour re-read from CloudWatch).
    pub reconciled_at: i64,
}

/// How a stream is read this cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch {
    /// The full plan's segments: no usable cache, or a reconciliation.
    Full(Vec<Segment>),
    /// The tail, the far edges' missing hours and any hour the cache lacks.
    Incremental(Vec<Segment>),
}

impl Fetch {
    /// The segments to read.
    pub fn segments(&self) -> &[Segment] {
        match self {
            Fetch::Full(s) | Fetch::Incremental(s) => s,
        }
    }
}

/// Whether every stream of `slo` can be read incrementally: Occurrences over `Sum`.
pub fn eligible(slo: &SloDefinition) -> bool {
    slo.method == BudgetingMethod::Occurrences
        && !matches!(slo.indicator, crate::slo::model::Indicator::Composite(_))
        && slo.metric_specs().iter().all(|s| match s {
            MetricSpec::Metric { stat, .. } => stat == "Sum",
            MetricSpec::Queries { .. } => false,
        })
}

/// The end of what `full` covers (T, for Occurrences).
fn end_of(full: &[Segment]) -> i64 {
    full.iter().map(|s| s.end).max().unwrap_or(0)
}

/// Where the tail starts for the full plan `full` at `end`.
fn tail_start(full: &[Segment], end: i64) -> i64 {
    let near = full
        .iter()
        .filter(|s| s.period < HOUR && s.start >= end - TAIL_REACH)
        .map(|s| s.start);
    floor(near.fold(end - MIN_TAIL, i64::min), HOUR)
}

/// The fine segments the tail does not cover: the far window edges.
fn far(full: &[Segment], tail: i64) -> impl Iterator<Item = &Segment> {
    full.iter()
        .filter(move |s| s.period < HOUR && s.start < tail)
}

/// Whether the cache holds the buckets [a, b) at `period`.
fn covered(c: &StreamCache, period: i64, a: i64, b: i64) -> bool {
    c.edges
        .iter()
        .any(|e| e.period == period && e.start <= a && e.end() >= b)
}

/// Whether the cache a cycle at `end` assembled after `fetch` should be written: after a
/// full read, when something beyond the tail was read, or at the first cycle of an hour
/// (new closed hours); never over a newer cache (a past evaluation). Between those, the
/// stored cache still covers everything the tail does not.
pub fn should_store(cache: Option<&StreamCache>, fetch: &Fetch, end: i64) -> bool {
    match (cache, fetch) {
        (Some(c), _) if c.read_at > end => false,
        (None, _) | (_, Fetch::Full(_)) => true,
        (Some(c), Fetch::Incremental(read)) => {
            read.len() > 1 || floor(c.read_at, HOUR) < floor(end, HOUR)
        }
    }
}

/// What to read for one stream whose full plan is `full`, given its cache; `reconcile`
/// is the longest time between full reads.
pub fn plan_fetch(full: &[Segment], cache: Option<&StreamCache>, reconcile: i64) -> Fetch {
    let end = end_of(full);
    let Some(c) = cache.filter(|c| {
        c.read_at <= end && end - c.read_at <= STALE_AFTER && end - c.reconciled_at < reconcile
    }) else {
        return Fetch::Full(full.to_vec());
    };
    let tail = tail_start(full, end);
    let mut out = vec![Segment {
        start: tail,
        end,
        period: MINUTE,
    }];
    for s in far(full, tail) {
        // From the first hour the cache lacks, EDGE_AHEAD at once (never into the tail).
        let lacking = (floor(s.start, HOUR)..s.end)
            .step_by(HOUR as usize)
            .find(|h| !covered(c, s.period, (*h).max(s.start), (h + HOUR).min(s.end)));
        if let Some(h) = lacking {
            let seg = Segment {
                start: h,
                end: (h + EDGE_AHEAD).min(tail).max(s.end),
                period: s.period,
            };
            // Two edges in one stretch (an exclusion's and a window's) are one query:
            // a call must not ask for the same stream and period twice.
            match out[1..]
                .iter_mut()
                .find(|o| o.period == seg.period && o.start < seg.end && seg.start < o.end)
            {
                Some(o) => {
                    o.start = o.start.min(seg.start);
                    o.end = o.end.max(seg.end);
                }
                None => out.push(seg),
            }
        }
    }
    // Hours the cache lacks, a run of them in one query.
    for s in full.iter().filter(|s| s.period == HOUR) {
        let mut h = s.start;
        while h < s.end.min(tail) {
            if !c.hours.contains_key(&h) {
                match out.last_mut() {
                    Some(last) if last.period == HOUR && last.end == h => last.end += HOUR,
                    _ => out.push(Segment {
                        start: h,
                        end: h + HOUR,
                        period: HOUR,
                    }),
                }
            }
            h += HOUR;
        }
    }
    Fetch::Incremental(out)
}

/// The stream's data for `evaluate` (the buckets of the full plan) and its next cache,
/// from what `fetch` read (`fetched`, one series per segment) and the cache it was
/// planned with. None when something the full plan covers is neither read nor cached
/// (a planning bug: the caller reads the stream whole instead).
pub fn assemble(
    full: &[Segment],
    fetch: &Fetch,
    cache: Option<&StreamCache>,
    fetched: &[Series],
) -> Option<(StreamData, StreamCache)> {
    let end = end_of(full);
    let mut next = match (fetch, cache) {
        (Fetch::Incremental(_), Some(c)) => c.clone(),
        _ => StreamCache {
            reconciled_at: end,
            ..StreamCache::default()
        },
    };
    next.read_at = end;
    let tail = tail_start(full, end);
    for s in fetched {
        if s.period == HOUR {
            for (i, v) in s.values.iter().enumerate() {
                next.hours.insert(s.start + i as i64 * HOUR, *v);
            }
        } else if s.start < tail {
            next.edges
                .retain(|e| !(e.period == s.period && e.start >= s.start && e.end() <= s.end()));
            next.edges.push(s.clone());
        }
    }
    // The closed hours of the 1-minute reads since the tail's start: their Sums, as CloudWatch
    // would give them (NaN when no minute has a datapoint).
    let minutes = fetched
        .iter()
        .filter(|s| s.period == MINUTE && s.end() > tail)
        .collect::<Vec<_>>();
    let mut h = tail;
    while h + HOUR <= floor(end, HOUR) {
        let mut sum = f64::NAN;
        let mut whole = true;
        for m in (h..h + HOUR).step_by(MINUTE as usize) {
            match minutes.iter().find(|s| m >= s.start && m < s.end()) {
                Some(s) => {
                    let v = s.values[((m - s.start) / MINUTE) as usize];
                    if !v.is_nan() {
                        sum = if sum.is_nan() { v } else { sum + v };
                    }
                }
                None => whole = false,
            }
        }
        if whole {
            next.hours.insert(h, sum);
        }
        h += HOUR;
    }

    // The series `evaluate` reads: hours (from the cache, now up to date), the tail, the far edges.
    let mut series = Vec::new();
    for s in full.iter().filter(|s| s.period == HOUR) {
        let mut hours = Series::empty(s.start, s.end, HOUR);
        for (i, v) in hours.values.iter_mut().enumerate() {
            *v = *next.hours.get(&(s.start + i as i64 * HOUR))?;
        }
        series.push(hours);
    }
    for s in full.iter().filter(|s| s.period < HOUR) {
        let mut fine = Series::empty(s.start, s.end, s.period);
        for (i, v) in fine.values.iter_mut().enumerate() {
            let x = s.start + i as i64 * s.period;
            let source = fetched.iter().chain(next.edges.iter()).find(|e| {
                e.period == s.period && x >= e.start && x < e.end() && (x - e.start) % e.period == 0
            })?;
            *v = source.values[((x - source.start) / s.period) as usize];
        }
        series.push(fine);
    }
    // Keep only what later cycles can still use: hours and edges from the window's start on.
    let first = full.iter().map(|s| s.start).min().unwrap_or(end);
    next.hours = next.hours.split_off(&floor(first, HOUR));
    next.edges.retain(|e| e.end() > first);
    Some((StreamData::new(series), next))
}

#[cfg(test)]
mod tests;
