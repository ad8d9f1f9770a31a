//! The `sloguard` binary against moto: the verbs, exit codes and the JSON contract, one
//! module per concern.

use std::process::{Command, Output};

use sloguard_testing::emulator::Moto;

mod access;
mod apply;
mod composite;
mod convert;
mod corrections;
mod history;
mod incidents;
mod output;
mod settings;
mod status;
mod teams;
mod validate;

const BIN: &str = env!("CARGO_BIN_EXE_sloguard");

/// The repository root: the binary runs there, as a user would.
pub(crate) fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `sloguard ARGS` against `moto` (its table `cli-test`), or with no table at all.
pub(crate) fn sloguard(moto: Option<&Moto>, args: &[&str]) -> Output {
    sloguard_with(moto, args, &[])
}

/// `sloguard ARGS` as `sloguard` runs it, with the environment variables `vars` set too.
pub(crate) fn sloguard_with(moto: Option<&Moto>, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("SLO_TOPIC_ARN")
        .env_remove("SLO_ALLOWED_TOPICS")
        .env_remove("SLO_COPY_ALL_TO_STACK_TOPIC")
        .envs(vars.iter().copied());
    match moto {
        Some(m) => c
            .envs(m.endpoint_env())
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("SLO_TABLE", "cli-test"),
        None => c.env_remove("SLO_TABLE"),
    };
    c.output().expect("sloguard runs")
}

/// Everything a run printed, stdout then stderr.
pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A fresh folder of its own for a test.
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sloguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
