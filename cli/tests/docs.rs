//! The README, the Makefile and infra/samconfig.toml say what the code and the template
//! do: the steps a newcomer types must work as written. cli/Cargo.toml keeps the emulator
//! out of the released binary.

use std::path::Path;

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lines of the README's ```sh blocks, with their line numbers.
fn shell_lines(readme: &str) -> Vec<(usize, &str)> {
    let mut inside = false;
    let mut out = Vec::new();
    for (i, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            inside = !inside && line.trim() == "```sh";
        } else if inside {
            out.push((i, line.trim()));
        }
    }
    out
}

#[test]
fn the_readme_installs_sloguard_before_it_uses_it_and_says_how_long_builds_take() {
    let readme = read("README.md");
    let sh = shell_lines(&readme);
    let install = sh
        .iter()
        .find(|(_, l)| l.starts_with("make install"))
        .expect("a `make install` step");
    let first_use = sh
        .iter()
        .find(|(_, l)| l.starts_with("sloguard "))
        .expect("a sloguard command");
    assert!(
        install.0 < first_use.0,
        "`{}` before `make install`",
        first_use.1
    );
    let demo = sh
        .iter()
        .position(|(_, l)| l.starts_with("make demo"))
        .unwrap();
    let install_at = sh
        .iter()
        .position(|(_, l)| l.starts_with("make install"))
        .unwrap();
    assert_eq!(
        install_at,
        demo + 1,
        "make install comes right after the tour"
    );
    assert!(
        readme.contains("5-10 minutes on 2 cores"),
        "first build time"
    );
    assert!(readme.contains("cargo's progress"), "progress is shown");
    for step in ["make check", "make test"] {
        assert!(sh.iter().any(|(_, l)| l.starts_with(step)), "{step}");
    }
    for infra in ["cfn-lint", "sam validate", "checkov", "sam build"] {
        assert!(readme.contains(infra), "make test's infra checks: {infra}");
    }
}

#[test]
fn the_readme_sets_up_the_table_before_a_verb_uses_it() {
    let readme = read("README.md");
    let sh = shell_lines(&readme);
    let first = |pred: &dyn Fn(&str) -> bool, what: &str| {
        sh.iter()
            .find(|(_, l)| pred(l))
            .unwrap_or_else(|| panic!("no {what}"))
            .0
    };
    // Every verb but validate, init and --help reads the table.
    let offline = ["sloguard validate", "sloguard init", "sloguard --help"];
    let uses_table = first(
        &|l| l.starts_with("sloguard ") && !offline.iter().any(|o| l.starts_with(o)),
        "sloguard verb that uses the table",
    );
    let setup = first(
        &|l| l.starts_with("export ") && l.contains("AWS_REGION") && l.contains("SLO_TABLE"),
        "export of AWS_REGION and SLO_TABLE",
    );
    let init = first(&|l| l.starts_with("sloguard init"), "sloguard init");
    assert!(
        setup < uses_table && init < uses_table,
        "{:?}",
        sh[uses_table]
    );
}

#[test]
fn the_readme_says_what_make_browser_installs_and_needs() {
    let readme = read("README.md");
    let tests = readme
        .split("\n## ")
        .find(|s| s.starts_with("Running the tests"))
        .expect("the tests section");
    for needed in [
        "make browser",
        "chromium-headless-shell",
        "apt-get",
        "root",
        "SLOGUARD_CHROMIUM",
    ] {
        assert!(tests.contains(needed), "{needed}");
    }
    let browser = read("testing/src/browser.rs");
    assert!(browser.contains("SLOGUARD_CHROMIUM"), "the tests read it");
    assert!(
        !tests.contains("both functions"),
        "the stack has three functions"
    );
}

#[test]
fn the_makefile_has_the_targets_the_readme_names() {
    let make = read("Makefile");
    let target = |name: &str| -> Vec<String> {
        let mut lines = make
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{name}:")));
        let head = lines.next().unwrap_or_else(|| panic!("no `{name}` target"));
        std::iter::once(head)
            .chain(lines.take_while(|l| l.starts_with('\t')))
            .map(str::to_string)
            .collect()
    };
    assert!(target("install")
        .iter()
        .any(|l| l.contains("cargo install --locked --path cli")));
    let check = &target("check")[0];
    for t in ["fmt-check", "lint", "unit"] {
        assert!(check.contains(t), "{check}");
    }
    assert!(!check.contains("infra-check"), "{check}");
    assert!(target("test")[0].contains("infra-check"));
    // `make demo` says how long it takes before anything slow: the virtualenv, then the build.
    let demo = target("demo");
    assert!(
        !demo[0].contains("venv"),
        "the virtualenv is not a prerequisite run before the banner: {}",
        demo[0]
    );
    let banner = demo
        .iter()
        .position(|l| l.contains("echo") && l.contains("5-10 minutes"))
        .expect("a banner with the first build's time");
    let slow = demo
        .iter()
        .position(|l| !l.contains("echo") && ["venv", "cargo", "pip"].iter().any(|w| l.contains(w)))
        .expect("the slow steps");
    assert!(banner < slow, "{demo:#?}");
    // infra-check builds as a user does: the beta flag comes from infra/samconfig.toml.
    for l in target("infra-check")
        .iter()
        .filter(|l| l.contains("sam build"))
    {
        assert!(
            l.contains("-t infra/template.yaml") && !l.contains("--beta-features"),
            "{l}"
        );
    }
}

#[test]
fn samconfig_makes_build_and_guided_deploy_all_a_user_types() {
    let text = read("infra/samconfig.toml");
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            settings.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |s: &str, k: &str| {
        settings
            .iter()
            .find(|(a, b, _)| a == s && b == k)
            .map(|(_, _, v)| v.as_str())
    };
    for command in ["build", "sync"] {
        assert_eq!(
            get(&format!("default.{command}.parameters"), "beta_features"),
            Some("true"),
            "sam {command} builds with cargo-lambda, a beta feature"
        );
    }
    let deploy = "default.deploy.parameters";
    assert_eq!(get(deploy, "capabilities"), Some("\"CAPABILITY_IAM\""));
    assert_eq!(get(deploy, "confirm_changeset"), Some("true"));
    assert_eq!(get(deploy, "resolve_s3"), Some("true"));
    assert!(
        settings.iter().all(|(_, k, _)| k != "region"),
        "the region comes from --guided or the environment"
    );
}

#[test]
fn the_readme_documents_every_variable_and_the_teardown() {
    let readme = read("README.md");
    let code = read("shared/aws/src/environment.rs") + &read("shared/aws/src/timeouts.rs");
    let vars: Vec<&str> = code
        .split('"')
        .filter(|s| s.starts_with("SLO_") && s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    assert!(vars.len() >= 8, "{vars:?}");
    for v in vars {
        assert!(
            readme.contains(&format!("| `{v}` |")),
            "{v} missing from the environment table"
        );
    }
    // Deploy: the stack name the user chose, the teardown, and what is kept.
    assert!(
        !readme.contains("--stack-name sloguard"),
        "a hard-coded stack name"
    );
    assert!(readme.contains("--stack-name \"$STACK\""));
    for step in [
        "sam delete",
        "aws dynamodb delete-table",
        "aws kms schedule-key-deletion",
    ] {
        assert!(readme.contains(step), "{step}");
    }
    // The table has deletion protection: delete-table is refused until it is turned off.
    let unprotect = readme
        .find("aws dynamodb update-table --table-name \"$TABLE\" --no-deletion-protection-enabled")
        .expect("the teardown turns deletion protection off");
    assert!(
        unprotect < readme.find("aws dynamodb delete-table").unwrap(),
        "deletion protection off before delete-table"
    );
    let template = read("infra/template.yaml");
    for kept in ["Key:", "Table:"] {
        let at = template.find(&format!("\n  {kept}\n")).unwrap();
        let head: String = template[at..]
            .lines()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(head.contains("DeletionPolicy: Retain"), "{head}");
    }
    for service in [
        "CloudFormation",
        "S3",
        "IAM",
        "Lambda",
        "DynamoDB",
        "SNS",
        "SQS",
        "KMS",
        "EventBridge",
        "CloudWatch",
        "CloudWatch Logs",
    ] {
        assert!(
            readme.contains(&format!("| {service} |")),
            "{service} permissions"
        );
    }
}

/// The `name = value` lines of each `[section]` of a Cargo.toml, by section.
fn toml_sections(text: &str) -> Vec<(&str, Vec<&str>)> {
    let mut sections: Vec<(&str, Vec<&str>)> = vec![("", Vec::new())];
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            sections.push((line.trim_matches(|c| c == '[' || c == ']'), Vec::new()));
        } else if !line.is_empty() && !line.starts_with('#') {
            sections.last_mut().unwrap().1.push(line);
        }
    }
    sections
}

#[test]
fn the_released_binary_does_not_depend_on_the_emulator() {
    let manifest = read("cli/Cargo.toml");
    let sections = toml_sections(&manifest);
    let entries = |name: &str| {
        sections
            .iter()
            .filter(|(s, _)| *s == name)
            .flat_map(|(_, lines)| lines.iter().copied())
            .collect::<Vec<_>>()
    };
    // Normal dependencies, including any per-target ones: what `cargo build -p sloguard-cli` links.
    let normal: Vec<&str> = sections
        .iter()
        .filter(|(s, _)| {
            *s == "dependencies" || s.ends_with(".dependencies") && !s.contains("dev-")
        })
        .flat_map(|(_, lines)| lines.iter().copied())
        .collect();
    assert!(
        normal
            .iter()
            .any(|l| l.starts_with("sloguard-core.workspace")),
        "the parser found the dependencies: {normal:?}"
    );
    let demo = entries("features")
        .into_iter()
        .find(|l| l.starts_with("demo"))
        .expect("a `demo` feature");
    for emulator in ["sloguard-testing", "aws-sdk-sqs"] {
        for line in normal.iter().filter(|l| {
            l.split(|c: char| c == '=' || c == '.' || c.is_whitespace())
                .next()
                == Some(emulator)
        }) {
            assert!(
                line.contains("optional = true"),
                "{emulator} is a normal dependency of sloguard: `{line}`; make it optional behind `demo` or a dev-dependency"
            );
            assert!(
                demo.contains(&format!("dep:{emulator}")),
                "{emulator} is optional but not behind `demo`: `{demo}`"
            );
        }
    }
    // The emulator's own crate, used by the demo and the tests, is where SQS lives.
    assert!(
        entries("dev-dependencies")
            .iter()
            .any(|l| l.starts_with("sloguard-testing")),
        "the tests reach the emulator as a dev-dependency"
    );
}
