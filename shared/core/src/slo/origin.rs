//! Where something happened on AWS: an account and a region, each checked against its
//! grammar when it is made. Event fields and stored items are data; only a string that is
//! an account id or a region becomes one, so nothing built from these (a console link, a
//! comparison with the stack's own account) can be steered by a string that is neither.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an account id or a region; the value is quoted and shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("{0:?} is not an AWS region (like eu-west-1, us-gov-west-1 or cn-north-1)")]
    Region(String),
    #[error("{0:?} is not an AWS account id (12 digits)")]
    Account(String),
}

/// At most this many characters of a refused value are quoted back.
const QUOTED_CHARS: usize = 60;

fn quoted(s: &str) -> String {
    s.chars().take(QUOTED_CHARS).collect()
}

/// An AWS region code, e.g. `eu-west-1`: checked so that it can name a console host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AwsRegion(String);

/// Whether `s` has the shape of a region code: a 2 to 4 letter area (`us`, `eu`, `eusc`),
/// one or two lowercase words (`gov-west`, `southeast`), then a number without a leading
/// zero. Every region of every partition has this shape; hosts, paths, dots, ports and
/// upper case do not.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    let lower = |w: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase())
    };
    (2..=3).contains(&words.len())
        && lower(words[0], 2..=4)
        && words[1..].iter().all(|w| lower(w, 2..=10))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && !number.starts_with('0')
}

impl AwsRegion {
    /// The region `s` names, or why it names none.
    pub fn parse(s: &str) -> Result<AwsRegion, OriginError> {
        if is_region(s) {
            Ok(AwsRegion(s.to_string()))
        } else {
            Err(OriginError::Region(quoted(s)))
        }
    }

    /// The code, e.g. `eu-west-1`, for SDK calls and links.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for AwsRegion {
    type Error = OriginError;
    fn try_from(s: &str) -> Result<Self, OriginError> {
        AwsRegion::parse(s)
    }
}

impl TryFrom<String> for AwsRegion {
    type Error = OriginError;
    fn try_from(s: String) -> Result<Self, OriginError> {
        AwsRegion::parse(&s)
    }
}

/// Lets a function that takes `impl TryInto<AwsRegion>` take a checked region by reference.
impl From<&AwsRegion> for AwsRegion {
    fn from(r: &AwsRegion) -> Self {
        r.clone()
    }
}

impl From<AwsRegion> for String {
    fn from(r: AwsRegion) -> Self {
        r.0
    }
}

impl fmt::Display for AwsRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AWS account id: exactly 12 digits, so two of them compare as accounts, not as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    /// The account `s` names, or why it names none.
    pub fn parse(s: &str) -> Result<AccountId, OriginError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_string()))
        } else {
            Err(OriginError::Account(quoted(s)))
        }
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AccountId {
    type Err = OriginError;
    fn from_str(s: &str) -> Result<Self, OriginError> {
        AccountId::parse(s)
    }
}

impl TryFrom<String> for AccountId {
    type Error = OriginError;
    fn try_from(s: String) -> Result<Self, OriginError> {
        AccountId::parse(&s)
    }
}

impl From<AccountId> for String {
    fn from(a: AccountId) -> Self {
        a.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_of_every_partition_are_regions() {
        for r in [
            "us-east-1",
            "eu-west-1",
            "eu-central-2",
            "ap-southeast-4",
            "ap-northeast-3",
            "il-central-1",
            "mx-central-1",
            "us-gov-west-1",
            "cn-north-1",
            "cn-northwest-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eusc-de-east-1",
        ] {
            assert_eq!(AwsRegion::parse(r).unwrap().as_str(), r);
        }
    }

    #[test]
    fn hosts_paths_and_near_misses_are_not_regions() {
        for r in [
            "",
            "evil.example/aws-console-login?next=",
            "evil.example",
            "eu-west-1.evil.example",
            "eu-west-1/",
            "eu-west-1:443",
            "eu-west-1 ",
            " eu-west-1",
            "EU-WEST-1",
            "eu-west",
            "eu-west-01",
            "eu-west-100",
            "eu-1",
            "europe-west-1",
            "eu--1",
            "eu-west-1\n",
            "eu-wést-1",
            "a-b-c-d-1",
        ] {
            let e = AwsRegion::parse(r).unwrap_err();
            assert!(e.to_string().contains("is not an AWS region"), "{r:?}: {e}");
        }
        // The quoted value is short and a single line, whatever it was.
        let e = AwsRegion::parse(&format!("x\n{}", "y".repeat(500))).unwrap_err();
        let text = e.to_string();
        assert!(!text.contains('\n') && text.len() < 150, "{text}");
    }

    #[test]
    fn an_account_is_exactly_twelve_digits() {
        assert_eq!(
            "123456789012".parse::<AccountId>().unwrap().as_str(),
            "123456789012"
        );
        for a in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 123456789012",
            "١٢٣٤٥٦٧٨٩٠١٢",
            "arn:aws:iam::123456789012:root",
        ] {
            let e = AccountId::parse(a).unwrap_err();
            assert!(
                e.to_string().contains("not an AWS account id"),
                "{a:?}: {e}"
            );
        }
    }

    #[test]
    fn stored_values_are_checked_when_read_back() {
        let ok: AwsRegion = serde_json::from_str("\"eu-west-1\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"eu-west-1\"");
        assert!(serde_json::from_str::<AwsRegion>("\"evil.example/x\"").is_err());
        let a: AccountId = serde_json::from_str("\"123456789012\"").unwrap();
        assert_eq!(a.to_string(), "123456789012");
        assert!(serde_json::from_str::<AccountId>("\"12\"").is_err());
    }
}
