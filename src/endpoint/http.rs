//! The transport: send one request, record the whole exchange.
//!
//! Every request the runner or the fuzzer sends goes through [`Transport`],
//! which keeps the bytes both ways so reports can show transcripts and curl
//! repros and results can be diffed body by body. Secrets are scrubbed when a
//! record leaves for an output, not when it is kept (see
//! [`crate::endpoint::secrets::Scrubber`]).
//!
//! Reads are bounded: an answer whose body grows past [`MAX_BODY_BYTES`] is
//! cut there and recorded as a failed exchange naming the limit, so a huge
//! or endless body can neither exhaust memory nor pass as an answer.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::endpoint::auth::tls::TlsConfig;
use crate::endpoint::auth::token_source::TokenSource;

/// A request about to be sent (and, afterwards, as sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Body bytes, lossily shown as text in reports.
    #[serde(serialize_with = "as_text")]
    pub body: Vec<u8>,
}

/// The response as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(serialize_with = "as_text")]
    pub body: Vec<u8>,
}

impl RecordedResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is JSON; unpaired surrogate escapes (which
    /// Python endpoints write) are kept as text ([`crate::endpoint::lossless_json`]).
    pub fn json(&self) -> Option<serde_json::Value> {
        crate::endpoint::lossless_json::parse(&self.body).map(|p| p.value)
    }

    /// How many unpaired surrogate escapes the body holds (0 when it is
    /// not JSON at all).
    pub fn lone_surrogates(&self) -> usize {
        crate::endpoint::lossless_json::parse(&self.body).map_or(0, |p| p.lone_surrogates)
    }
}

/// One request and its response (or the transport error).
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    pub response: Option<RecordedResponse>,
    pub error: Option<String>,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

fn as_text<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(bytes))
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// The most body bytes kept from one answer (8 MiB). A metadata answer at
/// Nova's quota is a few hundred KiB at most; anything past this is cut and
/// the exchange reports it instead of a response.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The exchange error of an answer whose body passed [`MAX_BODY_BYTES`].
fn body_too_large(status: u16) -> String {
    format!(
        "the answer (status {status}) has a body larger than {} MiB; metaconform stopped reading it there",
        MAX_BODY_BYTES / (1024 * 1024)
    )
}

/// Why nothing came back.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot build HTTP client: {0}")]
    Client(String),
}

/// An HTTP client with a per-request timeout and, optionally, one request
/// rate shared by every clone.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    timeout: Duration,
    /// Kept to build a fresh client ([`Transport::reconnected`]).
    tls: TlsConfig,
    pace: Option<std::sync::Arc<crate::endpoint::throttle::SharedPace>>,
    renewal: Option<std::sync::Arc<TokenSource>>,
}

impl Transport {
    pub fn new(timeout: Duration) -> Result<Self, TransportError> {
        Self::with_tls(timeout, &TlsConfig::default())
    }

    /// A transport whose TLS follows `tls` (CA bundle, client certificate,
    /// `--insecure`).
    pub fn with_tls(timeout: Duration, tls: &TlsConfig) -> Result<Self, TransportError> {
        Ok(Transport {
            client: client(timeout, tls)?,
            timeout,
            tls: tls.clone(),
            pace: None,
            renewal: None,
        })
    }

    /// The same transport (timeout, TLS, pace, token renewal) with a new
    /// client, so the next request opens a fresh connection instead of
    /// taking a pooled keep-alive one. After a transport error (a reset, a
    /// body cut short, a timeout) the pooled connections may be as dead as
    /// the one that failed.
    pub fn reconnected(&self) -> Result<Transport, TransportError> {
        Ok(Transport {
            client: client(self.timeout, &self.tls)?,
            ..self.clone()
        })
    }

    /// Cap every request this transport and its clones send at `rate` per
    /// second (`--rate`); `None` leaves it uncapped.
    pub fn paced(mut self, rate: Option<f64>) -> Transport {
        self.pace = crate::endpoint::throttle::SharedPace::new(rate).map(std::sync::Arc::new);
        self
    }

    /// Keep the member's Keystone token fresh: every request carrying a
    /// token `source` issued gets its current one ([`TokenSource::refresh`]).
    pub fn renewing(mut self, source: Option<std::sync::Arc<TokenSource>>) -> Transport {
        self.renewal = source;
        self
    }

    /// Send `request`; a connection failure is recorded in the exchange, not
    /// returned as an error, so it lands in the report like any answer.
    pub async fn send(&self, mut request: RecordedRequest) -> Exchange {
        if let Some(source) = &self.renewal
            && let Err(e) = source.refresh(&mut request).await
        {
            return Exchange {
                request,
                response: None,
                error: Some(format!("not sent: cannot renew the Keystone token: {e}")),
                elapsed: Duration::ZERO,
            };
        }
        self.send_as_built(request).await
    }

    /// Send `request` with the headers it has, no token renewal (Keystone's
    /// own requests).
    pub async fn send_as_built(&self, request: RecordedRequest) -> Exchange {
        if let Some(pace) = &self.pace {
            pace.wait().await;
        }
        let started = Instant::now();
        let outcome = if has_dot_segment(&request.url) {
            self.send_verbatim(&request).await
        } else {
            self.try_send(&request).await
        };
        let elapsed = started.elapsed();
        match outcome {
            Ok(response) => Exchange {
                request,
                response: Some(response),
                error: None,
                elapsed,
            },
            Err(e) => Exchange {
                request,
                response: None,
                error: Some(e),
                elapsed,
            },
        }
    }

    /// Send `request`, first signing it with `key` (AK/SK, spec §7.4) when
    /// one is given; the exchange records the signed request. A request
    /// that cannot be signed is not sent: the exchange says why.
    pub async fn send_signed(
        &self,
        mut request: RecordedRequest,
        key: Option<&crate::endpoint::AccessKeyPair>,
    ) -> Exchange {
        use crate::endpoint::sign::{SdkDate, sign_recorded};
        if let Some(key) = key
            && let Err(e) = sign_recorded(&mut request, &key.key(), SdkDate::now())
        {
            return Exchange {
                request,
                response: None,
                error: Some(format!("cannot sign the request with AK/SK: {e}")),
                elapsed: Duration::ZERO,
            };
        }
        self.send(request).await
    }

    /// Send a URL whose path has a `.` or `..` segment (a key named `.`)
    /// exactly as written. reqwest parses URLs the WHATWG way, which removes
    /// dot segments (`%2E` too), so such a request would reach another
    /// resource; hyper sends the path untouched. Plain http only.
    async fn send_verbatim(&self, request: &RecordedRequest) -> Result<RecordedResponse, String> {
        use http_body_util::{BodyExt, Full};
        let uri: hyper::Uri = request
            .url
            .parse()
            .map_err(|e| format!("invalid URL {}: {e}", request.url))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "{}: a '.' or '..' path segment can only be sent verbatim over plain http",
                request.url
            ));
        }
        let host = uri.host().unwrap_or_default().to_string();
        let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let port = uri.port_u16().unwrap_or(80);
        let exchange = async {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            let mut builder = hyper::Request::builder()
                .method(request.method.as_str())
                .uri(path);
            // A signed request already carries the `Host` it signed.
            if !request
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("host"))
            {
                builder = builder.header("host", authority.as_str());
            }
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let outgoing = builder
                .body(Full::new(bytes::Bytes::from(request.body.clone())))
                .map_err(|e| e.to_string())?;
            let response = sender
                .send_request(outgoing)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let headers = collect_headers(response.headers());
            let body = http_body_util::Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        body_too_large(status)
                    } else {
                        e.to_string()
                    }
                })?
                .to_bytes()
                .to_vec();
            Ok(RecordedResponse {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }

    async fn try_send(&self, request: &RecordedRequest) -> Result<RecordedResponse, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("not an HTTP method: {:?}", request.method))?;
        self.send_with(method, request).await
    }

    async fn send_with(
        &self,
        method: reqwest::Method,
        request: &RecordedRequest,
    ) -> Result<RecordedResponse, String> {
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body.clone());
        }
        let mut response = builder.send().await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let headers = collect_headers(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(body_too_large(status));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RecordedResponse {
            status,
            headers,
            body,
        })
    }
}

/// A reqwest client with its own connection pool.
fn client(timeout: Duration, tls: &TlsConfig) -> Result<reqwest::Client, TransportError> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(64);
    tls.apply(builder)
        .build()
        .map_err(|e| TransportError::Client(e.to_string()))
}

/// A response's headers as name/value text pairs (non-UTF-8 bytes replaced).
fn collect_headers(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The path of `url` exactly as written (no dot-segment removal, no
/// re-encoding), without query or fragment; `""` when there is none.
pub fn raw_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("", |i| &after_scheme[i..])
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
}

/// Whether the URL's path has a `.` or `..` segment (literal or `%2E`).
pub fn has_dot_segment(url: &str) -> bool {
    raw_path(url).split('/').any(|segment| {
        let lower = segment.to_ascii_lowercase().replace("%2e", ".");
        lower == "." || lower == ".."
    })
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Headers whose values are secrets.
pub const SECRET_HEADERS: &[&str] = &[
    "x-auth-token",
    "authorization",
    "x-subject-token",
    "x-security-token",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_detected() {
        assert!(has_dot_segment("http://h/v2.1/p/servers/s/metadata/."));
        assert!(has_dot_segment("http://h/a/%2E%2e?x=1"));
        assert!(!has_dot_segment("http://h/a/.b/a.json"));
        assert!(!has_dot_segment("http://h/a?x=/./"));
    }

    #[tokio::test]
    async fn a_dot_key_reaches_the_server_verbatim() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = stream.read(&mut buf).await.unwrap();
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let exchange = transport
            .send(RecordedRequest {
                method: "DELETE".into(),
                url: format!("http://{addr}/servers/s/metadata/."),
                headers: vec![("X-Auth-Token".into(), "t".into())],
                body: Vec::new(),
            })
            .await;
        assert_eq!(
            exchange.response.map(|r| r.status),
            Some(204),
            "{:?}",
            exchange.error
        );
        let seen = server.await.unwrap();
        assert!(
            seen.starts_with("DELETE /servers/s/metadata/. HTTP/1.1"),
            "{seen}"
        );
        assert!(
            seen.to_ascii_lowercase().contains("x-auth-token: t"),
            "{seen}"
        );
    }

    #[tokio::test]
    async fn an_unparsable_method_is_an_error_not_a_get() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let transport = Transport::new(Duration::from_secs(5)).unwrap();
        let exchange = transport
            .send(RecordedRequest {
                method: "GE T".into(),
                url: format!("http://{addr}/servers/s/metadata"),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await;
        assert!(exchange.response.is_none());
        let error = exchange.error.unwrap_or_default();
        assert!(error.contains("not an HTTP method: \"GE T\""), "{error}");
    }

    /// A loopback server whose every answer is a 200 with an endless chunked
    /// body; it writes until the client hangs up.
    async fn endless_body_server() -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n";
                    if stream.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                    while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn an_endless_body_is_cut_at_the_limit_and_reported() {
        let addr = endless_body_server().await;
        let transport = Transport::new(Duration::from_secs(30)).unwrap();
        // Both send paths: reqwest, and the verbatim one for dot segments.
        for path in ["/servers/s/metadata", "/servers/s/metadata/."] {
            let exchange = transport
                .send(RecordedRequest {
                    method: "GET".into(),
                    url: format!("http://{addr}{path}"),
                    headers: Vec::new(),
                    body: Vec::new(),
                })
                .await;
            assert!(exchange.response.is_none(), "{path}: kept a response");
            let error = exchange.error.unwrap_or_default();
            assert!(
                error.contains("status 200") && error.contains("larger than 8 MiB"),
                "{path}: {error}"
            );
        }
    }
}
