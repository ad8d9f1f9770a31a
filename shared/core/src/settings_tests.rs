use super::*;

/// A lookup over fixed pairs (the environment of a test).
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn with_table(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let mut all = vec![("SLO_TABLE", "t")];
    all.extend_from_slice(pairs);
    env(&all)
}

#[test]
fn the_contract_names_and_defaults_are_kept() {
    // DESIGN.md's external contract: these names and defaults are relied on by users,
    // scripts and the SAM template; changing one is a breaking change.
    let s = Settings::from_lookup(with_table(&[])).unwrap();
    assert_eq!(s.table, "t");
    assert_eq!((s.topic_arn, s.events_topic_arn), (None, None));
    assert_eq!((s.lag_seconds, s.history_days), (120, 400));
    assert_eq!(
        (s.schedule_minutes, s.changes_days, s.reconcile_hours),
        (5, 90, 24)
    );
    assert_eq!(s.stack_name, "sloguard");
    assert_eq!(s.slo_metrics, SloMetrics::None);
    assert_eq!((s.dashboard_url, s.event_bus), (None, None));
    assert_eq!(
        (s.aws_connect_timeout_seconds, s.aws_attempt_timeout_seconds),
        (3, 20)
    );
    let vars: Vec<&str> = ALL.iter().map(|s| s.var).collect();
    for kept in [
        "SLO_TABLE",
        "SLO_TOPIC_ARN",
        "SLO_EVENTS_TOPIC_ARN",
        "SLO_LAG_SECONDS",
        "SLO_HISTORY_DAYS",
        "SLO_SCHEDULE_MINUTES",
        "SLO_DASHBOARD_URL",
        "SLO_STACK_NAME",
        "SLO_METRICS",
        "SLO_EVENT_BUS",
        "SLO_CHANGES_DAYS",
        "SLO_RECONCILE_HOURS",
        "SLO_AWS_CONNECT_TIMEOUT_SECONDS",
        "SLO_AWS_ATTEMPT_TIMEOUT_SECONDS",
    ] {
        assert!(vars.contains(&kept), "{kept}");
    }
}

#[test]
fn every_variable_and_flag_is_defined_once_and_every_default_is_valid() {
    for (i, a) in ALL.iter().enumerate() {
        assert!(a.var.starts_with("SLO_"), "{}", a.var);
        assert!(
            !a.meaning.is_empty() && !a.meaning.contains('|'),
            "{}",
            a.var
        );
        for b in &ALL[i + 1..] {
            assert_ne!(a.var, b.var);
            assert!(a.flag.is_none() || a.flag != b.flag, "{:?}", a.flag);
        }
        if let Some(f) = a.flag {
            assert!(f.starts_with("--"), "{f}");
        }
        match a.kind {
            Kind::Whole {
                default, min, max, ..
            } => assert!(min <= default && default <= max, "{}", a.var),
            Kind::Choice { default, choices } => {
                assert!(choices.contains(&default), "{}", a.var);
                for c in choices {
                    let s = Settings::from_lookup(with_table(&[(a.var, c)]));
                    assert!(s.is_ok(), "{}={c}: {s:?}", a.var);
                }
            }
            _ => {}
        }
    }
    // Reading nothing gives every default (and fits every field to its kind).
    let d = Settings::default();
    assert_eq!(d.table, "");
    assert_eq!(
        Settings {
            table: "t".into(),
            ..d
        },
        Settings::from_lookup(with_table(&[])).unwrap()
    );
}

#[test]
fn each_bound_is_enforced_from_the_environment_and_from_the_flag_with_the_same_message() {
    let mut checked = 0;
    for s in ALL {
        let Some((_, min, max)) = s.whole() else {
            continue;
        };
        for n in [min - 1, max + 1] {
            let value = n.to_string();
            let from_env = Settings::from_lookup(with_table(&[(s.var, &value)])).unwrap_err();
            let flag = Overrides::default().set(s, Some(n));
            let from_flag = Settings::from_lookup_with(with_table(&[]), &flag).unwrap_err();
            // The flag wins over a valid environment value, and fails the same way.
            let default = s.whole().unwrap().0.to_string();
            let over_env =
                Settings::from_lookup_with(with_table(&[(s.var, &default)]), &flag).unwrap_err();
            let offline = Settings::without_table(env(&[]), &flag).unwrap_err();
            assert_eq!(
                from_env.to_string(),
                format!("{}: {n} is out of range {min}..={max}", s.var)
            );
            assert_eq!(from_env, from_flag, "{}", s.var);
            assert_eq!(from_env, over_env, "{}", s.var);
            assert_eq!(from_env, offline, "{}", s.var);
            assert_eq!(s.check_whole(n), Err(from_env));
        }
        for n in [min, max] {
            let from_env = Settings::from_lookup(with_table(&[(s.var, &n.to_string())])).unwrap();
            let flag = Overrides::default().set(s, Some(n));
            let from_flag = Settings::from_lookup_with(with_table(&[]), &flag).unwrap();
            assert_eq!(from_env, from_flag, "{}", s.var);
            assert_eq!(s.check_whole(n), Ok(n));
        }
        checked += 1;
    }
    assert!(checked >= 7, "{checked} whole-number settings");
    // The example of the issue, word for word.
    let e = Settings::from_lookup_with(
        with_table(&[]),
        &Overrides::default().set(&LAG_SECONDS, Some("5000")),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "SLO_LAG_SECONDS: 5000 is out of range 0..=3600"
    );
}

#[test]
fn a_bad_value_names_its_variable() {
    let e = Settings::from_lookup(env(&[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "SLO_TABLE: not set: name the DynamoDB table (or pass --table)"
    );
    let e = Settings::from_lookup(with_table(&[("SLO_LAG_SECONDS", "soon")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "SLO_LAG_SECONDS: `soon` is not a whole number from 0 to 3600"
    );
    let e = Settings::from_lookup(with_table(&[("SLO_TOPIC_ARN", "my-topic")])).unwrap_err();
    assert_eq!(e.var, "SLO_TOPIC_ARN");
    let e = Settings::from_lookup(with_table(&[("SLO_METRICS", "some")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "SLO_METRICS: `some` is not none, budget or all"
    );
    // Spaces around a value are dropped; an empty value is unset.
    let s = Settings::from_lookup(with_table(&[
        ("SLO_LAG_SECONDS", " 60 "),
        ("SLO_HISTORY_DAYS", ""),
        ("SLO_TOPIC_ARN", "arn:aws:sns:eu-west-1:1:x"),
        ("SLO_DASHBOARD_URL", "http://not-https"),
    ]))
    .unwrap();
    assert_eq!((s.lag_seconds, s.history_days), (60, 400));
    assert_eq!(s.topic_arn.as_deref(), Some("arn:aws:sns:eu-west-1:1:x"));
    assert_eq!(s.dashboard_url, None, "only an https link is used");
}

#[test]
fn the_functions_put_slo_events_on_the_default_bus_unless_told_otherwise() {
    let read = |bus: Option<&'static str>| {
        let get = move |k: &str| match k {
            "SLO_TABLE" => Some("t".to_string()),
            "SLO_EVENT_BUS" => bus.map(str::to_string),
            _ => None,
        };
        let cli = Settings::from_lookup(get).unwrap();
        let function = cli.clone().with_default_bus(get);
        (cli.event_bus, function.event_bus)
    };
    assert_eq!(read(None), (None, Some("default".into())), "unset");
    assert_eq!(read(Some("none")), (None, None), "turned off");
    assert_eq!(
        read(Some("slo-events")),
        (Some("slo-events".into()), Some("slo-events".into()))
    );
}

#[test]
fn lists_and_switches_read_as_documented() {
    let list = Setting {
        var: "SLO_TEST_LIST",
        flag: None,
        kind: Kind::List,
        meaning: "a test list",
    };
    let get = env(&[("SLO_TEST_LIST", " a, b ,,c ")]);
    assert_eq!(
        list.read::<Vec<String>>(&get),
        Ok(vec!["a".into(), "b".into(), "c".into()])
    );
    assert_eq!(list.read::<Vec<String>>(&env(&[])), Ok(vec![]));
    let switch = Setting {
        var: "SLO_TEST_SWITCH",
        flag: None,
        kind: Kind::Switch { default: false },
        meaning: "a test switch",
    };
    assert_eq!(switch.read::<bool>(&env(&[])), Ok(false));
    assert_eq!(
        switch.read::<bool>(&env(&[("SLO_TEST_SWITCH", "true")])),
        Ok(true)
    );
    let e = switch
        .read::<bool>(&env(&[("SLO_TEST_SWITCH", "yes")]))
        .unwrap_err();
    assert_eq!(e.to_string(), "SLO_TEST_SWITCH: `yes` is not true or false");
    // A kind that does not fit its field is an error, not a panic.
    assert!(switch.read::<i64>(&env(&[])).is_err());
}

#[test]
fn a_flag_says_what_it_overrides_and_its_default() {
    assert_eq!(
        LAG_SECONDS.flag_help(),
        "data lag subtracted from the trigger time (overrides SLO_LAG_SECONDS; default 120 seconds)"
    );
}

#[test]
fn the_deploying_page_shows_the_settings_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/deploying.md");
    let page = std::fs::read_to_string(&path).expect("docs/deploying.md");
    let table = markdown_table();
    assert!(
        page.contains(&table),
        "the environment table of docs/deploying.md differs from shared/core/src/settings.rs: \
         paste this under \"Run it against AWS from your machine\":\n{table}"
    );
}
