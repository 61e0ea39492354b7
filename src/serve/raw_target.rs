//! Raw bytes in the request target, read as genuine Nova's server reads them.
//!
//! Nova's API runs under eventlet's WSGI server (eventlet 0.41
//! `eventlet/wsgi.py` `HttpProtocol.get_environ`), which takes the target
//! from Python's `http.server.BaseHTTPRequestHandler.parse_request`: the
//! request line decoded as Latin-1 and split on whitespace, so any byte but
//! whitespace may stand in the target, and `PATH_INFO` is
//! `urllib.parse.unquote(path, encoding='latin1')` (PEP 3333): a raw `0xE9`
//! and `%E9` give the same `é`. hyper (httparse 1.10 and http 1.5, as locked)
//! refuses many of those bytes with its own bare 400 before the mock sees
//! the request, and cuts the target at `#`:
//!
//! | bytes | httparse / http | eventlet | here |
//! |---|---|---|---|
//! | 0x80-0xFF but 0x85, 0xA0 | refused unless the whole target is UTF-8 | literal | `%XX` |
//! | 0x85, 0xA0 | as above | whitespace (`str.split`): a fourth word, 400 | raw |
//! | 0x00-0x08, 0x0E-0x1B, 0x7F | refused (httparse `is_uri_token`) | literal | `%XX` |
//! | 0x09-0x0D, 0x1C-0x20 | refused or a separator | whitespace | raw |
//! | `<` `>` `` ` `` in the path; `"` `<` `>` in the query | refused (http `PATH_MAP`, `QUERY_MAP`) | literal | `%XX` |
//! | `#` | starts a fragment, dropped | literal | `%23` |
//!
//! Percent-encoding a byte is what eventlet's reading makes of it anyway
//! (the mock decodes `%XX` in the path as Latin-1, [`super::routes::decode_path_latin1`],
//! and in the query as eventlet's consumers do), so the mock then sees what
//! Nova sees. One reading stays apart: a whitespace byte next to the
//! target's spaces (`GET /a\xA0 HTTP/1.1`) is a separator to Python, which
//! reads `/a`; it stays raw here and hyper refuses it.
//!
//! [`TargetEncoder`] is the sans-I/O part: it follows HTTP/1.1 framing as
//! hyper does (request line, header lines, blank line, then a body by
//! `Content-Length` or the chunked coding with its sizes, extensions and
//! trailers) so that only request targets are touched, on every request of
//! a keep-alive or pipelined connection. Anything it cannot follow (an
//! invalid or conflicting `Content-Length` / `Transfer-Encoding`, an
//! upgrade or `CONNECT`, an obsolete folded header, a malformed chunk, a
//! line over [`MAX_LINE`]) turns it into a pass-through for the rest of the
//! connection, so hyper answers those as it did without it.
//! [`EncodingStream`] applies it to a connection's reads.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Longest request, header, chunk-size or trailer line followed; the
/// listener's read buffer, which bounds hyper's whole head, is no larger.
pub const MAX_LINE: usize = 64 * 1024;

/// Python's `str.split()` separators among Latin-1 characters.
const fn is_python_whitespace(b: u8) -> bool {
    matches!(b, 0x09..=0x0D | 0x1C..=0x20 | 0x85 | 0xA0)
}

/// Whether `b` in the path (`query == false`) or the query is a byte
/// hyper refuses or cuts at and eventlet takes literally.
const fn needs_escape(b: u8, query: bool) -> bool {
    if is_python_whitespace(b) {
        return false;
    }
    match b {
        0x00..=0x1F | 0x7F..=0xFF | b'#' | b'<' | b'>' => true,
        b'`' => !query,
        b'"' => query,
        _ => false,
    }
}

const fn escape_table(query: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = needs_escape(b as u8, query);
        b += 1;
    }
    table
}

/// The bytes a run of the target stops at: an escape, the space that ends
/// it, a line feed, and in the path the `?` that starts the query.
const fn stop_table(query: bool) -> [bool; 256] {
    let mut table = escape_table(query);
    table[b' ' as usize] = true;
    table[b'\n' as usize] = true;
    table[b'?' as usize] = !query;
    table
}

const PATH_STOPS: [bool; 256] = stop_table(false);
const QUERY_STOPS: [bool; 256] = stop_table(true);

/// Where the encoder's bytes go: runs kept as they are, and escapes.
pub trait Sink {
    /// `run` passes unchanged.
    fn keep(&mut self, run: &[u8]);
    /// `byte` becomes `%XX`.
    fn escape(&mut self, byte: u8);
}

impl Sink for Vec<u8> {
    fn keep(&mut self, run: &[u8]) {
        self.extend_from_slice(run);
    }

    fn escape(&mut self, byte: u8) {
        self.extend_from_slice(&percent(byte));
    }
}

/// `%XX` (upper-case hex) for `byte`.
pub fn percent(byte: u8) -> [u8; 3] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [
        b'%',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 0x0F)],
    ]
}

/// Where in the connection's byte stream the encoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a request line; blank lines are skipped, as httparse does.
    LineStart,
    Method,
    Target {
        query: bool,
    },
    Version,
    /// A header line, gathered in `line`.
    Header,
    Body {
        remaining: u64,
    },
    /// A chunk-size line, gathered in `line`.
    ChunkSize,
    ChunkData {
        remaining: u64,
    },
    ChunkDataCr,
    ChunkDataLf,
    /// After the last chunk, or a trailer line: CR ends the body, else a
    /// trailer line begins (hyper's `EndCr`).
    TrailerStart,
    Trailer,
    TrailerLf,
    EndLf,
    PassThrough,
}

/// What the head of the current request says about its framing.
#[derive(Debug, Default, Clone, Copy)]
struct Framing {
    content_length: Option<u64>,
    transfer_encoding: bool,
    chunked: bool,
    upgrade: bool,
    connect: bool,
}

/// The sans-I/O encoder of one connection's incoming bytes.
#[derive(Debug)]
pub struct TargetEncoder {
    state: State,
    /// Bytes so far of the current request line or trailer line, for
    /// [`MAX_LINE`].
    line_len: usize,
    /// The current header or chunk-size line (reused, never shrunk).
    line: Vec<u8>,
    /// The method's first bytes, enough to tell `CONNECT` (hyper's upgrade).
    method: [u8; 8],
    framing: Framing,
}

impl Default for TargetEncoder {
    fn default() -> Self {
        TargetEncoder::new()
    }
}

impl TargetEncoder {
    pub fn new() -> TargetEncoder {
        TargetEncoder {
            state: State::LineStart,
            line_len: 0,
            line: Vec::new(),
            method: [0; 8],
            framing: Framing::default(),
        }
    }

    /// Whether the encoder gave up following the connection.
    pub fn is_pass_through(&self) -> bool {
        self.state == State::PassThrough
    }

    /// Encode `input`, the next bytes of the connection, into `sink`.
    pub fn feed(&mut self, input: &[u8], sink: &mut impl Sink) {
        let mut rest = input;
        while !rest.is_empty() {
            let taken = self.step(rest, sink);
            rest = &rest[taken..];
        }
    }

    /// Consume a prefix of `input` in the current state: at least one
    /// byte, or none when only the state changes.
    fn step(&mut self, input: &[u8], sink: &mut impl Sink) -> usize {
        match self.state {
            State::PassThrough => {
                sink.keep(input);
                input.len()
            }
            State::Body { remaining } => {
                let n = clamp(remaining, input.len());
                sink.keep(&input[..n]);
                self.state = after_body(remaining - n as u64, State::LineStart);
                n
            }
            State::ChunkData { remaining } => {
                let n = clamp(remaining, input.len());
                sink.keep(&input[..n]);
                self.state = after_body(remaining - n as u64, State::ChunkDataCr);
                n
            }
            State::LineStart => self.line_start(input, sink),
            State::Method => self.method(input, sink),
            State::Target { query } => self.target(input, query, sink),
            State::Version => self.version(input, sink),
            State::Header | State::ChunkSize => self.gathered_line(input, sink),
            _ => {
                sink.keep(&input[..1]);
                self.byte(input[0]);
                1
            }
        }
    }

    /// One byte of the chunk and trailer delimiters.
    fn byte(&mut self, b: u8) {
        self.state = match (self.state, b) {
            (State::ChunkDataCr, b'\r') => State::ChunkDataLf,
            (State::ChunkDataLf, b'\n') => self.start_line(State::ChunkSize),
            (State::TrailerStart, b'\r') => State::EndLf,
            (State::TrailerStart, _) => self.start_line(State::Trailer),
            (State::Trailer, b'\r') => State::TrailerLf,
            (State::Trailer, _) => self.count(1, State::Trailer),
            (State::TrailerLf, b'\n') => State::TrailerStart,
            (State::EndLf, b'\n') => State::LineStart,
            _ => State::PassThrough,
        };
    }

    fn start_request(&mut self) {
        self.line_len = 0;
        self.method = [0; 8];
        self.framing = Framing::default();
    }

    /// Blank lines before a request line pass; its first byte starts one.
    fn line_start(&mut self, input: &[u8], sink: &mut impl Sink) -> usize {
        let blank = input
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(input.len());
        sink.keep(&input[..blank]);
        if blank < input.len() {
            self.start_request();
            self.state = State::Method;
        }
        blank
    }

    /// The method, up to the space before the target.
    fn method(&mut self, input: &[u8], sink: &mut impl Sink) -> usize {
        let run = memchr::memchr2(b' ', b'\n', input).unwrap_or(input.len());
        let slots = self.method.iter_mut().skip(self.line_len);
        for (slot, &b) in slots.zip(&input[..run]) {
            *slot = b;
        }
        let Some(&delimiter) = input.get(run) else {
            sink.keep(input);
            self.state = self.count(run, State::Method);
            return run;
        };
        sink.keep(&input[..=run]);
        let method_len = self.line_len + run;
        self.state = if delimiter == b' ' {
            self.framing.connect = method_len == 7 && self.method[..7] == *b"CONNECT";
            self.count(run + 1, State::Target { query: false })
        } else {
            State::PassThrough
        };
        run + 1
    }

    /// The version, up to the line feed that ends the request line.
    fn version(&mut self, input: &[u8], sink: &mut impl Sink) -> usize {
        match memchr::memchr(b'\n', input) {
            Some(at) => {
                sink.keep(&input[..=at]);
                self.state = self.start_line(State::Header);
                at + 1
            }
            None => {
                sink.keep(input);
                self.state = self.count(input.len(), State::Version);
                input.len()
            }
        }
    }

    /// Count `n` bytes of the current line; past [`MAX_LINE`], give up.
    fn count(&mut self, n: usize, next: State) -> State {
        self.line_len += n;
        if self.line_len > MAX_LINE {
            State::PassThrough
        } else {
            next
        }
    }

    fn start_line(&mut self, next: State) -> State {
        self.line_len = 0;
        self.line.clear();
        next
    }

    /// The target: runs of bytes hyper takes pass, the others are escaped;
    /// a space ends it. A line feed in it (no version) is left to hyper.
    fn target(&mut self, input: &[u8], query: bool, sink: &mut impl Sink) -> usize {
        if let Some(end) = memchr::memchr(b' ', input)
            && is_plain(&input[..end])
        {
            // The common case: the rest of the target is here and needs
            // nothing escaped in the path or in the query.
            sink.keep(&input[..=end]);
            self.state = self.count(end + 1, State::Version);
            return end + 1;
        }
        let stops = if query { &QUERY_STOPS } else { &PATH_STOPS };
        let run = input
            .iter()
            .position(|&b| stops[usize::from(b)])
            .unwrap_or(input.len());
        if run > 0 {
            sink.keep(&input[..run]);
            self.state = self.count(run, State::Target { query });
            return run;
        }
        let b = input[0];
        match b {
            b' ' => {
                sink.keep(&input[..1]);
                self.state = self.count(1, State::Version);
            }
            b'?' => {
                sink.keep(&input[..1]);
                self.state = self.count(1, State::Target { query: true });
            }
            b'\n' => {
                sink.keep(&input[..1]);
                self.state = State::PassThrough;
            }
            _ => {
                sink.escape(b);
                self.state = self.count(1, State::Target { query });
            }
        }
        1
    }

    /// A header or chunk-size line, kept as it comes and gathered up to
    /// its line feed, then read.
    fn gathered_line(&mut self, input: &[u8], sink: &mut impl Sink) -> usize {
        let (n, complete) = match memchr::memchr(b'\n', input) {
            Some(at) => (at + 1, true),
            None => (input.len(), false),
        };
        sink.keep(&input[..n]);
        if self.line.len() + n > MAX_LINE {
            self.state = State::PassThrough;
            return n;
        }
        if !complete {
            self.line.extend_from_slice(input);
        } else if self.line.is_empty() {
            // The whole line is in this read: read it in place.
            self.state = self.complete_line(&input[..n]);
        } else {
            self.line.extend_from_slice(&input[..n]);
            let line = std::mem::take(&mut self.line);
            self.state = self.complete_line(&line);
            self.line = line;
            self.line.clear();
        }
        n
    }

    fn complete_line(&mut self, line: &[u8]) -> State {
        match self.state {
            State::Header => self.header_line(line),
            _ => chunk_size_line(line),
        }
    }

    /// A complete header line: the blank line ends the head.
    fn header_line(&mut self, line: &[u8]) -> State {
        let line = strip_line_end(line);
        if line.is_empty() {
            return self.end_of_head();
        }
        match read_header(line, &mut self.framing) {
            Ok(()) => State::Header,
            Err(Unfollowable) => State::PassThrough,
        }
    }

    /// How the body after the head is framed (hyper's `Server::parse`,
    /// RFC 9112 §6.3).
    fn end_of_head(&mut self) -> State {
        let framing = self.framing;
        if framing.upgrade || framing.connect {
            return State::PassThrough;
        }
        if framing.transfer_encoding {
            return if framing.chunked && framing.content_length.is_none() {
                self.start_line(State::ChunkSize)
            } else {
                State::PassThrough
            };
        }
        after_body(framing.content_length.unwrap_or(0), State::LineStart)
    }
}

/// A complete chunk-size line: hex digits, optional blanks, an optional
/// `;` extension, CRLF (hyper's `ChunkedState::Start` to `SizeLf`).
fn chunk_size_line(line: &[u8]) -> State {
    match chunk_size(line) {
        Some(0) => State::TrailerStart,
        Some(size) => State::ChunkData { remaining: size },
        None => State::PassThrough,
    }
}

/// Whether `target` is printable ASCII without a byte either escape table
/// holds (no branch per byte, so the compiler can vectorise it).
fn is_plain(target: &[u8]) -> bool {
    let odd = target.iter().fold(0u8, |odd, &b| {
        let outside = u8::from(!(0x21..=0x7E).contains(&b));
        let special = u8::from(b == b'#')
            | u8::from(b == b'<')
            | u8::from(b == b'>')
            | u8::from(b == b'`')
            | u8::from(b == b'"');
        odd | outside | special
    });
    odd == 0
}

/// `remaining` body bytes left: `done` once none are.
fn after_body(remaining: u64, done: State) -> State {
    if remaining == 0 {
        done
    } else {
        match done {
            State::ChunkDataCr => State::ChunkData { remaining },
            _ => State::Body { remaining },
        }
    }
}

fn clamp(remaining: u64, available: usize) -> usize {
    usize::try_from(remaining).map_or(available, |r| r.min(available))
}

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A head or chunk the encoder cannot follow as hyper would.
#[derive(Debug)]
struct Unfollowable;

/// Note what a header line says about framing.
fn read_header(line: &[u8], framing: &mut Framing) -> Result<(), Unfollowable> {
    if line[0] == b' ' || line[0] == b'\t' {
        return Err(Unfollowable); // obs-fold
    }
    let colon = line.iter().position(|&b| b == b':').ok_or(Unfollowable)?;
    let name = &line[..colon];
    let value = line[colon + 1..].trim_ascii();
    if name.eq_ignore_ascii_case(b"content-length") {
        let length = decimal(value).ok_or(Unfollowable)?;
        if framing.content_length.is_some_and(|prev| prev != length) {
            return Err(Unfollowable);
        }
        framing.content_length = Some(length);
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        // hyper's `is_chunked_`: the last coding of the last such line.
        framing.transfer_encoding = true;
        framing.chunked = value
            .rsplit(|&b| b == b',')
            .next()
            .is_some_and(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"));
    } else if name.eq_ignore_ascii_case(b"upgrade") {
        framing.upgrade = true;
    }
    Ok(())
}

/// Digits only, as hyper's `from_digits` (no sign, no blanks, no overflow).
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let digit = char::from(b).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The size of a chunk-size line that ends in CRLF with no CR before.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r\n")?;
    if line.contains(&b'\r') {
        return None;
    }
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let blanks = line[digits..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let after = &line[digits + blanks..];
    if !(after.is_empty() || after[0] == b';') {
        return None;
    }
    line[..digits].iter().try_fold(0u64, |acc, &b| {
        let digit = char::from(b).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(u64::from(digit))
    })
}

/// Encode `input` in one go (tests and callers with the whole stream).
pub fn encode_all(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    TargetEncoder::new().feed(input, &mut out);
    out
}

/// The sink of [`EncodingStream::poll_read`]: bytes land in the caller's
/// buffer untouched until the first escape; from there the output is
/// written to `diverted`.
struct Divert<'a> {
    kept: usize,
    diverted_at: Option<usize>,
    diverted: &'a mut Vec<u8>,
}

impl Sink for Divert<'_> {
    fn keep(&mut self, run: &[u8]) {
        match self.diverted_at {
            None => self.kept += run.len(),
            Some(_) => self.diverted.extend_from_slice(run),
        }
    }

    fn escape(&mut self, byte: u8) {
        self.diverted_at.get_or_insert(self.kept);
        self.diverted.extend_from_slice(&percent(byte));
    }
}

/// A connection whose reads are passed through a [`TargetEncoder`];
/// writes go straight to the inner stream.
#[derive(Debug)]
pub struct EncodingStream<S> {
    inner: S,
    encoder: TargetEncoder,
    /// Encoded bytes not yet handed to a reader, from `pending_from` on.
    pending: Vec<u8>,
    pending_from: usize,
}

impl<S> EncodingStream<S> {
    pub fn new(inner: S) -> EncodingStream<S> {
        EncodingStream {
            inner,
            encoder: TargetEncoder::new(),
            pending: Vec::new(),
            pending_from: 0,
        }
    }

    /// Move what `buf` has room for from `pending` into it.
    fn drain_pending(&mut self, buf: &mut ReadBuf<'_>) {
        let n = buf.remaining().min(self.pending.len() - self.pending_from);
        buf.put_slice(&self.pending[self.pending_from..self.pending_from + n]);
        self.pending_from += n;
        if self.pending_from == self.pending.len() {
            self.pending.clear();
            self.pending_from = 0;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for EncodingStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending_from < this.pending.len() {
            this.drain_pending(buf);
            return Poll::Ready(Ok(()));
        }
        let start = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let mut sink = Divert {
            kept: 0,
            diverted_at: None,
            diverted: &mut this.pending,
        };
        this.encoder.feed(&buf.filled()[start..], &mut sink);
        if let Some(at) = sink.diverted_at {
            buf.set_filled(start + at);
            this.drain_pending(buf);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EncodingStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::http::uri::PathAndQuery;
    use proptest::prelude::*;

    const PATH_ESCAPES: [bool; 256] = escape_table(false);
    const QUERY_ESCAPES: [bool; 256] = escape_table(true);

    const E9_PUT: &[u8] = b"PUT /m/caf\xE9 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";

    fn fed_in_pieces(input: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut encoder = TargetEncoder::new();
        let mut out = Vec::new();
        let mut from = 0;
        for &cut in cuts {
            let cut = cut.clamp(from, input.len());
            encoder.feed(&input[from..cut], &mut out);
            from = cut;
        }
        encoder.feed(&input[from..], &mut out);
        out
    }

    #[test]
    fn escape_tables_follow_what_http_refuses_in_an_ascii_target() {
        for b in 0x21..0x7Fu8 {
            for query in [false, true] {
                let target = if query {
                    vec![b'/', b'?', b'a', b, b'b']
                } else {
                    vec![b'/', b'a', b, b'b']
                };
                let parsed = PathAndQuery::try_from(target.as_slice());
                let kept_whole = parsed.is_ok_and(|pq| pq.as_str().as_bytes() == target);
                let table = if query { &QUERY_ESCAPES } else { &PATH_ESCAPES };
                assert_eq!(
                    table[usize::from(b)],
                    !kept_whole,
                    "byte {b:#04x} in the {}",
                    if query { "query" } else { "path" }
                );
            }
        }
    }

    #[test]
    fn a_plain_target_holds_no_byte_to_escape() {
        for b in 0..=0xFFu8 {
            if is_plain(&[b'/', b, b'a']) {
                assert!(!PATH_ESCAPES[usize::from(b)] && !QUERY_ESCAPES[usize::from(b)]);
            } else {
                assert!(
                    PATH_ESCAPES[usize::from(b)]
                        || QUERY_ESCAPES[usize::from(b)]
                        || is_python_whitespace(b)
                );
            }
        }
    }

    #[test]
    fn high_bytes_are_escaped_but_python_whitespace() {
        assert!(PathAndQuery::try_from(&b"/caf\xE9"[..]).is_err());
        for b in 0x80..=0xFFu8 {
            let escaped = PATH_ESCAPES[usize::from(b)] && QUERY_ESCAPES[usize::from(b)];
            assert_eq!(escaped, b != 0x85 && b != 0xA0, "byte {b:#04x}");
        }
        for b in [0x00, 0x01, 0x08, 0x0E, 0x1B, 0x7F] {
            assert!(PATH_ESCAPES[b], "control {b:#04x}");
        }
        for b in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1F, 0x20] {
            assert!(!PATH_ESCAPES[b] && !QUERY_ESCAPES[b], "whitespace {b:#04x}");
        }
    }

    #[test]
    fn a_raw_latin1_byte_in_the_target_is_percent_encoded() {
        assert_eq!(
            encode_all(E9_PUT),
            b"PUT /m/caf%E9 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".to_vec()
        );
    }

    #[test]
    fn the_path_and_the_query_have_their_own_escapes() {
        let encoded = encode_all(b"GET /a`\"#<\x01?q=`\"#>\xFF\xA0 HTTP/1.1\r\n\r\n");
        assert_eq!(
            encoded,
            b"GET /a%60\"%23%3C%01?q=`%22%23%3E%FF\xA0 HTTP/1.1\r\n\r\n".to_vec()
        );
    }

    #[test]
    fn the_encoded_target_is_one_hyper_takes_whole() {
        let encoded = encode_all(b"GET /a\xE9<`#?q=\"\xC3\x28 HTTP/1.1\r\n\r\n");
        let target = &encoded[4..encoded.len() - 13];
        let parsed = PathAndQuery::try_from(target).expect("parses");
        assert_eq!(parsed.as_str().as_bytes(), target);
    }

    #[test]
    fn headers_and_content_length_bodies_pass_and_the_next_request_is_encoded() {
        let stream = b"POST /a\xE9 HTTP/1.1\r\nX-Note: caf\xE9\r\nContent-Length: 24\r\n\r\n\
GET /b\xE9 HTTP/1.1\r\n\r\n\xE9\xE9GET /c\xE9 HTTP/1.1\r\n\r\n";
        assert_eq!(
            encode_all(stream),
            b"POST /a%E9 HTTP/1.1\r\nX-Note: caf\xE9\r\nContent-Length: 24\r\n\r\n\
GET /b\xE9 HTTP/1.1\r\n\r\n\xE9\xE9GET /c%E9 HTTP/1.1\r\n\r\n"
                .to_vec()
        );
    }

    #[test]
    fn chunked_bodies_with_extensions_and_trailers_pass() {
        let stream = b"PUT /a HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n\
5;ext=\"\xE9\"\r\nGET /\r\n19 \t\r\nGET /\xE9 HTTP/1.1\r\n\r\n\xE9\xE9\xE9\xE9\xE9\xE9\r\n\
0\r\nX-Trailer: GET /\xE9 HTTP/1.1\r\n\r\nGET /d\xE9 HTTP/1.1\r\n\r\n";
        let mut expected = stream.to_vec();
        let at = expected.len() - 14;
        expected.splice(at..at + 1, *b"%E9");
        assert_eq!(encode_all(stream), expected);
    }

    #[test]
    fn blank_lines_before_a_request_line_are_skipped() {
        assert_eq!(
            encode_all(b"\r\n\nGET /\xE9 HTTP/1.1\r\n\r\n"),
            b"\r\n\nGET /%E9 HTTP/1.1\r\n\r\n".to_vec()
        );
    }

    /// Each head, then a request with a raw byte: what follows the head is
    /// not followed, so it passes as sent.
    #[test]
    fn framing_it_cannot_follow_passes_the_rest_through() {
        let heads: [&[u8]; 12] = [
            b"POST /a HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            b"POST /a HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"GET /a HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            b"CONNECT a:80 HTTP/1.1\r\n\r\n",
            b"GET /a HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
            b"GET /a HTTP/1.1\r\nno colon\r\n\r\n",
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n",
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\n0\r\n\r\n",
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\rb0\r\n\r\n",
        ];
        for head in heads {
            let stream = [head, b"GET /\xE9 HTTP/1.1\r\n\r\n"].concat();
            let mut encoder = TargetEncoder::new();
            let mut out = Vec::new();
            encoder.feed(&stream, &mut out);
            assert_eq!(out, stream, "{}", String::from_utf8_lossy(head));
            assert!(encoder.is_pass_through());
        }
    }

    #[test]
    fn a_line_over_the_bound_turns_to_pass_through() {
        let long_header = [
            b"GET /a HTTP/1.1\r\nX-Long: ".as_slice(),
            &vec![b'x'; MAX_LINE],
            b"\r\n\r\nGET /\xE9 HTTP/1.1\r\n\r\n",
        ]
        .concat();
        assert_eq!(encode_all(&long_header), long_header);
        let long_target = [
            b"GET /".as_slice(),
            &vec![b'x'; MAX_LINE],
            b"\xE9 HTTP/1.1\r\n\r\n",
        ]
        .concat();
        assert_eq!(encode_all(&long_target), long_target);
        let fits = [b"GET /".as_slice(), &[b'x'; 100], b"\xE9 HTTP/1.1\r\n\r\n"].concat();
        assert_ne!(encode_all(&fits), fits);
    }

    #[test]
    fn splitting_inside_an_escape_or_a_framing_line_changes_nothing() {
        let stream = b"PUT /a\xE9b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\xE9\xE9\xE9\r\n0\r\n\r\nGET /\xE9 HTTP/1.1\r\n\r\n";
        let whole = encode_all(stream);
        for cut in 0..=stream.len() {
            assert_eq!(fed_in_pieces(stream, &[cut]), whole, "cut at {cut}");
        }
    }

    /// A connection whose reads return the given pieces, one a read.
    struct Pieces(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Pieces {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let pieces = &mut self.get_mut().0;
            if let Some(mut piece) = pieces.pop_front() {
                let n = piece.len().min(buf.remaining());
                buf.put_slice(&piece[..n]);
                if n < piece.len() {
                    pieces.push_front(piece.split_off(n));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    fn read_through_stream(input: &[u8], cuts: &[usize], read_size: usize) -> Vec<u8> {
        let mut pieces = std::collections::VecDeque::new();
        let mut from = 0;
        for &cut in cuts {
            let cut = cut.clamp(from, input.len());
            pieces.push_back(input[from..cut].to_vec());
            from = cut;
        }
        pieces.push_back(input[from..].to_vec());
        pieces.retain(|p| !p.is_empty());
        let mut stream = EncodingStream::new(Pieces(pieces));
        let mut out = Vec::new();
        let mut chunk = vec![0u8; read_size];
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        loop {
            let mut buf = ReadBuf::new(&mut chunk);
            match Pin::new(&mut stream).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return out,
                Poll::Ready(Ok(())) => out.extend_from_slice(buf.filled()),
                other => panic!("{other:?}"),
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Body {
        None,
        Length(Vec<u8>),
        Chunked(Vec<(Vec<u8>, bool)>, Vec<u8>),
    }

    #[derive(Debug, Clone)]
    struct Request {
        method: &'static str,
        target: Vec<u8>,
        body: Body,
    }

    /// Body bytes: arbitrary, high bytes and lines that look like requests.
    fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..8),
                Just(b"GET /\xE9 HTTP/1.1\r\n\r\n".to_vec()),
                Just(b"\r\n0\r\n\r\n".to_vec()),
            ],
            0..5,
        )
        .prop_map(|parts| parts.concat())
    }

    fn target_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            any::<u8>().prop_filter("not whitespace", |&b| !is_python_whitespace(b)),
            Just(b'?'),
            Just(0xE9),
        ]
    }

    fn request() -> impl Strategy<Value = Request> {
        let body = prop_oneof![
            Just(Body::None),
            body_bytes().prop_map(Body::Length),
            (
                prop::collection::vec(
                    (
                        body_bytes().prop_filter("a chunk", |b| !b.is_empty()),
                        any::<bool>()
                    ),
                    0..3
                ),
                prop::collection::vec(any::<u8>().prop_filter("no CR", |&b| b != b'\r'), 0..6),
            )
                .prop_map(|(chunks, trailer)| Body::Chunked(chunks, trailer)),
        ];
        (
            prop::sample::select(vec!["GET", "PUT", "POST", "DELETE"]),
            prop::collection::vec(target_byte(), 0..12),
            body,
        )
            .prop_map(|(method, target, body)| Request {
                method,
                target,
                body,
            })
    }

    /// The request as sent, and as it should reach hyper.
    fn render(request: &Request) -> (Vec<u8>, Vec<u8>) {
        let mut expected_target = b"/".to_vec();
        let mut query = false;
        for &b in &request.target {
            let table = if query { &QUERY_ESCAPES } else { &PATH_ESCAPES };
            if table[usize::from(b)] {
                expected_target.extend_from_slice(&percent(b));
            } else {
                expected_target.push(b);
            }
            query |= b == b'?';
        }
        let tail = head_and_body(&request.body);
        let line = |target: &[u8]| {
            [
                request.method.as_bytes(),
                b" ",
                target,
                b" HTTP/1.1\r\nX-Note: \xE9\r\n",
            ]
            .concat()
        };
        let sent_target = [b"/".as_slice(), &request.target].concat();
        (
            [line(&sent_target), tail.clone()].concat(),
            [line(&expected_target), tail].concat(),
        )
    }

    fn head_and_body(body: &Body) -> Vec<u8> {
        match body {
            Body::None => b"\r\n".to_vec(),
            Body::Length(bytes) => [
                format!("Content-Length: {}\r\n\r\n", bytes.len()).as_bytes(),
                bytes,
            ]
            .concat(),
            Body::Chunked(chunks, trailer) => {
                let mut out = b"Transfer-Encoding: chunked\r\n\r\n".to_vec();
                for (data, extension) in chunks {
                    let ext: &[u8] = if *extension { b";a=\"\xE9\" " } else { b"" };
                    out.extend_from_slice(format!("{:x}", data.len()).as_bytes());
                    out.extend_from_slice(ext);
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(data);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n");
                if !trailer.is_empty() {
                    out.extend_from_slice(b"X-T: ");
                    out.extend_from_slice(trailer);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"\r\n");
                out
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn a_pipelined_stream_encodes_alike_however_it_is_split(
            requests in prop::collection::vec(request(), 1..5),
            cuts in prop::collection::vec(0usize..600, 0..8),
            read_size in 1usize..40,
        ) {
            let (sent, expected): (Vec<_>, Vec<_>) = requests.iter().map(render).unzip();
            let (sent, expected) = (sent.concat(), expected.concat());
            let mut cuts = cuts;
            cuts.sort_unstable();
            let whole = encode_all(&sent);
            prop_assert_eq!(&whole, &expected);
            prop_assert_eq!(&fed_in_pieces(&sent, &cuts), &whole);
            prop_assert_eq!(&read_through_stream(&sent, &cuts, read_size), &whole);
        }
    }
}
