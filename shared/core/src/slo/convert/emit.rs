//! Writes a YAML tree back as block-style YAML text: what `convert` prints. Plain scalars stay
//! plain (a number stays a number, `true` a boolean), quoted ones are written double-quoted.

use crate::slo::yaml::{Node, Value};

/// One document as YAML text, ending in a newline.
pub(super) fn document(node: &Node) -> String {
    let mut out = String::new();
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => map(&mut out, entries, 0),
        Value::Seq(items) if !items.is_empty() => seq(&mut out, items, 0),
        _ => {
            out.push_str(&scalar(node));
            out.push('\n');
        }
    }
    out
}

fn map(out: &mut String, entries: &[(Node, Node)], indent: usize) {
    for (k, v) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar(k));
        out.push(':');
        value(out, v, indent);
    }
}

fn seq(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match &item.value {
            // The first entry goes on the dash's line, the others under it.
            Value::Map(entries) if !entries.is_empty() => {
                let mut inner = String::new();
                map(&mut inner, entries, indent + 2);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            _ => value(out, item, indent),
        }
    }
}

/// What follows a key's colon or a list's dash: a scalar on the line, or a block below it.
fn value(out: &mut String, v: &Node, indent: usize) {
    match &v.value {
        Value::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            map(out, entries, indent + 2);
        }
        Value::Seq(items) if !items.is_empty() => {
            out.push('\n');
            seq(out, items, indent + 2);
        }
        Value::Null => out.push('\n'),
        _ => {
            out.push(' ');
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

/// A scalar (or an empty collection) as text.
fn scalar(n: &Node) -> String {
    match &n.value {
        Value::Null => "null".to_string(),
        Value::Map(_) => "{}".to_string(),
        Value::Seq(_) => "[]".to_string(),
        Value::Scalar {
            text,
            quoted: false,
        } if plain_ok(text) => text.clone(),
        Value::Scalar { text, .. } => {
            // A JSON string is a valid YAML double-quoted scalar.
            serde_json::to_string(text).expect("a string serializes")
        }
    }
}

/// Whether `t` reads back as the same plain scalar in block context.
fn plain_ok(t: &str) -> bool {
    let first = t.chars().next();
    !t.is_empty()
        && !t.starts_with(char::is_whitespace)
        && !t.ends_with(char::is_whitespace)
        && !first.is_some_and(|c| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !t.contains(": ")
        && !t.contains(" #")
        && !t.ends_with(':')
        && !t.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::yaml::parse;

    #[test]
    fn what_is_written_parses_back_to_the_same_tree_but_lines() {
        let text = "a: 1\nb:\n  - x: \"1\"\n    y: [1, 2]\n  - plain text\n  - \"two\\nlines\"\nc: {}\nd:\ne: \"- dash\"\nf: 'k: v'\n";
        let tree = &parse(text).unwrap()[0];
        let again = &parse(&document(tree)).unwrap()[0];
        assert_eq!(strip(tree), strip(again), "{}", document(tree));
    }

    fn strip(n: &Node) -> Node {
        let value = match &n.value {
            Value::Map(e) => Value::Map(e.iter().map(|(k, v)| (strip(k), strip(v))).collect()),
            Value::Seq(i) => Value::Seq(i.iter().map(strip).collect()),
            v => v.clone(),
        };
        Node { value, line: 0 }
    }
}
