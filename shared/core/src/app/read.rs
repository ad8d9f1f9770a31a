//! Reading the metric streams a cycle needs: incrementally where a stream's cache allows
//! (its new 1-minute tail, now and then a far edge, the rest from the cache), the full
//! plan otherwise. Both give `evaluate` the same buckets (`slo::incremental`).
//!
//! A stream is read incrementally when every SLO that reads it is eligible (Occurrences
//! over Sum), the cycle is not a backfill, and reconciliation is on. Anything that goes
//! wrong with a cache (none stored, unreadable, stale, a store error, a hole in what was
//! assembled) falls back to the full read of that stream, so results stay exact; a cache
//! that cannot be written is logged and the next cycle reads the stream whole.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};

use crate::slo::incremental::{self, assemble, plan_fetch, should_store, Fetch, StreamCache};
use crate::slo::model::SloDefinition;
use crate::slo::plan::{pack, QueryPlan, Segment};
use crate::slo::series::{Series, StreamData};

use super::ports::{MetricSource, SourceError, StreamCacheStore};
use super::App;

/// A stream cache outlives its last write by this long, then TTL removes it (a stream
/// no SLO reads any more).
const CACHE_DAYS: i64 = 3;

/// Each stream's data, and what reading it took.
pub struct Read {
    /// Per stream of the plan, the data for `evaluate` or why it could not be read.
    pub data: Vec<Result<StreamData, SourceError>>,
    /// GetMetricData calls made.
    pub requests: usize,
}

/// A stored cache, read back; None (with a warning when `warn`) when it cannot be.
fn decoded(bytes: Option<&[u8]>, warn: bool) -> Option<StreamCache> {
    match StreamCache::decode(bytes?) {
        Ok(c) => Some(c),
        Err(e) => {
            if warn {
                tracing::warn!(error = %e, "stream cache unreadable; reading the stream whole");
            }
            None
        }
    }
}

/// Read every stream of `plan` for `slos` (the plan's input, in order).
///
/// Memory stays flat with the fleet: caches are held in their stored form (a KB or two
/// per stream) and decoded only while a stream is planned or assembled, a few at a time,
/// each new cache written as soon as it is assembled.
pub async fn read_streams<M: MetricSource, S: StreamCacheStore, N>(
    app: &App<M, S, N>,
    slos: &[SloDefinition],
    plan: &QueryPlan,
    backfill: bool,
) -> Read {
    let n = plan.streams.len();
    let reconcile = app.config.reconcile_seconds;
    let mut cached = vec![reconcile > 0 && !backfill; n];
    for (slo, ids) in slos.iter().zip(&plan.slo_streams) {
        if !incremental::eligible(slo) {
            for i in ids {
                cached[*i] = false;
            }
        }
    }
    let wanted: Vec<usize> = (0..n).filter(|i| cached[*i]).collect();
    let mut stored: Vec<Option<Vec<u8>>> = vec![None; n];
    if !wanted.is_empty() {
        let specs: Vec<_> = wanted.iter().map(|i| &plan.streams[*i]).collect();
        match app.store.stream_caches(&specs).await {
            Ok(found) => {
                for (i, c) in wanted.iter().zip(found) {
                    stored[*i] = c;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "stream caches not read; reading every stream whole")
            }
        }
    }
    let fetches: Vec<Fetch> = (0..n)
        .map(|i| match cached[i] {
            true => plan_fetch(
                &plan.segments[i],
                decoded(stored[i].as_deref(), true).as_ref(),
                reconcile,
            ),
            false => Fetch::Full(plan.segments[i].clone()),
        })
        .collect();
    let segments: Vec<Vec<Segment>> = fetches.iter().map(|f| f.segments().to_vec()).collect();
    let (fetched, mut requests) = fetch(app, plan, &segments).await;
    drop(segments);

    // Assemble each stream and write its new cache, a few streams at a time.
    let (stored, fetches, cached) = (&stored, &fetches, &cached);
    let mut assembled: Vec<(usize, Option<Result<StreamData, SourceError>>)> =
        stream::iter(fetched.into_iter().enumerate())
            .map(|(i, got)| async move {
                let series = match got {
                    Err(e) => return (i, Some(Err(e))),
                    Ok(series) if !cached[i] => return (i, Some(Ok(StreamData::new(series)))),
                    Ok(series) => series,
                };
                let cache = decoded(stored[i].as_deref(), false);
                let Some((data, next)) =
                    assemble(&plan.segments[i], &fetches[i], cache.as_ref(), &series)
                else {
                    tracing::warn!(stream = i, "incremental read left a hole; reading the stream whole");
                    return (i, None);
                };
                drop(series);
                if should_store(cache.as_ref(), &fetches[i], next.read_at) {
                    let expires_at = next.read_at + CACHE_DAYS * 86_400;
                    if let Err(e) = app
                        .store
                        .put_stream_cache(&plan.streams[i], &next, expires_at)
                        .await
                    {
                        tracing::warn!(stream = i, error = %e, "stream cache not written; the next cycle reads the stream whole");
                    }
                }
                (i, Some(Ok(data)))
            })
            .buffer_unordered(app.config.concurrency.max(1))
            .collect()
            .await;
    assembled.sort_by_key(|(i, _)| *i);

    // A stream whose incremental read left a hole is read again whole.
    let mut again = vec![Vec::new(); n];
    for (i, d) in &assembled {
        if d.is_none() {
            again[*i] = plan.segments[*i].clone();
        }
    }
    let mut data: Vec<Result<StreamData, SourceError>> = Vec::with_capacity(n);
    if again.iter().any(|s| !s.is_empty()) {
        let (mut refetched, k) = fetch(app, plan, &again).await;
        requests += k;
        for (i, d) in assembled {
            data.push(match d {
                Some(d) => d,
                None => std::mem::replace(&mut refetched[i], Ok(Vec::new())).map(StreamData::new),
            });
        }
    } else {
        data.extend(assembled.into_iter().map(|(_, d)| d.expect("assembled")));
    }
    Read { data, requests }
}

/// Run the GetMetricData calls that read `segments` (per stream of `plan`), bounded in
/// concurrency; each stream's series, one per segment, or the error of a failed call.
async fn fetch<M: MetricSource, S, N>(
    app: &App<M, S, N>,
    plan: &QueryPlan,
    segments: &[Vec<Segment>],
) -> (Vec<Result<Vec<Series>, SourceError>>, usize) {
    let requests = pack(&plan.streams, segments);
    let responses: Vec<_> = stream::iter(requests.iter())
        .map(|r| async move { (r, app.metrics.get_metric_data(r, &plan.streams).await) })
        .buffer_unordered(app.config.concurrency.max(1))
        .collect()
        .await;
    let mut series: Vec<Result<Vec<Series>, SourceError>> =
        vec![Ok(Vec::new()); plan.streams.len()];
    for (req, result) in responses {
        match result {
            Err(e) => {
                tracing::warn!(region = %req.region, queries = req.queries.len(), error = %e, "GetMetricData failed");
                for q in &req.queries {
                    series[q.stream] = Err(e.clone());
                }
            }
            Ok(results) => {
                let by_id: HashMap<&str, &Vec<(i64, f64)>> =
                    results.iter().map(|r| (r.id.as_str(), &r.points)).collect();
                for q in &req.queries {
                    if let Ok(list) = &mut series[q.stream] {
                        let mut s = Series::empty(req.start, req.end, q.period);
                        for (ts, v) in by_id
                            .get(q.id.as_str())
                            .map(|p| p.as_slice())
                            .unwrap_or(&[])
                        {
                            if v.is_finite() {
                                s.set(*ts, *v);
                            }
                        }
                        list.push(s);
                    }
                }
            }
        }
    }
    (series, requests.len())
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
