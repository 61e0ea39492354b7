//! The request and response values the in-process handler works on: plain
//! data, no sockets, so tests and the fuzz target call
//! [`crate::serve::app::App::handle`] directly.

/// One HTTP request as the handler sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// Path and query, as sent (`/v2.1/p/servers?x=1`).
    pub target: String,
    /// Header names as sent; lookups are case-insensitive.
    pub headers: Vec<(String, String)>,
    /// The body bytes read (at most the size limit plus one).
    pub body: Vec<u8>,
    /// The length the client declared (Content-Length), when larger than
    /// what was read: the listener refuses to read an announced oversize body.
    pub declared_len: Option<usize>,
    /// The body came without `Content-Length` (`Transfer-Encoding:
    /// chunked`), which Nova's webob does not read.
    pub unframed_body: bool,
}

impl HttpRequest {
    /// The request as the AK/SK signer and verifier see it: path and query
    /// split at the first `?`, headers and body as received.
    pub fn signing_parts(&self) -> crate::endpoint::sign::RequestParts<'_> {
        let (path, query) = self
            .target
            .split_once('?')
            .unwrap_or((self.target.as_str(), ""));
        crate::endpoint::sign::RequestParts {
            method: &self.method,
            path,
            query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    pub fn new(method: &str, target: &str) -> Self {
        HttpRequest {
            method: method.to_string(),
            target: target.to_string(),
            ..HttpRequest::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first header of that name (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body length that counts against the size limit.
    pub fn body_len(&self) -> usize {
        self.body.len().max(self.declared_len.unwrap_or(0))
    }
}

/// One HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// May repeat a name (Nova sends two `Vary` headers).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// `Content-Type` of Nova faults and JSON answers.
pub const JSON_UTF8: &str = "application/json; charset=UTF-8";
/// `Content-Type` of successful JSON answers.
pub const JSON: &str = "application/json";
pub const HTML: &str = "text/html; charset=UTF-8";

impl HttpResponse {
    pub fn new(status: u16) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON answer with the given content type.
    pub fn json(status: u16, content_type: &str, value: &serde_json::Value) -> Self {
        HttpResponse::new(status)
            .with_header("Content-Type", content_type)
            .with_body(value.to_string().into_bytes())
    }

    pub fn html(status: u16, page: String) -> Self {
        HttpResponse::new(status)
            .with_header("Content-Type", HTML)
            .with_body(page.into_bytes())
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the Content-Type announces JSON.
    pub fn is_json(&self) -> bool {
        self.header("Content-Type")
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/json"))
    }
}
