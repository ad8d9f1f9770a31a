//! Small edits of a YAML mapping in place, for the converter.

use crate::slo::yaml::{Node, Value};

/// A plain scalar `text` at `line`.
pub(super) fn scalar(text: &str, line: usize) -> Node {
    Node {
        value: Value::Scalar {
            text: text.to_string(),
            quoted: false,
        },
        line,
    }
}

/// The value under `key` of the mapping `n`, to edit.
pub(super) fn get_mut<'n>(n: &'n mut Node, key: &str) -> Option<&'n mut Node> {
    match &mut n.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Takes the entry `key` out of the mapping `n`, returning its value.
pub(super) fn remove(n: &mut Node, key: &str) -> Option<Node> {
    let Value::Map(entries) = &mut n.value else {
        return None;
    };
    let i = entries
        .iter()
        .position(|(k, _)| k.as_scalar() == Some(key))?;
    Some(entries.remove(i).1)
}

/// Renames the key `from` of the mapping `n` to `to`, keeping its place and line.
pub(super) fn rename(n: &mut Node, from: &str, to: &str) {
    if let Value::Map(entries) = &mut n.value {
        for (k, _) in entries.iter_mut() {
            if k.as_scalar() == Some(from) {
                *k = scalar(to, k.line);
            }
        }
    }
}

/// Puts `key: value` into the mapping `n` right after the entry `after`, or at the end when
/// there is no such entry.
pub(super) fn insert_after(n: &mut Node, after: &str, key: &str, value: Node) {
    let Value::Map(entries) = &mut n.value else {
        return;
    };
    let at = entries
        .iter()
        .position(|(k, _)| k.as_scalar() == Some(after))
        .map_or(entries.len(), |i| i + 1);
    entries.insert(at, (scalar(key, value.line), value));
}
