//! A Keystone stand-in for the unit tests: answers on 127.0.0.1 with a
//! handler, counts requests and keeps the last request body.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

/// What the fake answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

type Handler = dyn Fn(&str, &str, usize) -> Reply + Send + Sync;

pub struct FakeKeystone {
    addr: std::net::SocketAddr,
    hits: Arc<AtomicUsize>,
    last_body: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKeystone {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeKeystone {
    /// Tokens `fresh-1`, `fresh-2`, … expiring at `expires_at`, scoped to
    /// project `p1`, with one compute endpoint.
    pub async fn start(expires_at: &str) -> FakeKeystone {
        let expires_at = expires_at.to_string();
        Self::with(move |_method, _path, n| Reply {
            status: 201,
            headers: vec![("X-Subject-Token".into(), format!("fresh-{n}"))],
            body: serde_json::json!({"token": {
                "expires_at": expires_at,
                "project": {"id": "p1", "name": "demo"},
                "user": {"id": "u1"},
                "catalog": [{"type": "compute", "name": "nova", "endpoints": [
                    {"interface": "public", "region_id": "r1", "region": "r1",
                     "url": "http://compute.invalid/v2.1/p1"}]}],
            }})
            .to_string(),
        })
        .await
    }

    /// Answer every request with `handler(method, path, n)`, `n` counting
    /// from 1.
    pub async fn with(
        handler: impl Fn(&str, &str, usize) -> Reply + Send + Sync + 'static,
    ) -> FakeKeystone {
        let handler: Arc<Handler> = Arc::new(handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let last_body = Arc::new(Mutex::new(String::new()));
        let (h, b) = (hits.clone(), last_body.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (handler, hits, last_body) = (handler.clone(), h.clone(), b.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (handler, hits, last_body) =
                                (handler.clone(), hits.clone(), last_body.clone());
                            async move {
                                let method = req.method().to_string();
                                let path = req.uri().path().to_string();
                                let body = req.into_body().collect().await?.to_bytes();
                                *last_body.lock().unwrap() =
                                    String::from_utf8_lossy(&body).into_owned();
                                let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                                let reply = handler(&method, &path, n);
                                let mut response = hyper::Response::builder().status(reply.status);
                                for (name, value) in &reply.headers {
                                    response = response.header(name, value);
                                }
                                Ok::<_, hyper::Error>(
                                    response
                                        .header("content-type", "application/json")
                                        .body(Full::new(Bytes::from(reply.body)))
                                        .unwrap(),
                                )
                            }
                        },
                    );
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        FakeKeystone {
            addr,
            hits,
            last_body,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn last_body(&self) -> String {
        self.last_body.lock().unwrap().clone()
    }
}
