//! The front as a loopback HTTP server: its own thread and single-threaded runtime, so
//! it serves tests whatever runtime they use (or none: the CLI tests block on a child
//! process), and stops when dropped.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::oneshot;

use super::exchange::{to_cbor_response, to_json_request};
use super::model::Model;
use super::FrontError;

/// A running front, stopped when dropped.
pub struct CborFront {
    /// The URL the SDK's CloudWatch client is pointed at.
    pub endpoint: String,
    /// Its loopback port.
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Context {
    model: &'static Model,
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl CborFront {
    /// Listen on a free loopback port and forward what `model`'s clients send to the
    /// awsJson1.0 server at `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(model: &'static Model, upstream: &str) -> Result<CborFront, FrontError> {
        let upstream = upstream.trim_end_matches('/').to_string();
        format!("{upstream}/")
            .parse::<hyper::Uri>()
            .map_err(|e| FrontError::Upstream(format!("{upstream} is not a URL: {e}")))?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _inside = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let context = Arc::new(Context {
            model,
            upstream,
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("cbor-front-{port}"))
            .spawn(move || runtime.block_on(serve(listener, context, stopped)))?;
        Ok(CborFront {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for CborFront {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accept connections until told to stop; open connections end with the runtime.
async fn serve(
    listener: tokio::net::TcpListener,
    context: Arc<Context>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let context = context.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |r| exchange(r, context.clone()));
                        // A connection ending badly (the client hung up) concerns no one else.
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Out of descriptors, say: wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

/// One request through to moto and back. When moto cannot be reached the error closes
/// the client's connection without an answer, as moto's own refusal would.
async fn exchange(
    request: Request<Incoming>,
    context: Arc<Context>,
) -> Result<Response<Full<Bytes>>, FrontError> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let (operation, forward) =
        match to_json_request(context.model, Request::from_parts(parts, body)) {
            Ok(ok) => ok,
            Err(refusal) => return Ok(refusal.into_response().map(Full::new)),
        };
    let (mut parts, body) = forward.into_parts();
    parts.uri = format!("{}/", context.upstream)
        .parse()
        .map_err(|e| FrontError::Upstream(format!("{}: {e}", context.upstream)))?;
    let answer = context
        .client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(|e| FrontError::Upstream(format!("{}: {e}", context.upstream)))?;
    let (parts, body) = answer.into_parts();
    let body = body.collect().await?.to_bytes();
    let answer = to_cbor_response(context.model, &operation, Response::from_parts(parts, body));
    Ok(answer.map(Full::new))
}
