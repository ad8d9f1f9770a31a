//! The CLI reads the settings the functions read, and its flags are the settings' flags.

use super::*;

/// Every use-case error that wraps a port error is found by `advise`, however it is
/// wrapped: a type missing from `access_problem`'s list fails here.
#[test]
fn every_use_case_error_names_its_access_problem() {
    let store = || StoreError::Credentials("no provider".into());
    let timed = || SourceError::TimedOut(Timeout::Attempt, "slow".into());
    let cycle = || CycleError::Definitions(store());
    let errors: Vec<anyhow::Error> = vec![
        store().into(),
        timed().into(),
        NotifyError::Unavailable("down".into()).into(),
        SloError::from(timed()).into(),
        DeliveryError::from(store()).into(),
        cycle().into(),
        ApplyError::from(store()).into(),
        BackfillError::from(store()).into(),
        BackfillError::from(cycle()).into(),
        ReportError::from(NotifyError::Credentials("none".into())).into(),
        GateError::from(store()).into(),
        ChangeError::from(store()).into(),
        anyhow::Error::from(GateError::from(store())).context("while gating"),
    ];
    for e in &errors {
        assert!(access_problem(e).is_some(), "{e:#}");
    }
    let plain = anyhow::Error::from(GateError::NothingSelected("shop".into()));
    assert_eq!(access_problem(&plain), None);
}

#[test]
fn the_cli_reads_the_settings_the_functions_read_with_the_same_defaults() {
    let get = |k: &str| (k == "SLO_TABLE").then(|| "t".to_string());
    let cli = read_settings(get, &Overrides::default()).unwrap();
    let functions = sloguard_aws::environment::for_functions(get).unwrap();
    // Only the bus differs: the functions default to the account's, the CLI to none.
    assert_eq!(
        (cli.event_bus.as_deref(), functions.event_bus.as_deref()),
        (None, Some("default"))
    );
    assert_eq!(
        Environment {
            event_bus: None,
            ..functions
        },
        cli
    );
    // The cost command prices the deployment these defaults describe, and the use
    // cases run with them.
    let priced = sloguard_core::cost::Deployment::from_settings(&cli);
    assert_eq!(priced, sloguard_core::cost::Deployment::default());
    let config = sloguard_core::Config::default();
    assert_eq!(
        (
            config.lag_seconds,
            config.history_days,
            config.schedule_seconds
        ),
        (cli.lag_seconds, cli.history_days, cli.schedule_minutes * 60)
    );
    assert_eq!(Timeouts::of(&cli), Timeouts::default(), "the timeouts too");
}

#[test]
fn every_flag_a_setting_names_exists_and_says_what_it_overrides() {
    let cli = <crate::Cli as clap::CommandFactory>::command();
    let mut flags = 0;
    for s in settings::ALL {
        let Some(flag) = s.flag else { continue };
        let long = flag.trim_start_matches("--");
        let found: Vec<String> = cli
            .get_subcommands()
            .flat_map(|c| c.get_arguments())
            .filter(|a| a.get_long() == Some(long))
            .map(|a| a.get_help().map(ToString::to_string).unwrap_or_default())
            .collect();
        assert!(!found.is_empty(), "{flag} is on no verb");
        for help in found {
            assert!(
                help.contains(&format!("overrides {}", s.var)),
                "{flag}: {help}"
            );
        }
        flags += 1;
    }
    assert!(flags >= 6, "{flags}");
}

#[test]
fn timeout_advice_never_suggests_more_than_the_variable_accepts() {
    for limit in [Timeout::Connect, Timeout::Attempt] {
        let var = Timeouts::var(limit);
        let max = max_seconds(limit);
        // The bound here is the library's: the maximum is accepted, one more is not.
        let at = |n: u64| Timeouts::from_lookup(|k| (k == var).then(|| n.to_string()));
        assert_eq!(at(max).unwrap().seconds(limit), max, "{var}");
        assert!(at(max + 1).is_err(), "{var}");
    }
    let a = advice_for(Timeout::Attempt, 20);
    assert!(
        a.contains("export SLO_AWS_ATTEMPT_TIMEOUT_SECONDS=60"),
        "{a}"
    );
    let a = advice_for(Timeout::Attempt, 400);
    assert!(
        a.contains("export SLO_AWS_ATTEMPT_TIMEOUT_SECONDS=900"),
        "{a}"
    );
    let a = advice_for(Timeout::Connect, 60);
    assert!(
        a.contains("at its maximum (60 s)") && !a.contains("export"),
        "{a}"
    );
}
