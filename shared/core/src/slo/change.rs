//! Changes beside the burn: deployments (CloudFormation stacks, CodeDeploy deployment
//! groups, ECS services, Lambda functions) that an SLO names with `sloguard.dev/changes`,
//! so a page can say what changed before the budget started burning. Pure data and
//! text; the events they come from are read in `sloguard_aws::events::change`.

use serde::{Deserialize, Serialize};

use super::message::{relative, rfc3339};

/// How far before an incident opened changes are listed, unless the SLO says otherwise.
pub const DEFAULT_LOOKBACK_SECONDS: i64 = 2 * 3600;

/// Longest target accepted: it is part of a storage key.
pub const MAX_TARGET_LEN: usize = 512;

/// What kind of thing changed; the first segment of a target (`stack/shop-api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A CloudFormation stack: `stack/NAME`.
    Stack,
    /// A CodeDeploy deployment group: `codedeploy/APPLICATION/GROUP`.
    CodeDeploy,
    /// An ECS service: `ecs/CLUSTER/SERVICE`.
    Ecs,
    /// A Lambda function: `lambda/FUNCTION`.
    Lambda,
}

impl ChangeKind {
    /// The target prefix, as users write it in the annotation.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Stack => "stack",
            ChangeKind::CodeDeploy => "codedeploy",
            ChangeKind::Ecs => "ecs",
            ChangeKind::Lambda => "lambda",
        }
    }

    /// How many names follow the prefix (`ecs/CLUSTER/SERVICE`: 2).
    fn parts(self) -> usize {
        match self {
            ChangeKind::Stack | ChangeKind::Lambda => 1,
            ChangeKind::CodeDeploy | ChangeKind::Ecs => 2,
        }
    }

    fn parse(s: &str) -> Option<ChangeKind> {
        match s {
            "stack" => Some(ChangeKind::Stack),
            "codedeploy" => Some(ChangeKind::CodeDeploy),
            "ecs" => Some(ChangeKind::Ecs),
            "lambda" => Some(ChangeKind::Lambda),
            _ => None,
        }
    }
}

/// Check one target of the `sloguard.dev/changes` annotation; the error says what a target looks like.
pub fn parse_target(s: &str) -> Result<String, String> {
    let t = s.trim();
    let shape = "a target is stack/NAME, codedeploy/APPLICATION/GROUP, ecs/CLUSTER/SERVICE or lambda/FUNCTION";
    let mut parts = t.split('/');
    let kind = parts.next().and_then(ChangeKind::parse);
    let names: Vec<&str> = parts.collect();
    match kind {
        Some(k)
            if names.len() == k.parts()
                && names.iter().all(|n| !n.is_empty())
                && t.len() <= MAX_TARGET_LEN
                && !t.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            Ok(t.to_string())
        }
        _ => Err(format!(
            "`{}` is not a change target: {shape}",
            t.chars().take(60).collect::<String>()
        )),
    }
}

/// One change that happened to a target, as stored and as messages list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// What changed, in the annotation's form: `stack/shop-api`.
    pub target: String,
    /// What kind of thing changed, for grouping and JSON.
    pub kind: ChangeKind,
    /// When it happened (epoch seconds).
    pub at: i64,
    /// What happened, short: `UPDATE_COMPLETE`, `deployment d-1 SUCCESS`, `UpdateFunctionCode`.
    pub what: String,
    /// The region it happened in (its console link points there).
    pub region: String,
    /// The account it happened in, when the event says (changes of other accounts are dropped).
    pub account: Option<String>,
    /// The console page of the change (a deployment, a stack's events, a function).
    pub link: String,
    /// Identity within the target and time: the same change delivered twice has the same id.
    pub id: String,
}

/// The changes of `changes` within `lookback` seconds before `opened_at` (and not after),
/// newest first: what on-call should look at first.
pub fn before(changes: &[Change], opened_at: i64, lookback: i64) -> Vec<Change> {
    let mut out: Vec<Change> = changes
        .iter()
        .filter(|c| c.at <= opened_at && c.at >= opened_at - lookback)
        .cloned()
        .collect();
    out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.target.cmp(&b.target)));
    out.dedup_by(|a, b| a.target == b.target && a.id == b.id && a.at == b.at);
    out
}

/// One line per change for message bodies: `18 min before  stack/shop-api  UPDATE_COMPLETE  (at ...)`,
/// the console link on the next line.
pub fn lines(changes: &[Change], opened_at: i64) -> Vec<String> {
    let width = changes.iter().map(|c| c.target.len()).max().unwrap_or(0);
    changes
        .iter()
        .flat_map(|c| {
            [
                format!(
                    "{:>14}  {:<width$}  {}  (at {})",
                    format!("{} before", relative(opened_at - c.at)),
                    c.target,
                    c.what,
                    rfc3339(c.at)
                ),
                format!("{:>14}  {}", "", c.link),
            ]
        })
        .collect()
}

/// Percent-encode a URL component (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn console(region: &str) -> String {
    format!("https://{region}.console.aws.amazon.com")
}

/// The console page of a stack's events (`stack_id` is its ARN, or its name).
pub fn stack_link(region: &str, stack_id: &str) -> String {
    format!(
        "{}/cloudformation/home?region={region}#/stacks/events?stackId={}",
        console(region),
        encode(stack_id)
    )
}

/// The console page of a CodeDeploy deployment.
pub fn codedeploy_link(region: &str, deployment_id: &str) -> String {
    format!(
        "{}/codesuite/codedeploy/deployments/{}?region={region}",
        console(region),
        encode(deployment_id)
    )
}

/// The console page of an ECS service's deployments.
pub fn ecs_link(region: &str, cluster: &str, service: &str) -> String {
    format!(
        "{}/ecs/v2/clusters/{}/services/{}/deployments?region={region}",
        console(region),
        encode(cluster),
        encode(service)
    )
}

/// The console page of a Lambda function's versions.
pub fn lambda_link(region: &str, function: &str) -> String {
    format!(
        "{}/lambda/home?region={region}#/functions/{}?tab=versions",
        console(region),
        encode(function)
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stack update of `target` at `at`, the change the cycle's and this module's tests record.
    pub(crate) fn change(target: &str, at: i64) -> Change {
        Change {
            target: target.into(),
            kind: ChangeKind::Stack,
            at,
            what: "UPDATE_COMPLETE".into(),
            region: "eu-west-1".into(),
            account: None,
            link: stack_link("eu-west-1", target),
            id: format!("{at}"),
        }
    }

    #[test]
    fn targets_have_a_known_kind_and_the_right_number_of_names() {
        for ok in [
            "stack/shop-api",
            "codedeploy/shop/prod",
            "ecs/main-cluster/checkout",
            "lambda/checkout-fn",
            " lambda/checkout-fn ",
        ] {
            assert_eq!(parse_target(ok).unwrap(), ok.trim());
        }
        for bad in [
            "",
            "stack",
            "stack/",
            "stack/a/b",
            "ecs/cluster",
            "k8s/x",
            "lambda/a b",
        ] {
            let e = parse_target(bad).unwrap_err();
            assert!(e.contains("stack/NAME"), "{bad}: {e}");
        }
        assert!(parse_target(&format!("stack/{}", "x".repeat(600))).is_err());
    }

    #[test]
    fn only_changes_in_the_lookback_before_the_opening_newest_first() {
        let open = 10_000;
        let all = [
            change("stack/a", open - 7300),
            change("stack/b", open - 1200),
            change("stack/c", open - 60),
            change("stack/d", open + 60),
            change("stack/b", open - 1200),
        ];
        let got = before(&all, open, DEFAULT_LOOKBACK_SECONDS);
        let names: Vec<&str> = got.iter().map(|c| c.target.as_str()).collect();
        assert_eq!(names, ["stack/c", "stack/b"]);
        let text = lines(&got, open).join("\n");
        assert!(text.contains("1 min before  stack/c"), "{text}");
        assert!(text.contains("20 min before  stack/b"), "{text}");
        assert!(text.contains("https://eu-west-1.console.aws.amazon.com/cloudformation/"));
    }

    #[test]
    fn links_encode_what_could_break_them() {
        assert_eq!(
            stack_link("us-east-1", "arn:aws:cloudformation:us-east-1:1:stack/s/u"),
            "https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/events?stackId=arn%3Aaws%3Acloudformation%3Aus-east-1%3A1%3Astack%2Fs%2Fu"
        );
        assert!(ecs_link("r", "c", "s#1").ends_with("/services/s%231/deployments?region=r"));
    }
}
