//! Cutting a fleet into shards: contiguous runs of SLO names, so a shard reads its
//! definitions and states as one key range, an SLO applied mid-cycle still falls in
//! exactly one shard, and the cut needs nothing but the sorted names.

use std::fmt;

/// FNV-1a 64: tiny, stable across builds and platforms (unlike std's SipHash keys).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The names one shard evaluates: from `from` (inclusive) up to `until` (exclusive); an
/// open end reaches the end of the name space, so the ranges of one cut cover every name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameRange {
    pub from: Option<String>,
    pub until: Option<String>,
}

impl NameRange {
    /// Every name: what a cycle that is not a shard evaluates.
    pub fn all() -> NameRange {
        NameRange::default()
    }

    /// Whether the SLO named `name` is this shard's.
    pub fn contains(&self, name: &str) -> bool {
        self.from.as_deref().is_none_or(|f| name >= f)
            && self.until.as_deref().is_none_or(|u| name < u)
    }
}

impl fmt::Display for NameRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.from, &self.until) {
            (None, None) => write!(f, "every SLO"),
            (Some(a), None) => write!(f, "SLOs from `{a}` on"),
            (None, Some(b)) => write!(f, "SLOs before `{b}`"),
            (Some(a), Some(b)) => write!(f, "SLOs from `{a}` up to `{b}`"),
        }
    }
}

/// Cut `names` (any order, duplicates allowed) into runs of at most `size` (at least 1):
/// the first range is open below and the last open above, so names applied between the
/// cut and the shards' runs are still evaluated once. No names: no shards.
pub fn cut(names: &[String], size: usize) -> Vec<NameRange> {
    let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let starts: Vec<&str> = sorted.chunks(size.max(1)).map(|c| c[0]).collect();
    bounds_to_ranges(
        &starts
            .iter()
            .skip(1)
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        starts.len(),
    )
}

/// The ranges of a cut from its inner bounds (the first name of every shard but the
/// first): what a cycle record keeps, so a resent dispatch cuts exactly as the first.
pub fn bounds_to_ranges(bounds: &[String], shards: usize) -> Vec<NameRange> {
    if shards == 0 {
        return Vec::new();
    }
    (0..shards)
        .map(|i| NameRange {
            from: i.checked_sub(1).and_then(|j| bounds.get(j).cloned()),
            until: bounds.get(i).cloned(),
        })
        .collect()
}

/// The inner bounds of a cut: the inverse of `bounds_to_ranges`.
pub fn bounds_of(ranges: &[NameRange]) -> Vec<String> {
    ranges
        .iter()
        .skip(1)
        .filter_map(|r| r.from.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("slo-{i:03}")).collect()
    }

    #[test]
    fn hash_is_fixed() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_cut_puts_every_name_in_exactly_one_shard_of_at_most_size() {
        for (n, size) in [
            (10, 3),
            (9, 3),
            (1, 1000),
            (1000, 1000),
            (1001, 1000),
            (7, 1),
        ] {
            let all = names(n);
            let shards = cut(&all, size);
            assert_eq!(shards.len(), n.div_ceil(size), "{n} by {size}");
            for name in &all {
                assert_eq!(
                    shards.iter().filter(|r| r.contains(name)).count(),
                    1,
                    "{name}"
                );
            }
            for r in &shards {
                let held = all.iter().filter(|x| r.contains(x)).count();
                assert!(held >= 1 && held <= size, "{r}: {held}");
            }
            assert_eq!(bounds_to_ranges(&bounds_of(&shards), shards.len()), shards);
        }
        assert!(cut(&[], 3).is_empty());
    }

    #[test]
    fn names_applied_after_the_cut_land_in_one_shard() {
        let shards = cut(&names(10), 3);
        for late in ["", "a", "slo-0045", "slo-999", "zzz", "slo-003"] {
            assert_eq!(
                shards.iter().filter(|r| r.contains(late)).count(),
                1,
                "{late}"
            );
        }
        // Unsorted input with duplicates cuts as sorted, deduplicated input.
        let mut shuffled = names(10);
        shuffled.reverse();
        shuffled.push("slo-004".into());
        assert_eq!(cut(&shuffled, 3), shards);
        assert_eq!(shards[1].to_string(), "SLOs from `slo-003` up to `slo-006`");
    }
}
