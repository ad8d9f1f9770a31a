//! Diagnostics: where problems are collected, and the field readers every stage shares.
//!
//! A reader reports what is wrong with a field at the field's own line and dotted path and
//! returns `None`; callers go on reading the other fields so that every problem shows in one run.

use crate::slo::duration::{self, Duration};
use crate::slo::message::is_unsafe_char;
use crate::slo::model::Op;
use crate::slo::yaml::{Node, Value};

use super::Problem;

/// Collects every problem found while loading.
#[derive(Default)]
pub(super) struct Ctx {
    pub(super) problems: Vec<Problem>,
    pub(super) warnings: Vec<Problem>,
}

impl Ctx {
    /// Records one problem at `file:line`, on the field at `path` (empty for the whole document).
    pub(super) fn report(
        &mut self,
        file: &str,
        line: usize,
        path: &str,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            file: file.to_string(),
            line,
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// Records something worth a look that does not stop the file from loading.
    pub(super) fn warn(&mut self, file: &str, line: usize, path: &str, message: impl Into<String>) {
        self.warnings.push(Problem {
            file: file.to_string(),
            line,
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// The value of `result`, or its message reported at `line` and `path`.
    fn report_err<T>(
        &mut self,
        at: At,
        line: usize,
        path: &str,
        result: Result<T, String>,
    ) -> Option<T> {
        result.map_err(|m| self.report(at.file, line, path, m)).ok()
    }
}

/// Where we are: the file of the node being read, and the OpenSLO version it is written in.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    pub(super) file: &'a str,
    pub(super) version: super::version::Version,
}

/// The dotted path of field `key` under `path`.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `s` cut to `n` characters, so that a quoted value cannot flood a message.
pub(super) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// The line of field `key` of `node`, or of `node` itself when the field is absent.
pub(super) fn line_of(node: &Node, key: &str) -> usize {
    node.get(key).map_or(node.line, |n| n.line)
}

// ---------- fields of a mapping ----------

/// Reports keys of `node` that are duplicated, not strings, or not in `allowed`.
pub(super) fn check_fields(ctx: &mut Ctx, at: At, node: &Node, path: &str, allowed: &[&str]) {
    let Some(entries) = node.as_map() else { return };
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in entries {
        match k.as_scalar() {
            Some(key) => {
                if seen.contains(&key) {
                    ctx.report(at.file, k.line, &join(path, key), "duplicate key");
                } else if !allowed.contains(&key) {
                    ctx.report(
                        at.file,
                        k.line,
                        &join(path, key),
                        format!("unknown field; expected one of: {}", allowed.join(", ")),
                    );
                }
                seen.push(key);
            }
            None => ctx.report(at.file, k.line, path, "mapping keys must be plain strings"),
        }
    }
}

/// The field `key` of `node`, which must be present and not empty.
pub(super) fn req<'n>(
    ctx: &mut Ctx,
    at: At,
    node: &'n Node,
    path: &str,
    key: &str,
) -> Option<&'n Node> {
    match node.get(key) {
        Some(n) if n.value != Value::Null => Some(n),
        Some(n) => {
            ctx.report(at.file, n.line, &join(path, key), "must not be empty");
            None
        }
        None => {
            ctx.report(
                at.file,
                node.line,
                &join(path, key),
                "missing required field",
            );
            None
        }
    }
}

/// The field `key` of `node` unless it is absent or empty.
pub(super) fn opt<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    node.get(key).filter(|n| n.value != Value::Null)
}

/// Whether [`field`] reports a field that is absent or empty.
#[derive(Clone, Copy)]
pub(super) enum Need {
    Required,
    Optional,
}

/// The field `key` of `node` read by `expect` ([`expect_map`], [`expect_str`], [`parsed`], ...)
/// at the path `path.key`; absent or empty is reported when `need` is `Required`, and is `None`
/// without a report when it is `Optional`. One reader for every kind, so each kind is one
/// `expect_*` rather than another pair of required and optional readers.
pub(super) fn field<'n, T>(
    ctx: &mut Ctx,
    at: At,
    node: &'n Node,
    path: &str,
    key: &str,
    need: Need,
    expect: impl FnOnce(&mut Ctx, At, &'n Node, &str) -> Option<T>,
) -> Option<T> {
    let n = match need {
        Need::Required => req(ctx, at, node, path, key)?,
        Need::Optional => opt(node, key)?,
    };
    expect(ctx, at, n, &join(path, key))
}

/// A reader for [`field`]: the string turned into a value by `parse`, whose error is reported
/// at the field.
pub(super) fn parsed<'n, T>(
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> impl FnOnce(&mut Ctx, At, &'n Node, &str) -> Option<T> {
    move |ctx, at, n, path| {
        let s = expect_str(ctx, at, n, path)?;
        ctx.report_err(at, n.line, path, parse(s))
    }
}

/// Which of two alternative fields is set; see [`one_of`].
pub(super) enum OneOf<'n> {
    First(&'n Node),
    Second(&'n Node),
}

/// Where [`one_of`] reports: at the alternative fields, or at the mapping that holds them.
#[derive(Clone, Copy)]
pub(super) enum Blame {
    Fields,
    Mapping,
}

/// The one of the alternative fields `a` and `b` of `node` that is set. Both set is reported at
/// `b`'s line; neither set is reported at `node`'s line with the message `missing`.
pub(super) fn one_of<'n>(
    ctx: &mut Ctx,
    at: At,
    node: &'n Node,
    path: &str,
    [a, b]: [&str; 2],
    blame: Blame,
    missing: &str,
) -> Option<OneOf<'n>> {
    let path_of = |field: &str| match blame {
        Blame::Fields => join(path, field),
        Blame::Mapping => path.to_string(),
    };
    match (opt(node, a), opt(node, b)) {
        (Some(first), None) => Some(OneOf::First(first)),
        (None, Some(second)) => Some(OneOf::Second(second)),
        (Some(_), Some(second)) => {
            ctx.report(
                at.file,
                second.line,
                &path_of(b),
                format!("set exactly one of {a} and {b}, not both"),
            );
            None
        }
        (None, None) => {
            ctx.report(at.file, node.line, &path_of(a), missing);
            None
        }
    }
}

// ---------- lists ----------

/// The entries of the list `n`; `what` words the list expected when `n` is something else.
pub(super) fn expect_list<'n>(
    ctx: &mut Ctx,
    at: At,
    n: &'n Node,
    path: &str,
    what: &str,
) -> Option<&'n [Node]> {
    let items = n.as_seq();
    if items.is_none() {
        ctx.report(
            at.file,
            n.line,
            path,
            format!("expected {what}, found {}", n.kind_name()),
        );
    }
    items
}

/// Runs `body` on each entry of a list that is a mapping, with the entry's path `path[i]`, and
/// reports the entries that are not, in list order. True when every entry was a mapping and
/// `body` returned true for it.
pub(super) fn each_map<'n>(
    ctx: &mut Ctx,
    at: At,
    items: &'n [Node],
    path: &str,
    mut body: impl FnMut(&mut Ctx, &str, &'n Node) -> bool,
) -> bool {
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{path}[{i}]");
        ok &= match expect_map(ctx, at, item, &ip) {
            Some(item) => body(ctx, &ip, item),
            None => false,
        };
    }
    ok
}

// ---------- values ----------

/// `n` if it is a mapping.
pub(super) fn expect_map<'n>(ctx: &mut Ctx, at: At, n: &'n Node, path: &str) -> Option<&'n Node> {
    if n.as_map().is_some() {
        Some(n)
    } else {
        ctx.report(
            at.file,
            n.line,
            path,
            format!("expected a mapping, found {}", n.kind_name()),
        );
        None
    }
}

/// The text of `n` if it is a scalar.
pub(super) fn expect_str<'n>(ctx: &mut Ctx, at: At, n: &'n Node, path: &str) -> Option<&'n str> {
    match n.as_scalar() {
        Some(s) => Some(s),
        None => {
            ctx.report(
                at.file,
                n.line,
                path,
                format!("expected a string, found {}", n.kind_name()),
            );
            None
        }
    }
}

/// `n` as a finite number; a quoted number is a string, not a number.
pub(super) fn expect_f64(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<f64> {
    match &n.value {
        Value::Scalar {
            text,
            quoted: false,
        } => match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                ctx.report(
                    at.file,
                    n.line,
                    path,
                    format!("expected a number, found `{}`", truncate(text, 40)),
                );
                None
            }
        },
        _ => {
            ctx.report(
                at.file,
                n.line,
                path,
                format!("expected a number, found {}", describe(n)),
            );
            None
        }
    }
}

/// `n` as an unquoted YAML boolean.
pub(super) fn expect_bool(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<bool> {
    match &n.value {
        Value::Scalar {
            text,
            quoted: false,
        } if matches!(text.as_str(), "true" | "True" | "TRUE") => Some(true),
        Value::Scalar {
            text,
            quoted: false,
        } if matches!(text.as_str(), "false" | "False" | "FALSE") => Some(false),
        _ => {
            ctx.report(
                at.file,
                n.line,
                path,
                format!("expected true or false, found {}", describe(n)),
            );
            None
        }
    }
}

fn describe(n: &Node) -> String {
    match &n.value {
        Value::Scalar { text, quoted: true } => format!("the string \"{}\"", truncate(text, 40)),
        Value::Scalar { text, .. } => format!("`{}`", truncate(text, 40)),
        _ => n.kind_name().to_string(),
    }
}

/// `n` as a duration like `5m` or `1M`.
pub(super) fn expect_duration(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<Duration> {
    let s = expect_str(ctx, at, n, path)?;
    if at.version == super::version::Version::V2alpha {
        if let Err(msg) = super::version::check_v2_unit(s) {
            ctx.report(at.file, n.line, path, msg);
            return None;
        }
    }
    match duration::parse(s) {
        Ok(d) => Some(d),
        Err(msg) => {
            ctx.report(at.file, n.line, path, msg);
            None
        }
    }
}

/// Longest description OpenSLO allows.
const MAX_DESCRIPTION_CHARS: usize = 1_050;

/// What is refused in display text (names and descriptions people read in messages).
const DISPLAY_TEXT: &str = "display text is one line of visible characters";

/// Why `s` cannot be shown as one line of text, if it cannot: the first character that
/// could break the line, reorder it or hide itself, by kind, code point and position (the
/// character itself would only confuse the terminal that shows the problem).
pub(super) fn unsafe_text(s: &str) -> Option<String> {
    let (i, c) = s.chars().enumerate().find(|&(_, c)| is_unsafe_char(c))?;
    let kind = match c {
        '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => "a line break",
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => "a bidi control",
        c if c.is_control() => "a control character",
        _ => "an invisible character",
    };
    Some(format!(
        "holds {kind} (U+{:04X}) at character {}",
        c as u32,
        i + 1
    ))
}

/// A reader for [`field`]: a string people read in messages (a displayName), refused when
/// it holds a line break, a control, bidi or invisible character.
pub(super) fn expect_text<'n>(ctx: &mut Ctx, at: At, n: &'n Node, path: &str) -> Option<&'n str> {
    let s = expect_str(ctx, at, n, path)?;
    match unsafe_text(s) {
        None => Some(s),
        Some(why) => {
            ctx.report(at.file, n.line, path, format!("{why}; {DISPLAY_TEXT}"));
            None
        }
    }
}

/// The optional `description` of a spec: one line of text (a folded `>` block's final line
/// break is dropped) of at most 1,050 characters (OpenSLO's limit).
pub(super) fn check_description<'n>(
    ctx: &mut Ctx,
    at: At,
    spec: &'n Node,
    path: &str,
) -> Option<&'n str> {
    let d = field(
        ctx,
        at,
        spec,
        path,
        "description",
        Need::Optional,
        expect_str,
    )?
    .trim_end_matches('\n');
    let (line, path) = (line_of(spec, "description"), join(path, "description"));
    if let Some(why) = unsafe_text(d) {
        let hint = if why.starts_with("holds a line break") {
            " (write a description on one line, or fold it with `>`)"
        } else {
            ""
        };
        ctx.report(at.file, line, &path, format!("{why}; {DISPLAY_TEXT}{hint}"));
        return None;
    }
    let chars = d.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        ctx.report(
            at.file,
            line,
            &path,
            format!("{chars} characters; OpenSLO allows at most {MAX_DESCRIPTION_CHARS}"),
        );
    }
    Some(d)
}

/// A fixed duration in whole minutes (CloudWatch periods are multiples of 60 s).
/// A bare number (`timeSliceWindow: 5`, as some tools write it) counts minutes.
pub(super) fn expect_minutes(ctx: &mut Ctx, at: At, n: &Node, path: &str) -> Option<i64> {
    if let Value::Scalar {
        text,
        quoted: false,
    } = &n.value
    {
        if let Ok(minutes) = text.parse::<i64>() {
            if (1..=10_000_000).contains(&minutes) {
                return Some(minutes * 60);
            }
            ctx.report(
                at.file,
                n.line,
                path,
                format!("{minutes} minutes is out of range"),
            );
            return None;
        }
    }
    match expect_duration(ctx, at, n, path)? {
        Duration::Seconds(s) if s % 60 == 0 => Some(s),
        Duration::Seconds(_) => {
            ctx.report(
                at.file,
                n.line,
                path,
                "must be a whole number of minutes (CloudWatch periods are multiples of 60 s)",
            );
            None
        }
        Duration::Calendar(..) => {
            ctx.report(
                at.file,
                n.line,
                path,
                "must be a fixed duration (s, m, h, d or w), not a calendar unit",
            );
            None
        }
    }
}

/// A comparison operator, as in an AlertCondition or a threshold objective.
pub(super) fn parse_op(o: &str) -> Result<Op, String> {
    match o {
        "lt" => Ok(Op::Lt),
        "lte" => Ok(Op::Lte),
        "gt" => Ok(Op::Gt),
        "gte" => Ok(Op::Gte),
        _ => Err(format!(
            "unknown op `{}`; use lt, lte, gt or gte",
            truncate(o, 20)
        )),
    }
}
