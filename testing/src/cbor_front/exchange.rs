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

/// The operation a request names and the awsJson1.0 request for moto (path `/`), or the
/// error answer to send back when the request breaks the protocol.
pub fn to_json_request(
    model: &Model,
    request: Request<Bytes>,
) -> Result<(String, Request<Bytes>), Response<Bytes>> {
    let (parts, body) = request.into_parts();
    let operation = route(model, &parts.method, parts.uri.path(), &parts.headers)?;
    let body = decompress(&parts.headers, body)?;
    let serialization = |m: &str| reject(StatusCode::BAD_REQUEST, "SerializationException", m);
    let input = match &model.operations[&operation].input {
        Some(shape) => cbor_to_json(model, shape, &body).map_err(|e| serialization(&e.to_string()))?,
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
pub fn to_cbor_response(model: &Model, operation: &str, answer: Response<Bytes>) -> Response<Bytes> {
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

/// The operation of a request the protocol lets through, or the answer refusing it.
fn route(
    model: &Model,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<String, Response<Bytes>> {
    let unknown = |why: String| reject(StatusCode::NOT_FOUND, "UnknownOperationException", &why);
    if headers.get("smithy-protocol").map(HeaderValue::as_bytes) != Some(PROTOCOL.as_bytes()) {
        return Err(unknown(format!(
            "the request has no `smithy-protocol: {PROTOCOL}` header"
        )));
    }
    if method != Method::POST {
        return Err(unknown(format!("RPC v2 CBOR requests are POSTs, not {method}")));
    }
    for forbidden in ["x-amz-target", "x-amzn-target"] {
        if headers.contains_key(HeaderName::from_static(forbidden)) {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                &format!("an RPC v2 CBOR request must not carry {forbidden}"),
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
fn decompress(headers: &HeaderMap, body: Bytes) -> Result<Bytes, Response<Bytes>> {
    match headers.get(CONTENT_ENCODING).map(HeaderValue::as_bytes) {
        None | Some(b"identity") => Ok(body),
        Some(b"gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .map_err(|e| {
                    reject(
                        StatusCode::BAD_REQUEST,
                        "SerializationException",
                        &format!("the gzip body does not inflate: {e}"),
                    )
                })?;
            Ok(Bytes::from(out))
        }
        Some(other) => Err(reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "SerializationException",
            &format!(
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
