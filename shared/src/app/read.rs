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

/// Read every stream of `plan` for `slos` (the plan's input, in order).
pub async fn read_streams<M: MetricSource, S: StreamCacheStore, N>(
    app: &App<M, S, N>,
    slos: &[SloDefinition],
    plan: &QueryPlan,
    backfill: bool,
) -> Read {
    let reconcile = app.config.reconcile_seconds;
    let mut cached = vec![reconcile > 0 && !backfill; plan.streams.len()];
    for (slo, ids) in slos.iter().zip(&plan.slo_streams) {
        if !incremental::eligible(slo) {
            for i in ids {
                cached[*i] = false;
            }
        }
    }
    let wanted: Vec<usize> = (0..plan.streams.len()).filter(|i| cached[*i]).collect();
    let mut caches: Vec<Option<StreamCache>> = vec![None; plan.streams.len()];
    if !wanted.is_empty() {
        let specs: Vec<_> = wanted.iter().map(|i| &plan.streams[*i]).collect();
        match app.store.stream_caches(&specs).await {
            Ok(found) => {
                for (i, c) in wanted.iter().zip(found) {
                    caches[*i] = c;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "stream caches not read; reading every stream whole")
            }
        }
    }
    let fetches: Vec<Fetch> = (0..plan.streams.len())
        .map(|i| match cached[i] {
            true => plan_fetch(&plan.segments[i], caches[i].as_ref(), reconcile),
            false => Fetch::Full(plan.segments[i].clone()),
        })
        .collect();
    let segments: Vec<Vec<Segment>> = fetches.iter().map(|f| f.segments().to_vec()).collect();
    let (mut fetched, mut requests) = fetch(app, plan, &segments).await;

    let mut data: Vec<Option<Result<StreamData, SourceError>>> = vec![None; plan.streams.len()];
    let mut store = Vec::new();
    let mut again = vec![Vec::new(); plan.streams.len()];
    for i in 0..plan.streams.len() {
        let got = std::mem::replace(&mut fetched[i], Ok(Vec::new()));
        data[i] = Some(match (got, cached[i]) {
            (Err(e), _) => Err(e),
            (Ok(series), false) => Ok(StreamData::new(series)),
            (Ok(series), true) => {
                let full = &plan.segments[i];
                match assemble(full, &fetches[i], caches[i].as_ref(), &series) {
                    Some((d, next)) => {
                        if should_store(caches[i].as_ref(), &fetches[i], next.read_at) {
                            store.push((i, next));
                        }
                        Ok(d)
                    }
                    None => {
                        tracing::warn!(
                            stream = i,
                            "incremental read left a hole; reading the stream whole"
                        );
                        again[i] = full.clone();
                        continue;
                    }
                }
            }
        });
    }
    if again.iter().any(|s| !s.is_empty()) {
        let (refetched, n) = fetch(app, plan, &again).await;
        requests += n;
        for (i, got) in refetched.into_iter().enumerate() {
            if !again[i].is_empty() {
                data[i] = Some(got.map(StreamData::new));
            }
        }
    }
    let expires_days = CACHE_DAYS * 86_400;
    stream::iter(store)
        .map(|(i, cache)| async move {
            let expires_at = cache.read_at + expires_days;
            if let Err(e) = app
                .store
                .put_stream_cache(&plan.streams[i], &cache, expires_at)
                .await
            {
                tracing::warn!(stream = i, error = %e, "stream cache not written; the next cycle reads the stream whole");
            }
        })
        .buffer_unordered(app.config.concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
    Read {
        data: data
            .into_iter()
            .map(|d| d.unwrap_or_else(|| Ok(StreamData::default())))
            .collect(),
        requests,
    }
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
