//! Whose event it is. An event says where it comes from in several places (the envelope's
//! `account` and `region`, an SNS alarm's `AWSAccountId`, the ARNs it names); each is a
//! claim. Every claim present must be a well-formed account or region, the claims must
//! agree, at least one account must be claimed, and the account (and region) must be the
//! stack's when the handler knows its own. A claim that fails is a refusal naming the
//! field: logged and reported by the caller, never a panic, never a reason to drop the
//! other records of a batch.

use crate::slo::origin::{AccountId, AwsRegion};

/// At most this many characters of a refused value are quoted back.
const QUOTED_CHARS: usize = 60;

fn quoted(s: &str) -> String {
    s.chars().take(QUOTED_CHARS).collect()
}

/// Why an event is not taken as the stack's; reads after its subject ("alarm ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("whose `{field}` {value:?} is not an AWS account id (12 digits)")]
    NotAnAccount { field: String, value: String },
    #[error("whose `{field}` {value:?} is not an AWS region (like eu-west-1)")]
    NotARegion { field: String, value: String },
    #[error("whose `{field}` {value:?} is not a {service} ARN (arn:PARTITION:{service}:REGION:ACCOUNT:...)")]
    NotAnArn {
        field: String,
        value: String,
        service: &'static str,
    },
    #[error("that names no account (looked at {looked}): whose it is cannot be told")]
    NoAccount { looked: String },
    #[error("without `{field}`, which every delivery of its kind has: whose it is cannot be told")]
    Unsigned { field: String },
    #[error("whose `{first_field}` says {what} {first} but `{second_field}` says {second}")]
    Disagree {
        what: &'static str,
        first_field: String,
        first: String,
        second_field: String,
        second: String,
    },
    #[error("of account {theirs}; this handler serves {ours}")]
    OtherAccount { theirs: AccountId, ours: AccountId },
    #[error("in region {theirs}; this handler serves {ours}")]
    OtherRegion { theirs: AwsRegion, ours: AwsRegion },
}

/// Where an event comes from, once its claims check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub account: AccountId,
    /// None when the event claims no region (an SNS alarm without its ARN).
    pub region: Option<AwsRegion>,
}

/// What an event says about where it comes from, field by field, in the order read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    accounts: Vec<(String, String)>,
    regions: Vec<(String, String)>,
    /// Fields where an account was looked for, to say so when none was found.
    looked: Vec<String>,
    /// The first claim that could not be read (an ARN that is not one).
    unreadable: Option<Refusal>,
}

impl Claims {
    /// `field` claims the account `value` (absent or empty: no claim).
    pub fn account(&mut self, field: &str, value: Option<&str>) -> &mut Self {
        self.looked.push(format!("`{field}`"));
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.accounts.push((field.to_string(), v.to_string()));
        }
        self
    }

    /// `field` claims the account `value` and every genuine delivery has it: its absence
    /// is refused even when other fields name an account.
    pub fn required_account(&mut self, field: &str, value: Option<&str>) -> &mut Self {
        if value.is_none_or(str::is_empty) {
            self.unreadable.get_or_insert(Refusal::Unsigned {
                field: field.to_string(),
            });
        }
        self.account(field, value)
    }

    /// `field` claims the region `value` (absent or empty: no claim).
    pub fn region(&mut self, field: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.regions.push((field.to_string(), v.to_string()));
        }
        self
    }

    /// `field` names an ARN of `service`: its region and account are claims. A value that is
    /// not such an ARN (no account or region in it, another service) is refused.
    pub fn arn(&mut self, field: &str, value: Option<&str>, service: &'static str) -> &mut Self {
        self.looked.push(format!("`{field}`"));
        let Some(v) = value else { return self };
        let parts: Vec<&str> = v.splitn(6, ':').collect();
        match parts[..] {
            ["arn", partition, s, region, account, resource]
                if partition.starts_with("aws")
                    && s == service
                    && !region.is_empty()
                    && !account.is_empty()
                    && !resource.is_empty() =>
            {
                self.accounts.push((field.to_string(), account.to_string()));
                self.regions.push((field.to_string(), region.to_string()));
            }
            _ => {
                self.unreadable.get_or_insert(Refusal::NotAnArn {
                    field: field.to_string(),
                    value: quoted(v),
                    service,
                });
            }
        }
        self
    }

    /// Check the claims against each other and against the stack's own account and region
    /// (each when known: a handler that does not know its account, like the CLI's, checks
    /// only that the event names one account and at most one region, well-formed).
    pub fn check(
        &self,
        home_account: Option<&AccountId>,
        home_region: Option<&AwsRegion>,
    ) -> Result<Origin, Refusal> {
        if let Some(r) = &self.unreadable {
            return Err(r.clone());
        }
        let account = agreed(
            &self.accounts,
            "account",
            |v| AccountId::parse(v).ok(),
            |f, v| Refusal::NotAnAccount { field: f, value: v },
        )?
        .ok_or_else(|| Refusal::NoAccount {
            looked: self.looked.join(", "),
        })?;
        let region = agreed(
            &self.regions,
            "region",
            |v| AwsRegion::parse(v).ok(),
            |f, v| Refusal::NotARegion { field: f, value: v },
        )?;
        if let Some(ours) = home_account.filter(|ours| **ours != account) {
            return Err(Refusal::OtherAccount {
                theirs: account,
                ours: ours.clone(),
            });
        }
        if let (Some(theirs), Some(ours)) = (&region, home_region) {
            if theirs != ours {
                return Err(Refusal::OtherRegion {
                    theirs: theirs.clone(),
                    ours: ours.clone(),
                });
            }
        }
        Ok(Origin { account, region })
    }
}

/// The one value every claim in `claims` makes, if any; a claim that does not parse or
/// disagrees with the first is refused.
fn agreed<T: PartialEq>(
    claims: &[(String, String)],
    what: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    malformed: impl Fn(String, String) -> Refusal,
) -> Result<Option<T>, Refusal> {
    let mut first: Option<(&str, &str, T)> = None;
    for (field, value) in claims {
        let Some(v) = parse(value) else {
            return Err(malformed(field.clone(), quoted(value)));
        };
        match &first {
            None => first = Some((field, value, v)),
            Some((f, fv, t)) if *t != v => {
                return Err(Refusal::Disagree {
                    what,
                    first_field: f.to_string(),
                    first: fv.to_string(),
                    second_field: field.clone(),
                    second: value.clone(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(first.map(|(_, _, t)| t))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALARM: &str = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx-high";

    fn home() -> (AccountId, AwsRegion) {
        (
            AccountId::parse("123456789012").unwrap(),
            AwsRegion::parse("eu-west-1").unwrap(),
        )
    }

    fn check(claims: &Claims) -> Result<Origin, Refusal> {
        let (a, r) = home();
        claims.check(Some(&a), Some(&r))
    }

    #[test]
    fn agreeing_claims_of_the_stack_give_its_origin() {
        let mut c = Claims::default();
        c.account("account", Some("123456789012"))
            .region("region", Some("eu-west-1"))
            .arn("resources[0]", Some(ALARM), "cloudwatch");
        let o = check(&c).unwrap();
        assert_eq!((o.account, o.region), (home().0, Some(home().1)));
        // An account alone (an SNS alarm without its ARN) is enough; its region is unknown.
        let mut c = Claims::default();
        c.account("AWSAccountId", Some("123456789012"));
        assert_eq!(check(&c).unwrap().region, None);
    }

    #[test]
    fn no_account_anywhere_is_refused_even_without_a_home() {
        let mut c = Claims::default();
        c.account("account", None)
            .region("region", Some("eu-west-1"));
        for got in [check(&c), c.check(None, None)] {
            let e = got.unwrap_err();
            assert!(matches!(e, Refusal::NoAccount { .. }), "{e}");
            assert!(e.to_string().contains("looked at `account`"), "{e}");
        }
    }

    #[test]
    fn a_required_account_is_refused_when_absent_whatever_else_names_one() {
        let mut c = Claims::default();
        c.required_account("account", None)
            .arn("resources[0]", Some(ALARM), "cloudwatch");
        let e = c.check(None, None).unwrap_err();
        assert!(
            matches!(&e, Refusal::Unsigned { field } if field == "account"),
            "{e}"
        );
        let mut c = Claims::default();
        c.required_account("account", Some("123456789012"));
        assert!(check(&c).is_ok());
    }

    #[test]
    fn claims_that_disagree_are_refused_naming_both_fields() {
        let mut c = Claims::default();
        c.account("account", Some("123456789012")).arn(
            "resources[0]",
            Some(&ALARM.replace("123456789012", "999999999999")),
            "cloudwatch",
        );
        let e = c.check(None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "whose `account` says account 123456789012 but `resources[0]` says 999999999999"
        );
        let mut c = Claims::default();
        c.account("account", Some("123456789012"))
            .region("region", Some("us-east-1"))
            .arn("resources[0]", Some(ALARM), "cloudwatch");
        assert!(matches!(
            c.check(None, None),
            Err(Refusal::Disagree { what: "region", .. })
        ));
    }

    #[test]
    fn another_account_or_region_than_the_stacks_is_refused() {
        let mut c = Claims::default();
        c.account("account", Some("999999999999"));
        let e = check(&c).unwrap_err();
        assert_eq!(
            e.to_string(),
            "of account 999999999999; this handler serves 123456789012"
        );
        let mut c = Claims::default();
        c.account("account", Some("123456789012"))
            .region("region", Some("us-east-1"));
        assert_eq!(
            check(&c).unwrap_err().to_string(),
            "in region us-east-1; this handler serves eu-west-1"
        );
        // Without a home, the same event is consistent and taken.
        assert!(c.check(None, None).is_ok());
    }

    #[test]
    fn malformed_claims_are_refused_quoting_the_field_and_a_short_value() {
        let mut c = Claims::default();
        c.account("account", Some("123456789012"))
            .region("region", Some("evil.example/aws-console-login?next="));
        let e = c.check(None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "whose `region` \"evil.example/aws-console-login?next=\" is not an AWS region (like eu-west-1)"
        );
        let mut c = Claims::default();
        c.account("AWSAccountId", Some(&format!("1\n{}", "2".repeat(300))));
        let e = c.check(None, None).unwrap_err().to_string();
        assert!(
            e.contains("is not an AWS account id") && !e.contains('\n') && e.len() < 160,
            "{e}"
        );
        for (arn, service) in [
            ("garbage", "cloudwatch"),
            ("arn:aws:cloudwatch:::alarm:x", "cloudwatch"),
            ("arn:aws:sns:eu-west-1:123456789012:topic", "cloudwatch"),
            ("arn:aws:cloudwatch:eu-west-1:123456789012", "cloudwatch"),
        ] {
            let mut c = Claims::default();
            c.account("account", Some("123456789012"))
                .arn("resources[0]", Some(arn), service);
            let e = c.check(None, None).unwrap_err();
            assert!(matches!(e, Refusal::NotAnArn { .. }), "{arn}: {e}");
        }
        // An ARN whose region or account is not one is refused by the same grammar.
        let mut c = Claims::default();
        c.arn(
            "stack-id",
            Some("arn:aws:cloudformation:evil.example:123456789012:stack/s/1"),
            "cloudformation",
        );
        assert!(matches!(
            c.check(None, None),
            Err(Refusal::NotARegion { .. })
        ));
    }
}
