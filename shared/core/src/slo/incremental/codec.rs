//! The stored form of a `StreamCache`: compact bytes, because a cache is rewritten about
//! once an hour per stream and DynamoDB bills a write unit per KB.
//!
//! Layout (version 1): the version byte; `read_at` and `reconciled_at`; the hours as runs
//! of consecutive hours (start, length, values); the edges (start, period, values).
//! Integers are LEB128 varints, signed ones zigzag-encoded. Values are written as the
//! difference from the previous whole value when they are whole (counts nearly always
//! are, and neighbours are close, so most take one or two bytes), a marker for NaN, or
//! the 8 bytes of the float otherwise; decoding gives back exactly what was encoded.

use std::collections::BTreeMap;

use super::StreamCache;
use crate::slo::series::Series;

const VERSION: u8 = 1;
const HOUR: i64 = 3600;
/// Whole values up to this magnitude are written as differences (exact in an f64).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// Why stored bytes are not a cache (the caller reads the stream whole instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("stream cache ends early")]
    Truncated,
    #[error("stream cache version {0} is not known")]
    Version(u8),
    #[error("stream cache has an impossible {0}")]
    Invalid(&'static str),
}

fn put_u(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_values(out: &mut Vec<u8>, values: &[f64]) {
    let mut prev = 0i64;
    for v in values {
        if v.is_nan() {
            put_u(out, 0);
        } else if v.fract() == 0.0 && v.abs() < EXACT && !(*v == 0.0 && v.is_sign_negative()) {
            let whole = *v as i64;
            let d = whole.wrapping_sub(prev);
            put_u(out, (((d << 1) ^ (d >> 63)) as u64) << 1 | 1);
            prev = whole;
        } else {
            put_u(out, 2);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.bytes.get(self.at).ok_or(CodecError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn u(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(CodecError::Invalid("number"))
    }

    fn i(&mut self) -> Result<i64, CodecError> {
        let u = self.u()?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    /// A count that the remaining bytes can hold (each value takes at least one byte).
    fn len(&mut self) -> Result<usize, CodecError> {
        let n = self.u()?;
        if n > (self.bytes.len() - self.at) as u64 {
            return Err(CodecError::Truncated);
        }
        Ok(n as usize)
    }

    fn values(&mut self, n: usize) -> Result<Vec<f64>, CodecError> {
        let mut out = Vec::with_capacity(n);
        let mut prev = 0i64;
        for _ in 0..n {
            let u = self.u()?;
            out.push(match u {
                0 => f64::NAN,
                2 => {
                    let end = self.at + 8;
                    let raw = self.bytes.get(self.at..end).ok_or(CodecError::Truncated)?;
                    self.at = end;
                    f64::from_le_bytes(raw.try_into().expect("8 bytes"))
                }
                u if u & 1 == 1 => {
                    let z = u >> 1;
                    let d = (z >> 1) as i64 ^ -((z & 1) as i64);
                    prev = prev.wrapping_add(d);
                    prev as f64
                }
                _ => return Err(CodecError::Invalid("value marker")),
            });
        }
        Ok(out)
    }
}

impl StreamCache {
    /// The stored form (see the module's layout).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        put_i(&mut out, self.read_at);
        put_i(&mut out, self.reconciled_at);
        let mut runs: Vec<(i64, Vec<f64>)> = Vec::new();
        for (h, v) in &self.hours {
            match runs.last_mut() {
                Some((start, values)) if *start + HOUR * values.len() as i64 == *h => {
                    values.push(*v)
                }
                _ => runs.push((*h, vec![*v])),
            }
        }
        put_u(&mut out, runs.len() as u64);
        for (start, values) in &runs {
            put_i(&mut out, start / HOUR);
            put_u(&mut out, values.len() as u64);
            put_values(&mut out, values);
        }
        put_u(&mut out, self.edges.len() as u64);
        for e in &self.edges {
            put_i(&mut out, e.start);
            put_u(&mut out, e.period as u64);
            put_u(&mut out, e.values.len() as u64);
            put_values(&mut out, &e.values);
        }
        out
    }

    /// Read the stored form back; an error rather than a wrong cache.
    pub fn decode(bytes: &[u8]) -> Result<StreamCache, CodecError> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.byte()?;
        if version != VERSION {
            return Err(CodecError::Version(version));
        }
        let read_at = r.i()?;
        let reconciled_at = r.i()?;
        let mut hours = BTreeMap::new();
        for _ in 0..r.len()? {
            let start = r
                .i()?
                .checked_mul(HOUR)
                .ok_or(CodecError::Invalid("hour"))?;
            let n = r.len()?;
            for (k, v) in r.values(n)?.into_iter().enumerate() {
                hours.insert(start + k as i64 * HOUR, v);
            }
        }
        let mut edges = Vec::new();
        for _ in 0..r.len()? {
            let start = r.i()?;
            let period = r.u()?;
            if period == 0 || period > HOUR as u64 {
                return Err(CodecError::Invalid("period"));
            }
            let n = r.len()?;
            edges.push(Series {
                start,
                period: period as i64,
                values: r.values(n)?,
            });
        }
        if r.at != bytes.len() {
            return Err(CodecError::Invalid("length"));
        }
        Ok(StreamCache {
            hours,
            edges,
            read_at,
            reconciled_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn same(a: &StreamCache, b: &StreamCache) -> bool {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        a.read_at == b.read_at
            && a.reconciled_at == b.reconciled_at
            && a.hours.keys().eq(b.hours.keys())
            && bits(&a.hours.values().copied().collect::<Vec<_>>())
                == bits(&b.hours.values().copied().collect::<Vec<_>>())
            && a.edges.len() == b.edges.len()
            && a.edges.iter().zip(&b.edges).all(|(x, y)| {
                x.start == y.start && x.period == y.period && bits(&x.values) == bits(&y.values)
            })
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => (0u32..100_000).prop_map(f64::from),
            1 => Just(f64::NAN),
            1 => any::<f64>(),
            1 => Just(-0.0),
            1 => Just(9_007_199_254_740_992.0),
        ]
    }

    proptest! {
        #[test]
        fn decoding_gives_back_every_bit(
            read_at in any::<i64>(),
            reconciled_at in any::<i64>(),
            hours in proptest::collection::btree_map((-500_000i64..500_000).prop_map(|h| h * 3600), value(), 0..80),
            edges in proptest::collection::vec(
                (any::<i32>(), prop_oneof![Just(60i64), Just(300)], proptest::collection::vec(value(), 0..70)),
                0..4,
            ),
        ) {
            let cache = StreamCache {
                hours,
                edges: edges
                    .into_iter()
                    .map(|(start, period, values)| Series { start: i64::from(start), period, values })
                    .collect(),
                read_at,
                reconciled_at,
            };
            let back = StreamCache::decode(&cache.encode()).unwrap();
            prop_assert!(same(&cache, &back), "{cache:?} became {back:?}");
        }

        #[test]
        fn any_bytes_decode_or_fail_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = StreamCache::decode(&bytes);
        }
    }

    #[test]
    fn a_month_of_counts_takes_a_few_bytes_an_hour() {
        // ~60,000 requests an hour, varying by a few hundred: 720 hours.
        let hours = (0..720)
            .map(|h| (1_800_000_000 + h * 3600, 60_000.0 + ((h * 37) % 500) as f64))
            .collect();
        let cache = StreamCache {
            hours,
            read_at: 1_802_592_000,
            reconciled_at: 1_802_500_000,
            ..StreamCache::default()
        };
        let n = cache.encode().len();
        assert!(n < 720 * 3, "{n} bytes");
        assert_eq!(StreamCache::decode(&cache.encode()).unwrap(), cache);
        // Bytes that are not a cache say so.
        assert_eq!(StreamCache::decode(&[]), Err(CodecError::Truncated));
        assert_eq!(StreamCache::decode(&[9]), Err(CodecError::Version(9)));
        let mut extra = cache.encode();
        extra.push(0);
        assert_eq!(
            StreamCache::decode(&extra),
            Err(CodecError::Invalid("length"))
        );
    }
}
