use super::*;
use crate::slo::fixtures::checkout_yaml;
use crate::slo::load::{load, SourceFile};

fn checkout() -> SloDefinition {
    let l = load(&[SourceFile {
        name: "checkout.yaml".into(),
        text: checkout_yaml(),
    }]);
    assert!(l.problems.is_empty(), "{:?}", l.problems);
    l.slos[0].clone()
}

fn t(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

fn correction(id: &str, version: u32, scope: Scope, when: When) -> Correction {
    Correction {
        id: id.into(),
        version,
        scope,
        when,
        category: Category::Maintenance,
        reason: "db upgrade".into(),
        by: "alice".into(),
        at: t("2026-03-01T00:00:00Z"),
        withdrawn: false,
    }
}

#[test]
fn scopes_cover_by_name_service_and_team() {
    let mut slo = checkout();
    assert!(Scope::Slos {
        names: vec!["other".into(), "checkout".into()]
    }
    .covers(&slo));
    assert!(!Scope::Slos {
        names: vec!["check".into()]
    }
    .covers(&slo));
    assert!(Scope::Service {
        service: "webshop".into()
    }
    .covers(&slo));
    assert!(!Scope::Team {
        team: "payments".into()
    }
    .covers(&slo));
    slo.owner = Some("payments".into());
    assert!(Scope::Team {
        team: "payments".into()
    }
    .covers(&slo));
    // An objective of a multi-objective SLO is covered by its parent's name.
    slo.name = "checkout-fast".into();
    slo.parent = Some("checkout".into());
    assert!(Scope::Slos {
        names: vec!["checkout".into()]
    }
    .covers(&slo));
}

#[test]
fn the_newest_version_is_in_force_and_a_withdrawal_ends_it() {
    let scope = || Scope::Service {
        service: "webshop".into(),
    };
    let w = |a: &str, b: &str| When::Window {
        start: t(a),
        end: t(b),
    };
    let mut v2 = correction(
        "c1",
        2,
        scope(),
        w("2026-03-02T00:00:00Z", "2026-03-02T02:00:00Z"),
    );
    v2.reason = "longer than planned".into();
    let all = vec![
        v2.clone(),
        correction(
            "c1",
            1,
            scope(),
            w("2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z"),
        ),
        correction(
            "c2",
            1,
            scope(),
            w("2026-03-03T00:00:00Z", "2026-03-03T01:00:00Z"),
        ),
    ];
    let ids = by_id(&all);
    assert_eq!(
        ids["c1"].iter().map(|c| c.version).collect::<Vec<_>>(),
        [1, 2]
    );
    let now: Vec<&Correction> = in_force(&all);
    assert_eq!(now.len(), 2);
    assert_eq!(now[0], &v2);
    let mut withdrawn = all.clone();
    withdrawn.push(Correction {
        version: 2,
        withdrawn: true,
        ..all[2].clone()
    });
    let now = in_force(&withdrawn);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].id, "c1");
}

#[test]
fn apply_adds_the_windows_evaluation_can_see() {
    let mut slo = checkout();
    let at = t("2026-03-10T00:00:00Z");
    let sundays = When::Recurring {
        start: t("2026-01-04T02:00:00+01:00"),
        rule: RRule::parse("FREQ=WEEKLY;BYDAY=SU", chrono_tz::Europe::Berlin).unwrap(),
        duration: 7200,
        tz: chrono_tz::Europe::Berlin,
    };
    let c = correction(
        "c1",
        1,
        Scope::Slos {
            names: vec!["checkout".into()],
        },
        sundays,
    );
    let elsewhere = correction(
        "c2",
        1,
        Scope::Service {
            service: "billing".into(),
        },
        When::Window {
            start: at - 3600,
            end: at,
        },
    );
    let added = apply(&mut slo, &[&c, &elsewhere], at);
    // 30 days and a day of margin before 10 March: the Sundays from 8 February to 8 March.
    assert_eq!(added, 5);
    assert_eq!(slo.settings.exclusions[0].0, t("2026-02-08T02:00:00+01:00"));
    assert_eq!(
        slo.settings.exclusions[4],
        (
            t("2026-03-08T02:00:00+01:00"),
            t("2026-03-08T04:00:00+01:00")
        )
    );
}

#[test]
fn spans_and_windows_of_a_bounded_recurrence() {
    let tz = chrono_tz::Europe::Berlin;
    let w = When::Recurring {
        start: t("2026-03-28T22:00:00+01:00"),
        rule: RRule::parse("FREQ=DAILY;COUNT=3", tz).unwrap(),
        duration: 3600,
        tz,
    };
    assert_eq!(
        w.span(),
        (
            t("2026-03-28T22:00:00+01:00"),
            Some(t("2026-03-30T23:00:00+02:00"))
        )
    );
    // A window that began before the range is clipped to it.
    assert_eq!(
        w.windows(t("2026-03-29T20:30:00Z"), t("2026-04-30T00:00:00Z")),
        [
            (t("2026-03-29T20:30:00Z"), t("2026-03-29T21:00:00Z")),
            (t("2026-03-30T20:00:00Z"), t("2026-03-30T21:00:00Z"))
        ]
    );
    assert_eq!(Category::parse("Outside_Hours"), Ok(Category::OutsideHours));
    assert!(Category::parse("holiday")
        .unwrap_err()
        .contains("outside-hours"));
}
