//! OpenSLO duration strings (`5m`, `1h`, `28d`, `1M`, ...), the vocabulary of windows.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A calendar unit: periods of these have no fixed length (months, DST days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarUnit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// A parsed duration: fixed seconds, or a count of calendar units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duration {
    Seconds(i64),
    Calendar(u32, CalendarUnit),
}

/// Parse `<n><unit>` with units s, m, h, d, w (fixed) and M, Q, y (calendar).
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
        format!("`{t}` has no unit; use a number and one of s, m, h, d, w, M, Q, y")
    })?;
    let (num, unit) = t.split_at(split);
    let n: u32 = num
        .parse()
        .map_err(|_| format!("`{t}` is not a duration like 5m, 1h, 28d or 1M"))?;
    if n == 0 {
        return Err(format!("`{t}` is zero; a duration must be positive"));
    }
    let secs = |mult: i64| Ok(Duration::Seconds(i64::from(n) * mult));
    match unit {
        "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        "w" => secs(7 * 86_400),
        "M" => Ok(Duration::Calendar(n, CalendarUnit::Month)),
        "Q" => Ok(Duration::Calendar(n, CalendarUnit::Quarter)),
        "y" | "Y" => Ok(Duration::Calendar(n, CalendarUnit::Year)),
        _ => Err(format!(
            "`{t}` has unknown unit `{unit}`; use s, m, h, d, w, M (month), Q (quarter) or y"
        )),
    }
}

/// Render seconds as the shortest exact label (`300` -> `5m`), used as window names.
pub fn label(secs: i64) -> String {
    const UNITS: [(i64, &str); 4] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    for (size, unit) in UNITS {
        if secs >= size && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

impl fmt::Display for CalendarUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CalendarUnit::Day => "day",
            CalendarUnit::Week => "week",
            CalendarUnit::Month => "month",
            CalendarUnit::Quarter => "quarter",
            CalendarUnit::Year => "year",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixed_and_calendar_units() {
        assert_eq!(parse("5m"), Ok(Duration::Seconds(300)));
        assert_eq!(parse("28d"), Ok(Duration::Seconds(28 * 86_400)));
        assert_eq!(parse("4w"), Ok(Duration::Seconds(28 * 86_400)));
        assert_eq!(parse("1M"), Ok(Duration::Calendar(1, CalendarUnit::Month)));
        assert_eq!(
            parse("1Q"),
            Ok(Duration::Calendar(1, CalendarUnit::Quarter))
        );
        assert!(parse("5").unwrap_err().contains("no unit"));
        assert!(parse("0m").unwrap_err().contains("zero"));
        assert!(parse("5x").unwrap_err().contains("unknown unit"));
        assert!(parse("").is_err());
        assert!(parse("99999999999999m").is_err());
    }

    #[test]
    fn labels_are_shortest_exact() {
        assert_eq!(label(300), "5m");
        assert_eq!(label(3600), "1h");
        assert_eq!(label(3 * 86_400), "3d");
        assert_eq!(label(90), "90s");
        assert_eq!(label(5400), "90m");
    }
}
