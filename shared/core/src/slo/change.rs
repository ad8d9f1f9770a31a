//! Changes beside the burn: deployments (CloudFormation stacks, CodeDeploy deployment
//! groups, ECS services, Lambda functions) that an SLO names with `sloguard.dev/changes`,
//! so a page can say what changed before the budget started burning. Pure data and
//! text; the events they come from are read in `sloguard_aws::events::change`.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize, Serializer};

use super::message::{one_line, quoted, relative, rfc3339};
use super::origin::{AccountId, AwsRegion};

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

/// One change that happened to a target, as stored and as messages list it. A stored item
/// is data: it is read through `StoredChange`, which keeps its link only if its region is a
/// region and its link is one `ConsoleLink` builds for that region and kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredChange")]
pub struct Change {
    /// What changed, in the annotation's form: `stack/shop-api`.
    pub target: String,
    /// What kind of thing changed, for grouping and JSON.
    pub kind: ChangeKind,
    /// When it happened (epoch seconds).
    pub at: i64,
    /// What happened, short: `UPDATE_COMPLETE`, `deployment d-1 SUCCESS`, `UpdateFunctionCode`.
    pub what: String,
    /// The region it happened in (its console link points there); empty when a stored item's
    /// region was not a region.
    pub region: String,
    /// The account it happened in (every event recorded now names one; older items may not).
    pub account: Option<AccountId>,
    /// The console page of the change (a deployment, a stack's events, a function), or none.
    pub link: ConsoleLink,
    /// Identity within the target and time: the same change delivered twice has the same id.
    pub id: String,
}

/// A change as stored, every field as the item has it, before any of it is trusted.
#[derive(Deserialize)]
struct StoredChange {
    target: String,
    kind: ChangeKind,
    at: i64,
    what: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    link: Option<String>,
    id: String,
}

impl From<StoredChange> for Change {
    fn from(s: StoredChange) -> Change {
        let region = AwsRegion::parse(&s.region).ok();
        let link = match (&region, s.link) {
            (Some(r), Some(link)) => ConsoleLink::checked(&link, s.kind, r),
            _ => ConsoleLink::none(),
        };
        Change {
            target: s.target,
            kind: s.kind,
            at: s.at,
            what: s.what,
            region: region.map(String::from).unwrap_or_default(),
            account: s.account.and_then(|a| AccountId::parse(&a).ok()),
            link,
            id: s.id,
        }
    }
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

/// One line per change for message bodies: `18 min before  stack/shop-api  "UPDATE_COMPLETE"  (at ...)`,
/// the console link on the next line. What the event said happened is quoted; the target
/// and link (stored items) are kept to one line.
pub fn lines(changes: &[Change], opened_at: i64) -> Vec<String> {
    let targets: Vec<String> = changes.iter().map(|c| one_line(&c.target)).collect();
    let width = targets.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    changes
        .iter()
        .zip(&targets)
        .flat_map(|(c, target)| {
            let head = format!(
                "{:>14}  {:<width$}  {}  (at {})",
                format!("{} before", relative(opened_at - c.at)),
                target,
                quoted(&c.what),
                rfc3339(c.at)
            );
            let link = c
                .link
                .as_str()
                .map(|l| format!("{:>14}  {}", "", one_line(l)));
            std::iter::once(head).chain(link)
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

/// A console link built from a checked region and percent-encoded names: the only kind of
/// link a change holds, so no event field or stored item can point people elsewhere. It
/// reads as "" when there is none (a stored item that did not check out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleLink(Option<String>);

/// Characters `encode` leaves in a name; the parts of a link between its fixed text.
fn encoded(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%')
}

impl ConsoleLink {
    /// No link: what a change shows when its stored region or link did not check out.
    pub fn none() -> ConsoleLink {
        ConsoleLink(None)
    }

    fn build(region: impl TryInto<AwsRegion>, page: impl FnOnce(&AwsRegion) -> String) -> Self {
        match region.try_into() {
            Ok(r) => ConsoleLink(Some(format!(
                "https://{r}.console.aws.amazon.com{}",
                page(&r)
            ))),
            Err(_) => ConsoleLink::none(),
        }
    }

    /// The link, when there is one.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// A stored link, kept only if it is exactly what the builder of `kind` makes for
    /// `region` from some names: the fixed text of that page with encoded names between.
    fn checked(stored: &str, kind: ChangeKind, region: &AwsRegion) -> ConsoleLink {
        // The builder's page with a marker for each name gives the fixed pieces around them.
        let mark = || "\u{0}".to_string();
        let shape = match kind {
            ChangeKind::Stack => ConsolePage::Stack(mark()),
            ChangeKind::CodeDeploy => ConsolePage::CodeDeploy(mark()),
            ChangeKind::Ecs => ConsolePage::Ecs(mark(), mark()),
            ChangeKind::Lambda => ConsolePage::Lambda(mark()),
        }
        .link(region);
        let shape = shape.as_str().unwrap_or_default();
        let mut pieces = shape.split("%00");
        let Some(mut rest) = pieces.next().and_then(|first| stored.strip_prefix(first)) else {
            return ConsoleLink::none();
        };
        for piece in pieces {
            let name = rest.bytes().take_while(|b| encoded(*b)).count();
            match rest[name..].strip_prefix(piece) {
                Some(after) if name > 0 => rest = after,
                _ => return ConsoleLink::none(),
            }
        }
        if rest.is_empty() {
            ConsoleLink(Some(stored.to_string()))
        } else {
            ConsoleLink::none()
        }
    }
}

impl Deref for ConsoleLink {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_deref().unwrap_or_default()
    }
}

impl fmt::Display for ConsoleLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

/// Stored and in JSON as the link's text, or null when there is none.
impl Serialize for ConsoleLink {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// A change's page in the console, by the names it is built from: what an event gives
/// before its region is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsolePage {
    /// A stack's events, by the stack's ARN or name.
    Stack(String),
    /// A deployment, by its id.
    CodeDeploy(String),
    /// A service's deployments, by cluster and service.
    Ecs(String, String),
    /// A function's versions, by its name.
    Lambda(String),
}

impl ConsolePage {
    /// The link to this page in `region`, checked.
    pub fn link(&self, region: &AwsRegion) -> ConsoleLink {
        match self {
            ConsolePage::Stack(id) => stack_link(region, id),
            ConsolePage::CodeDeploy(id) => codedeploy_link(region, id),
            ConsolePage::Ecs(cluster, service) => ecs_link(region, cluster, service),
            ConsolePage::Lambda(function) => lambda_link(region, function),
        }
    }
}

/// The console page of a stack's events (`stack_id` is its ARN, or its name); none when
/// `region` is not a region.
pub fn stack_link(region: impl TryInto<AwsRegion>, stack_id: &str) -> ConsoleLink {
    ConsoleLink::build(region, |r| {
        format!(
            "/cloudformation/home?region={r}#/stacks/events?stackId={}",
            encode(stack_id)
        )
    })
}

/// The console page of a CodeDeploy deployment; none when `region` is not a region.
pub fn codedeploy_link(region: impl TryInto<AwsRegion>, deployment_id: &str) -> ConsoleLink {
    ConsoleLink::build(region, |r| {
        format!(
            "/codesuite/codedeploy/deployments/{}?region={r}",
            encode(deployment_id)
        )
    })
}

/// The console page of an ECS service's deployments; none when `region` is not a region.
pub fn ecs_link(region: impl TryInto<AwsRegion>, cluster: &str, service: &str) -> ConsoleLink {
    ConsoleLink::build(region, |r| {
        format!(
            "/ecs/v2/clusters/{}/services/{}/deployments?region={r}",
            encode(cluster),
            encode(service)
        )
    })
}

/// The console page of a Lambda function's versions; none when `region` is not a region.
pub fn lambda_link(region: impl TryInto<AwsRegion>, function: &str) -> ConsoleLink {
    ConsoleLink::build(region, |r| {
        format!(
            "/lambda/home?region={r}#/functions/{}?tab=versions",
            encode(function)
        )
    })
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
    fn a_stored_change_with_a_hostile_region_renders_no_link() {
        let forged = |region: &str, link: &str| -> Change {
            serde_json::from_value(serde_json::json!({
                "target": "stack/shop-api", "kind": "stack", "at": 9_400, "what": "UPDATE_COMPLETE",
                "region": region, "account": "111122223333", "link": link, "id": "UPDATE_COMPLETE"}))
            .expect("a stored change is read whatever its region")
        };
        let hostile = "evil.example/aws-console-login?next=";
        for c in [
            forged(hostile, &stack_link(hostile, "stack/shop-api").to_string()),
            // A well-formed region beside a link elsewhere, or to another region's console.
            forged("eu-west-1", "https://evil.example/aws-console-login"),
            forged(
                "eu-west-1",
                "https://us-east-1.console.aws.amazon.com/cloudformation/home",
            ),
            forged(
                "eu-west-1",
                "https://eu-west-1.console.aws.amazon.com.evil.example/x",
            ),
            forged(
                "eu-west-1",
                "https://eu-west-1.console.aws.amazon.com/x\"><script>",
            ),
        ] {
            let text = lines(std::slice::from_ref(&c), 10_000).join("\n");
            assert!(
                text.contains("stack/shop-api  \"UPDATE_COMPLETE\""),
                "still listed: {text}"
            );
            assert!(!text.contains("https://"), "no link: {text}");
            assert!(c.link.is_empty(), "{:?}", c.link);
        }
        // A stored change of ours keeps its link.
        let ours = forged(
            "eu-west-1",
            &stack_link(
                "eu-west-1",
                "arn:aws:cloudformation:eu-west-1:111122223333:stack/shop-api/1",
            )
            .to_string(),
        );
        assert!(lines(&[ours], 10_000)[1]
            .contains("https://eu-west-1.console.aws.amazon.com/cloudformation/"));
    }

    #[test]
    fn every_link_we_build_survives_being_stored_and_no_other_does() {
        let r = AwsRegion::parse("ap-southeast-4").unwrap();
        let pages = [
            (
                ChangeKind::Stack,
                ConsolePage::Stack("arn:aws:cloudformation:s/x".into()),
            ),
            (
                ChangeKind::CodeDeploy,
                ConsolePage::CodeDeploy("d-1".into()),
            ),
            (ChangeKind::Ecs, ConsolePage::Ecs("c".into(), "s#1".into())),
            (ChangeKind::Lambda, ConsolePage::Lambda("fn".into())),
        ];
        let stored = |kind, link: String| -> Change {
            let mut v = serde_json::to_value(change("stack/x", 0)).unwrap();
            v["kind"] = serde_json::to_value(kind).unwrap();
            v["region"] = r.to_string().into();
            v["link"] = link.into();
            serde_json::from_value(v).unwrap()
        };
        for (kind, page) in &pages {
            let link = page.link(&r).to_string();
            assert_eq!(
                stored(*kind, link.clone()).link.as_str(),
                Some(link.as_str())
            );
            for tampered in [
                format!("{link}@evil.example"),
                format!("{link}/../../x"),
                link.replace("ap-southeast-4.console.aws.amazon.com", "evil.example"),
                link.replace("https://", "http://"),
                // Another kind's page, or an empty name.
                pages[(pages.iter().position(|(k, _)| k == kind).unwrap() + 1) % 4]
                    .1
                    .link(&r)
                    .to_string(),
                link.replace("d-1", "").replace("fn?", "?"),
            ] {
                if tampered != link {
                    assert!(
                        stored(*kind, tampered.clone()).link.is_empty(),
                        "{tampered}"
                    );
                }
            }
        }
    }

    #[test]
    fn links_encode_what_could_break_them() {
        assert_eq!(
            stack_link("us-east-1", "arn:aws:cloudformation:us-east-1:1:stack/s/u").as_str(),
            Some("https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/events?stackId=arn%3Aaws%3Acloudformation%3Aus-east-1%3A1%3Astack%2Fs%2Fu")
        );
        assert!(ecs_link("eu-west-1", "c", "s#1")
            .ends_with("/services/s%231/deployments?region=eu-west-1"));
        // A region that is not one gives no link at all, whatever the names.
        for r in [
            "r",
            "evil.example/aws-console-login?next=",
            "eu-west-1.evil.example",
        ] {
            assert_eq!(stack_link(r, "s").as_str(), None, "{r}");
            assert_eq!(ecs_link(r, "c", "s").to_string(), "", "{r}");
        }
    }
}
