//! Evaluate 1,000 SLOs (30-day window, default policy) from in-memory series of
//! the size the query plan fetches. Goal: at most 10 µs per SLO.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sloguard_core::slo::evaluate::evaluate;
use sloguard_core::slo::load::{load, SourceFile};
use sloguard_core::slo::plan::{EvalTime, QueryPlan};
use sloguard_core::slo::series::{Series, StreamData};

const FLEET: usize = 1000;

fn fleet() -> String {
    (0..FLEET)
        .map(|i| {
            format!(
                r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: slo-{i}
spec:
  service: svc-{s}
  indicator:
    metadata:
      name: sli-{i}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec:
              region: eu-west-1
              namespace: Bench
              metricName: Errors
              stat: Sum
              dimensions:
                - name: Endpoint
                  value: e{i}
        total:
          metricSource:
            type: CloudWatch
            spec:
              region: eu-west-1
              namespace: Bench
              metricName: Requests
              stat: Sum
              dimensions:
                - name: Endpoint
                  value: e{i}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
"#,
                s = i % 37
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let loaded = load(&[SourceFile {
        name: "fleet.yaml".into(),
        text: fleet(),
    }]);
    assert!(loaded.problems.is_empty());
    let slos = loaded.slos;
    let refs: Vec<_> = slos.iter().collect();
    let at = 1_780_000_000 - 1_780_000_000 % 60 + 180;
    let t = EvalTime { at, now: at };
    let plan = QueryPlan::build(&refs, t);
    // Realistic data: ~1000 requests a minute, a few errors, some missing datapoints.
    let data: Vec<StreamData> = plan
        .segments
        .iter()
        .enumerate()
        .map(|(i, segs)| {
            StreamData::new(
                segs.iter()
                    .map(|g| {
                        let mut s = Series::empty(g.start, g.end, g.period);
                        for (k, v) in s.values.iter_mut().enumerate() {
                            let minutes = (g.period / 60) as f64;
                            *v = if (k + i) % 97 == 0 {
                                f64::NAN
                            } else if i % 2 == 0 {
                                ((k * 7 + i) % 3) as f64 * minutes
                            } else {
                                1000.0 * minutes
                            };
                        }
                        s
                    })
                    .collect(),
            )
        })
        .collect();
    let points: usize = data
        .iter()
        .flat_map(|d| &d.series)
        .map(|s| s.values.len())
        .sum();
    eprintln!(
        "fleet: {} SLOs, {} streams, {} GetMetricData calls, {} datapoints in memory ({} per stream)",
        slos.len(),
        plan.streams.len(),
        plan.requests.len(),
        points,
        points / plan.streams.len()
    );
    let inputs: Vec<Vec<&StreamData>> = plan
        .slo_streams
        .iter()
        .map(|ids| ids.iter().map(|i| &data[*i]).collect())
        .collect();

    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(FLEET as u64));
    g.bench_function("evaluate_1000_slos_30d", |b| {
        b.iter(|| {
            let mut breaching = 0;
            for (slo, streams) in slos.iter().zip(&inputs) {
                let e = evaluate(slo, t, streams).expect("evaluates");
                breaching += e.conditions.iter().filter(|c| c.met).count();
            }
            breaching
        })
    });
    g.bench_function("plan_1000_slos", |b| {
        b.iter_batched(
            || refs.clone(),
            |r| QueryPlan::build(&r, t),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
