//! Huawei AK/SK request signing, `SDK-HMAC-SHA256` (spec §7.4), for both
//! sides: [`sign`] gives a client the headers to add, [`verify`] lets the
//! mock server check a request and learn which access key made it.
//!
//! Pure: no I/O, and no clock inside [`sign`] or [`verify`]: the caller
//! passes the signing date (client) or the current time (server), e.g.
//! [`SdkDate::now`]. Both sides build the canonical request with
//! the same functions, so what one signs the other verifies.
//!
//! Canonical request = `METHOD\nCanonicalURI\nCanonicalQuery\n
//! CanonicalHeaders\nSignedHeaders\nHexSHA256(body)`; string to sign =
//! `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex SHA-256 of the canonical request>`;
//! signature = hex HMAC-SHA256 keyed with the SK bytes (no key derivation).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, percent_decode, percent_encode};
use sha2::{Digest, Sha256};

use crate::endpoint::http::RecordedRequest;

/// The algorithm name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// Header carrying the signing date.
pub const DATE_HEADER: &str = "X-Sdk-Date";
/// Header whose value, when present, replaces the body hash (the Go SDK
/// sends `UNSIGNED-PAYLOAD` for non-JSON bodies).
pub const CONTENT_SHA256_HEADER: &str = "X-Sdk-Content-Sha256";
/// The gateway refuses dates further than this from its clock (seconds).
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// Every byte but the RFC 3986 unreserved set is encoded, with upper-case
/// hex (spec §7.4, CanonicalURI and CanonicalQuery).
const ENCODE: &AsciiSet = super::NOT_UNRESERVED;

type HmacSha256 = Hmac<Sha256>;

/// The parts of an HTTP request that signing covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path as sent on the wire (percent-encoded), without the query.
    pub path: &'a str,
    /// The raw query string as sent, without `?` (`""` when there is none).
    pub query: &'a str,
    /// Every header the request carries (names in any case).
    pub headers: &'a [(String, String)],
    /// The exact body bytes sent.
    pub body: &'a [u8],
}

/// An access key and its secret.
#[derive(Debug, Clone, Copy)]
pub struct AccessKey<'a> {
    pub ak: &'a str,
    pub sk: &'a str,
}

/// A signing date: UTC, whole seconds, shown as `YYYYMMDDTHHMMSSZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SdkDate {
    unix_secs: i64,
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the request already carries a `{0}` header; sign an unsigned request")]
    AlreadySigned(&'static str),
    #[error("header `{0}` is to be signed but the request does not carry it")]
    MissingHeader(String),
    #[error("header `{0}` appears more than once; a signed header must be unique")]
    DuplicateHeader(String),
    #[error("`{0}` is not a valid header name to sign")]
    BadHeaderName(String),
    #[error("the access key must be 1-128 ASCII letters or digits")]
    BadAccessKey,
    #[error("the secret key cannot be used as an HMAC key")]
    BadSecretKey,
    #[error("`{0}` is not an absolute http(s) URL with a host")]
    BadUrl(String),
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no `Authorization` header")]
    MissingAuthorization,
    #[error("malformed `Authorization` header: {0}")]
    MalformedAuthorization(&'static str),
    #[error("unsupported signing algorithm `{0}` (expected {ALGORITHM})")]
    UnsupportedAlgorithm(String),
    #[error("no `X-Sdk-Date` header")]
    MissingDate,
    #[error("`X-Sdk-Date` is not a date of the form YYYYMMDDTHHMMSSZ")]
    MalformedDate,
    #[error("`x-sdk-date` is not among the signed headers")]
    DateNotSigned,
    #[error("signed header `{0}` is missing from the request")]
    MissingSignedHeader(String),
    #[error("signed header `{0}` appears more than once")]
    DuplicateSignedHeader(String),
    #[error("header `{0}` appears more than once")]
    DuplicateHeader(String),
    #[error("signature expired: `X-Sdk-Date` is {skew_secs} s away from the server's clock")]
    Skew { skew_secs: i64 },
    #[error("unknown access key")]
    UnknownAccessKey,
    #[error("signature does not match")]
    BadSignature,
}

/// The three fields of an `Authorization: SDK-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access: String,
    /// Lower-case, sorted, unique.
    pub signed_headers: Vec<String>,
    /// Lower-case hex, 64 characters.
    pub signature: String,
}

/// Sign a request: returns the headers to add, `X-Sdk-Date` then
/// `Authorization`.
///
/// `signed` names the headers to cover besides `x-sdk-date`, which is
/// always covered (see [`recommended_signed_headers`]). Each must be present
/// in `request.headers` exactly once.
pub fn sign(
    request: &RequestParts<'_>,
    key: &AccessKey<'_>,
    date: SdkDate,
    signed: &[&str],
) -> Result<Vec<(String, String)>, SignError> {
    refuse_signed(request.headers)?;
    if !is_access_key(key.ak) {
        return Err(SignError::BadAccessKey);
    }
    let names = signed_header_list(signed)?;
    let date_text = date.to_string();
    let mut headers = request.headers.to_vec();
    headers.push((DATE_HEADER.to_string(), date_text.clone()));
    let canonical_headers = canonical_headers(&headers, &names).map_err(|e| match e {
        HeaderError::Missing(n) => SignError::MissingHeader(n),
        HeaderError::Duplicate(n) => SignError::DuplicateHeader(n),
    })?;
    let canonical = canonical_request(request, &canonical_headers, &names, &headers);
    let mac = keyed_mac(key.sk, &date_text, &canonical).map_err(|_| SignError::BadSecretKey)?;
    let auth = Authorization {
        access: key.ak.to_string(),
        signed_headers: names,
        signature: hex::encode(mac.finalize().into_bytes()),
    };
    Ok(vec![
        (DATE_HEADER.to_string(), date_text),
        ("Authorization".to_string(), auth.to_string()),
    ])
}

/// Verify a signed request at time `now`; on success, the access key that
/// signed it. `lookup_sk` maps an access key to its secret.
///
/// Checks, in order: the `Authorization` header's form, the date header (it
/// must be signed and within [`MAX_SKEW_SECS`] of `now`), the access key,
/// then the signature (compared in constant time).
pub fn verify(
    request: &RequestParts<'_>,
    now: SdkDate,
    lookup_sk: impl FnOnce(&str) -> Option<String>,
) -> Result<String, VerifyError> {
    let auth = single_header(request.headers, "authorization")?
        .ok_or(VerifyError::MissingAuthorization)
        .and_then(Authorization::parse)?;
    let date = single_header(request.headers, DATE_HEADER)?
        .ok_or(VerifyError::MissingDate)
        .and_then(|text| SdkDate::parse(text).ok_or(VerifyError::MalformedDate))?;
    if !auth.signed_headers.iter().any(|n| n == "x-sdk-date") {
        return Err(VerifyError::DateNotSigned);
    }
    let skew_secs = (date.unix_secs - now.unix_secs).abs();
    if skew_secs > MAX_SKEW_SECS {
        return Err(VerifyError::Skew { skew_secs });
    }
    let sk = lookup_sk(&auth.access).ok_or(VerifyError::UnknownAccessKey)?;
    let canonical_headers =
        canonical_headers(request.headers, &auth.signed_headers).map_err(|e| match e {
            HeaderError::Missing(n) => VerifyError::MissingSignedHeader(n),
            HeaderError::Duplicate(n) => VerifyError::DuplicateSignedHeader(n),
        })?;
    let canonical = canonical_request(
        request,
        &canonical_headers,
        &auth.signed_headers,
        request.headers,
    );
    let tag = hex::decode(&auth.signature).map_err(|_| VerifyError::BadSignature)?;
    let mac =
        keyed_mac(&sk, &date.to_string(), &canonical).map_err(|_| VerifyError::BadSignature)?;
    mac.verify_slice(&tag)
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(auth.access)
}

/// Sign a request the transport is about to send: adds `Host` (taken from
/// the URL, as the HTTP client would send it) when missing, then
/// `X-Sdk-Date` and `Authorization`, signing the recommended headers.
pub fn sign_recorded(
    request: &mut RecordedRequest,
    key: &AccessKey<'_>,
    date: SdkDate,
) -> Result<(), SignError> {
    let url =
        reqwest::Url::parse(&request.url).map_err(|_| SignError::BadUrl(request.url.clone()))?;
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => return Err(SignError::BadUrl(request.url.clone())),
    };
    if !request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("host"))
    {
        request.headers.push(("Host".to_string(), host));
    }
    // A path with dot segments is sent verbatim (see `Transport::send`),
    // so sign it as written, not as the URL parser normalises it.
    let path = if crate::endpoint::http::has_dot_segment(&request.url) {
        crate::endpoint::http::raw_path(&request.url)
    } else {
        url.path()
    };
    let parts = RequestParts {
        method: &request.method,
        path,
        query: url.query().unwrap_or(""),
        headers: &request.headers,
        body: &request.body,
    };
    let signed = recommended_signed_headers(&request.headers);
    let added = sign(&parts, key, date, &signed)?;
    request.headers.extend(added);
    Ok(())
}

/// The headers spec §7.4 recommends signing: `host`, plus `x-project-id`
/// and `x-security-token` when the request carries them (`x-sdk-date` is
/// added by [`sign`]).
pub fn recommended_signed_headers(headers: &[(String, String)]) -> Vec<&'static str> {
    ["host", "x-project-id", "x-security-token"]
        .into_iter()
        .filter(|name| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
        .collect()
}

/// The canonical request (spec §7.4 step 4) for the given signed header
/// names (lower-case, sorted). Exposed for diagnostics: the gateway echoes
/// its own canonical request when a signature fails.
pub fn canonical_request_text(
    request: &RequestParts<'_>,
    signed: &[String],
) -> Result<String, VerifyError> {
    let block = canonical_headers(request.headers, signed).map_err(|e| match e {
        HeaderError::Missing(n) => VerifyError::MissingSignedHeader(n),
        HeaderError::Duplicate(n) => VerifyError::DuplicateSignedHeader(n),
    })?;
    Ok(canonical_request(request, &block, signed, request.headers))
}

/// CanonicalURI: the decoded path split on `/`, each segment encoded, and a
/// `/` appended unless the result already ends with one.
pub fn canonical_uri(path: &str) -> String {
    let decoded: Vec<u8> = percent_decode(path.as_bytes()).collect();
    let mut out = decoded
        .split(|b| *b == b'/')
        .map(|segment| percent_encode(segment, ENCODE).to_string())
        .collect::<Vec<_>>()
        .join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// CanonicalQuery of a raw query string: pairs decoded (`+` is a space, as
/// in form encoding), sorted by name and then by value, re-encoded, joined
/// with `&`. A name without `=` has the empty value.
pub fn canonical_query(raw: &str) -> String {
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = raw
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (query_decode(name), query_decode(value)),
            None => (query_decode(pair), Vec::new()),
        })
        .collect();
    canonical_query_pairs(pairs)
}

/// CanonicalQuery of already decoded name/value pairs.
pub fn canonical_query_pairs(mut pairs: Vec<(Vec<u8>, Vec<u8>)>) -> String {
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                percent_encode(name, ENCODE),
                percent_encode(value, ENCODE)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl SdkDate {
    /// The date `unix_secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix(unix_secs: i64) -> SdkDate {
        SdkDate { unix_secs }
    }

    pub fn unix_secs(self) -> i64 {
        self.unix_secs
    }

    /// The current time (the one clock read in this module; callers that
    /// need determinism use [`SdkDate::from_unix`]).
    pub fn now() -> SdkDate {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        SdkDate::from_unix(secs)
    }

    /// The same instant as RFC 3339, `2019-11-15T03:36:55Z`.
    pub fn rfc3339(self) -> String {
        let days = self.unix_secs.div_euclid(86_400);
        let secs = self.unix_secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }

    /// Parse exactly `YYYYMMDDTHHMMSSZ` (16 characters, a real calendar date,
    /// no leap second). `None` for anything else.
    pub fn parse(text: &str) -> Option<SdkDate> {
        let b = text.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let digits = &b[range];
            digits.iter().all(u8::is_ascii_digit).then(|| {
                digits
                    .iter()
                    .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
            })
        };
        let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let date = SdkDate::from_unix(days * 86_400 + hour * 3600 + minute * 60 + second);
        // A day past the month's end (e.g. Feb 30) would roll over: refuse it.
        (date.to_string() == text).then_some(date)
    }
}

impl fmt::Display for SdkDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.unix_secs.div_euclid(86_400);
        let secs = self.unix_secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

impl Authorization {
    /// Parse `SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<a;b>, Signature=<hex>`
    /// strictly: that order, one space after the algorithm, `", "` between
    /// parts, sorted unique lower-case header names, 64 lower-case hex digits.
    pub fn parse(value: &str) -> Result<Authorization, VerifyError> {
        use VerifyError::MalformedAuthorization as Bad;
        let (algorithm, rest) = value
            .split_once(' ')
            .ok_or(Bad("expected `<algorithm> Access=…`"))?;
        if algorithm != ALGORITHM {
            return Err(VerifyError::UnsupportedAlgorithm(algorithm.to_string()));
        }
        let mut parts = rest.split(", ");
        let mut field = |name: &'static str| {
            parts
                .next()
                .and_then(|part| part.strip_prefix(name))
                .and_then(|part| part.strip_prefix('='))
                .ok_or(Bad("expected `Access=…, SignedHeaders=…, Signature=…`"))
        };
        let access = field("Access")?;
        let signed = field("SignedHeaders")?;
        let signature = field("Signature")?;
        if parts.next().is_some() {
            return Err(Bad("unexpected text after `Signature=…`"));
        }
        if !is_access_key(access) {
            return Err(Bad("`Access` must be 1-128 ASCII letters or digits"));
        }
        let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
        if !signed_headers.iter().all(|n| is_lower_header_name(n)) {
            return Err(Bad("`SignedHeaders` must list lower-case header names"));
        }
        if !signed_headers.windows(2).all(|w| w[0] < w[1]) {
            return Err(Bad("`SignedHeaders` must be sorted and without repeats"));
        }
        let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if signature.len() != 64 || !signature.bytes().all(is_hex) {
            return Err(Bad("`Signature` must be 64 lower-case hex digits"));
        }
        Ok(Authorization {
            access: access.to_string(),
            signed_headers,
            signature: signature.to_string(),
        })
    }
}

impl fmt::Display for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM} Access={}, SignedHeaders={}, Signature={}",
            self.access,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// A signed header that cannot be canonicalised.
enum HeaderError {
    Missing(String),
    Duplicate(String),
}

/// The six-line canonical request. `body_headers` is where
/// `X-Sdk-Content-Sha256` is looked up.
fn canonical_request(
    request: &RequestParts<'_>,
    canonical_headers: &str,
    signed: &[String],
    body_headers: &[(String, String)],
) -> String {
    let body_hash = body_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(CONTENT_SHA256_HEADER))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| hex_sha256(request.body));
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
        canonical_headers,
        signed.join(";"),
        body_hash
    )
}

/// `name:trimmed-value\n` for each signed header, in the given order.
fn canonical_headers(
    headers: &[(String, String)],
    signed: &[String],
) -> Result<String, HeaderError> {
    let mut out = String::new();
    for name in signed {
        let mut values = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v);
        let value = values
            .next()
            .ok_or_else(|| HeaderError::Missing(name.clone()))?;
        if values.next().is_some() {
            return Err(HeaderError::Duplicate(name.clone()));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(value.trim());
        out.push('\n');
    }
    Ok(out)
}

/// The HMAC over the string to sign, ready to finalize or verify.
fn keyed_mac(
    sk: &str,
    date: &str,
    canonical_request: &str,
) -> Result<HmacSha256, hmac::digest::InvalidLength> {
    let string_to_sign = format!(
        "{ALGORITHM}\n{date}\n{}",
        hex_sha256(canonical_request.as_bytes())
    );
    let mut mac = HmacSha256::new_from_slice(sk.as_bytes())?;
    mac.update(string_to_sign.as_bytes());
    Ok(mac)
}

/// Lower-cased, sorted, unique names to sign, `x-sdk-date` included.
fn signed_header_list(signed: &[&str]) -> Result<Vec<String>, SignError> {
    let mut names = vec!["x-sdk-date".to_string()];
    for name in signed {
        let lower = name.to_ascii_lowercase();
        if !is_lower_header_name(&lower) {
            return Err(SignError::BadHeaderName(name.to_string()));
        }
        names.push(lower);
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn refuse_signed(headers: &[(String, String)]) -> Result<(), SignError> {
    for (name, marker) in [
        ("authorization", "Authorization"),
        ("x-sdk-date", DATE_HEADER),
    ] {
        if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(SignError::AlreadySigned(marker));
        }
    }
    Ok(())
}

/// The value of a header that may appear at most once.
fn single_header<'h>(
    headers: &'h [(String, String)],
    name: &str,
) -> Result<Option<&'h str>, VerifyError> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(VerifyError::DuplicateHeader(name.to_ascii_lowercase()));
    }
    Ok(first)
}

fn is_access_key(ak: &str) -> bool {
    (1..=128).contains(&ak.len()) && ak.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An RFC 9110 token without upper-case letters.
fn is_lower_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

fn query_decode(text: &str) -> Vec<u8> {
    let spaced = text.replace('+', " ");
    percent_decode(spaced.as_bytes()).collect()
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01, proleptic Gregorian.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
