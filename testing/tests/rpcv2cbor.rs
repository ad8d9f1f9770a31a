//! The CBOR front against the Smithy RPC v2 CBOR protocol tests: every request and
//! response case of smithy-protocol-tests/model/rpcv2Cbor (except defaults.smithy, see
//! the fixture's `source`) in testing/fixtures/rpcv2cbor-vectors.json, and the
//! query-compatible cases of smithy-aws-protocol-tests. A vector's body is CBOR; its
//! params are the values it stands for. The front must read every body as its params
//! (as awsJson1.0 would carry them), write the params as CBOR equal to the body, and
//! answer with the headers the vector asks for.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde_json::{json, Map, Value};
use sloguard_testing::cbor_front::{
    cbor_to_json, error_to_cbor, json_to_cbor, to_cbor_response, to_json_request, Model, Shape,
    Target,
};

const VECTORS: &str = include_str!("../fixtures/rpcv2cbor-vectors.json");

struct Vector {
    id: String,
    kind: String,
    target: String,
    applies_to: Option<String>,
    code: Option<u16>,
    body: Vec<u8>,
    params: Value,
    headers: BTreeMap<String, String>,
    forbid_headers: Vec<String>,
}

fn load() -> (Model, Vec<Vector>) {
    let doc: Value = serde_json::from_str(VECTORS).expect("the fixture is JSON");
    let model = Model::from_json(&doc["model"].to_string()).expect("the fixture's shapes load");
    let vectors = doc["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .map(|v| Vector {
            id: v["id"].as_str().unwrap().to_string(),
            kind: v["kind"].as_str().unwrap().to_string(),
            target: v["target"].as_str().unwrap().to_string(),
            applies_to: v["applies_to"].as_str().map(str::to_string),
            code: v["code"].as_u64().map(|c| c as u16),
            body: b64(v["body"].as_str().unwrap()),
            params: v["params"].clone(),
            headers: v["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_string()))
                .collect(),
            forbid_headers: v["forbid_headers"]
                .as_array()
                .map(|a| a.iter().map(|h| h.as_str().unwrap().to_string()).collect())
                .unwrap_or_default(),
        })
        .collect();
    (model, vectors)
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

impl Vector {
    /// An error case: its target is the error structure, not an operation.
    fn is_error(&self, model: &Model) -> bool {
        !model.operations.contains_key(&self.target)
    }

    /// The structure the body holds, `None` for an operation's Unit input or output.
    fn shape<'m>(&'m self, model: &'m Model) -> Option<&'m str> {
        if self.is_error(model) {
            return Some(&self.target);
        }
        let op = &model.operations[&self.target];
        match self.kind.as_str() {
            "request" => op.input.as_deref(),
            _ => op.output.as_deref(),
        }
    }

    /// Whether the body is what a conforming serializer writes (not a case only a reader
    /// must cope with: extra fields, nulls to drop, indefinite lengths, half floats).
    fn canonical(&self) -> bool {
        let reader_only = if self.kind == "request" {
            "server"
        } else {
            "client"
        };
        self.applies_to.as_deref() != Some(reader_only)
    }
}

/// The params as awsJson1.0 carries them: blobs in base64, floats as numbers (or
/// "NaN", "Infinity"), nulls only in sparse collections.
fn aws_json(model: &Model, t: &Target, v: &Value) -> Value {
    match (t, v) {
        (_, Value::Null) => Value::Null,
        (Target::Blob, Value::String(s)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
        }
        (Target::Float | Target::Double, Value::Number(n)) => json!(n.as_f64().unwrap()),
        (Target::Shape(name), _) => match model.shape(name).unwrap() {
            Shape::Structure(members) | Shape::Union(members) => Value::Object(
                v.as_object()
                    .unwrap()
                    .iter()
                    .filter(|(_, x)| !x.is_null())
                    .map(|(k, x)| (k.clone(), aws_json(model, &members[k], x)))
                    .collect(),
            ),
            Shape::List { member, .. } => Value::Array(
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| aws_json(model, member, x))
                    .collect(),
            ),
            Shape::Map { value, .. } => Value::Object(
                v.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, x)| (k.clone(), aws_json(model, value, x)))
                    .collect(),
            ),
        },
        _ => v.clone(),
    }
}

fn params_json(model: &Model, v: &Vector) -> Value {
    match v.shape(model) {
        Some(shape) => aws_json(model, &Target::Shape(shape.into()), &v.params),
        None => Value::Object(Map::new()),
    }
}

/// A CBOR value compared by meaning: map order, float width and definite or indefinite
/// lengths do not matter; NaN equals NaN.
#[derive(Debug, PartialEq)]
enum Norm {
    Null,
    Bool(bool),
    Int(i128),
    Float(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Norm>),
    Map(BTreeMap<String, Norm>),
    Tag(u64, Box<Norm>),
}

fn norm(v: ciborium::Value) -> Norm {
    use ciborium::Value as C;
    let float = |x: f64| {
        Norm::Float(if x.is_nan() {
            f64::NAN.to_bits()
        } else {
            x.to_bits()
        })
    };
    match v {
        C::Null => Norm::Null,
        C::Bool(b) => Norm::Bool(b),
        C::Integer(i) => Norm::Int(i.into()),
        C::Float(x) => float(x),
        C::Bytes(b) => Norm::Bytes(b),
        C::Text(t) => Norm::Text(t),
        C::Array(a) => Norm::Array(a.into_iter().map(norm).collect()),
        C::Map(m) => Norm::Map(
            m.into_iter()
                .map(|(k, v)| (k.as_text().expect("text keys").to_string(), norm(v)))
                .collect(),
        ),
        // A timestamp may be an integer or a float: compare the instant.
        C::Tag(1, inner) => Norm::Tag(
            1,
            Box::new(match *inner {
                C::Integer(i) => float(i128::from(i) as f64),
                C::Float(x) => float(x),
                other => norm(other),
            }),
        ),
        C::Tag(t, inner) => Norm::Tag(t, Box::new(norm(*inner))),
        other => panic!("unexpected CBOR {other:?}"),
    }
}

fn meaning(bytes: &[u8]) -> Norm {
    norm(ciborium::from_reader(bytes).expect("valid CBOR"))
}

/// How many floats of each width (16, 32, 64 bits) a body holds outside timestamps
/// (whole seconds may be an integer or a float): the SDK reads a `float` member only
/// from a 16- or 32-bit float and a `double` from any float.
fn float_widths(bytes: &[u8]) -> [usize; 3] {
    use minicbor::data::{IanaTag, Tag, Token};
    let mut n = [0; 3];
    let mut in_timestamp = false;
    for token in minicbor::decode::Tokenizer::new(bytes) {
        let token = token.expect("valid CBOR");
        match token {
            _ if in_timestamp => {}
            Token::F16(_) => n[0] += 1,
            Token::F32(_) => n[1] += 1,
            Token::F64(_) => n[2] += 1,
            _ => {}
        }
        in_timestamp = token == Token::Tag(Tag::from(IanaTag::Timestamp));
    }
    n
}

#[test]
fn every_body_reads_as_its_params() {
    let (model, vectors) = load();
    let mut checked = 0;
    for v in &vectors {
        let Some(shape) = v.shape(&model) else {
            continue; // Unit: no body to read (the exchange test covers these)
        };
        let got = cbor_to_json(&model, shape, &v.body)
            .unwrap_or_else(|e| panic!("{}: the front cannot read the body: {e}", v.id));
        assert_eq!(got, params_json(&model, v), "{}", v.id);
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} vectors read");
}

#[test]
fn every_canonical_body_is_what_the_front_writes() {
    let (model, vectors) = load();
    let mut checked = 0;
    for v in vectors.iter().filter(|v| v.canonical()) {
        let Some(shape) = v.shape(&model) else {
            continue;
        };
        let doc = params_json(&model, v);
        let written = if v.is_error(&model) {
            // moto names an error `Prefix#Name`; the front makes it `namespace#Name`.
            let mut e = doc.as_object().unwrap().clone();
            e.insert(
                "__type".into(),
                json!(format!("RpcV2Protocol#{}", v.target)),
            );
            error_to_cbor(&model, &Value::Object(e))
        } else {
            json_to_cbor(&model, shape, &doc)
        }
        .unwrap_or_else(|e| panic!("{}: the front cannot write the params: {e}", v.id));
        assert_eq!(meaning(&written), meaning(&v.body), "{}", v.id);
        // Same widths as the vector, and never half precision (writers should not use it).
        let widths = float_widths(&written);
        assert_eq!(widths, float_widths(&v.body), "{}: float widths", v.id);
        assert_eq!(widths[0], 0, "{}: half-precision float written", v.id);
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} vectors written");
}

fn request_of(v: &Vector, uri: &str) -> Request<Bytes> {
    let mut r = Request::builder().method("POST").uri(uri);
    for (k, val) in &v.headers {
        r = r.header(k, val);
    }
    r.header("content-length", v.body.len())
        .body(Bytes::from(v.body.clone()))
        .unwrap()
}

#[test]
fn every_request_goes_to_moto_as_awsjson_with_its_target() {
    let (model, vectors) = load();
    let mut checked = 0;
    for v in vectors.iter().filter(|v| v.kind == "request") {
        let uri = format!("/service/RpcV2Protocol/operation/{}", v.target);
        let (op, forward) = to_json_request(&model, request_of(v, &uri))
            .unwrap_or_else(|r| panic!("{}: refused: {r:?}", v.id));
        assert_eq!(op, v.target, "{}", v.id);
        let h = forward.headers();
        assert_eq!(
            h["x-amz-target"],
            format!("RpcV2Protocol.{}", v.target).as_str()
        );
        assert_eq!(h["content-type"], "application/x-amz-json-1.0", "{}", v.id);
        assert!(h.get("smithy-protocol").is_none(), "{}", v.id);
        let body: Value = serde_json::from_slice(forward.body()).unwrap();
        assert_eq!(body, params_json(&model, v), "{}", v.id);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} requests");
}

#[test]
fn every_answer_comes_back_as_the_vector_says() {
    let (model, vectors) = load();
    let mut checked = 0;
    for v in vectors
        .iter()
        .filter(|v| v.kind == "response" && v.canonical())
    {
        let mut doc = params_json(&model, v);
        let operation = if v.is_error(&model) {
            doc.as_object_mut().unwrap().insert(
                "__type".into(),
                json!(format!("RpcV2Protocol#{}", v.target)),
            );
            "GreetingWithErrors"
        } else {
            &v.target
        };
        let status = StatusCode::from_u16(v.code.unwrap()).unwrap();
        let answer = Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amzn-requestid", "req-1")
            .body(Bytes::from(doc.to_string()))
            .unwrap();
        let out = to_cbor_response(&model, operation, answer);
        assert_eq!(out.status(), status, "{}", v.id);
        for (k, want) in &v.headers {
            assert_eq!(
                out.headers().get(k).map(|h| h.to_str().unwrap()),
                Some(want.as_str()),
                "{}: {k}",
                v.id
            );
        }
        for k in &v.forbid_headers {
            assert!(
                out.headers().get(k).is_none(),
                "{}: {k} must not be set",
                v.id
            );
        }
        assert_eq!(out.headers()["x-amzn-requestid"], "req-1", "{}", v.id);
        if v.body.is_empty() {
            assert!(out.body().is_empty(), "{}: no output, no body", v.id);
        } else {
            assert_eq!(meaning(out.body()), meaning(&v.body), "{}", v.id);
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} answers");
}

/// smithy-aws-protocol-tests rpcv2Cbor/query-compatible.smithy, for a query-compatible
/// service such as CloudWatch.
fn query_compatible() -> Model {
    Model::from_json(
        r#"{"service": "QueryCompatibleRpcV2Protocol", "namespace": "aws.protocoltests.rpcv2cbor",
            "operations": {"QueryCompatibleOperation": {}},
            "shapes": {"NoCustomCodeError": {"structure": {"message": "string"}},
                       "CustomCodeError": {"structure": {"message": "string"}}}}"#,
    )
    .unwrap()
}

#[test]
fn query_compatible_requests_keep_the_query_mode_header() {
    // QueryCompatibleRpcV2CborSendsQueryModeHeader: no input, no body, x-amzn-query-mode.
    let request = Request::builder()
        .method("POST")
        .uri("/service/QueryCompatibleRpcV2Protocol/operation/QueryCompatibleOperation")
        .header("smithy-protocol", "rpc-v2-cbor")
        .header("accept", "application/cbor")
        .header("x-amzn-query-mode", "true")
        .body(Bytes::new())
        .unwrap();
    let (op, forward) = to_json_request(&query_compatible(), request).unwrap();
    assert_eq!(op, "QueryCompatibleOperation");
    assert_eq!(forward.headers()["x-amzn-query-mode"], "true");
    assert_eq!(forward.body().as_ref(), b"{}");
}

#[test]
fn query_compatible_errors_keep_their_query_code() {
    let model = query_compatible();
    for (id, query_error, name, body) in [
        (
            "QueryCompatibleRpcV2CborNoCustomCodeError",
            None,
            "NoCustomCodeError",
            "uQACZl9fdHlwZXgtYXdzLnByb3RvY29sdGVzdHMucnBjdjJjYm9yI05vQ3VzdG9tQ29kZUVycm9yZ21lc3NhZ2ViSGk=",
        ),
        (
            "QueryCompatibleRpcV2CborCustomCodeError",
            Some("Customized;Sender"),
            "CustomCodeError",
            "uQACZl9fdHlwZXgrYXdzLnByb3RvY29sdGVzdHMucnBjdjJjYm9yI0N1c3RvbUNvZGVFcnJvcmdtZXNzYWdlYkhp",
        ),
    ] {
        let mut answer = Response::builder().status(400);
        if let Some(h) = query_error {
            answer = answer.header("x-amzn-query-error", h);
        }
        let doc = json!({"__type": format!("QueryCompatibleRpcV2Protocol#{name}"), "message": "Hi"});
        let out = to_cbor_response(
            &model,
            "QueryCompatibleOperation",
            answer.body(Bytes::from(doc.to_string())).unwrap(),
        );
        assert_eq!(out.status(), 400, "{id}");
        assert_eq!(out.headers()["smithy-protocol"], "rpc-v2-cbor", "{id}");
        assert_eq!(out.headers()["content-type"], "application/cbor", "{id}");
        assert_eq!(
            out.headers().get("x-amzn-query-error").map(|h| h.to_str().unwrap()),
            query_error,
            "{id}"
        );
        assert_eq!(meaning(out.body()), meaning(&b64(body)), "{id}");
    }
}
