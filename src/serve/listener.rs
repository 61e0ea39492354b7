//! The hyper glue: accept connections on loopback, read each request with
//! its body capped, hand it to [`App::handle`], write the answer. Every
//! connection's reads pass through [`EncodingStream`], so raw bytes in a
//! request target reach the handler as eventlet reads them. Transport
//! faults that need the socket (latency, reset) are applied here.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::app::App;
use super::message::{HttpRequest, HttpResponse};
use super::raw_target::EncodingStream;

/// Most headers a request may carry.
const MAX_HEADERS: usize = 100;
/// Read buffer cap, which bounds the request line plus headers.
const MAX_BUF: usize = 64 * 1024;

/// Why a request was not answered: the connection is dropped.
#[derive(Debug, thiserror::Error)]
#[error("connection reset by the `reset` fault")]
pub struct Reset;

/// Serve `listener` until `stop` turns true.
pub async fn run(listener: TcpListener, app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let app = app.clone();
                    connections.spawn(serve_connection(stream, peer, app));
                }
                Err(e) => eprintln!("serve: accept failed: {e}"),
            },
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(stream: tokio::net::TcpStream, peer: SocketAddr, app: Arc<App>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| answer(app.clone(), request));
    let mut builder = http1::Builder::new();
    builder.max_headers(MAX_HEADERS).max_buf_size(MAX_BUF);
    if let Err(e) = builder
        .serve_connection(TokioIo::new(EncodingStream::new(stream)), service)
        .await
        && !e.is_incomplete_message()
    {
        eprintln!("serve: connection from {peer}: {e}");
    }
}

async fn answer(
    app: Arc<App>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Reset> {
    if let Some(delay) = app.faults().latency() {
        tokio::time::sleep(delay).await;
    }
    if app.faults().roll_reset() {
        return Err(Reset);
    }
    let request = read_request(request, app.max_body_bytes()).await;
    let response = if app.may_block() {
        let worker = app.clone();
        match tokio::task::spawn_blocking(move || worker.handle(request)).await {
            Ok(response) => response,
            Err(_) => HttpResponse::new(500),
        }
    } else {
        app.handle(request)
    };
    Ok(to_hyper(response))
}

/// Read the head and at most `limit + 1` body bytes. A declared length above
/// the limit is refused without reading the body.
async fn read_request(request: hyper::Request<Incoming>, limit: usize) -> HttpRequest {
    let (parts, mut body) = request.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let mut bytes = Vec::new();
    if declared.is_none_or(|len| len <= limit) {
        while bytes.len() <= limit {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        let room = limit + 1 - bytes.len();
                        bytes.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                _ => break,
            }
        }
    }
    let unframed_body = declared.is_none() && !bytes.is_empty();
    HttpRequest {
        method: parts.method.as_str().to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        headers,
        body: bytes,
        declared_len: declared.filter(|len| *len > limit),
        unframed_body,
    }
}

fn to_hyper(response: HttpResponse) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| {
            let mut fallback = hyper::Response::new(Full::new(Bytes::new()));
            *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
