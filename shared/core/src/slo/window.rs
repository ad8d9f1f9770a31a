//! Where an SLO window starts and ends at an evaluation time: rolling or calendar.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::duration::CalendarUnit;
use super::model::TimeWindow;

/// The SLO window at time `t`: data in [start, t) counts, and the period
/// would be `length` seconds long when complete (for calendar windows, the whole period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowBounds {
    pub start: i64,
    pub length: i64,
}

/// The bounds of the window at epoch second `t`.
pub fn bounds(window: &TimeWindow, t: i64) -> WindowBounds {
    match window {
        TimeWindow::Rolling { seconds } => WindowBounds {
            start: t - seconds,
            length: *seconds,
        },
        TimeWindow::Calendar {
            unit,
            count,
            start,
            tz,
        } => {
            let (s, e) = calendar_period(*unit, (*count).max(1), *start, *tz, t);
            WindowBounds {
                start: s,
                length: e - s,
            }
        }
    }
}

/// The longest the window can be: what the query plan must be able to reach back.
pub fn max_length(window: &TimeWindow) -> i64 {
    const H: i64 = 3600;
    const D: i64 = 86_400;
    match window {
        TimeWindow::Rolling { seconds } => *seconds,
        TimeWindow::Calendar { unit, count, .. } => {
            let n = i64::from((*count).max(1));
            n * match unit {
                CalendarUnit::Day => D,
                CalendarUnit::Week => 7 * D,
                CalendarUnit::Month => 31 * D,
                CalendarUnit::Quarter => 92 * D,
                CalendarUnit::Year => 366 * D,
            } + H
        }
    }
}

/// The typical length, used to scale the default burn-rate thresholds.
pub fn nominal_length(window: &TimeWindow) -> i64 {
    const D: i64 = 86_400;
    match window {
        TimeWindow::Rolling { seconds } => *seconds,
        TimeWindow::Calendar { unit, count, .. } => {
            i64::from((*count).max(1))
                * match unit {
                    CalendarUnit::Day => D,
                    CalendarUnit::Week => 7 * D,
                    CalendarUnit::Month => 30 * D,
                    CalendarUnit::Quarter => 91 * D,
                    CalendarUnit::Year => 365 * D,
                }
        }
    }
}

/// [start, end) of the calendar period holding `t`, periods starting at local midnight.
/// Periods of `count` > 1 units are counted from the anchor (`startTime`): `2M` from a March
/// anchor runs March-April, May-June, ...
fn calendar_period(
    unit: CalendarUnit,
    count: u32,
    anchor: DateTime<Utc>,
    tz: Tz,
    t: i64,
) -> (i64, i64) {
    let Some(now) = DateTime::from_timestamp(t, 0) else {
        return (t, t + 1);
    };
    let date = now.with_timezone(&tz).date_naive();
    if count > 1 {
        let a = anchor.with_timezone(&tz).date_naive();
        let n = i64::from(count);
        let (start, next) = match unit {
            CalendarUnit::Day | CalendarUnit::Week => {
                let days = n * if unit == CalendarUnit::Day { 1 } else { 7 };
                let k = (date - a).num_days().div_euclid(days);
                let s = a + ChronoDuration::days(k * days);
                (s, s + ChronoDuration::days(days))
            }
            _ => {
                let per = match unit {
                    CalendarUnit::Month => 1,
                    CalendarUnit::Quarter => 3,
                    _ => 12,
                };
                let months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
                let anchor_month = months(a) / per * per;
                let len = n * per;
                let k = (months(date) - anchor_month).div_euclid(len);
                let at = |m: i64| {
                    NaiveDate::from_ymd_opt(m.div_euclid(12) as i32, m.rem_euclid(12) as u32 + 1, 1)
                        .unwrap_or(date)
                };
                let s = anchor_month + k * len;
                (at(s), at(s + len))
            }
        };
        return (local_midnight(start, tz), local_midnight(next, tz));
    }
    let first = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(date);
    let (start, next) = match unit {
        CalendarUnit::Day => (date, date + ChronoDuration::days(1)),
        CalendarUnit::Week => {
            let week_start = anchor.with_timezone(&tz).weekday().num_days_from_monday() as i64;
            let back = (date.weekday().num_days_from_monday() as i64 - week_start).rem_euclid(7);
            let s = date - ChronoDuration::days(back);
            (s, s + ChronoDuration::days(7))
        }
        CalendarUnit::Month => {
            let s = first(date.year(), date.month());
            let n = if date.month() == 12 {
                first(date.year() + 1, 1)
            } else {
                first(date.year(), date.month() + 1)
            };
            (s, n)
        }
        CalendarUnit::Quarter => {
            let qm = (date.month() - 1) / 3 * 3 + 1;
            let s = first(date.year(), qm);
            let n = if qm == 10 {
                first(date.year() + 1, 1)
            } else {
                first(date.year(), qm + 3)
            };
            (s, n)
        }
        CalendarUnit::Year => (first(date.year(), 1), first(date.year() + 1, 1)),
    };
    (local_midnight(start, tz), local_midnight(next, tz))
}

/// The first instant of a local date; where midnight does not exist (a DST gap), the first that does.
fn local_midnight(date: NaiveDate, tz: Tz) -> i64 {
    for minutes in (0..=180).step_by(15) {
        let naive = date.and_hms_opt(0, 0, 0).expect("midnight is valid")
            + ChronoDuration::minutes(minutes);
        if let Some(t) = tz.from_local_datetime(&naive).earliest() {
            return t.timestamp();
        }
    }
    date.and_hms_opt(0, 0, 0)
        .expect("midnight is valid")
        .and_utc()
        .timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    fn cal(unit: CalendarUnit, tz: &str) -> TimeWindow {
        cal_n(unit, 1, tz)
    }

    fn cal_n(unit: CalendarUnit, count: u32, tz: &str) -> TimeWindow {
        TimeWindow::Calendar {
            unit,
            count,
            start: DateTime::parse_from_rfc3339("2026-01-05T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            tz: tz.parse().unwrap(),
        }
    }

    #[test]
    fn rolling_window_ends_at_t() {
        let b = bounds(
            &TimeWindow::Rolling {
                seconds: 30 * 86_400,
            },
            1_000_000_000,
        );
        assert_eq!(
            b,
            WindowBounds {
                start: 1_000_000_000 - 2_592_000,
                length: 2_592_000
            }
        );
    }

    #[test]
    fn calendar_periods_of_several_units_count_from_the_anchor() {
        // Anchor 2026-01-05: two-month periods Jan-Feb, Mar-Apr, ...
        let w = cal_n(CalendarUnit::Month, 2, "UTC");
        let b = bounds(&w, ts("2026-04-30T12:00:00Z"));
        assert_eq!(b.start, ts("2026-03-01T00:00:00Z"));
        assert_eq!(b.length, 61 * 86_400);
        let before = bounds(&w, ts("2025-12-31T00:00:00Z"));
        assert_eq!(before.start, ts("2025-11-01T00:00:00Z"));
        // 366 days from the anchor day, and the next period right after.
        let d = cal_n(CalendarUnit::Day, 366, "UTC");
        let b = bounds(&d, ts("2027-01-05T00:00:00Z"));
        assert_eq!(b.start, ts("2026-01-05T00:00:00Z"));
        assert_eq!(b.length, 366 * 86_400);
        let next = bounds(&d, ts("2027-01-06T00:00:00Z"));
        assert_eq!(next.start, ts("2027-01-06T00:00:00Z"));
        // Two weeks from the anchor Monday.
        let w2 = cal_n(CalendarUnit::Week, 2, "UTC");
        let b = bounds(&w2, ts("2026-01-20T00:00:00Z"));
        assert_eq!(b.start, ts("2026-01-19T00:00:00Z"));
        assert_eq!(b.length, 14 * 86_400);
        assert_eq!(max_length(&w2), 14 * 86_400 + 3600);
    }

    #[test]
    fn calendar_months_have_their_own_lengths() {
        let w = cal(CalendarUnit::Month, "UTC");
        let feb = bounds(&w, ts("2026-02-10T12:00:00Z"));
        assert_eq!(feb.start, ts("2026-02-01T00:00:00Z"));
        assert_eq!(feb.length, 28 * 86_400);
        let leap = bounds(&w, ts("2028-02-29T23:59:00Z"));
        assert_eq!(leap.length, 29 * 86_400);
        let jan = bounds(&w, ts("2026-01-31T00:00:00Z"));
        assert_eq!(jan.length, 31 * 86_400);
    }

    #[test]
    fn calendar_month_in_a_time_zone_crosses_dst() {
        // Europe/Berlin: March 2026 starts at CET (+1) and ends at CEST (+2): 31 days less one hour.
        let w = cal(CalendarUnit::Month, "Europe/Berlin");
        let b = bounds(&w, ts("2026-03-15T00:00:00Z"));
        assert_eq!(b.start, ts("2026-02-28T23:00:00Z"));
        assert_eq!(b.length, 31 * 86_400 - 3600);
        // The instant after local midnight on 1 April belongs to April.
        let apr = bounds(&w, ts("2026-03-31T22:00:00Z"));
        assert_eq!(apr.start, ts("2026-03-31T22:00:00Z"));
    }

    #[test]
    fn calendar_day_on_dst_change_is_23_hours() {
        let w = cal(CalendarUnit::Day, "America/New_York");
        // 2026-03-08 is the US spring-forward day.
        let b = bounds(&w, ts("2026-03-08T18:00:00Z"));
        assert_eq!(b.start, ts("2026-03-08T05:00:00Z"));
        assert_eq!(b.length, 23 * 3600);
    }

    #[test]
    fn calendar_week_starts_on_the_anchor_weekday_and_quarter_on_its_month() {
        // Anchor 2026-01-05 is a Monday.
        let w = cal(CalendarUnit::Week, "UTC");
        let b = bounds(&w, ts("2026-01-15T10:00:00Z")); // a Thursday
        assert_eq!(b.start, ts("2026-01-12T00:00:00Z"));
        assert_eq!(b.length, 7 * 86_400);
        let q = bounds(
            &cal(CalendarUnit::Quarter, "UTC"),
            ts("2026-05-20T00:00:00Z"),
        );
        assert_eq!(q.start, ts("2026-04-01T00:00:00Z"));
        assert_eq!(q.length, 91 * 86_400);
        let y = bounds(&cal(CalendarUnit::Year, "UTC"), ts("2028-05-20T00:00:00Z"));
        assert_eq!(y.length, 366 * 86_400);
    }
}
