//! Metric data as the query plan fetched it: per stream, dense series at one or
//! more periods. Windows are summed from the coarsest buckets that fit exactly.

/// Values at one period over [start, start + period * len); NaN marks a missing datapoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub start: i64,
    pub period: i64,
    pub values: Vec<f64>,
}

impl Series {
    /// An empty series (every datapoint missing) ready to be filled by timestamp.
    pub fn empty(start: i64, end: i64, period: i64) -> Self {
        let len = ((end - start).max(0) / period) as usize;
        Series {
            start,
            period,
            values: vec![f64::NAN; len],
        }
    }

    /// One past the last second covered.
    pub fn end(&self) -> i64 {
        self.start + self.period * self.values.len() as i64
    }

    /// Store a datapoint by its timestamp; points off the grid or outside are ignored.
    pub fn set(&mut self, timestamp: i64, value: f64) {
        if timestamp < self.start || (timestamp - self.start) % self.period != 0 {
            return;
        }
        if let Some(slot) = self
            .values
            .get_mut(((timestamp - self.start) / self.period) as usize)
        {
            *slot = if slot.is_nan() { value } else { *slot + value };
        }
    }
}

/// Every series fetched for one metric stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamData {
    /// Sorted by period, coarsest first.
    pub series: Vec<Series>,
}

/// The plan did not fetch data to cover part of a window: a bug, reported, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub at: i64,
}

impl StreamData {
    /// Build from series in any order.
    pub fn new(mut series: Vec<Series>) -> Self {
        series.sort_by(|a, b| b.period.cmp(&a.period).then(a.start.cmp(&b.start)));
        StreamData { series }
    }

    /// The value of the bucket [x, x + period): None when not fetched, NaN when missing.
    #[inline]
    pub fn value_at(&self, period: i64, x: i64) -> Option<f64> {
        self.series
            .iter()
            .filter(|s| s.period == period && x >= s.start && x < s.end())
            .find(|s| (x - s.start) % period == 0)
            .map(|s| s.values[((x - s.start) / period) as usize])
    }

    /// The coarsest bucket starting at x that ends by `end` and does not straddle an exclusion edge.
    #[inline]
    fn best_period(&self, x: i64, end: i64, exclusions: &[(i64, i64)]) -> Option<i64> {
        self.series
            .iter()
            .find(|s| {
                x >= s.start
                    && x + s.period <= end.min(s.end())
                    && (x - s.start) % s.period == 0
                    && !straddles(x, x + s.period, exclusions)
            })
            .map(|s| s.period)
    }
}

fn straddles(a: i64, b: i64, exclusions: &[(i64, i64)]) -> bool {
    exclusions
        .iter()
        .any(|&(s, e)| (s > a && s < b) || (e > a && e < b))
}

fn excluded(a: i64, exclusions: &[(i64, i64)]) -> bool {
    exclusions.iter().any(|&(s, e)| a >= s && a < e)
}

/// The next exclusion boundary after x (or `end`): runs of buckets stop there.
fn next_boundary(x: i64, end: i64, exclusions: &[(i64, i64)]) -> i64 {
    exclusions
        .iter()
        .flat_map(|&(s, e)| [s, e])
        .filter(|&b| b > x)
        .fold(end, i64::min)
}

/// A run of whole buckets of one period, [x, run_end), that no exclusion edge cuts.
struct Run<'a> {
    period: i64,
    end: i64,
    values: &'a [f64],
}

impl StreamData {
    /// The series of this period that holds bucket x, and x's index in it.
    #[inline]
    fn holding(&self, period: i64, x: i64) -> Option<(&Series, usize)> {
        self.series
            .iter()
            .find(|s| {
                s.period == period && x >= s.start && x < s.end() && (x - s.start) % period == 0
            })
            .map(|s| (s, ((x - s.start) / period) as usize))
    }

    /// The longest run of `period` buckets from x that ends by `limit`.
    #[inline]
    fn run(&self, period: i64, x: i64, limit: i64) -> Option<Run<'_>> {
        let (s, i) = self.holding(period, x)?;
        let n = ((limit.min(s.end()) - x) / period).max(0) as usize;
        (n > 0).then(|| Run {
            period,
            end: x + n as i64 * period,
            values: &s.values[i..i + n],
        })
    }
}

/// Good and total of a ratio over [start, end): a bucket counts only when `total`
/// has a datapoint there (missing data is no data); a missing numerator is zero.
/// With `good == false` the numerator counts bad events.
pub fn ratio_sums(
    numerator: &StreamData,
    total: &StreamData,
    good: bool,
    start: i64,
    end: i64,
    exclusions: &[(i64, i64)],
) -> Result<(f64, f64), Gap> {
    let (mut good_sum, mut total_sum) = (0.0, 0.0);
    let mut x = start;
    while x < end {
        let boundary = next_boundary(x, end, exclusions);
        let Some(p) = total.best_period(x, end, exclusions) else {
            // An exclusion edge inside even the finest bucket: that bucket is dropped whole.
            x += total.best_period(x, end, &[]).ok_or(Gap { at: x })?;
            continue;
        };
        let limit = x + (boundary - x) / p * p;
        let tot = total.run(p, x, limit).ok_or(Gap { at: x })?;
        let num = numerator.run(p, x, tot.end).ok_or(Gap { at: x })?;
        if !excluded(x, exclusions) {
            for (&t, &n) in tot.values.iter().zip(num.values) {
                if !t.is_nan() {
                    let t = t.max(0.0);
                    let n = if n.is_nan() { 0.0 } else { n.clamp(0.0, t) };
                    total_sum += t;
                    good_sum += if good { n } else { t - n };
                }
            }
        }
        debug_assert_eq!(num.period, tot.period);
        x = num.end;
    }
    Ok((good_sum, total_sum))
}

/// Good slices and slices with data over [start, end), each slice scored by `score` from its
/// values in the given streams (all fetched at the slice period): None when the slice has no
/// data, else how good it is, 1 (good) or 0 (bad), or a fraction when slices are averaged.
pub fn slice_counts<const N: usize>(
    streams: [&StreamData; N],
    slice: i64,
    start: i64,
    end: i64,
    exclusions: &[(i64, i64)],
    score: impl Fn([f64; N]) -> Option<f64>,
) -> Result<(f64, f64), Gap> {
    let (mut good, mut total) = (0.0, 0.0);
    let mut x = start;
    while x + slice <= end {
        let boundary = next_boundary(x, end, exclusions);
        let mut limit = x + (boundary - x) / slice * slice;
        if limit == x {
            // An exclusion edge falls inside this slice: drop it.
            x += slice;
            continue;
        }
        let mut runs: [&[f64]; N] = [&[]; N];
        for (r, s) in runs.iter_mut().zip(streams) {
            let run = s.run(slice, x, limit).ok_or(Gap { at: x })?;
            limit = run.end;
            *r = run.values;
        }
        let n = ((limit - x) / slice) as usize;
        if !excluded(x, exclusions) {
            for k in 0..n {
                let mut vals = [0.0; N];
                for (v, r) in vals.iter_mut().zip(&runs) {
                    *v = r[k];
                }
                if let Some(g) = score(vals) {
                    total += 1.0;
                    good += g.clamp(0.0, 1.0);
                }
            }
        }
        x = limit;
    }
    Ok((good, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(start: i64, period: i64, vals: &[f64]) -> Series {
        Series {
            start,
            period,
            values: vals.to_vec(),
        }
    }

    #[test]
    fn sums_use_coarse_buckets_and_fine_edges() {
        // hourly buckets [3600, 10800) and minute buckets around the edges
        let total = StreamData::new(vec![
            series(3600, 3600, &[600.0, 600.0]),
            series(3000, 60, &[10.0; 10]), // [3000, 3600)
            series(10800, 60, &[10.0; 5]), // [10800, 11100)
        ]);
        let bad = StreamData::new(vec![
            series(3600, 3600, &[6.0, f64::NAN]),
            series(3000, 60, &[1.0; 10]),
            series(10800, 60, &[0.0; 5]),
        ]);
        let (good, tot) = ratio_sums(&bad, &total, false, 3000, 11100, &[]).unwrap();
        assert_eq!(tot, 100.0 + 1200.0 + 50.0);
        assert_eq!(tot - good, 10.0 + 6.0);
    }

    #[test]
    fn missing_total_is_no_data_and_gaps_are_errors() {
        let total = StreamData::new(vec![series(0, 60, &[f64::NAN, 10.0])]);
        let good = StreamData::new(vec![series(0, 60, &[5.0, f64::NAN])]);
        assert_eq!(
            ratio_sums(&good, &total, true, 0, 120, &[]),
            Ok((0.0, 10.0))
        );
        assert_eq!(
            ratio_sums(&good, &total, true, 0, 180, &[]),
            Err(Gap { at: 120 })
        );
    }

    #[test]
    fn exclusions_split_coarse_buckets_and_drop_the_excluded_part() {
        let total = StreamData::new(vec![series(0, 3600, &[60.0]), series(0, 60, &[1.0; 60])]);
        let bad = StreamData::new(vec![series(0, 3600, &[60.0]), series(0, 60, &[1.0; 60])]);
        // exclude [600, 1200): 10 minutes
        let (good, tot) = ratio_sums(&bad, &total, false, 0, 3600, &[(600, 1200)]).unwrap();
        assert_eq!(tot, 50.0);
        assert_eq!(good, 0.0);
    }

    #[test]
    fn slices_skip_missing_data() {
        let lat = StreamData::new(vec![series(0, 300, &[100.0, f64::NAN, 400.0, 250.0])]);
        let (good, total) = slice_counts([&lat], 300, 0, 1200, &[], |[v]| {
            (!v.is_nan()).then_some(if v <= 300.0 { 1.0 } else { 0.0 })
        })
        .unwrap();
        assert_eq!((good, total), (2.0, 3.0));
    }
}
