//! The RRULE subset against dates worked out by hand from a calendar (2026: 1 January is
//! a Thursday; Europe/Berlin goes CET -> CEST on 29 March at 02:00 and back on 25 October
//! at 03:00).

use super::*;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn t(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

fn utc(v: &[i64]) -> Vec<String> {
    v.iter()
        .map(|x| {
            DateTime::from_timestamp(*x, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%MZ")
                .to_string()
        })
        .collect()
}

fn expand(rule: &str, start: &str, from: &str, to: &str) -> Vec<String> {
    let r = RRule::parse(rule, BERLIN).unwrap();
    utc(&r.occurrences(t(start), BERLIN, t(from), t(to)))
}

#[test]
fn weekly_across_spring_forward_keeps_the_wall_clock_and_reads_the_gap_with_the_offset_before() {
    // Sundays 02:30 local: 22 March is CET (+1); 29 March 02:30 does not exist (the clocks
    // jump 02:00 -> 03:00), read at +1 (= 03:30 CEST); 5 April is CEST (+2).
    assert_eq!(
        expand(
            "RRULE:FREQ=WEEKLY;BYDAY=SU",
            "2026-03-22T02:30:00+01:00",
            "2026-03-01T00:00:00Z",
            "2026-04-10T00:00:00Z"
        ),
        [
            "2026-03-22T01:30Z",
            "2026-03-29T01:30Z",
            "2026-04-05T00:30Z"
        ]
    );
}

#[test]
fn daily_across_fall_back_takes_the_first_of_a_repeated_time() {
    // 25 October 02:30 happens twice (CEST, then CET): the first, 00:30Z.
    assert_eq!(
        expand(
            "FREQ=DAILY",
            "2026-10-24T02:30:00+02:00",
            "2026-10-01T00:00:00Z",
            "2026-10-27T00:00:00Z"
        ),
        [
            "2026-10-24T00:30Z",
            "2026-10-25T00:30Z",
            "2026-10-26T01:30Z"
        ]
    );
    // 22:00 every evening: 21:00Z in winter, 20:00Z from the 29 March.
    assert_eq!(
        expand(
            "FREQ=DAILY;COUNT=3",
            "2026-03-28T22:00:00+01:00",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z"
        ),
        [
            "2026-03-28T21:00Z",
            "2026-03-29T20:00Z",
            "2026-03-30T20:00Z"
        ]
    );
}

#[test]
fn weekly_interval_and_days_and_count() {
    // Every other week, Tuesdays and Thursdays 09:00 from Tuesday 6 January.
    assert_eq!(
        expand(
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5",
            "2026-01-06T09:00:00+01:00",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z"
        ),
        [
            "2026-01-06T08:00Z",
            "2026-01-08T08:00Z",
            "2026-01-20T08:00Z",
            "2026-01-22T08:00Z",
            "2026-02-03T08:00Z"
        ]
    );
    // COUNT counts from the first occurrence, not from the range asked for.
    assert_eq!(
        expand(
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5",
            "2026-01-06T09:00:00+01:00",
            "2026-01-21T00:00:00Z",
            "2027-01-01T00:00:00Z"
        ),
        ["2026-01-22T08:00Z", "2026-02-03T08:00Z"]
    );
}

#[test]
fn monthly_by_ordinal_weekday_and_month_day() {
    // The last Friday of each month: 30 Jan, 27 Feb, 27 Mar, 24 Apr.
    assert_eq!(
        expand(
            "FREQ=MONTHLY;BYDAY=-1FR",
            "2026-01-30T20:00:00+01:00",
            "2026-01-01T00:00:00Z",
            "2026-04-30T00:00:00Z"
        ),
        [
            "2026-01-30T19:00Z",
            "2026-02-27T19:00Z",
            "2026-03-27T19:00Z",
            "2026-04-24T18:00Z"
        ]
    );
    // The 31st skips the months without one (RFC 5545), COUNT=3: Jan, Mar, May.
    assert_eq!(
        expand(
            "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3",
            "2026-01-31T12:00:00Z",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z"
        ),
        [
            "2026-01-31T12:00Z",
            "2026-03-31T11:00Z",
            "2026-05-31T11:00Z"
        ]
    );
    // The last day of the month, until 31 March (inclusive) in local time.
    assert_eq!(
        expand(
            "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20260331",
            "2026-01-31T23:00:00+01:00",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z"
        ),
        [
            "2026-01-31T22:00Z",
            "2026-02-28T22:00Z",
            "2026-03-31T21:00Z"
        ]
    );
    // The first Monday, every third month.
    assert_eq!(
        expand(
            "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO;UNTIL=20261231T000000Z",
            "2026-01-05T06:00:00+01:00",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z"
        ),
        [
            "2026-01-05T05:00Z",
            "2026-04-06T04:00Z",
            "2026-07-06T04:00Z",
            "2026-10-05T04:00Z"
        ]
    );
}

#[test]
fn the_rule_prints_back_as_it_parses() {
    for text in [
        "FREQ=WEEKLY;BYDAY=SU",
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO,-1FR",
        "FREQ=DAILY;BYMONTHDAY=1,-1;COUNT=4",
        "FREQ=DAILY;UNTIL=20261231T235959Z",
    ] {
        let r = RRule::parse(text, BERLIN).unwrap();
        assert_eq!(r.to_string(), text);
        assert_eq!(RRule::parse(&r.to_string(), BERLIN).unwrap(), r);
    }
}

#[test]
fn unsupported_or_malformed_parts_are_named() {
    for (text, needle) in [
        ("FREQ=YEARLY", "FREQ=YEARLY"),
        ("BYDAY=MO", "no FREQ"),
        ("FREQ=WEEKLY;BYDAY=1MO", "needs FREQ=MONTHLY"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY `XX`"),
        ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS: not supported"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20260101", "COUNT and UNTIL"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL `TOMORROW`"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY `32`"),
        ("FREQ", "not NAME=VALUE"),
    ] {
        let err = RRule::parse(text, BERLIN).unwrap_err();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn last_is_the_final_occurrence_of_a_bounded_rule() {
    let r = RRule::parse("FREQ=DAILY;COUNT=3", BERLIN).unwrap();
    let start = t("2026-03-28T22:00:00+01:00");
    assert_eq!(r.last(start, BERLIN), Some(t("2026-03-30T22:00:00+02:00")));
    let open = RRule::parse("FREQ=DAILY", BERLIN).unwrap();
    assert_eq!(open.last(start, BERLIN), None);
}
