//! A setting out of range is the same error whether it comes from the environment or from
//! the flag that overrides it (`sloguard_core::settings`), and it stops the verb before
//! anything is read or written.

use std::process::Command;

use super::{root, text, BIN};

/// `sloguard ARGS` with `env` and a table, but nothing to reach (no emulator, no region).
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut c = Command::new(BIN);
    c.current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .env("SLO_TABLE", "settings-test")
        .env_remove("AWS_REGION")
        .env_remove("AWS_ENDPOINT_URL");
    for s in sloguard_core::settings::ALL {
        if s.var != "SLO_TABLE" {
            c.env_remove(s.var);
        }
    }
    c.envs(env.iter().copied());
    let out = c.output().expect("sloguard runs");
    (out.status.code(), text(&out))
}

#[test]
fn a_value_out_of_range_is_the_same_error_from_the_environment_and_from_the_flag() {
    for (verb, flag, var, bad, message) in [
        (
            &["evaluate"][..],
            "--lag",
            "SLO_LAG_SECONDS",
            "5000",
            "SLO_LAG_SECONDS: 5000 is out of range 0..=3600",
        ),
        (
            &["evaluate"][..],
            "--lag",
            "SLO_LAG_SECONDS",
            "-1",
            "SLO_LAG_SECONDS: -1 is out of range 0..=3600",
        ),
        (
            &["evaluate"][..],
            "--lag",
            "SLO_LAG_SECONDS",
            "soon",
            "SLO_LAG_SECONDS: `soon` is not a whole number from 0 to 3600",
        ),
        (
            &["cost", "--slos", "10"][..],
            "--reconcile-hours",
            "SLO_RECONCILE_HOURS",
            "400",
            "SLO_RECONCILE_HOURS: 400 is out of range 0..=336",
        ),
        (
            &["cost", "--slos", "10"][..],
            "--schedule-minutes",
            "SLO_SCHEDULE_MINUTES",
            "0",
            "SLO_SCHEDULE_MINUTES: 0 is out of range 1..=60",
        ),
        (
            &["cost", "--slos", "10"][..],
            "--history-days",
            "SLO_HISTORY_DAYS",
            "9999",
            "SLO_HISTORY_DAYS: 9999 is out of range 1..=3650",
        ),
    ] {
        let from_env = run(verb, &[(var, bad)]);
        let mut with_flag = verb.to_vec();
        with_flag.extend([flag, bad]);
        let from_flag = run(&with_flag, &[]);
        assert_eq!(from_env.0, Some(1), "{var}={bad}: {}", from_env.1);
        assert!(
            from_env.1.contains(&format!("error: {message}\n")),
            "{var}={bad}: {}",
            from_env.1
        );
        assert_eq!(from_env, from_flag, "{flag} {bad}");
    }
    // The flag wins over the environment: a good flag over a bad variable passes.
    let (code, out) = run(
        &["cost", "--slos", "10", "--reconcile-hours", "24"],
        &[("SLO_RECONCILE_HOURS", "400")],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("10 SLOs, a cycle every 5 minutes"), "{out}");
}
