//! Splitting a fleet over several schedules: an SLO belongs to shard
//! hash(name) mod shards, with a hash that does not change between builds.

/// FNV-1a 64: tiny, stable across builds and platforms (unlike std's SipHash keys).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether the SLO named `name` is evaluated by shard `shard` of `shards`.
pub fn in_shard(name: &str, shard: u32, shards: u32) -> bool {
    shards <= 1 || stable_hash(name) % u64::from(shards) == u64::from(shard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fixed_and_shards_partition() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
        let names: Vec<String> = (0..100).map(|i| format!("slo-{i}")).collect();
        for n in &names {
            assert_eq!((0..4).filter(|s| in_shard(n, *s, 4)).count(), 1);
        }
        let in_zero = names.iter().filter(|n| in_shard(n, 0, 4)).count();
        assert!(in_zero > 10 && in_zero < 40, "{in_zero}");
    }
}
