//! Names close to a mistyped one, so "no such SLO" can say which was meant.

/// Up to three of `names` close to `wanted`, closest first: a few typos away (edit
/// distance), or sharing its first four characters, or containing it.
pub fn near<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let w: Vec<char> = wanted.to_lowercase().chars().collect();
    let typos = (w.len() / 3).clamp(1, 3);
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let n: Vec<char> = name.to_lowercase().chars().collect();
            let d = distance(&w, &n);
            let prefix = w.iter().zip(&n).take_while(|(a, b)| a == b).count();
            let contains = w.len() >= 3 && name.to_lowercase().contains(&wanted.to_lowercase());
            (d <= typos || prefix >= 4 || contains).then_some((d, name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Levenshtein distance: insertions, deletions and substitutions.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 4] = [
        "chat-wait-time",
        "checkout-availability",
        "help-center-monthly",
        "premium-first-response",
    ];

    #[test]
    fn typos_prefixes_and_parts_find_the_name_meant() {
        assert_eq!(
            near("checkout-availabilty", NAMES),
            ["checkout-availability"]
        );
        assert_eq!(near("checkout", NAMES), ["checkout-availability"]);
        assert_eq!(near("chat-wait", NAMES), ["chat-wait-time"]);
        assert_eq!(near("premium", NAMES), ["premium-first-response"]);
        assert_eq!(near("Help-Center-Monthly", NAMES), ["help-center-monthly"]);
        assert_eq!(near("che", NAMES), ["checkout-availability"]);
        assert_eq!(near("chat-queue", NAMES), ["chat-wait-time"]);
        assert_eq!(near("check-availability", NAMES), ["checkout-availability"]);
        assert!(near("nope", NAMES).is_empty());
        assert!(near("", NAMES).is_empty());
        assert!(near("latency", NAMES).is_empty());
    }
}
