//! One exchange through the front, without I/O: an RPC v2 CBOR request becomes the
//! awsJson1.0 request moto serves, and moto's answer becomes the RPC v2 CBOR answer.
//! A request the protocol forbids is answered here, never forwarded.

use std::io::Read as _;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::Value;

use super::model::Model;
use super::transcode::{cbor_to_json, error_to_cbor, json_to_cbor};

/// The value of the `smithy-protocol` header on every request and answer.
pub const PROTOCOL: &str = "rpc-v2-cbor";
const CBOR: &str = "application/cbor";
const JSON_1_0: &str = "application/x-amz-json-1.0";

/// Headers of the client's request that are the protocol's own and do not go to moto.
const NOT_FORWARDED: [&str; 9] = [
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "accept",
    "smithy-protocol",
    "expect",
];

/// Headers of moto's answer the client reads: the request ID and, for a query-compatible
/// service such as CloudWatch, the Query protocol's error code.
const RETURNED: [&str; 3] = ["x-amzn-requestid", "x-amz-request-id", "x-amzn-query-error"];

/// Why the front answers a request itself instead of forwarding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 404 for a request the protocol does not route, 400 or 415 for one it cannot read.
    pub status: StatusCode,
    /// The `smithy.framework` error's name.
    pub code: &'static str,
    /// What was wrong and where, for the test that sent it.
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }

    /// The refusal as the protocol's error answer.
    pub fn into_response(self) -> Response<Bytes> {
        reject(self.status, self.code, &self.message)
    }
}

/// The operation a request names and the awsJson1.0 request for moto (path `/`), or
/// the refusal to answer with when the request breaks the protocol.
pub fn to_json_request(
    model: &Model,
    request: Request<Bytes>,
) -> Result<(String, Request<Bytes>), Refusal> {
    let (parts, body) = request.into_parts();
    let operation = route(model, &parts.method, parts.uri.path(), &parts.headers)?;
    let body = decompress(&parts.headers, body)?;
    let serialization =
        |m: &str| Refusal::new(StatusCode::BAD_REQUEST, "SerializationException", m);
    let input = match &model.operations[&operation].input {
        Some(shape) => {
            cbor_to_json(model, shape, &body).map_err(|e| serialization(&e.to_string()))?
        }
        // No input: an empty body, or an empty map (definite or not), is all there may be.
        None if body.is_empty() || body[..] == [0xa0] || body[..] == [0xbf, 0xff] => {
            Value::Object(Default::default())
        }
        None => {
            return Err(serialization(&format!(
                "{operation} takes no input, yet the body holds some"
            )))
        }
    };

    let mut forward = Request::builder().method(Method::POST).uri("/");
    for (name, value) in &parts.headers {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            forward = forward.header(name, value);
        }
    }
    let target = format!("{}.{operation}", model.service);
    let json = Bytes::from(input.to_string());
    let forward = forward
        .header(CONTENT_TYPE, JSON_1_0)
        .header("x-amz-target", &target)
        .body(json)
        .map_err(|e| serialization(&e.to_string()))?;
    Ok((operation, forward))
}

/// moto's awsJson1.0 answer to `operation`, as the RPC v2 CBOR answer.
pub fn to_cbor_response(
    model: &Model,
    operation: &str,
    answer: Response<Bytes>,
) -> Response<Bytes> {
    let (parts, body) = answer.into_parts();
    let json: Result<Value, String> = if body.is_empty() {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    };
    let output = model
        .operations
        .get(operation)
        .and_then(|op| op.output.as_deref());
    let encoded = match (parts.status == StatusCode::OK, json) {
        (true, Ok(_)) if output.is_none() => Ok(Bytes::new()),
        (true, Ok(doc)) => json_to_cbor(model, output.unwrap_or_default(), &doc)
            .map(Bytes::from)
            .map_err(|e| format!("cannot re-encode moto's {operation} answer: {e}")),
        (false, Ok(doc)) if doc.get("__type").is_some() => error_to_cbor(model, &doc)
            .map(Bytes::from)
            .map_err(|e| format!("cannot re-encode moto's {operation} error: {e}")),
        (_, json) => Err(format!(
            "moto answered {operation} with {} and a body that is not awsJson ({}): {}",
            parts.status,
            json.err().unwrap_or_else(|| "no __type".into()),
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )),
    };
    let body = match encoded {
        Ok(b) => b,
        // Not the emulator's status: the front failed, and says so in the message.
        Err(message) => {
            return reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                &format!("CBOR front: {message}"),
            )
        }
    };
    let mut out = Response::builder()
        .status(parts.status)
        .header("smithy-protocol", PROTOCOL);
    for name in RETURNED {
        if let Some(v) = parts.headers.get(name) {
            out = out.header(name, v);
        }
    }
    if !body.is_empty() {
        out = out.header(CONTENT_TYPE, CBOR);
    }
    out.body(body).unwrap_or_else(|e| {
        reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("CBOR front: {e}"),
        )
    })
}

/// The operation of a request the protocol lets through, or the refusal.
fn route(
    model: &Model,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<String, Refusal> {
    let unknown =
        |why: String| Refusal::new(StatusCode::NOT_FOUND, "UnknownOperationException", why);
    if headers.get("smithy-protocol").map(HeaderValue::as_bytes) != Some(PROTOCOL.as_bytes()) {
        return Err(unknown(format!(
            "the request has no `smithy-protocol: {PROTOCOL}` header"
        )));
    }
    if method != Method::POST {
        return Err(unknown(format!(
            "RPC v2 CBOR requests are POSTs, not {method}"
        )));
    }
    for forbidden in ["x-amz-target", "x-amzn-target"] {
        if headers.contains_key(HeaderName::from_static(forbidden)) {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                format!("an RPC v2 CBOR request must not carry {forbidden}"),
            ));
        }
    }
    // Only the last four segments route: {prefix?}/service/{service}/operation/{operation}.
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let tail = &segments[segments.len().saturating_sub(4)..];
    let qualified = format!("{}.{}", model.namespace, model.service);
    match tail {
        ["service", service, "operation", operation]
            if (*service == model.service || *service == qualified)
                && model.operations.contains_key(*operation) =>
        {
            Ok(operation.to_string())
        }
        _ => Err(unknown(format!(
            "{path} names no operation of {} (expected /service/{}/operation/{{Operation}})",
            model.service, model.service
        ))),
    }
}

/// The body as sent before compression (the SDK gzips large PutMetricData bodies).
fn decompress(headers: &HeaderMap, body: Bytes) -> Result<Bytes, Refusal> {
    match headers.get(CONTENT_ENCODING).map(HeaderValue::as_bytes) {
        None | Some(b"identity") => Ok(body),
        Some(b"gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .map_err(|e| {
                    Refusal::new(
                        StatusCode::BAD_REQUEST,
                        "SerializationException",
                        format!("the gzip body does not inflate: {e}"),
                    )
                })?;
            Ok(Bytes::from(out))
        }
        Some(other) => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "SerializationException",
            format!(
                "content encoding {} is not gzip",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// An error answer of the front's own, in the protocol's form (`smithy.framework` errors).
fn reject(status: StatusCode, code: &str, message: &str) -> Response<Bytes> {
    let mut e = minicbor::Encoder::new(Vec::new());
    // Writing strings to a Vec cannot fail; were it to, the answer would still be an error.
    let _ = e
        .map(2)
        .and_then(|e| e.str("__type"))
        .and_then(|e| e.str(&format!("smithy.framework#{code}")))
        .and_then(|e| e.str("message"))
        .and_then(|e| e.str(message));
    let mut r = Response::new(Bytes::from(e.into_writer()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("smithy-protocol", HeaderValue::from_static(PROTOCOL));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CBOR));
    r
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::cbor_front::cloudwatch;

    const PATH: &str = "/service/GraniteServiceVersion20100801/operation/GetMetricData";

    /// A GetMetricData input: `{"StartTime": tag 1 (1767225600), "MetricDataQueries": []}`.
    fn input() -> Vec<u8> {
        let mut e = minicbor::Encoder::new(Vec::new());
        e.map(2)
            .and_then(|e| e.str("StartTime"))
            .and_then(|e| e.tag(minicbor::data::IanaTag::Timestamp))
            .and_then(|e| e.u64(1_767_225_600))
            .and_then(|e| e.str("MetricDataQueries"))
            .and_then(|e| e.array(0))
            .unwrap();
        e.into_writer()
    }

    fn request(path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Request<Bytes> {
        let mut r = Request::builder().method("POST").uri(path);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(Bytes::from(body)).unwrap()
    }

    fn refusal(r: Request<Bytes>) -> (StatusCode, String) {
        let answer = to_json_request(cloudwatch().unwrap(), r)
            .expect_err("refused")
            .into_response();
        let mut d = minicbor::Decoder::new(answer.body());
        d.map().unwrap();
        let mut fields = std::collections::BTreeMap::new();
        for _ in 0..2 {
            let k = d.str().unwrap().to_string();
            fields.insert(k, d.str().unwrap().to_string());
        }
        assert_eq!(answer.headers()["smithy-protocol"], PROTOCOL);
        (
            answer.status(),
            format!("{} {}", fields["__type"], fields["message"]),
        )
    }

    const CBOR_HEADERS: [(&str, &str); 2] = [
        ("smithy-protocol", "rpc-v2-cbor"),
        ("content-type", "application/cbor"),
    ];

    #[test]
    fn a_request_without_the_protocol_header_is_not_claimed() {
        let (status, why) = refusal(request(PATH, &[], input()));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            why.starts_with("smithy.framework#UnknownOperationException"),
            "{why}"
        );
        assert!(why.contains("smithy-protocol"), "{why}");
    }

    #[test]
    fn a_request_with_an_x_amz_target_is_refused() {
        let mut headers = CBOR_HEADERS.to_vec();
        headers.push((
            "X-Amz-Target",
            "GraniteServiceVersion20100801.GetMetricData",
        ));
        let (status, why) = refusal(request(PATH, &headers, input()));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(why.contains("must not carry x-amz-target"), "{why}");
    }

    #[test]
    fn an_operation_the_model_does_not_have_is_unknown() {
        let path = "/service/GraniteServiceVersion20100801/operation/GetEverything";
        let (status, why) = refusal(request(path, &CBOR_HEADERS, input()));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            why.contains("/operation/GetEverything names no operation"),
            "{why}"
        );
    }

    #[test]
    fn a_body_that_does_not_fit_the_input_is_refused_with_where() {
        // StartTime as a plain string instead of a tagged timestamp.
        let mut e = minicbor::Encoder::new(Vec::new());
        e.map(1)
            .and_then(|e| e.str("StartTime"))
            .and_then(|e| e.str("yesterday"))
            .unwrap();
        let (status, why) = refusal(request(PATH, &CBOR_HEADERS, e.into_writer()));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            why.starts_with("smithy.framework#SerializationException"),
            "{why}"
        );
        assert!(why.contains("GetMetricDataInput.StartTime"), "{why}");
    }

    #[test]
    fn a_gzipped_body_is_inflated_and_sent_as_json_with_the_target() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&input()).unwrap();
        let mut headers = CBOR_HEADERS.to_vec();
        headers.extend([
            ("content-encoding", "gzip"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/monitoring/aws4_request",
            ),
        ]);
        let (op, forward) = to_json_request(
            cloudwatch().unwrap(),
            request(PATH, &headers, gz.finish().unwrap()),
        )
        .unwrap();
        assert_eq!(op, "GetMetricData");
        let h = forward.headers();
        assert_eq!(
            h["x-amz-target"],
            "GraniteServiceVersion20100801.GetMetricData"
        );
        assert_eq!(h["content-type"], JSON_1_0);
        assert!(h.get("content-encoding").is_none());
        // Signing headers go through: moto reads the account and region from them.
        assert!(h["authorization"].to_str().unwrap().contains("/eu-west-1/"));
        let body: Value = serde_json::from_slice(forward.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"StartTime": 1_767_225_600, "MetricDataQueries": []})
        );
    }

    #[test]
    fn an_answer_moto_could_not_give_comes_back_as_a_failure_naming_it() {
        let html = Response::builder()
            .status(500)
            .body(Bytes::from_static(b"<html>Internal Server Error</html>"))
            .unwrap();
        let out = to_cbor_response(cloudwatch().unwrap(), "GetMetricWidgetImage", html);
        assert_eq!(out.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = String::from_utf8_lossy(out.body()).to_string();
        assert!(text.contains("InternalFailure"), "{text}");
        assert!(
            text.contains("moto answered GetMetricWidgetImage with 500"),
            "{text}"
        );
    }

    #[test]
    fn a_whole_value_is_written_as_a_double_and_a_time_as_a_tagged_number() {
        let answer = Response::builder()
            .status(200)
            .body(Bytes::from_static(
                br#"{"MetricDataResults": [{"Id": "a", "Timestamps": [1767225600], "Values": [5]}]}"#,
            ))
            .unwrap();
        let out = to_cbor_response(cloudwatch().unwrap(), "GetMetricData", answer);
        assert_eq!(out.status(), StatusCode::OK);
        assert_eq!(out.headers()[CONTENT_TYPE], CBOR);
        use minicbor::data::Token;
        let tokens: Vec<Token> = minicbor::decode::Tokenizer::new(out.body())
            .collect::<Result<_, _>>()
            .unwrap();
        let at = |name: &str| {
            tokens
                .iter()
                .position(|t| *t == Token::String(name))
                .unwrap()
        };
        let ts = at("Timestamps");
        assert_eq!(
            tokens[ts + 1..ts + 4],
            [
                Token::Array(1),
                Token::Tag(minicbor::data::IanaTag::Timestamp.into()),
                Token::U32(1_767_225_600)
            ]
        );
        let vs = at("Values");
        assert_eq!(tokens[vs + 1..vs + 3], [Token::Array(1), Token::F64(5.0)]);
    }
}
