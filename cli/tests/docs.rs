//! The README, the docs/ pages, the Makefile and infra/samconfig.toml say what the code
//! and the template do: the steps a newcomer types must work as written, and every link
//! between the pages leads somewhere. cli/Cargo.toml keeps the emulator out of the
//! released binary.

#[path = "docs/links.rs"]
mod links;

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// README.md and every docs/*.md page, by path from the repository root, in name order.
fn pages() -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "the docs pages: {names:?}");
    std::iter::once("README.md".to_string())
        .chain(names)
        .map(|n| {
            let text = read(&n);
            (n, text)
        })
        .collect()
}

/// The lines of a page's ```sh blocks, with their line numbers.
fn shell_lines(page: &str) -> Vec<(usize, &str)> {
    let mut inside = false;
    let mut out = Vec::new();
    for (i, line) in page.lines().enumerate() {
        if line.starts_with("```") {
            inside = !inside && line.trim() == "```sh";
        } else if inside {
            out.push((i, line.trim()));
        }
    }
    out
}

/// Verbs that run without the table.
const OFFLINE: [&str; 3] = ["sloguard validate", "sloguard init", "sloguard --help"];

/// The first line of a page's ```sh blocks that runs a verb reading the table.
fn first_table_verb<'a>(sh: &[(usize, &'a str)]) -> Option<(usize, &'a str)> {
    sh.iter()
        .find(|(_, l)| l.starts_with("sloguard ") && !OFFLINE.iter().any(|o| l.starts_with(o)))
        .copied()
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

/// A reader may land on any page: one that runs `sloguard` says how to install it first.
#[test]
fn every_page_says_how_to_install_sloguard_before_it_uses_it() {
    let mut checked = 0;
    for (name, text) in pages() {
        let sh = shell_lines(&text);
        let Some((first_use, line)) = sh.iter().find(|(_, l)| l.starts_with("sloguard ")) else {
            continue;
        };
        let install = text
            .lines()
            .position(|l| l.contains("make install"))
            .unwrap_or_else(|| panic!("{name}: runs `{line}` but never says `make install`"));
        assert!(
            install < *first_use,
            "{name}:{}: `{line}` before `make install` (line {})",
            first_use + 1,
            install + 1
        );
        checked += 1;
    }
    assert!(checked >= 5, "pages with sloguard commands: {checked}");
}

/// Every verb but validate, init and --help reads the table: each page exports the region
/// and the table before its first such verb, and the README creates the table with init.
#[test]
fn every_page_sets_up_the_table_before_a_verb_uses_it() {
    let mut checked = 0;
    for (name, text) in pages() {
        let sh = shell_lines(&text);
        let Some((uses_table, verb)) = first_table_verb(&sh) else {
            continue;
        };
        let before = |pred: &dyn Fn(&str) -> bool| {
            sh.iter()
                .any(|(i, l)| *i < uses_table && l.starts_with("export ") && pred(l))
        };
        assert!(
            before(&|l| l.contains("AWS_REGION=")),
            "{name}: `{verb}` before an export of AWS_REGION"
        );
        assert!(
            before(&|l| l.contains("SLO_TABLE=")),
            "{name}: `{verb}` before an export of SLO_TABLE"
        );
        let init = sh
            .iter()
            .any(|(i, l)| *i < uses_table && l.starts_with("sloguard init"));
        // Elsewhere the page may say where the table comes from instead of making one.
        let said = text
            .lines()
            .take(uses_table)
            .any(|l| l.contains("sloguard init") || l.contains("TableName"));
        assert!(
            init || (name != "README.md" && said),
            "{name}: `{verb}` before the table is made or named"
        );
        checked += 1;
    }
    assert!(checked >= 5, "pages that use the table: {checked}");
}

#[test]
fn the_testing_page_says_what_make_browser_installs_and_needs() {
    let tests = read("docs/testing.md");
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
    // The README's short version still warns a fresh machine, and says where the rest is.
    let readme = read("README.md");
    let short = readme
        .split("\n## ")
        .find(|s| s.starts_with("Running the tests"))
        .expect("the README's tests section");
    for needed in ["make browser", "sudo", "](docs/testing.md)"] {
        assert!(short.contains(needed), "{needed}");
    }
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
fn the_deploying_page_documents_every_variable_and_the_teardown() {
    let page = read("docs/deploying.md");
    let code = read("shared/core/src/settings.rs");
    let vars: Vec<&str> = code
        .split('"')
        .filter(|s| s.starts_with("SLO_") && s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    assert!(vars.len() >= 8, "{vars:?}");
    for v in vars {
        assert!(
            page.contains(&format!("| `{v}` |")),
            "{v} missing from the environment table"
        );
    }
    // Deploy: the stack name the user chose, the teardown, and what is kept.
    assert!(
        !page.contains("--stack-name sloguard"),
        "a hard-coded stack name"
    );
    assert!(page.contains("--stack-name \"$STACK\""));
    for step in [
        "sam delete",
        "aws dynamodb delete-table",
        "aws kms schedule-key-deletion",
    ] {
        assert!(page.contains(step), "{step}");
    }
    // The table has deletion protection: delete-table is refused until it is turned off.
    let unprotect = page
        .find("aws dynamodb update-table --table-name \"$TABLE\" --no-deletion-protection-enabled")
        .expect("the teardown turns deletion protection off");
    assert!(
        unprotect < page.find("aws dynamodb delete-table").unwrap(),
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
            page.contains(&format!("| {service} |")),
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

/// The template's parameters, each with its default (quotes dropped), in the order written.
fn template_parameters(template: &str) -> Vec<(String, String)> {
    let block = template
        .split("\nParameters:\n")
        .nth(1)
        .expect("a Parameters section");
    let mut out: Vec<(String, String)> = Vec::new();
    // Up to the next top-level section (Mappings, Conditions...).
    for line in block
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with(' '))
    {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if !name.starts_with(' ') {
                out.push((name.to_string(), String::new()));
            }
        } else if let Some(default) = line.strip_prefix("    Default: ") {
            out.last_mut().expect("a parameter").1 = default.trim_matches('"').to_string();
        }
    }
    out
}

/// A user reads the parameters and their defaults off the deploying page, not the template.
#[test]
fn the_deploying_page_lists_every_parameter_with_the_templates_default() {
    let page = read("docs/deploying.md");
    let parameters = template_parameters(&read("infra/template.yaml"));
    assert!(parameters.len() >= 15, "{parameters:?}");
    for (name, default) in parameters {
        let row = page
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no row for the parameter {name}"));
        let shown = row.split('|').nth(2).unwrap().trim();
        if default.is_empty() {
            assert!(
                shown.starts_with('(') && shown.ends_with(')'),
                "{name}: the template's default is empty, the page says `{shown}`"
            );
        } else {
            assert_eq!(shown, default, "{name}'s default");
        }
    }
    let bus = page
        .lines()
        .find(|l| l.starts_with("| `SloEventBus` |"))
        .unwrap();
    assert!(bus.contains("`STACK-slo-events`"), "{bus}");
    assert!(bus.contains("](guarantees.md#trust-boundaries)"), "{bus}");
}

/// Issue 20.1: a rule matching `source: sloguard` is safe only on the stack's own bus;
/// every rule the docs tell people to add names it.
#[test]
fn the_docs_put_slo_event_rules_on_the_stacks_bus() {
    let mut rules = 0;
    for (name, text) in pages() {
        let sh = shell_lines(&text);
        for (i, (_, line)) in sh.iter().enumerate() {
            if !(line.starts_with("aws events put-rule")
                || line.starts_with("aws events put-targets"))
            {
                continue;
            }
            let command: Vec<&str> = std::iter::once(*line)
                .chain(
                    sh[i..]
                        .windows(2)
                        .take_while(|w| w[0].1.ends_with('\\'))
                        .map(|w| w[1].1),
                )
                .collect();
            assert!(
                command
                    .iter()
                    .any(|l| l.contains("--event-bus-name \"$BUS\"")),
                "{name}: {line}: not on the stack's bus"
            );
            rules += 1;
        }
    }
    assert!(rules >= 4, "the rules were found: {rules}");
    let automation = read("docs/changes-and-automation.md");
    assert!(automation.contains("BUS=\"$STACK-slo-events\""));
    let template = read("infra/template.yaml");
    assert!(template.contains("Name: !Sub \"${AWS::StackName}-slo-events\""));
}

/// Each guarantee names the test that holds it (`path.rs::test_name`): that test exists.
#[test]
fn the_guarantees_name_tests_that_exist() {
    let page = read("docs/guarantees.md");
    let named: Vec<(&str, &str)> = page
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| code.split_once(".rs::"))
        .collect();
    for (file, test) in &named {
        let source = read(&format!("{file}.rs"));
        assert!(
            source.contains(&format!("fn {test}(")),
            "{file}.rs has no test {test}"
        );
    }
    for test in [
        "slo_events_go_to_the_stacks_own_bus_where_only_its_notifying_roles_may_put",
        "the_dashboard_reads_only_the_partitions_it_shows",
    ] {
        assert!(
            named.iter().any(|(_, t)| t == &test),
            "docs/guarantees.md names {test}"
        );
    }
    let trust = page
        .split("\n## Trust boundaries\n")
        .nth(1)
        .expect("a Trust boundaries section");
    for gap in [
        "events:PutPermission",
        "events:RemovePermission",
        "events:UpdateEventBus",
        "events:DeleteEventBus",
        "iam:PassRole",
        "lambda:UpdateFunctionCode",
        "SloEventBus=default",
        "`aws.*`",
    ] {
        assert!(
            trust.contains(gap),
            "what the bus does not guarantee: {gap}"
        );
    }
}
