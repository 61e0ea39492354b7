//! The transport: send one request, record the whole exchange.
//!
//! Every request the runner or the fuzzer sends goes through [`Transport`],
//! which keeps the bytes both ways so reports can show transcripts and curl
//! repros and results can be diffed body by body. Secrets are redacted when a
//! record is rendered, not when it is kept (see [`redact_headers`]).

use std::time::{Duration, Instant};

use serde::Serialize;

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

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
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

/// Why nothing came back.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot build HTTP client: {0}")]
    Client(String),
}

/// An HTTP client with a per-request timeout.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
}

impl Transport {
    pub fn new(timeout: Duration) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| TransportError::Client(e.to_string()))?;
        Ok(Transport { client })
    }

    /// Send `request`; a connection failure is recorded in the exchange, not
    /// returned as an error, so it lands in the report like any answer.
    pub async fn send(&self, request: RecordedRequest) -> Exchange {
        let started = Instant::now();
        let outcome = self.try_send(&request).await;
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
                error: Some(describe(&e)),
                elapsed,
            },
        }
    }

    async fn try_send(
        &self,
        request: &RecordedRequest,
    ) -> Result<RecordedResponse, reqwest::Error> {
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body.clone());
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.bytes().await?.to_vec();
        Ok(RecordedResponse {
            status,
            headers,
            body,
        })
    }
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

/// A copy of `headers` with secret values replaced by `$OS_TOKEN`-style
/// placeholders, for reports and curl repros.
pub fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            let lower = n.to_ascii_lowercase();
            if lower == "x-auth-token" {
                (n.clone(), "$OS_TOKEN".to_string())
            } else if SECRET_HEADERS.contains(&lower.as_str()) {
                (n.clone(), "<redacted>".to_string())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect()
}
