//! The query plan: for a set of SLOs at time T, the GetMetricData requests that
//! make every window exact, within the API's limits and CloudWatch's retention.
//!
//! A window [s, T) is summed from hourly buckets in its middle and finer buckets
//! at its edges: the partial hour at its start (at the finest resolution
//! CloudWatch still keeps at that age) and the partial hour before T (1 minute).
//! So a 30-day window costs about 720 + 2 x 60 datapoints, not 43,200.

use std::collections::{BTreeMap, HashMap};

use super::model::{MetricSpec, QuerySpec, SloDefinition};
use super::window;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// GetMetricData accepts at most this many queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// GetMetricData returns at most this many datapoints per call.
pub const MAX_DATAPOINTS_PER_CALL: usize = 100_800;
/// Safety margin before a retention boundary, so a slow cycle does not fall off it.
const RETENTION_MARGIN: i64 = HOUR;

/// How long CloudWatch keeps data at a period: 1-minute 15 days, 5-minute 63 days, 1-hour 455 days.
pub fn retention_seconds(period: i64) -> i64 {
    if period % HOUR == 0 {
        455 * DAY
    } else if period % 300 == 0 {
        63 * DAY
    } else {
        15 * DAY
    }
}

/// The finest period CloudWatch still serves for data `age` seconds old.
pub fn resolution_for_age(age: i64) -> i64 {
    if age <= 15 * DAY - RETENTION_MARGIN {
        MINUTE
    } else if age <= 63 * DAY - RETENTION_MARGIN {
        300
    } else {
        HOUR
    }
}

fn floor(t: i64, p: i64) -> i64 {
    t - t.rem_euclid(p)
}

fn ceil(t: i64, p: i64) -> i64 {
    -floor(-t, p)
}

/// When an evaluation happens: `at` is T (already minus the lag), `now` the wall clock,
/// which decides what resolution CloudWatch still has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalTime {
    pub at: i64,
    pub now: i64,
}

impl EvalTime {
    /// T from a trigger time and the lag, truncated to the minute (CloudWatch's finest grid).
    pub fn from_trigger(trigger: i64, lag_seconds: i64, now: i64) -> Self {
        EvalTime {
            at: floor(trigger - lag_seconds, MINUTE),
            now,
        }
    }
}

/// The spans one SLO evaluates at T: the SLO window and each alert window, all ending at `end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spans {
    pub end: i64,
    pub slo_start: Edge,
    /// The complete length of the SLO window (a calendar period's whole length).
    pub slo_length: i64,
    /// (nominal length, start) of each distinct alert window, shortest first; always has 1h.
    pub alerts: Vec<(i64, Edge)>,
    /// Slice length for timeslice methods.
    pub slice: Option<i64>,
    /// Exclusion boundaries inside the spans: the hour around each is fetched finely.
    pub exclusion_edges: Vec<Edge>,
}

/// A window start, rounded down to `resolution`, the finest grid CloudWatch keeps at its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub start: i64,
    pub resolution: i64,
}

/// The spans of an SLO at time `t`, with edges rounded to what CloudWatch still keeps.
pub fn spans(slo: &SloDefinition, t: EvalTime) -> Spans {
    let slice = slo.slice_seconds();
    let end = slice.map_or(t.at, |s| floor(t.at, s));
    let edge = |s: i64| {
        let resolution = slice.unwrap_or_else(|| resolution_for_age(t.now - s));
        Edge {
            start: floor(s, resolution),
            resolution,
        }
    };
    let b = window::bounds(&slo.window, end);
    let mut lengths: Vec<i64> = slo
        .conditions
        .iter()
        .flat_map(|c| [c.long_seconds, c.short_seconds])
        .chain(std::iter::once(HOUR))
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    let alerts = lengths
        .into_iter()
        .map(|len| (len, edge(end - len.max(slice.unwrap_or(0)))))
        .collect();
    let slo_start = edge(b.start);
    let exclusion_edges = slo
        .settings
        .exclusions
        .iter()
        .flat_map(|&(s, e)| [s, e])
        .filter(|&x| x > slo_start.start.min(end - HOUR) && x < end && x % HOUR != 0)
        .map(|x| Edge {
            start: floor(x, HOUR),
            resolution: slice.unwrap_or_else(|| resolution_for_age(t.now - x)),
        })
        .collect();
    Spans {
        end,
        slo_start,
        slo_length: b.length,
        alerts,
        slice,
        exclusion_edges,
    }
}

/// A time range fetched at one period for one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment {
    pub start: i64,
    pub end: i64,
    pub period: i64,
}

/// One query of a request: a stream at a period, under an id unique in its request.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuery {
    pub id: String,
    pub stream: usize,
    pub period: i64,
}

/// One GetMetricData call: a region, a time range and up to 500 queries.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRequest {
    pub region: String,
    pub start: i64,
    pub end: i64,
    pub queries: Vec<PlannedQuery>,
}

impl MetricRequest {
    /// Datapoints this call can return at most, counted against the 100,800 limit.
    pub fn datapoints(&self, streams: &[MetricSpec]) -> usize {
        self.queries
            .iter()
            .map(|q| {
                query_weight(&streams[q.stream]) * ((self.end - self.start) / q.period) as usize
            })
            .sum()
    }
}

fn query_weight(spec: &MetricSpec) -> usize {
    match spec {
        MetricSpec::Metric { .. } => 1,
        MetricSpec::Queries { queries, .. } => queries.len(),
    }
}

/// Everything to fetch for a set of SLOs at one time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryPlan {
    /// Distinct metric streams; a stream read by several SLOs or windows appears once.
    pub streams: Vec<MetricSpec>,
    /// Segments each stream needs, merged.
    pub segments: Vec<Vec<Segment>>,
    pub requests: Vec<MetricRequest>,
    /// For each input SLO, the stream index of each metric spec, in `metric_specs()` order.
    pub slo_streams: Vec<Vec<usize>>,
}

impl QueryPlan {
    /// Plan the fetch for `slos` at time `t`.
    pub fn build(slos: &[&SloDefinition], t: EvalTime) -> QueryPlan {
        let mut index: HashMap<MetricSpec, usize> = HashMap::new();
        let mut plan = QueryPlan::default();
        for slo in slos {
            let mut ids = Vec::new();
            // A composite's parts are fetched as the plain SLOs they are evaluated as.
            for unit in super::composite::units(slo) {
                let sp = spans(&unit, t);
                let segs = segments_for(&sp);
                for spec in unit.metric_specs() {
                    let i = match index.get(spec) {
                        Some(i) => *i,
                        None => {
                            plan.streams.push(spec.clone());
                            plan.segments.push(Vec::new());
                            index.insert(spec.clone(), plan.streams.len() - 1);
                            plan.streams.len() - 1
                        }
                    };
                    plan.segments[i].extend_from_slice(&segs);
                    ids.push(i);
                }
            }
            plan.slo_streams.push(ids);
        }
        for segs in &mut plan.segments {
            *segs = merge(std::mem::take(segs));
        }
        plan.requests = pack(&plan.streams, &plan.segments);
        plan
    }
}

/// Segments that let every span be summed exactly.
fn segments_for(sp: &Spans) -> Vec<Segment> {
    let starts = std::iter::once(sp.slo_start).chain(sp.alerts.iter().map(|a| a.1));
    let min_start = starts.clone().map(|e| e.start).min().unwrap_or(sp.end);
    if let Some(slice) = sp.slice {
        return vec![Segment {
            start: min_start,
            end: sp.end,
            period: slice,
        }];
    }
    let mut out = Vec::new();
    let th = floor(sp.end, HOUR);
    let tail_start = th.max(min_start);
    if tail_start < sp.end {
        out.push(Segment {
            start: tail_start,
            end: sp.end,
            period: MINUTE,
        });
    }
    for e in starts {
        if e.start % HOUR != 0 {
            out.push(Segment {
                start: e.start,
                end: ceil(e.start, HOUR).min(sp.end),
                period: e.resolution,
            });
        }
    }
    for e in &sp.exclusion_edges {
        out.push(Segment {
            start: e.start.max(floor(min_start, e.resolution)),
            end: (e.start + HOUR).min(sp.end),
            period: e.resolution,
        });
    }
    if ceil(min_start, HOUR) < th {
        out.push(Segment {
            start: ceil(min_start, HOUR),
            end: th,
            period: HOUR,
        });
    }
    out
}

/// Merge overlapping or touching segments of the same period.
fn merge(mut segs: Vec<Segment>) -> Vec<Segment> {
    segs.sort_by_key(|s| (s.period, s.start, s.end));
    let mut out: Vec<Segment> = Vec::new();
    for s in segs {
        match out.last_mut() {
            Some(last) if last.period == s.period && s.start <= last.end => {
                last.end = last.end.max(s.end)
            }
            _ => out.push(s),
        }
    }
    out
}

/// (region, start, end): the queries of one GetMetricData call share these.
type RangeKey<'a> = (&'a str, i64, i64);

/// Group segments into calls by (region, range), then split by the per-call limits; an
/// incremental read packs its own segments the same way.
pub fn pack(streams: &[MetricSpec], segments: &[Vec<Segment>]) -> Vec<MetricRequest> {
    let mut groups: BTreeMap<RangeKey, Vec<(usize, i64)>> = BTreeMap::new();
    for (i, segs) in segments.iter().enumerate() {
        for s in segs {
            groups
                .entry((streams[i].region(), s.start, s.end))
                .or_default()
                .push((i, s.period));
        }
    }
    let mut out = Vec::new();
    for ((region, start, end), queries) in groups {
        let mut current = MetricRequest {
            region: region.to_string(),
            start,
            end,
            queries: Vec::new(),
        };
        let (mut n, mut points) = (0usize, 0usize);
        for (stream, period) in queries {
            let w = query_weight(&streams[stream]);
            let p = w * ((end - start) / period) as usize;
            // A Metrics Insights query must be the only one of its call.
            let alone = streams[stream].is_insights()
                || current
                    .queries
                    .first()
                    .is_some_and(|q| streams[q.stream].is_insights());
            if !current.queries.is_empty()
                && (alone || n + w > MAX_QUERIES_PER_CALL || points + p > MAX_DATAPOINTS_PER_CALL)
            {
                out.push(std::mem::replace(
                    &mut current,
                    MetricRequest {
                        region: region.to_string(),
                        start,
                        end,
                        queries: Vec::new(),
                    },
                ));
                n = 0;
                points = 0;
            }
            n += w;
            points += p;
            current.queries.push(PlannedQuery {
                id: format!("m{stream}_{period}"),
                stream,
                period,
            });
        }
        if !current.queries.is_empty() {
            out.push(current);
        }
    }
    out
}

/// The queries of a `json` spec with ids made unique in a call: the returning query
/// takes `id`, helpers `{id}_{their id}`, and expressions are rewritten to match.
pub fn expand_queries(queries: &[QuerySpec], id: &str) -> Vec<QuerySpec> {
    let rename = |old: &str| -> String {
        match queries.iter().find(|q| q.id == old) {
            Some(q) if q.return_data => id.to_string(),
            Some(_) => format!("{id}_{old}"),
            None => old.to_string(),
        }
    };
    queries
        .iter()
        .map(|q| QuerySpec {
            id: rename(&q.id),
            // A Metrics Insights query names no other query: it goes as written.
            expression: q.expression.as_deref().map(|e| {
                if is_select(e) {
                    e.to_string()
                } else {
                    rewrite_identifiers(e, &rename)
                }
            }),
            ..q.clone()
        })
        .collect()
}

/// Whether an expression is a Metrics Insights query rather than metric math.
pub fn is_select(expr: &str) -> bool {
    expr.trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("select"))
}

/// Replace whole identifiers in a metric-math expression, leaving strings and functions alone.
fn rewrite_identifiers(expr: &str, rename: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(expr.len() + 16);
    let mut chars = expr.char_indices().peekable();
    let mut in_string: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = in_string {
            out.push(c);
            if c == q {
                in_string = None;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            in_string = Some(c);
            out.push(c);
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut j = i + c.len_utf8();
            while let Some(&(k, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    j = k + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push_str(&rename(&expr[i..j]));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::load::{load, SourceFile};

    fn slo(extra: &str, window: &str) -> SloDefinition {
        let text = format!(
            r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
spec:
  service: shop
  indicator:
    metadata:
      name: checkout-ok
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: CloudWatch
            spec:
              region: eu-west-1
              namespace: Shop
              metricName: Errors{extra}
              stat: Sum
        total:
          metricSource:
            type: CloudWatch
            spec:
              region: eu-west-1
              namespace: Shop
              metricName: Requests
              stat: Sum
  timeWindow:
    - duration: {window}
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"#
        );
        let l = load(&[SourceFile {
            name: "t.yaml".into(),
            text,
        }]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        l.slos.into_iter().next().unwrap()
    }

    const T: i64 = 1_780_000_000 - 1_780_000_000 % 60 + 180; // 3 minutes past some minute

    #[test]
    fn thirty_day_window_is_hourly_in_the_middle_and_fine_at_the_edges() {
        let s = slo("", "30d");
        let t = EvalTime {
            at: T,
            now: T + 120,
        };
        let plan = QueryPlan::build(&[&s], t);
        assert_eq!(plan.streams.len(), 2);
        let segs = &plan.segments[0];
        let hourly: Vec<_> = segs.iter().filter(|s| s.period == HOUR).collect();
        assert_eq!(hourly.len(), 1);
        // the 30-day start is older than 15 days: its edge is on the 5-minute grid
        let sp = spans(&s, t);
        assert_eq!(sp.slo_start.start % 300, 0);
        assert_eq!(sp.slo_start.resolution, 300);
        assert!(segs
            .iter()
            .any(|g| g.period == 300 && g.start == sp.slo_start.start));
        let points: i64 = segs.iter().map(|g| (g.end - g.start) / g.period).sum();
        assert!(points < 1200, "{points} datapoints per stream");
        for r in &plan.requests {
            assert!(r.queries.len() <= MAX_QUERIES_PER_CALL);
            assert!(r.datapoints(&plan.streams) <= MAX_DATAPOINTS_PER_CALL);
        }
    }

    #[test]
    fn shared_streams_are_fetched_once_and_limits_hold_for_a_fleet() {
        let slos: Vec<SloDefinition> = (0..1000).map(|i| slo(&i.to_string(), "30d")).collect();
        let refs: Vec<&SloDefinition> = slos.iter().collect();
        let t = EvalTime { at: T, now: T };
        let plan = QueryPlan::build(&refs, t);
        // 1000 distinct bad metrics, one shared total
        assert_eq!(plan.streams.len(), 1001);
        let mut seen = std::collections::HashSet::new();
        for r in &plan.requests {
            assert!(r.queries.len() <= MAX_QUERIES_PER_CALL);
            assert!(r.datapoints(&plan.streams) <= MAX_DATAPOINTS_PER_CALL);
            for q in &r.queries {
                assert!(
                    seen.insert((r.start, r.end, q.stream, q.period)),
                    "fetched twice"
                );
            }
        }
        assert!(plan.requests.len() < 40, "{} calls", plan.requests.len());
    }

    #[test]
    fn a_metrics_insights_query_goes_alone_and_as_written() {
        let sql = "SELECT SUM(q) FROM SCHEMA(\"Shop\", Endpoint) WHERE Endpoint = 'checkout'";
        let yaml = format!(
            "apiVersion: openslo/v1\nkind: SLO\nmetadata: {{name: s}}\nspec:\n  service: x\n  indicator:\n    metadata: {{name: s}}\n    spec:\n      ratioMetric:\n        bad:\n          metricSource:\n            type: CloudWatch\n            spec: {{region: eu-west-1, sql: '{}'}}\n        total:\n          metricSource:\n            type: CloudWatch\n            spec: {{region: eu-west-1, namespace: Shop, metricName: Requests, stat: Sum}}\n  timeWindow: [{{duration: 7d, isRolling: true}}]\n  budgetingMethod: Occurrences\n  objectives: [{{target: 0.99}}]\n",
            sql.replace('\'', "''")
        );
        let l = crate::slo::load::load(&[crate::slo::load::SourceFile {
            name: "s.yaml".into(),
            text: yaml,
        }]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let t = EvalTime {
            at: 1_800_000_000,
            now: 1_800_000_000,
        };
        let plan = QueryPlan::build(&[&l.slos[0]], t);
        for r in &plan.requests {
            let insights = r
                .queries
                .iter()
                .filter(|q| plan.streams[q.stream].is_insights())
                .count();
            assert!(insights == 0 || r.queries.len() == 1, "{r:?}");
        }
        let MetricSpec::Queries { queries, .. } = &plan.streams[0] else {
            panic!("sql is a query spec")
        };
        let expanded = expand_queries(queries, "m0_60");
        assert_eq!(expanded[0].id, "m0_60");
        assert_eq!(expanded[0].expression.as_deref(), Some(sql));
    }

    #[test]
    fn retention_bands() {
        assert_eq!(resolution_for_age(3600), 60);
        assert_eq!(resolution_for_age(20 * DAY), 300);
        assert_eq!(resolution_for_age(100 * DAY), 3600);
        assert_eq!(retention_seconds(60), 15 * DAY);
        assert_eq!(retention_seconds(300), 63 * DAY);
        assert_eq!(retention_seconds(7200), 455 * DAY);
    }

    #[test]
    fn json_queries_get_unique_ids_and_rewritten_expressions() {
        let q = crate::slo::load::parse_queries_json(
            r#"[{"Id":"e1","Expression":"m1 / m2 * 100 + SUM(METRICS(\"m1\"))"},
                {"Id":"m1","MetricStat":{"Metric":{"Namespace":"A","MetricName":"B"},"Stat":"Sum"},"ReturnData":false},
                {"Id":"m2","MetricStat":{"Metric":{"Namespace":"A","MetricName":"C"},"Stat":"Sum"},"ReturnData":false}]"#,
        )
        .unwrap();
        let e = expand_queries(&q, "m7_60");
        assert_eq!(e[0].id, "m7_60");
        assert_eq!(e[1].id, "m7_60_m1");
        assert_eq!(
            e[0].expression.as_deref(),
            Some("m7_60_m1 / m7_60_m2 * 100 + SUM(METRICS(\"m1\"))")
        );
    }
}
