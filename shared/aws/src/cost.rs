//! The cost model as production prices it: the items this DynamoDB adapter writes and the
//! EMF lines the evaluator prints (`sloguard cost`, README's table).

use sloguard_core::app::emf::EmfLog;
use sloguard_core::cost::Layout;

use crate::dynamodb::DynamoLayout;

/// The layout `sloguard cost` and README's table price with.
pub const LAYOUT: Layout<'static> = Layout {
    items: &DynamoLayout,
    log: &EmfLog,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::number_size;
    use sloguard_core::cost::{
        cycle_times, estimate, prices, readme_table, representative, synthetic_fleet, Deployment,
        Estimate, FleetSlo, ItemLayout, SloMetrics, README_HOUR,
    };
    use sloguard_core::slo::model::SloDefinition;

    fn priced(fleet: &[SloDefinition], d: &Deployment) -> Estimate {
        let slos: Vec<FleetSlo> = fleet
            .iter()
            .map(|definition| FleetSlo {
                definition,
                sizes: None,
            })
            .collect();
        estimate(
            &slos,
            d,
            prices::for_region("us-east-1").unwrap(),
            README_HOUR,
            LAYOUT,
        )
    }

    #[test]
    fn number_sizes_follow_dynamodb() {
        assert_eq!(number_size("1"), 2);
        assert_eq!(number_size("1795608000"), 5); // 1795608: 7 significant digits
        assert_eq!(number_size("0.999"), 3);
    }

    #[test]
    fn estimated_sizes_are_those_of_real_json() {
        let fleet = synthetic_fleet(1);
        let t = cycle_times(README_HOUR, &Deployment::default())[0];
        let (snap, state) = representative(&[&fleet[0]], t).remove(0).unwrap();
        let s = DynamoLayout.sizes(&fleet[0], &snap, &state);
        let json = snap.to_stored();
        assert!(s.snapshot > json.len() && s.snapshot < json.len() + 80);
        assert!(s.snapshot <= 1024, "one write unit: {}", s.snapshot);
        assert!(
            s.state < 400,
            "the state item keeps what decisions need, no snapshot: {}",
            s.state
        );
        assert!(s.definition > fleet[0].to_stored().len());
        // plausible numbers, not tidy ones: the sizes are those of real evaluations
        assert!(snap.attainment.unwrap() < 1.0 && snap.attainment.unwrap() > 0.99);
    }

    #[test]
    fn the_evaluators_custom_metrics_are_two_and_seven_more_per_slo_when_asked() {
        // the dead man's switch (the dispatcher's) and the stack's failures; no per-SLO metrics
        let e = priced(&synthetic_fleet(1), &Deployment::default());
        assert_eq!(e.custom_metrics, 2);
        let all = priced(
            &synthetic_fleet(1),
            &Deployment {
                slo_metrics: SloMetrics::All,
                ..Deployment::default()
            },
        );
        // with SloMetrics=all: budget, attainment and 5 burn rates per SLO as well
        assert_eq!(all.custom_metrics, 2 + 7);
        // one snapshot (under 1 KB) a cycle, the state once an hour, two stream caches
        // about once an hour more, a few KB each
        let w = e.per_cycle.dynamodb_write_units;
        // (besides the cycle record: written, marked dispatched, marked done by its shard)
        let w = w - 3.0;
        assert!((1.1..=2.0).contains(&w), "{w} write units per cycle");
    }

    #[test]
    fn readme_cost_table_is_the_models() {
        let page = include_str!("../../../docs/deploying.md");
        let table = readme_table(LAYOUT);
        assert!(
            page.contains(&table),
            "the cost table of docs/deploying.md differs from the model: run `make cost-table` and paste this under \"What it costs\":\n{table}"
        );
    }

    #[test]
    fn a_ratio_slo_costs_at_most_a_quarter_a_month_in_a_fleet_of_100() {
        for n in [100, 1000] {
            let e = priced(&synthetic_fleet(n), &Deployment::default());
            assert!(
                e.per_slo_usd() <= 0.25,
                "{n} SLOs: ${} per SLO",
                e.per_slo_usd()
            );
            assert!(e.per_slo(e.per_cycle.metrics_requested) <= 2.5);
            assert!(e.per_slo(e.per_cycle.dynamodb_write_units) <= 2.0);
            assert_eq!(e.custom_metrics, 2, "none per SLO");
        }
    }
}
