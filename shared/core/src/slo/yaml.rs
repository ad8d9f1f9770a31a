//! A YAML tree that remembers the line of every node, so that validation can
//! point at the exact line of the field it complains about.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Most nodes one file may hold: a guard against pathological input.
const MAX_NODES: usize = 200_000;
/// Deepest nesting accepted: OpenSLO documents are shallow.
const MAX_DEPTH: usize = 64;

/// The shape of a YAML node, with scalars kept as text until a field needs a type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or an empty plain scalar.
    Null,
    /// A scalar; `quoted` tells a string `"1"` from the number `1`.
    Scalar { text: String, quoted: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A YAML node and the 1-based line it starts on, for `file:line` messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
}

/// A YAML syntax error with the line it was found on.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl Node {
    /// The text of a scalar node, or None for other kinds.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries of a mapping node, or None for other kinds.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence node, or None for other kinds.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value under a scalar key of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the node's kind, for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

enum Frame {
    Seq(Node),
    Map(Node, Option<Node>),
}

struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    nodes: usize,
    error: Option<SyntaxError>,
}

impl Builder {
    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(seq)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Frame::Map(map, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    // An empty value (`key:` then a new line) is marked where the next token
                    // starts; it belongs on its key's line.
                    let mut node = node;
                    if node.value == Value::Null {
                        node.line = key.line;
                    }
                    if let Value::Map(entries) = &mut map.value {
                        entries.push((key, node));
                    }
                }
            },
        }
    }

    fn fail(&mut self, line: usize, message: &str) {
        if self.error.is_none() {
            self.error = Some(SyntaxError {
                line,
                message: message.to_string(),
            });
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line().max(1);
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.fail(line, "file has too many YAML nodes (limit 200000)");
            return;
        }
        match ev {
            Event::Scalar(text, style, _, _) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                let value =
                    if !quoted && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                        Value::Null
                    } else {
                        Value::Scalar { text, quoted }
                    };
                self.attach(Node { value, line });
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(line, "YAML nesting is too deep (limit 64 levels)");
                    return;
                }
                let frame = if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq(Node {
                        value: Value::Seq(Vec::new()),
                        line,
                    })
                } else {
                    Frame::Map(
                        Node {
                            value: Value::Map(Vec::new()),
                            line,
                        },
                        None,
                    )
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(node)) | Some(Frame::Map(node, _)) => self.attach(node),
                None => self.fail(line, "unbalanced YAML collection"),
            },
            Event::Alias(_) => self.fail(
                line,
                "YAML aliases (*name) are not supported in SLO files; write the value out",
            ),
            Event::DocumentEnd => {
                // An empty document (`---` followed by nothing) yields no root node.
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
        }
    }
}

/// Parse every document of a YAML stream into line-marked trees.
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = Builder {
        stack: Vec::new(),
        docs: Vec::new(),
        nodes: 0,
        error: None,
    };
    // An error at the end of input is reported on the last line, not one past it.
    let last_line = text
        .replace("\r\n", "\n")
        .split(['\n', '\r'])
        .count()
        .max(1);
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(SyntaxError {
            line: e.marker().line().clamp(1, last_line),
            message: e.info().to_string(),
        });
    }
    if let Some(mut err) = builder.error {
        err.line = err.line.clamp(1, last_line);
        return Err(err);
    }
    let mut docs: Vec<Node> = builder
        .docs
        .into_iter()
        .filter(|d| d.value != Value::Null)
        .collect();
    // An empty item at the end (`-` on the last line) is marked where the next token would
    // start, one line past the end: keep every line inside the file.
    for d in &mut docs {
        clamp_lines(d, last_line);
    }
    Ok(docs)
}

fn clamp_lines(node: &mut Node, last: usize) {
    node.line = node.line.clamp(1, last);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| clamp_lines(n, last)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            clamp_lines(k, last);
            clamp_lines(v, last);
        }),
        Value::Null | Value::Scalar { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lines_of_nested_nodes() {
        let docs = parse("a: 1\nb:\n  c: \"x\"\n  d: [1, 2]\n---\nkind: SLO\n").unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.get("c").unwrap().line, 3);
        assert_eq!(
            b.get("c").unwrap().value,
            Value::Scalar {
                text: "x".into(),
                quoted: true
            }
        );
        assert_eq!(b.get("d").unwrap().as_seq().unwrap().len(), 2);
        assert_eq!(docs[1].get("kind").unwrap().line, 6);
    }

    #[test]
    fn an_empty_value_is_on_its_keys_line() {
        let docs = parse("a:\nb: 1\nc:\n").unwrap();
        assert_eq!(docs[0].get("a").unwrap().line, 1);
        assert_eq!(docs[0].get("c").unwrap().line, 3);
        assert_eq!(docs[0].get("b").unwrap().line, 2);
    }

    #[test]
    fn reports_syntax_errors_with_a_line() {
        let err = parse("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn an_error_at_the_end_points_at_the_last_line() {
        // Found by the fuzz target: "[" was reported on line 2 of a 1-line file.
        assert_eq!(parse("[").unwrap_err().line, 1);
        assert_eq!(parse("a: 1\nb: [").unwrap_err().line, 2);
    }

    #[test]
    fn an_empty_last_list_item_is_on_the_last_line() {
        // Found by the loader fuzz target once lists of documents were read.
        for text in ["-", "- a\n-", "-\n"] {
            let docs = parse(text).unwrap();
            let last = text.split('\n').count().max(1);
            for item in docs[0].as_seq().unwrap() {
                assert!(item.line >= 1 && item.line <= last, "{text:?}: {item:?}");
            }
        }
    }

    #[test]
    fn rejects_aliases() {
        let err = parse("a: &x 1\nb: *x\n").unwrap_err();
        assert!(err.message.contains("aliases"));
    }
}
