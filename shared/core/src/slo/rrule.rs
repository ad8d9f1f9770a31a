//! A small RFC 5545 `RRULE` subset, so a correction can recur ("every Sunday 02:00-04:00
//! Europe/Berlin") without a calendar library: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY
//! (with an ordinal such as `1MO` or `-1FR` in MONTHLY rules), BYMONTHDAY, COUNT, UNTIL.
//!
//! Occurrences keep the wall-clock time of the first one in the rule's time zone, across
//! DST changes. A local time that does not exist (the spring-forward gap) is read with the
//! offset before the gap, one that occurs twice (fall back) as the first, as RFC 5545 says.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How often the rule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
}

/// One BYDAY entry: a weekday, with an ordinal in the month (`-1FR`: the last Friday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByDay {
    pub weekday: Weekday,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<i8>,
}

/// A parsed rule. `to_string` gives back the RRULE text (normalised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RRule {
    pub freq: Freq,
    pub interval: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_day: Vec<ByDay>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_month_day: Vec<i8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Last possible occurrence start (epoch seconds), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

const DAYS: [(&str, Weekday); 7] = [
    ("MO", Weekday::Mon),
    ("TU", Weekday::Tue),
    ("WE", Weekday::Wed),
    ("TH", Weekday::Thu),
    ("FR", Weekday::Fri),
    ("SA", Weekday::Sat),
    ("SU", Weekday::Sun),
];

/// Occurrences a rule may produce before the expansion gives up (a guard, ~27 years daily).
const MAX_STEPS: usize = 10_000;

fn day_name(d: Weekday) -> &'static str {
    DAYS.iter()
        .find(|(_, w)| *w == d)
        .map(|(n, _)| *n)
        .unwrap_or("MO")
}

fn parse_by_day(v: &str, freq: Freq) -> Result<ByDay, String> {
    let split = v.len().saturating_sub(2);
    let (num, day) = v.split_at(split);
    let weekday = DAYS
        .iter()
        .find(|(n, _)| *n == day)
        .map(|(_, w)| *w)
        .ok_or_else(|| format!("BYDAY `{v}`: use MO, TU, WE, TH, FR, SA or SU"))?;
    let nth = if num.is_empty() {
        None
    } else {
        if freq != Freq::Monthly {
            return Err(format!(
                "BYDAY `{v}`: an ordinal (like 1MO or -1FR) needs FREQ=MONTHLY"
            ));
        }
        let n: i8 = num
            .trim_start_matches('+')
            .parse()
            .map_err(|_| format!("BYDAY `{v}`: the ordinal must be a number from -5 to 5"))?;
        if n == 0 || !(-5..=5).contains(&n) {
            return Err(format!(
                "BYDAY `{v}`: the ordinal must be from -5 to 5, not 0"
            ));
        }
        Some(n)
    };
    Ok(ByDay { weekday, nth })
}

fn parse_until(v: &str, tz: Tz) -> Result<i64, String> {
    let bad = || format!("UNTIL `{v}`: use 20261231T235959Z, 20261231T235959 (local) or 20261231");
    if let Some(utc) = v.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
        return Ok(t.and_utc().timestamp());
    }
    let local = if v.len() == 8 {
        NaiveDate::parse_from_str(v, "%Y%m%d")
            .map_err(|_| bad())?
            .and_hms_opt(23, 59, 59)
            .ok_or_else(bad)?
    } else {
        NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").map_err(|_| bad())?
    };
    Ok(local_to_utc(tz, local))
}

impl RRule {
    /// Parse `FREQ=WEEKLY;BYDAY=SU;...` (an `RRULE:` prefix is accepted); `tz` reads a
    /// local UNTIL. Every problem names the part at fault.
    pub fn parse(text: &str, tz: Tz) -> Result<RRule, String> {
        let body = text.trim();
        let body = body.strip_prefix("RRULE:").unwrap_or(body);
        let mut freq = None;
        let mut parts = Vec::new();
        for part in body.split(';').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not NAME=VALUE"))?;
            let k = k.trim().to_ascii_uppercase();
            let v = v.trim().to_ascii_uppercase();
            if k == "FREQ" {
                freq = Some(match v.as_str() {
                    "DAILY" => Freq::Daily,
                    "WEEKLY" => Freq::Weekly,
                    "MONTHLY" => Freq::Monthly,
                    _ => {
                        return Err(format!(
                            "FREQ={v}: sloguard supports DAILY, WEEKLY and MONTHLY"
                        ))
                    }
                });
            } else {
                parts.push((k, v));
            }
        }
        let freq = freq.ok_or("the rule has no FREQ (DAILY, WEEKLY or MONTHLY)")?;
        let mut rule = RRule {
            freq,
            interval: 1,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            count: None,
            until: None,
        };
        for (k, v) in parts {
            match k.as_str() {
                "INTERVAL" => {
                    rule.interval = v
                        .parse()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| format!("INTERVAL={v}: use a whole number from 1"))?
                }
                "COUNT" => {
                    rule.count = Some(
                        v.parse()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| format!("COUNT={v}: use a whole number from 1"))?,
                    )
                }
                "UNTIL" => rule.until = Some(parse_until(&v, tz)?),
                "BYDAY" => {
                    for d in v.split(',') {
                        rule.by_day.push(parse_by_day(d.trim(), freq)?);
                    }
                }
                "BYMONTHDAY" => {
                    for d in v.split(',') {
                        let n: i8 = d
                            .trim()
                            .parse()
                            .ok()
                            .filter(|n: &i8| *n != 0 && (-31..=31).contains(n))
                            .ok_or_else(|| {
                                format!("BYMONTHDAY `{d}`: use a day from 1 to 31 or -31 to -1")
                            })?;
                        rule.by_month_day.push(n);
                    }
                }
                "WKST" if v == "MO" => {}
                _ => {
                    return Err(format!(
                        "{k}: not supported; sloguard reads FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT and UNTIL"
                    ))
                }
            }
        }
        if rule.count.is_some() && rule.until.is_some() {
            return Err("COUNT and UNTIL together: RFC 5545 allows one of them".into());
        }
        Ok(rule)
    }

    /// Whether the local date `d` is in the rule's set, `first` being the first occurrence's date.
    fn matches(&self, first: NaiveDate, d: NaiveDate) -> bool {
        let interval = i64::from(self.interval);
        let month_day_ok = |d: NaiveDate| {
            self.by_month_day.is_empty()
                || self.by_month_day.iter().any(|&m| {
                    let len = month_length(d);
                    let want = if m > 0 {
                        i64::from(m)
                    } else {
                        len + 1 + i64::from(m)
                    };
                    want == i64::from(d.day())
                })
        };
        let day_ok = |d: NaiveDate| {
            self.by_day.iter().any(|b| {
                b.weekday == d.weekday()
                    && b.nth.is_none_or(|n| {
                        let from_start = (d.day0() / 7) as i8 + 1;
                        let from_end = -(((month_length(d) - i64::from(d.day())) / 7) as i8) - 1;
                        n == from_start || n == from_end
                    })
            })
        };
        match self.freq {
            Freq::Daily => {
                (d - first).num_days() % interval == 0
                    && (self.by_day.is_empty() || day_ok(d))
                    && month_day_ok(d)
            }
            Freq::Weekly => {
                let monday =
                    |x: NaiveDate| x - Duration::days(x.weekday().num_days_from_monday().into());
                let weeks = (monday(d) - monday(first)).num_days() / 7;
                weeks % interval == 0
                    && if self.by_day.is_empty() {
                        d.weekday() == first.weekday()
                    } else {
                        day_ok(d)
                    }
                    && month_day_ok(d)
            }
            Freq::Monthly => {
                let months =
                    (d.year() - first.year()) as i64 * 12 + d.month() as i64 - first.month() as i64;
                months % interval == 0
                    && match (self.by_day.is_empty(), self.by_month_day.is_empty()) {
                        (true, true) => d.day() == first.day(),
                        (false, _) => day_ok(d) && month_day_ok(d),
                        (true, false) => month_day_ok(d),
                    }
            }
        }
    }

    /// Start times (epoch seconds) of the occurrences that begin in `[from, to)`, the first
    /// occurrence being `start` in zone `tz` (its local wall-clock time recurs).
    pub fn occurrences(&self, start: i64, tz: Tz, from: i64, to: i64) -> Vec<i64> {
        let Some(first) = DateTime::from_timestamp(start, 0) else {
            return Vec::new();
        };
        let first = first.with_timezone(&tz).naive_local();
        let (date0, time) = (first.date(), first.time());
        let mut out = Vec::new();
        let mut seen = 0u32;
        let mut d = date0;
        for _ in 0..MAX_STEPS * 31 {
            if self.matches(date0, d) {
                let at = local_to_utc(tz, d.and_time(time));
                if self.until.is_some_and(|u| at > u) || at >= to {
                    break;
                }
                seen += 1;
                if at >= from {
                    out.push(at);
                }
                if self.count.is_some_and(|c| seen >= c) || seen as usize >= MAX_STEPS {
                    break;
                }
            } else if local_to_utc(tz, d.and_time(time)) >= to {
                break;
            }
            d = match d.succ_opt() {
                Some(n) => n,
                None => break,
            };
        }
        out
    }

    /// The last occurrence's start, when the rule ends (COUNT or UNTIL); None when it never does.
    pub fn last(&self, start: i64, tz: Tz) -> Option<i64> {
        if self.count.is_none() && self.until.is_none() {
            return None;
        }
        self.occurrences(start, tz, i64::MIN / 4, i64::MAX / 4)
            .last()
            .copied()
            .or(Some(start))
    }
}

fn month_length(d: NaiveDate) -> i64 {
    let (y, m) = (d.year(), d.month());
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    match (next, NaiveDate::from_ymd_opt(y, m, 1)) {
        (Some(n), Some(f)) => (n - f).num_days(),
        _ => 31,
    }
}

/// A local wall-clock time in `tz` as epoch seconds: the first of two (fall back), the
/// offset before the gap for a time that does not exist (spring forward), per RFC 5545.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.timestamp(),
        None => {
            let before = tz
                .from_local_datetime(&(local - Duration::hours(3)))
                .earliest()
                .map(|t| t.offset().fix().local_minus_utc())
                .unwrap_or(0);
            local.and_utc().timestamp() - i64::from(before)
        }
    }
}

impl fmt::Display for RRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let freq = match self.freq {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
        };
        write!(f, "FREQ={freq}")?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|b| match b.nth {
                    Some(n) => format!("{n}{}", day_name(b.weekday)),
                    None => day_name(b.weekday).to_string(),
                })
                .collect();
            write!(f, ";BYDAY={}", days.join(","))?;
        }
        if !self.by_month_day.is_empty() {
            let days: Vec<String> = self.by_month_day.iter().map(i8::to_string).collect();
            write!(f, ";BYMONTHDAY={}", days.join(","))?;
        }
        if let Some(c) = self.count {
            write!(f, ";COUNT={c}")?;
        }
        if let Some(u) = self.until.and_then(|u| DateTime::from_timestamp(u, 0)) {
            write!(f, ";UNTIL={}", u.format("%Y%m%dT%H%M%SZ"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "rrule_tests.rs"]
mod tests;
