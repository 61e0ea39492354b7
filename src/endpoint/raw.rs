//! Requests the ordinary transport cannot send: a path with raw bytes
//! (Latin-1, not percent-encoded) and a body in `Transfer-Encoding: chunked`.
//!
//! reqwest re-encodes a URL the WHATWG way and always sends a known-length
//! body with `Content-Length`, so the differential test
//! ([`crate::differential`]) writes such a request itself, byte for byte,
//! over one plain-http connection with `Connection: close`, and reads the
//! answer to the end. The answer is recorded as [`RecordedResponse`], like
//! every other one.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::http::{MAX_BODY_BYTES, RecordedResponse};

/// A request written exactly as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRequest {
    pub method: String,
    /// `host:port` to connect to (plain http).
    pub authority: String,
    /// The request target (path and query) as bytes on the wire.
    pub target: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send the body in two chunks with `Transfer-Encoding: chunked`
    /// instead of `Content-Length`.
    pub chunked: bool,
}

/// Why a raw exchange has no answer.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("connection to {0} failed: {1}")]
    Io(String, std::io::Error),
    #[error("no answer from {0} within {1:?}")]
    Timeout(String, Duration),
    #[error("the answer of {0} is not HTTP/1.x: {1}")]
    Malformed(String, &'static str),
}

/// Send `request` and read its answer (the whole connection).
pub async fn send(request: &RawRequest, timeout: Duration) -> Result<RecordedResponse, RawError> {
    let authority = request.authority.clone();
    tokio::time::timeout(timeout, exchange(request))
        .await
        .map_err(|_| RawError::Timeout(authority, timeout))?
}

async fn exchange(request: &RawRequest) -> Result<RecordedResponse, RawError> {
    let authority = &request.authority;
    let mut stream = tokio::net::TcpStream::connect(authority.as_str())
        .await
        .map_err(|e| RawError::Connect(authority.clone(), e))?;
    let io = |e| RawError::Io(authority.clone(), e);
    stream.write_all(&wire_bytes(request)).await.map_err(io)?;
    let mut answer = Vec::new();
    (&mut stream)
        .take(MAX_BODY_BYTES as u64)
        .read_to_end(&mut answer)
        .await
        .map_err(io)?;
    parse_response(&answer, &request.method)
        .map_err(|why| RawError::Malformed(authority.clone(), why))
}

/// The request as it goes on the wire.
pub fn wire_bytes(request: &RawRequest) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(request.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(&request.target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let mut head = format!("Host: {}\r\nConnection: close\r\n", request.authority);
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if request.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(&chunked_body(&request.body));
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(&request.body);
    }
    out
}

/// `body` as two chunks (one when it is shorter than 2 bytes) and the last
/// chunk.
fn chunked_body(body: &[u8]) -> Vec<u8> {
    let (first, second) = body.split_at(body.len() / 2);
    let mut out = Vec::new();
    for chunk in [first, second].into_iter().filter(|c| !c.is_empty()) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Status, headers and body of a whole HTTP/1.x answer (`Content-Length`,
/// chunked, or read to the end; none for `HEAD`).
pub fn parse_response(answer: &[u8], method: &str) -> Result<RecordedResponse, &'static str> {
    let split = find(answer, b"\r\n\r\n").ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let rest = &answer[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or("bad status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304 {
        Vec::new()
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest).ok_or("bad chunked body")?
    } else if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest.get(..length)
            .ok_or("body shorter than Content-Length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(RecordedResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(chunked: bool) -> RawRequest {
        RawRequest {
            method: "PUT".into(),
            authority: "h:1".into(),
            target: b"/m/\xe9".to_vec(),
            headers: vec![("X-A".into(), "b".into())],
            body: b"{\"a\":1}".to_vec(),
            chunked,
        }
    }

    #[test]
    fn a_chunked_request_is_written_in_two_chunks() {
        let wire = wire_bytes(&request(true));
        let text = String::from_utf8_lossy(&wire);
        assert!(wire.starts_with(b"PUT /m/\xe9 HTTP/1.1\r\n"), "{text}");
        assert!(
            text.contains("Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n"),
            "{text}"
        );
        assert!(!text.contains("Content-Length"), "{text}");
    }

    #[test]
    fn a_plain_request_has_its_length() {
        let text = String::from_utf8_lossy(&wire_bytes(&request(false))).into_owned();
        assert!(
            text.ends_with("Content-Length: 7\r\n\r\n{\"a\":1}"),
            "{text}"
        );
    }

    #[test]
    fn answers_are_parsed_by_length_and_by_chunks() {
        let plain = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\nX: y\r\n\r\nabEXTRA";
        let parsed = parse_response(plain, "GET").unwrap();
        assert_eq!((parsed.status, parsed.body.as_slice()), (400, &b"ab"[..]));
        assert_eq!(parsed.header("x"), Some("y"));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked, "GET").unwrap().body, b"abc");
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
        assert!(parse_response(head, "HEAD").unwrap().body.is_empty());
        assert!(parse_response(b"garbage", "GET").is_err());
    }
}
