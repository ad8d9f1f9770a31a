//! sloguard-core builds without the AWS SDK, the Lambda runtime or the Lambda event
//! types: its normal dependency tree, as `cargo tree` prints it, names none of them.

use std::process::Command;

/// Crates that belong to sloguard-aws: the SDK and its runtime, the Lambda runtime and
/// its event envelopes.
fn is_aws(name: &str) -> bool {
    name.starts_with("aws-") || name.starts_with("aws_") || name.contains("lambda")
}

#[test]
fn the_core_dependency_tree_holds_no_aws_or_lambda_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "sloguard-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"sloguard-core") && crates.contains(&"serde"),
        "the tree was read: {tree}"
    );
    let aws: Vec<&str> = crates.iter().copied().filter(|c| is_aws(c)).collect();
    assert!(
        aws.is_empty(),
        "sloguard-core depends on {aws:?}; they belong in sloguard-aws"
    );
}
