//! CBOR bodies (RPC v2 CBOR) to and from JSON documents (awsJson1.0), shape by shape.
//!
//! The two encodings differ where JSON has no type of its own: a timestamp is epoch
//! seconds in JSON and a number under tag 1 in CBOR; a blob is base64 text in JSON and
//! a byte string in CBOR; a float that is whole is still a float in CBOR (the SDK reads
//! a double only from a float); NaN and the infinities are the strings "NaN",
//! "Infinity" and "-Infinity" in JSON. Nulls are dropped from structures and dense
//! collections and kept in sparse ones. Members the model does not know are skipped
//! when reading a request (servers ignore them) and copied as they are into an answer.

use std::fmt;

use base64::Engine as _;
use minicbor::data::{IanaTag, Tag, Type};
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Number, Value};

use super::model::{Model, Shape, Target};
use super::FrontError;

/// Where in a document a value is, for error messages: `GetMetricDataInput.MetricDataQueries[0].Id`.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'a str),
    Member(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Member(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn problem(path: &Path<'_>, what: impl fmt::Display) -> FrontError {
    FrontError::Transcode {
        path: path.to_string(),
        problem: what.to_string(),
    }
}

/// Read a request body of `shape` (a structure): the JSON document awsJson1.0 sends.
/// An empty body is an empty structure.
pub fn cbor_to_json(model: &Model, shape: &str, body: &[u8]) -> Result<Value, FrontError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut reader = Reader {
        model,
        d: Decoder::new(body),
    };
    let root = Path::Root(shape);
    let value = reader
        .value(&Target::Shape(shape.to_string()), &root)?
        .unwrap_or_else(|| Value::Object(Map::new()));
    if reader.d.position() != body.len() {
        return Err(problem(
            &root,
            format!(
                "{} bytes after the body's value",
                body.len() - reader.d.position()
            ),
        ));
    }
    Ok(value)
}

/// Write an answer of `shape` (a structure) from the JSON document awsJson1.0 returned.
pub fn json_to_cbor(model: &Model, shape: &str, json: &Value) -> Result<Vec<u8>, FrontError> {
    let mut w = Writer {
        model,
        e: Encoder::new(Vec::new()),
    };
    w.value(&Target::Shape(shape.to_string()), json, &Path::Root(shape))?;
    Ok(w.e.into_writer())
}

/// Write an error answer: the awsJson1.0 error document with `__type` made the error's
/// absolute shape ID (`namespace#Name`), the other members typed by the error's shape
/// when the model has it.
pub fn error_to_cbor(model: &Model, json: &Value) -> Result<Vec<u8>, FrontError> {
    let root = Path::Root("error");
    let Value::Object(fields) = json else {
        return Err(problem(
            &root,
            format!("an error document is an object, not {json}"),
        ));
    };
    let code = fields
        .get("__type")
        .and_then(Value::as_str)
        .ok_or_else(|| problem(&root, "the error document has no `__type`"))?;
    let name = error_name(code);
    let mut body = Map::new();
    body.insert(
        "__type".into(),
        Value::String(format!("{}#{name}", model.namespace)),
    );
    for (k, v) in fields {
        if k != "__type" {
            body.insert(k.clone(), v.clone());
        }
    }
    let body = Value::Object(body);
    let mut w = Writer {
        model,
        e: Encoder::new(Vec::new()),
    };
    match model.shapes.get(name) {
        Some(Shape::Structure(members)) => {
            w.structure(members, &body, &Path::Root(name))?;
        }
        _ => w.generic(&body, &Path::Root(name))?,
    }
    Ok(w.e.into_writer())
}

/// An error code's shape name: awsJson sends `Prefix#Name` and may append `:url`.
pub fn error_name(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code)
}

struct Reader<'m, 'b> {
    model: &'m Model,
    d: Decoder<'b>,
}

impl Reader<'_, '_> {
    /// One value of type `t`; `None` for a CBOR null (or undefined, which reads as null).
    fn value(&mut self, t: &Target, path: &Path<'_>) -> Result<Option<Value>, FrontError> {
        let fail = |e: minicbor::decode::Error| problem(path, e);
        let ty = self.d.datatype().map_err(fail)?;
        if matches!(ty, Type::Null | Type::Undefined) {
            self.d.skip().map_err(fail)?;
            return Ok(None);
        }
        let v = match t {
            Target::Boolean => Value::Bool(self.d.bool().map_err(fail)?),
            Target::Byte | Target::Short | Target::Integer | Target::Long => {
                Value::from(self.d.i64().map_err(fail)?)
            }
            Target::Float => {
                let x = self.number(ty, path)?;
                // A float is 32 bits: send its shortest decimal, not the f64 widening's digits.
                float_json((x as f32).to_string().parse().unwrap_or(x))
            }
            Target::Double => float_json(self.number(ty, path)?),
            Target::String => Value::String(self.text(path)?),
            Target::Timestamp => {
                let tag = self.d.tag().map_err(fail)?;
                if tag != Tag::from(IanaTag::Timestamp) {
                    return Err(problem(
                        path,
                        format!("a timestamp is tag 1, not tag {}", tag.as_u64()),
                    ));
                }
                // Whole seconds as an integer, whichever way they came.
                match self.number(self.d.datatype().map_err(fail)?, path)? {
                    secs if secs.fract() == 0.0 && secs.abs() < 9.0e15 => Value::from(secs as i64),
                    secs => float_json(secs),
                }
            }
            Target::Blob => {
                let mut bytes = Vec::new();
                for chunk in self.d.bytes_iter().map_err(fail)? {
                    bytes.extend_from_slice(chunk.map_err(fail)?);
                }
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Target::Shape(name) => match self.model.shape(name)? {
                Shape::Structure(members) | Shape::Union(members) => {
                    let mut out = Map::new();
                    let len = self.d.map().map_err(fail)?;
                    for _ in Entries::new(len) {
                        if self.at_break(len, path)? {
                            break;
                        }
                        let key = self.text(path)?;
                        match members.get(&key) {
                            Some(mt) => {
                                if let Some(v) = self.value(mt, &Path::Member(path, &key))? {
                                    out.insert(key, v);
                                }
                            }
                            // Unknown members (a newer client's) are skipped, `__type` too.
                            None => self.d.skip().map_err(fail)?,
                        }
                    }
                    Value::Object(out)
                }
                Shape::List { member, sparse } => {
                    let mut out = Vec::new();
                    let len = self.d.array().map_err(fail)?;
                    for i in Entries::new(len) {
                        if self.at_break(len, path)? {
                            break;
                        }
                        let at = Path::Index(path, i);
                        match self.value(member, &at)? {
                            Some(v) => out.push(v),
                            None if *sparse => out.push(Value::Null),
                            None => return Err(problem(&at, "null in a list that is not sparse")),
                        }
                    }
                    Value::Array(out)
                }
                Shape::Map { value, sparse } => {
                    let mut out = Map::new();
                    let len = self.d.map().map_err(fail)?;
                    for _ in Entries::new(len) {
                        if self.at_break(len, path)? {
                            break;
                        }
                        let key = self.text(path)?;
                        let at = Path::Member(path, &key);
                        match self.value(value, &at)? {
                            Some(v) => out.insert(key, v),
                            None if *sparse => out.insert(key, Value::Null),
                            None => return Err(problem(&at, "null in a map that is not sparse")),
                        };
                    }
                    Value::Object(out)
                }
            },
        };
        Ok(Some(v))
    }

    /// A float, or an integer (the protocol lets a whole float travel as one).
    fn number(&mut self, ty: Type, path: &Path<'_>) -> Result<f64, FrontError> {
        let fail = |e: minicbor::decode::Error| problem(path, e);
        match ty {
            Type::F16 | Type::F32 | Type::F64 => self.d.f64().map_err(fail),
            _ => Ok(self.d.i64().map_err(fail)? as f64),
        }
    }

    /// A text string, definite or in chunks.
    fn text(&mut self, path: &Path<'_>) -> Result<String, FrontError> {
        let fail = |e: minicbor::decode::Error| problem(path, e);
        let mut s = String::new();
        for chunk in self.d.str_iter().map_err(fail)? {
            s.push_str(chunk.map_err(fail)?);
        }
        Ok(s)
    }

    /// In an indefinite-length map or array: whether its end has come (and step over it).
    fn at_break(&mut self, len: Option<u64>, path: &Path<'_>) -> Result<bool, FrontError> {
        let fail = |e: minicbor::decode::Error| problem(path, e);
        if len.is_none() && self.d.datatype().map_err(fail)? == Type::Break {
            self.d.skip().map_err(fail)?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Entry indices of a definite (`Some(n)`) or indefinite (`None`, ended by a break) container.
struct Entries {
    next: usize,
    len: Option<u64>,
}

impl Entries {
    fn new(len: Option<u64>) -> Self {
        Entries { next: 0, len }
    }
}

impl Iterator for Entries {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.len.is_some_and(|n| self.next as u64 >= n) {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }
}

/// A JSON number, or awsJson's string for NaN and the infinities.
fn float_json(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String("NaN".into()),
        None if x > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

struct Writer<'m> {
    model: &'m Model,
    e: Encoder<Vec<u8>>,
}

/// One CBOR item into the body (a Vec: the writer itself cannot fail).
fn put<T>(
    r: Result<T, minicbor::encode::Error<std::convert::Infallible>>,
) -> Result<(), FrontError> {
    r.map(|_| ()).map_err(|e| FrontError::Transcode {
        path: "CBOR writer".into(),
        problem: e.to_string(),
    })
}

impl Writer<'_> {
    fn value(&mut self, t: &Target, v: &Value, path: &Path<'_>) -> Result<(), FrontError> {
        if v.is_null() {
            put(self.e.null())?;
            return Ok(());
        }
        let mismatch = |want: &str| problem(path, format!("expected {want}, found {v}"));
        match t {
            Target::Boolean => {
                put(self
                    .e
                    .bool(v.as_bool().ok_or_else(|| mismatch("a boolean"))?))?;
            }
            Target::Byte | Target::Short | Target::Integer | Target::Long => {
                let n = whole(v).ok_or_else(|| mismatch("a whole number"))?;
                put(self.e.i64(n))?;
            }
            Target::Float => {
                let x = float(v).ok_or_else(|| mismatch("a number"))?;
                put(self.e.f32(x as f32))?;
            }
            Target::Double => {
                let x = float(v).ok_or_else(|| mismatch("a number"))?;
                put(self.e.f64(x))?;
            }
            Target::String => {
                put(self.e.str(v.as_str().ok_or_else(|| mismatch("a string"))?))?;
            }
            Target::Timestamp => {
                let secs = v.as_f64().ok_or_else(|| mismatch("epoch seconds"))?;
                put(self.e.tag(IanaTag::Timestamp))?;
                match whole(v) {
                    Some(n) => put(self.e.i64(n))?,
                    None => put(self.e.f64(secs))?,
                };
            }
            Target::Blob => {
                let text = v.as_str().ok_or_else(|| mismatch("base64 text"))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| problem(path, format!("not base64: {e}")))?;
                put(self.e.bytes(&bytes))?;
            }
            Target::Shape(name) => match self.model.shape(name)? {
                Shape::Structure(members) | Shape::Union(members) => {
                    self.structure(members, v, path)?;
                }
                Shape::List { member, sparse } => {
                    let items = v.as_array().ok_or_else(|| mismatch("a list"))?;
                    let kept: Vec<(usize, &Value)> = items
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| *sparse || !x.is_null())
                        .collect();
                    put(self.e.array(kept.len() as u64))?;
                    for (i, x) in kept {
                        self.value(member, x, &Path::Index(path, i))?;
                    }
                }
                Shape::Map { value, sparse } => {
                    let entries = v.as_object().ok_or_else(|| mismatch("a map"))?;
                    let kept: Vec<(&String, &Value)> = entries
                        .iter()
                        .filter(|(_, x)| *sparse || !x.is_null())
                        .collect();
                    put(self.e.map(kept.len() as u64))?;
                    for (k, x) in kept {
                        put(self.e.str(k))?;
                        self.value(value, x, &Path::Member(path, k))?;
                    }
                }
            },
        }
        Ok(())
    }

    fn structure(
        &mut self,
        members: &std::collections::BTreeMap<String, Target>,
        v: &Value,
        path: &Path<'_>,
    ) -> Result<(), FrontError> {
        let fields = v
            .as_object()
            .ok_or_else(|| problem(path, format!("expected a structure, found {v}")))?;
        let set: Vec<(&String, &Value)> = fields.iter().filter(|(_, x)| !x.is_null()).collect();
        put(self.e.map(set.len() as u64))?;
        for (k, x) in set {
            put(self.e.str(k))?;
            let at = Path::Member(path, k);
            match members.get(k) {
                Some(t) => self.value(t, x, &at)?,
                None => self.generic(x, &at)?,
            }
        }
        Ok(())
    }

    /// A value the model does not type (a member it does not know, an unmodelled error).
    fn generic(&mut self, v: &Value, path: &Path<'_>) -> Result<(), FrontError> {
        match v {
            Value::Null => put(self.e.null())?,
            Value::Bool(b) => put(self.e.bool(*b))?,
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => put(self.e.i64(i))?,
                (None, Some(x)) => put(self.e.f64(x))?,
                (None, None) => return Err(problem(path, format!("number {n} fits no CBOR type"))),
            },
            Value::String(s) => put(self.e.str(s))?,
            Value::Array(items) => {
                put(self.e.array(items.len() as u64))?;
                for (i, x) in items.iter().enumerate() {
                    self.generic(x, &Path::Index(path, i))?;
                }
            }
            Value::Object(fields) => {
                put(self.e.map(fields.len() as u64))?;
                for (k, x) in fields {
                    put(self.e.str(k))?;
                    self.generic(x, &Path::Member(path, k))?;
                }
            }
        };
        Ok(())
    }
}

/// A JSON number that is whole (moto may write a long as `5.0`).
fn whole(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        let x = v.as_f64()?;
        (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
    })
}

/// A JSON number, or awsJson's "NaN", "Infinity", "-Infinity".
fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}
