//! Fleets to price without a table: synthetic ratio SLOs (`sloguard cost --slos N`, the
//! benches, README's table) and a representative evaluation of any fleet, whose snapshots
//! and states have the digits real ones have.

use crate::slo::evaluate::evaluate;
use crate::slo::load::{load, SourceFile};
use crate::slo::model::{Indicator, Op, SloDefinition};
use crate::slo::plan::{EvalTime, QueryPlan};
use crate::slo::series::{Series, StreamData};
use crate::slo::snapshot::Snapshot;
use crate::slo::status::{decide, Rules, SloState};

#[derive(Clone, Copy)]
enum Role {
    Bad,
    Good,
    Total,
    Value(f64),
}

/// Snapshots and states of a plausible evaluation of each SLO at `t`: ~1,000 events a
/// minute with a few bad ones and a missing datapoint now and then, so the numbers
/// have the digits real ones have.
pub fn representative(slos: &[&SloDefinition], t: EvalTime) -> Vec<Option<(Snapshot, SloState)>> {
    let plan = QueryPlan::build(slos, t);
    let mut roles = vec![Role::Total; plan.streams.len()];
    for (slo, ids) in slos.iter().zip(&plan.slo_streams) {
        let mut ids = ids.iter();
        for unit in crate::slo::composite::units(slo) {
            let first = ids.next().copied();
            for _ in 1..unit.metric_specs().len() {
                ids.next();
            }
            let Some(first) = first else { continue };
            match &unit.indicator {
                Indicator::Ratio { good, .. } => {
                    roles[first] = if *good { Role::Good } else { Role::Bad };
                }
                Indicator::Threshold { .. } | Indicator::Raw { .. } => {
                    let v = unit.objective.value.unwrap_or(100.0);
                    let good = match unit.objective.op {
                        Some(Op::Lt | Op::Lte) | None => v * 0.87,
                        Some(Op::Gt | Op::Gte) => v * 1.13,
                    };
                    roles[first] = Role::Value(good);
                }
                Indicator::Composite(_) => {}
            }
        }
    }
    let data: Vec<StreamData> = plan
        .segments
        .iter()
        .zip(&roles)
        .enumerate()
        .map(|(i, (segs, role))| {
            StreamData::new(
                segs.iter()
                    .map(|g| {
                        let mut s = Series::empty(g.start, g.end, g.period);
                        let minutes = (g.period / 60) as f64;
                        for (k, v) in s.values.iter_mut().enumerate() {
                            let total = 1000.0 * minutes + ((k * 7 + i) % 13) as f64;
                            let bad = ((k * 7 + i) % 3) as f64 * minutes * 0.37;
                            *v = if (k + i) % 97 == 0 {
                                f64::NAN
                            } else {
                                match role {
                                    Role::Total => total,
                                    Role::Bad => bad.round(),
                                    Role::Good => total - bad.round(),
                                    Role::Value(x) => x + (k % 7) as f64 * 0.013,
                                }
                            };
                        }
                        s
                    })
                    .collect(),
            )
        })
        .collect();
    slos.iter()
        .zip(&plan.slo_streams)
        .map(|(slo, ids)| {
            let streams: Vec<&StreamData> = ids.iter().map(|i| &data[*i]).collect();
            let eval = evaluate(slo, t, &streams).ok()?;
            let decision = decide(&SloState::default(), &eval, &Rules::for_slo(slo, false));
            let snap = Snapshot::new(slo, &eval, decision.observed, None, &[], None);
            Some((snap, decision.state.unwrap_or_default()))
        })
        .collect()
}

/// A fleet of `n` ratio SLOs (bad/total, 99.9%, 30 days, default alerting), each on
/// metrics of its own: the hypothetical fleet of `sloguard cost --slos N` and the benches.
pub fn synthetic_fleet(n: usize) -> Vec<SloDefinition> {
    // 100 SLOs per file keeps each file far below the loader's size limit.
    let files: Vec<SourceFile> = (0..n)
        .collect::<Vec<_>>()
        .chunks(100)
        .enumerate()
        .map(|(f, chunk)| SourceFile {
            name: format!("fleet-{f}.yaml"),
            text: chunk.iter().map(|i| synthetic_slo(*i)).collect(),
        })
        .collect();
    let loaded = load(&files);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems.first());
    loaded.slos
}

fn synthetic_slo(i: usize) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: slo-{i:05}
spec:
  service: service-{s:03}
  indicator:
    metadata:
      name: sli-{i:05}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec: {{region: us-east-1, namespace: Fleet, metricName: Errors, stat: Sum, dimensions: [{{name: Endpoint, value: endpoint-{i:05}}}]}}
        total:
          metricSource:
            type: CloudWatch
            spec: {{region: us-east-1, namespace: Fleet, metricName: Requests, stat: Sum, dimensions: [{{name: Endpoint, value: endpoint-{i:05}}}]}}
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
}
