//! The two OpenSLO versions sloguard reads, `openslo/v1` and `openslo.com/v2alpha` (as the
//! spec's `enhancements/v2alpha.md` writes it), and what differs between them: field names,
//! metadata (no displayName, labels a map of strings) and duration units (m, h, d, w only).
//! Both load into the same model; the readers ask the version only where the spelling differs.

use crate::slo::yaml::{Node, Value};

use super::diag::{truncate, At, Ctx};

/// `apiVersion` of OpenSLO v1.
pub const V1: &str = "openslo/v1";
/// `apiVersion` of OpenSLO v2alpha.
pub const V2ALPHA: &str = "openslo.com/v2alpha";
/// The annotation that carries an SLO's title in v2alpha, whose metadata has no displayName.
pub const DISPLAY_NAME_ANNOTATION: &str = "sloguard.dev/display-name";

/// The OpenSLO version a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    #[default]
    V1,
    V2alpha,
}

impl Version {
    /// The version an `apiVersion` names, or why it is not read.
    pub(super) fn parse(api: &str) -> Result<Version, String> {
        match api {
            V1 => Ok(Version::V1),
            V2ALPHA => Ok(Version::V2alpha),
            "openslo/v2alpha" | "openslo/v2alpha1" | "openslo.com/v2alpha1" => Err(format!(
                "unsupported apiVersion `{api}`; OpenSLO v2alpha is written `{V2ALPHA}` (sloguard reads it and `{V1}`)"
            )),
            other => Err(format!(
                "unsupported apiVersion `{}`; sloguard reads `{V1}` and `{V2ALPHA}`",
                truncate(other, 60)
            )),
        }
    }

    /// The field of an SLO (or objective) that holds its indicator inline, and the one that
    /// names an SLI document: `indicator`/`indicatorRef` in v1, `sli`/`sliRef` in v2alpha.
    pub fn sli_keys(self) -> [&'static str; 2] {
        match self {
            Version::V1 => ["indicator", "indicatorRef"],
            Version::V2alpha => ["sli", "sliRef"],
        }
    }
}

/// In v2alpha a duration ends in m, h, d or w (enhancements/v2alpha.md, General Schema 4):
/// the problem with `text` if it does not. v1's s, M, Q and y are refused with the reason.
pub(super) fn check_v2_unit(text: &str) -> Result<(), String> {
    let t = text.trim();
    let unit = t.trim_start_matches(|c: char| c.is_ascii_digit());
    match unit {
        "m" | "h" | "d" | "w" => Ok(()),
        "M" | "Q" | "y" | "Y" => Err(format!(
            "`{}`: openslo.com/v2alpha durations end in m (minutes), h, d or w; calendar months, quarters and years have no v2alpha form (keep this SLO in openslo/v1)",
            truncate(t, 20)
        )),
        "s" => Err(format!(
            "`{}`: openslo.com/v2alpha durations end in m (minutes), h, d or w; seconds have no v2alpha form",
            truncate(t, 20)
        )),
        _ => Ok(()), // the duration parser words every other mistake
    }
}

/// v2alpha `labels` (of metadata or an objective) at `path`: a mapping of Kubernetes label
/// keys to label values. sloguard keeps no labels; they are checked so that a mistake shows.
pub(super) fn check_labels(ctx: &mut Ctx, at: At, labels: &Node, path: &str) {
    let Some(entries) = labels.as_map() else {
        ctx.report(
            at.file,
            labels.line,
            path,
            format!(
                "expected a mapping of label names to strings, found {}",
                labels.kind_name()
            ),
        );
        return;
    };
    for (k, v) in entries {
        let Some(key) = k.as_scalar() else {
            ctx.report(at.file, k.line, path, "label names must be strings");
            continue;
        };
        let lp = format!("{path}.{key}");
        if !k8s_qualified_name(key) {
            ctx.report(
                at.file,
                k.line,
                &lp,
                "not a Kubernetes label name: an optional DNS prefix and `/`, then 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
            );
        }
        match &v.value {
            Value::Scalar { text, .. } if k8s_label_value(text) => {}
            Value::Null => {}
            Value::Scalar { text, .. } => ctx.report(
                at.file,
                v.line,
                &lp,
                format!(
                    "`{}` is not a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
                    truncate(text, 40)
                ),
            ),
            _ => ctx.report(
                at.file,
                v.line,
                &lp,
                format!(
                    "labels are a map of strings in openslo.com/v2alpha, found {}",
                    v.kind_name()
                ),
            ),
        }
    }
}

/// A Kubernetes label value: empty, or up to 63 alphanumerics, '-', '_', '.' with
/// alphanumerics at both ends.
fn k8s_label_value(s: &str) -> bool {
    s.is_empty() || k8s_name_part(s)
}

/// A Kubernetes qualified name: `[prefix/]name`, the prefix a DNS subdomain.
fn k8s_qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        None => k8s_name_part(s),
        Some((prefix, name)) => {
            let dns = !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                });
            dns && k8s_name_part(name)
        }
    }
}

/// 1 to 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends.
fn k8s_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_units_are_minutes_hours_days_weeks() {
        for ok in ["5m", "1h", "28d", "4w", "10x"] {
            assert!(check_v2_unit(ok).is_ok(), "{ok}");
        }
        assert!(check_v2_unit("1M").unwrap_err().contains("calendar months"));
        assert!(check_v2_unit("30s").unwrap_err().contains("seconds"));
    }

    #[test]
    fn label_names_and_values_follow_kubernetes() {
        assert!(k8s_qualified_name("team"));
        assert!(k8s_qualified_name("openslo.com/tier"));
        assert!(!k8s_qualified_name("-team"));
        assert!(!k8s_qualified_name("Bad_Prefix/x"));
        assert!(k8s_label_value(""));
        assert!(k8s_label_value("team-a.v2"));
        assert!(!k8s_label_value("a b"));
        assert!(!k8s_label_value(&"x".repeat(64)));
    }
}
