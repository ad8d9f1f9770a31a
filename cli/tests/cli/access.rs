//! When AWS cannot be reached or used: no table, no endpoint, no credentials, no region, a
//! timeout; one clear line that names what to fix, never an SDK dump.

use std::process::Command;

use super::{root, scratch, sloguard, text, BIN};

#[test]
fn clear_errors_without_a_table_or_an_endpoint() {
    let out = sloguard(None, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("SLO_TABLE: not set"), "{}", text(&out));
    let out = Command::new(BIN)
        .current_dir(root())
        .args(["status", "--table", "t"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIASLOGUARDTESTKEY1")
        .env("AWS_SECRET_ACCESS_KEY", "sloguard-test-secret-9f3a")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("SLOGUARD_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // even with debug logs, errors never echo credentials
    assert!(!text(&out).contains("sloguard-test-secret-9f3a"));
    assert!(!text(&out).contains("AKIASLOGUARDTESTKEY1"));
    assert!(
        text(&out).contains("cannot reach the endpoint http://127.0.0.1:9"),
        "{}",
        text(&out)
    );
}

/// `sloguard ARGS` with a region and no credentials anywhere the SDK looks.
fn without_credentials(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(root())
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE");
    c
}

#[test]
fn missing_credentials_are_named_as_such_without_a_dump() {
    let run = |verbose: bool| {
        let mut c = without_credentials(&["status", "--table", "t"]);
        if verbose {
            c.arg("-v");
        }
        c.output().unwrap()
    };
    let out = run(false);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("no usable AWS credentials (missing or expired)"),
        "{t}"
    );
    assert!(t.contains("run with -v"), "{t}");
    assert!(t.len() < 600, "no SDK dump without -v: {t}");
    let t = text(&run(true));
    assert!(t.contains("no usable AWS credentials"), "{t}");
    assert!(t.len() > 600, "the SDK's details with -v: {t}");
}

#[test]
fn gate_names_missing_credentials_exits_2_and_honours_verbose() {
    let run = |extra: &[&str]| {
        let mut args = vec!["gate", "--table", "t", "--min-budget", "25%"];
        args.extend_from_slice(extra);
        without_credentials(&args).output().unwrap()
    };
    let out = run(&[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "an error, not a verdict: {t}");
    assert!(
        t.contains("no usable AWS credentials (missing or expired)"),
        "{t}"
    );
    assert!(t.contains("set AWS_PROFILE"), "{t}");
    assert!(t.contains("run with -v"), "{t}");
    assert!(!t.contains("GATE"), "no table on errors: {t}");
    assert!(t.len() < 600, "no SDK dump without -v: {t}");
    let out = run(&["-v"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("no usable AWS credentials"), "{t}");
    assert!(!t.contains("run with -v"), "{t}");
    assert!(t.len() > 600, "the SDK's details with -v: {t}");
}

#[test]
fn without_a_region_one_clear_line_and_no_sdk_noise_or_colour() {
    // No region anywhere, stderr piped, NO_COLOR unset and then empty (which counts as unset).
    for no_color in [None, Some("")] {
        let mut c = Command::new(BIN);
        c.current_dir(root())
            .args(["status", "--table", "t"])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_PROFILE")
            .env_remove("SLOGUARD_LOG")
            .env_remove("RUST_LOG");
        match no_color {
            Some(v) => c.env("NO_COLOR", v),
            None => c.env_remove("NO_COLOR"),
        };
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("no AWS region: set AWS_REGION (e.g. export AWS_REGION=eu-west-1)"),
            "{err}"
        );
        assert!(!err.contains("WARN"), "the SDK's warnings are quiet: {err}");
        assert!(!err.contains('\x1b'), "no colour when piped: {err:?}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn advice_names_the_region_the_sdk_resolved_from_a_profile() {
    let dir = scratch("profile-region");
    let config = dir.join("config");
    std::fs::write(&config, "[default]\nregion = ap-southeast-2\n").unwrap();
    let out = Command::new(BIN)
        .current_dir(root())
        .args(["status", "--table", "t"])
        // DynamoDB alone points at a closed port, so the advice names AWS in the region.
        .env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot reach AWS in region ap-southeast-2"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_timeout_names_the_setting_to_raise() {
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            held.push(conn);
        }
    });
    let run = |vars: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.current_dir(root())
            .args(["status", "--table", "t"])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("SLO_AWS_CONNECT_TIMEOUT_SECONDS")
            .env_remove("SLO_AWS_ATTEMPT_TIMEOUT_SECONDS");
        for (k, v) in vars {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let started = std::time::Instant::now();
    let out = run(&[("SLO_AWS_ATTEMPT_TIMEOUT_SECONDS", "1")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "no answer from the endpoint {endpoint} within 1 s (SLO_AWS_ATTEMPT_TIMEOUT_SECONDS)"
        )),
        "{t}"
    );
    assert!(
        t.contains("export SLO_AWS_ATTEMPT_TIMEOUT_SECONDS=3"),
        "{t}"
    );
    assert!(t.len() < 600, "no SDK dump without -v: {t}");
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());

    let out = run(&[("SLO_AWS_CONNECT_TIMEOUT_SECONDS", "soon")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out)
            .contains("SLO_AWS_CONNECT_TIMEOUT_SECONDS: `soon` is not a whole number from 1 to 60"),
        "{}",
        text(&out)
    );
}
