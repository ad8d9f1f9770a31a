//! The CBOR front: `aws-sdk-cloudwatch` speaks only Smithy RPC v2 CBOR (from 1.100 on),
//! moto serves CloudWatch in the Query and awsJson1.0 protocols and will not learn CBOR.
//! The front stands between them on a loopback port: it takes the SDK's
//! `POST /service/GraniteServiceVersion20100801/operation/{Operation}` with a CBOR body,
//! sends moto the same input as awsJson1.0 (`X-Amz-Target:
//! GraniteServiceVersion20100801.{Operation}`), and turns moto's JSON answer or error
//! back into CBOR with the `smithy-protocol: rpc-v2-cbor` header (spec:
//! smithy.io, "Smithy RPC v2 CBOR protocol").
//!
//! It only translates. Every answer, error and limit is moto's: an operation moto does
//! not implement still fails (moto's 500 comes back as an `InternalFailure` naming it),
//! members the model does not know are dropped on the way in as the protocol tells
//! servers to, and nothing is answered by the front except requests the protocol
//! forbids (no `smithy-protocol` header, an `X-Amz-Target`, an unknown operation, a
//! body that is not CBOR of the operation's input), which get the protocol's
//! `smithy.framework` errors. Signing headers go through untouched: moto takes the
//! account and region from them.
//!
//! What CBOR needs and JSON cannot say (a timestamp, a blob, a whole double) comes from
//! CloudWatch's shapes, `cloudwatch.json`, made by `scripts/cloudwatch_shapes.py` from
//! the botocore model moto serialises with. Event streams, documents and arbitrary
//! precision numbers are not handled: CloudWatch has none.

mod exchange;
mod model;
mod server;
mod transcode;

use std::sync::OnceLock;

pub use exchange::{to_cbor_response, to_json_request, Refusal, PROTOCOL};
pub use model::{Model, Operation, Shape, Target};
pub use server::CborFront;
pub use transcode::{cbor_to_json, error_name, error_to_cbor, json_to_cbor};

/// Everything that can go wrong in the front; a request it refuses is an answer, not one of these.
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// The shape file is broken (what and where).
    #[error("CBOR front model: {0}")]
    Model(String),
    /// A body does not fit its shape.
    #[error("{path}: {problem}")]
    Transcode { path: String, problem: String },
    /// moto could not be reached or its answer not read.
    #[error("CBOR front upstream {0}")]
    Upstream(String),
    /// The client's request could not be read.
    #[error("CBOR front: reading the request: {0}")]
    Http(#[from] hyper::Error),
    /// The listener or its thread could not be set up.
    #[error("CBOR front: {0}")]
    Io(#[from] std::io::Error),
}

/// CloudWatch's shapes, read once: the model every front the harness starts uses.
pub fn cloudwatch() -> Result<&'static Model, FrontError> {
    static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            Model::from_json(include_str!("cloudwatch.json")).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| FrontError::Model(e.clone()))
}
