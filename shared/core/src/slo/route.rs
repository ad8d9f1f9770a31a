//! Routing: which SNS topics an SLO's messages for people go to. An AlertNotificationTarget
//! whose `target` is an SNS topic ARN routes the messages of every SLO whose AlertPolicies
//! name it to that topic; an SLO that names none goes to the stack topic. The stack's
//! `SLO_ALLOWED_TOPICS` says which topics it may publish to at all.

use super::model::SloDefinition;

/// Longest SNS topic name (AWS's limit).
const MAX_TOPIC_NAME: usize = 256;

/// Whether `target` is meant as an SNS topic ARN (`arn:PARTITION:sns:...`): such a target
/// must be a valid one, every other text is documentation.
pub fn looks_like_topic(target: &str) -> bool {
    let mut parts = target.trim().splitn(4, ':');
    parts.next() == Some("arn") && parts.next().is_some() && parts.next() == Some("sns")
}

/// Check an SNS topic ARN: `arn:aws:sns:REGION:ACCOUNT:NAME`, a 12-digit account and a
/// standard topic's name (1 to 256 letters, digits, `-` and `_`). FIFO topics are refused:
/// a publish to one needs a message group sloguard does not set.
pub fn check_topic_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let bad = || {
        format!(
            "`{}` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
            super::message::quoted_at_most(arn, 120).trim_matches('"')
        )
    };
    let [arn_word, partition, service, region, account, name] = parts.as_slice() else {
        return Err(bad());
    };
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let name_ok = !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if *arn_word != "arn"
        || !partition.starts_with("aws")
        || *service != "sns"
        || !region_ok
        || !account_ok
        || !name_ok
    {
        return Err(bad());
    }
    if name.ends_with(".fifo") {
        return Err(format!(
            "`{arn}` is a FIFO topic; sloguard publishes to standard topics (a FIFO topic needs a message group)"
        ));
    }
    if name.contains('.') {
        return Err(bad());
    }
    Ok(())
}

/// The topics a stack may publish to (`SLO_ALLOWED_TOPICS`): topic ARNs, each exact or a
/// prefix ending in `*`; `none` allows only the stack's own topics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedTopics {
    patterns: Vec<String>,
}

impl AllowedTopics {
    /// Read `SLO_ALLOWED_TOPICS`: comma-separated topic ARNs or ARN prefixes ending in `*`
    /// (`arn:aws:sns:eu-west-1:123456789012:team-*`), or `none`.
    pub fn parse(text: &str) -> Result<AllowedTopics, String> {
        let text = text.trim();
        if text == "none" {
            return Ok(AllowedTopics::default());
        }
        let mut patterns = Vec::new();
        for p in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (arn, prefix) = match p.strip_suffix('*') {
                Some(head) => (format!("{head}x"), true),
                None => (p.to_string(), false),
            };
            // A prefix may end anywhere in the name, even before its first character.
            let checked = if prefix && head_ends_in_name(p) {
                check_topic_arn(&arn)
            } else if prefix {
                Err(format!("`{p}`: a prefix must name the region and account (arn:aws:sns:REGION:ACCOUNT:PREFIX*)"))
            } else {
                check_topic_arn(&arn)
            };
            checked?;
            patterns.push(p.to_string());
        }
        if patterns.is_empty() {
            return Err("empty: list topic ARNs or prefixes ending in `*`, or write `none`".into());
        }
        Ok(AllowedTopics { patterns })
    }

    /// Whether the stack may publish to `topic`.
    pub fn allows(&self, topic: &str) -> bool {
        self.patterns.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => topic.starts_with(prefix),
            None => p == topic,
        })
    }

    /// The patterns as written, for messages.
    pub fn describe(&self) -> String {
        if self.patterns.is_empty() {
            "none".into()
        } else {
            self.patterns.join(",")
        }
    }
}

/// Whether a prefix pattern has all five `:` of an ARN before its `*`.
fn head_ends_in_name(p: &str) -> bool {
    p.matches(':').count() == 5
}

/// The topics of `slos` outside `allowed` (the stack's own topic is always allowed): for
/// each, the SLO, where it is defined, and the topic.
pub fn outside<'a>(
    slos: &'a [SloDefinition],
    allowed: &AllowedTopics,
    stack_topic: Option<&str>,
) -> Vec<(&'a SloDefinition, &'a str)> {
    slos.iter()
        .flat_map(|s| s.topics.iter().map(move |t| (s, t.as_str())))
        .filter(|(_, t)| Some(*t) != stack_topic && !allowed.allows(t))
        .collect()
}

/// The message that says a topic is outside `SLO_ALLOWED_TOPICS`, for `validate` and `apply`.
pub fn outside_message(slo: &SloDefinition, topic: &str, allowed: &AllowedTopics) -> String {
    format!(
        "SLO `{}` routes to {topic}, outside the topics this stack may publish to (SLO_ALLOWED_TOPICS={}); widen the stack's AllowedTopicPrefix or name another topic",
        slo.slo_name(),
        allowed.describe()
    )
}

/// The team topics `slo`'s messages for people go to: None is the stack topic. An SLO that
/// names no topic goes to the stack topic; `copy_all` sends the stack topic a copy of the
/// others' too. A topic that is the stack topic itself is the stack topic (sent once).
pub fn people_topics(
    slo: &SloDefinition,
    copy_all: bool,
    stack_topic: Option<&str>,
) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    for t in &slo.topics {
        let to = (Some(t.as_str()) != stack_topic).then(|| t.clone());
        if !out.contains(&to) {
            out.push(to);
        }
    }
    if (out.is_empty() || copy_all) && !out.contains(&None) {
        out.insert(0, None);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "arn:aws:sns:eu-west-1:123456789012:team-a-pages";
    const B: &str = "arn:aws:sns:eu-west-1:123456789012:team-b-pages";

    #[test]
    fn topic_arns_are_checked_and_fifo_topics_refused() {
        assert!(check_topic_arn(A).is_ok());
        assert!(check_topic_arn("arn:aws-cn:sns:cn-north-1:123456789012:x_1").is_ok());
        for bad in [
            "arn:aws:sns:eu-west-1:1234:x",
            "arn:aws:sns:eu-west-1:123456789012:",
            "arn:aws:sqs:eu-west-1:123456789012:x",
            "arn:aws:sns:eu-west-1:123456789012:a#b",
            "arn:aws:sns:eu-west-1:123456789012:x:extra",
        ] {
            assert!(check_topic_arn(bad).is_err(), "{bad}");
        }
        let fifo = check_topic_arn("arn:aws:sns:eu-west-1:123456789012:x.fifo").unwrap_err();
        assert!(fifo.contains("FIFO"), "{fifo}");
        assert!(looks_like_topic(A) && !looks_like_topic("pagerduty"));
    }

    #[test]
    fn allowed_topics_are_exact_arns_or_prefixes() {
        let allowed =
            AllowedTopics::parse(&format!("arn:aws:sns:eu-west-1:123456789012:team-a-*, {B}"))
                .unwrap();
        assert!(allowed.allows(A) && allowed.allows(B));
        assert!(!allowed.allows("arn:aws:sns:eu-west-1:123456789012:team-c"));
        assert!(!allowed.allows("arn:aws:sns:eu-west-1:999999999999:team-a-pages"));
        let none = AllowedTopics::parse("none").unwrap();
        assert!(!none.allows(A));
        assert!(AllowedTopics::parse("team-*").is_err());
        assert!(AllowedTopics::parse(" ").is_err());
        assert!(AllowedTopics::parse("arn:aws:sns:eu-west-1:123456789012:*").is_ok());
    }

    fn slo(topics: &[&str]) -> SloDefinition {
        let files = [crate::slo::load::SourceFile {
            name: "c.yaml".into(),
            text: crate::slo::fixtures::checkout_yaml(),
        }];
        let mut s = crate::slo::load::load(&files).slos.remove(0);
        s.topics = topics.iter().map(|t| t.to_string()).collect();
        s
    }

    #[test]
    fn an_slo_goes_to_its_topics_else_to_the_stack_topic_and_each_once() {
        const STACK: &str = "arn:aws:sns:eu-west-1:123456789012:sloguard";
        let stack = Some(STACK);
        assert_eq!(people_topics(&slo(&[]), false, stack), vec![None]);
        assert_eq!(
            people_topics(&slo(&[A, B, A]), false, stack),
            vec![Some(A.to_string()), Some(B.to_string())]
        );
        assert_eq!(
            people_topics(&slo(&[A]), true, stack),
            vec![None, Some(A.to_string())],
            "copy-all: the stack topic too"
        );
        assert_eq!(
            people_topics(&slo(&[STACK, A]), true, stack),
            vec![None, Some(A.to_string())],
            "the stack topic named as a target is the stack topic, once"
        );
        assert_eq!(people_topics(&slo(&[A]), true, None).len(), 2);
        let allowed = AllowedTopics::parse("arn:aws:sns:eu-west-1:123456789012:team-a-*").unwrap();
        let slos = [slo(&[A, B])];
        let out = outside(&slos, &allowed, stack);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1, B);
        assert!(outside_message(out[0].0, B, &allowed).contains("SLO_ALLOWED_TOPICS"));
    }
}
