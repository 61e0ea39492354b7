//! The on-disk form of [`RunResults`] (`results.json`, format 3): the same
//! data, losslessly packed so a passing catalogue run stays small (format 1
//! wrote 6 MB, mostly the same header pairs and the same padded 100 KiB
//! bodies again and again).
//!
//! - Every header pair is written once, in the top-level `headers` table;
//!   a request or response lists the indices of its pairs, in order.
//! - A body (or `body_hex`) of [`SHARED_BODY`] characters or more is written
//!   once, in the top-level `bodies` table under `sha256:<hex>`, as
//!   segments: text, and runs of one character ([`RUN`] or more) as
//!   `{"repeat": {"char": " ", "times": 114000}}`; the exchange names it in
//!   `body_ref` (`body_hex_ref`).
//! - A request URL under the run's endpoint is written from the `/` after
//!   it (an absolute URL never starts with `/`).
//!
//! Loading undoes all three, so readers see [`RunResults`] exactly as the run
//! held it. Format 2 files (the same packing; a failure was a sentence,
//! `reason`, with the failing `step` beside it) still load: their sentence
//! becomes a [`super::failure::Cause::LegacyReason`], kept as written and never parsed.
//! `schemas/results.schema.json` describes format 3.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::results::{
    CaseResult, ExchangeRecord, FORMAT_VERSION, RequestRecord, ResponseRecord, RunInfo, RunResults,
    Summary,
};

/// The oldest format that still loads.
pub const OLDEST_FORMAT: u32 = 2;

/// Bodies this long (in characters) or longer go to the `bodies` table.
pub const SHARED_BODY: usize = 1024;

/// Runs of one character this long or longer become a `repeat` segment.
pub const RUN: usize = 64;

/// `results.json` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredResults {
    format_version: u32,
    run: RunInfo,
    summary: Summary,
    cases: Vec<CaseResult<StoredExchange>>,
    /// Every distinct header pair.
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// Long bodies by `sha256:<hex>` of their text.
    #[serde(default)]
    bodies: BTreeMap<String, Vec<Segment>>,
}

/// `results.json` as read, of any format from [`OLDEST_FORMAT`] on: the
/// cases are read in the shape of the file's format.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadResults {
    format_version: u32,
    run: RunInfo,
    summary: Summary,
    cases: Vec<serde_json::Value>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    bodies: BTreeMap<String, Vec<Segment>>,
}

/// A piece of a shared body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Segment {
    Text(String),
    Repeat { char: char, times: usize },
}

/// An exchange as written: request and response packed.
pub type StoredExchange = ExchangeRecord<StoredMessage, StoredMessage>;

/// A request (`method`, `url`) or a response (`status`), packed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    headers: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_hex_ref: Option<String>,
}

/// A `results.json` that cannot be unpacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredError {
    #[error(
        "results.json format {0}; this metaconform reads formats {OLDEST_FORMAT} to {FORMAT_VERSION}: re-run to write it again"
    )]
    Version(u32),
    #[error("a case of a format {version} results.json: {message}")]
    Case { version: u32, message: String },
    #[error("header index {0} is not in the `headers` table")]
    Header(usize),
    #[error("body {0} is not in the `bodies` table")]
    Body(String),
    #[error("a request lacks its {0}")]
    Missing(&'static str),
}

/// Packing state: the tables being built.
#[derive(Default)]
struct Packer {
    index: BTreeMap<(String, String), usize>,
    headers: Vec<(String, String)>,
    bodies: BTreeMap<String, Vec<Segment>>,
}

impl Packer {
    fn headers(&mut self, pairs: &[(String, String)]) -> Vec<usize> {
        pairs
            .iter()
            .map(|pair| {
                *self.index.entry(pair.clone()).or_insert_with(|| {
                    self.headers.push(pair.clone());
                    self.headers.len() - 1
                })
            })
            .collect()
    }

    /// `(inline, reference)`: short text stays inline.
    fn body(&mut self, text: &str) -> (Option<String>, Option<String>) {
        if text.chars().count() < SHARED_BODY {
            return (Some(text.to_string()), None);
        }
        let key = format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())));
        self.bodies
            .entry(key.clone())
            .or_insert_with(|| segments(text));
        (None, Some(key))
    }

    fn message(
        &mut self,
        headers: &[(String, String)],
        body: &str,
        hex: Option<&str>,
    ) -> StoredMessage {
        let (body, body_ref) = self.body(body);
        let (body_hex, body_hex_ref) = match hex {
            Some(hex) => self.body(hex),
            None => (None, None),
        };
        StoredMessage {
            headers: self.headers(headers),
            body: body.filter(|b| !b.is_empty()),
            body_ref,
            body_hex,
            body_hex_ref,
            ..StoredMessage::default()
        }
    }

    fn exchange(&mut self, e: ExchangeRecord, endpoint: &str) -> StoredExchange {
        let packer = std::cell::RefCell::new(self);
        let packed: Result<_, std::convert::Infallible> = e.try_map(
            |q| {
                Ok(StoredMessage {
                    method: Some(q.method),
                    url: Some(relative_url(q.url, endpoint)),
                    ..packer
                        .borrow_mut()
                        .message(&q.headers, &q.body, q.body_hex.as_deref())
                })
            },
            |r| {
                Ok(StoredMessage {
                    status: Some(r.status),
                    ..packer
                        .borrow_mut()
                        .message(&r.headers, &r.body, r.body_hex.as_deref())
                })
            },
        );
        let Ok(stored) = packed;
        stored
    }
}

impl From<RunResults> for StoredResults {
    fn from(results: RunResults) -> StoredResults {
        let mut packer = Packer::default();
        let endpoint = results.run.endpoint.clone();
        let cases = results
            .cases
            .into_iter()
            .map(|case| case.map_exchanges(|e| packer.exchange(e, &endpoint)))
            .collect();
        StoredResults {
            format_version: FORMAT_VERSION,
            run: results.run,
            summary: results.summary,
            cases,
            headers: packer.headers,
            bodies: packer.bodies,
        }
    }
}

impl TryFrom<ReadResults> for RunResults {
    type Error = StoredError;

    fn try_from(stored: ReadResults) -> Result<RunResults, StoredError> {
        let version = stored.format_version;
        if !(OLDEST_FORMAT..=FORMAT_VERSION).contains(&version) {
            return Err(StoredError::Version(version));
        }
        let tables = Tables {
            headers: &stored.headers,
            bodies: &stored.bodies,
            endpoint: &stored.run.endpoint,
        };
        let cases = stored
            .cases
            .into_iter()
            .map(|case| read_case(version, case)?.try_map_exchanges(|e| tables.exchange(e)))
            .collect::<Result<_, _>>()?;
        Ok(RunResults {
            format_version: stored.format_version,
            run: stored.run,
            summary: stored.summary,
            cases,
        })
    }
}

/// One case of a format `version` file, in today's shape.
fn read_case(
    version: u32,
    case: serde_json::Value,
) -> Result<CaseResult<StoredExchange>, StoredError> {
    let invalid = |e: serde_json::Error| StoredError::Case {
        version,
        message: e.to_string(),
    };
    if version == 2 {
        let old: format2::Case = serde_json::from_value(case).map_err(invalid)?;
        return Ok(old.upgrade());
    }
    serde_json::from_value(case).map_err(invalid)
}

/// The case of a format 2 file, frozen as it was written.
mod format2 {
    use serde::Deserialize;

    use super::super::results::{
        CaseResult, Cause, Failure, KnownStatus, Place, SkipKind, Verdict,
    };
    use super::StoredExchange;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Case {
        id: String,
        area: String,
        name: String,
        spec: String,
        verdict: Verdict,
        /// For fail and error: the failure as a sentence; for skip: why.
        reason: Option<String>,
        #[serde(default)]
        skip_kind: Option<SkipKind>,
        /// The 1-based step that failed, if a step did.
        #[serde(default)]
        step: Option<usize>,
        #[serde(default)]
        known_failure: Option<KnownStatus>,
        #[serde(default)]
        known_reason: Option<String>,
        duration_ms: f64,
        exchanges: Vec<StoredExchange>,
    }

    impl Case {
        /// Today's shape: a fail's or an error's sentence becomes a
        /// [`Cause::LegacyReason`] (not parsed), a skip's its `skip_reason`.
        pub fn upgrade(self) -> CaseResult<StoredExchange> {
            let step = self.step;
            let (failure, skip_reason) = match self.verdict {
                Verdict::Fail | Verdict::Error => {
                    let text = self.reason.unwrap_or_default();
                    let cause = Cause::LegacyReason { text, step };
                    (Some(Failure::new(Place::Case, cause)), None)
                }
                Verdict::Skip => (None, self.reason),
                Verdict::Pass => (None, None),
            };
            CaseResult {
                id: self.id,
                area: self.area,
                name: self.name,
                spec: self.spec,
                class: crate::run::results::CaseClass::Required,
                verdict: self.verdict,
                failure,
                skip_reason,
                skip_kind: self.skip_kind,
                known_failure: self.known_failure,
                known_reason: self.known_reason,
                duration_ms: self.duration_ms,
                exchanges: self.exchanges,
            }
        }
    }
}

/// What unpacking reads from.
struct Tables<'a> {
    headers: &'a [(String, String)],
    bodies: &'a BTreeMap<String, Vec<Segment>>,
    endpoint: &'a str,
}

impl Tables<'_> {
    fn headers(&self, indices: &[usize]) -> Result<Vec<(String, String)>, StoredError> {
        indices
            .iter()
            .map(|&i| self.headers.get(i).cloned().ok_or(StoredError::Header(i)))
            .collect()
    }

    fn text(
        &self,
        inline: Option<String>,
        key: Option<String>,
    ) -> Result<Option<String>, StoredError> {
        match key {
            None => Ok(inline),
            Some(key) => match self.bodies.get(&key) {
                Some(segments) => Ok(Some(join(segments))),
                None => Err(StoredError::Body(key)),
            },
        }
    }

    fn parts(&self, m: StoredMessage) -> Result<Parts, StoredError> {
        Ok(Parts {
            headers: self.headers(&m.headers)?,
            body: self.text(m.body, m.body_ref)?.unwrap_or_default(),
            body_hex: self.text(m.body_hex, m.body_hex_ref)?,
        })
    }

    fn exchange(&self, e: StoredExchange) -> Result<ExchangeRecord, StoredError> {
        e.try_map(|q| self.request(q), |r| self.response(r))
    }

    fn request(&self, mut m: StoredMessage) -> Result<RequestRecord, StoredError> {
        let method = m.method.take().ok_or(StoredError::Missing("method"))?;
        let url = m.url.take().ok_or(StoredError::Missing("url"))?;
        let parts = self.parts(m)?;
        Ok(RequestRecord {
            method,
            url: absolute_url(url, self.endpoint),
            headers: parts.headers,
            body: parts.body,
            body_hex: parts.body_hex,
        })
    }

    fn response(&self, m: StoredMessage) -> Result<ResponseRecord, StoredError> {
        let status = m.status.ok_or(StoredError::Missing("response status"))?;
        let parts = self.parts(m)?;
        Ok(ResponseRecord {
            status,
            headers: parts.headers,
            body: parts.body,
            body_hex: parts.body_hex,
        })
    }
}

struct Parts {
    headers: Vec<(String, String)>,
    body: String,
    body_hex: Option<String>,
}

/// `url` from the `/` after `endpoint`, when it is under it.
fn relative_url(url: String, endpoint: &str) -> String {
    match url.strip_prefix(endpoint) {
        Some(rest) if rest.starts_with('/') && !endpoint.is_empty() => rest.to_string(),
        _ => url,
    }
}

fn absolute_url(url: String, endpoint: &str) -> String {
    if url.starts_with('/') {
        format!("{endpoint}{url}")
    } else {
        url
    }
}

/// `text` as segments: runs of [`RUN`] or more of one character collapsed.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let mut times = 1;
        while chars.next_if_eq(&c).is_some() {
            times += 1;
        }
        if times >= RUN {
            if !plain.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut plain)));
            }
            out.push(Segment::Repeat { char: c, times });
        } else {
            plain.extend(std::iter::repeat_n(c, times));
        }
    }
    if !plain.is_empty() {
        out.push(Segment::Text(plain));
    }
    out
}

/// The text `segments` stand for.
pub fn join(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Text(t) => out.push_str(t),
            Segment::Repeat { char, times } => out.extend(std::iter::repeat_n(*char, *times)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::results::Purpose;

    #[test]
    fn segments_collapse_long_runs_and_join_back() {
        let text = format!("{{\"k\": \"v\"}}{}x{}", " ".repeat(5000), "é".repeat(63));
        let s = segments(&text);
        assert_eq!(
            s,
            [
                Segment::Text("{\"k\": \"v\"}".into()),
                Segment::Repeat {
                    char: ' ',
                    times: 5000
                },
                Segment::Text(format!("x{}", "é".repeat(63))),
            ]
        );
        assert_eq!(join(&s), text);
        assert!(segments("").is_empty());
    }

    fn exchange(url: &str, body: String, status: u16, request_id: &str) -> ExchangeRecord {
        ExchangeRecord {
            purpose: Purpose::Step,
            step: Some(1),
            token_var: Some("OS_TOKEN".into()),
            request: RequestRecord {
                method: "PUT".into(),
                url: url.into(),
                headers: vec![("X-Auth-Token".into(), "$OS_TOKEN".into())],
                body_hex: (body.len() < 100).then(|| hex::encode(&body)),
                body,
            },
            response: Some(ResponseRecord {
                status,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("x-openstack-request-id".into(), request_id.into()),
                ],
                body: String::new(),
                body_hex: None,
            }),
            error: None,
            elapsed_ms: 0.25,
        }
    }

    fn results() -> RunResults {
        let big = format!("{{\"metadata\": {{}}}}{}", " ".repeat(120_000));
        let case = CaseResult {
            id: "c".into(),
            area: "a".into(),
            name: "n".into(),
            spec: "2.6".into(),
            class: crate::run::results::CaseClass::Required,
            verdict: super::super::results::Verdict::Pass,
            failure: None,
            skip_reason: None,
            skip_kind: None,
            known_failure: None,
            known_reason: None,
            duration_ms: 1.0,
            exchanges: vec![
                exchange(
                    "http://h:1/v2.1/p/servers/s/metadata",
                    big.clone(),
                    413,
                    "req-1",
                ),
                exchange("http://h:1/v2.1/p/servers/s/metadata", big, 413, "req-2"),
                exchange("http://other/x", "{}".into(), 200, "req-3"),
            ],
        };
        let mut no_answer = case.clone();
        no_answer.exchanges[0].response = None;
        no_answer.exchanges[0].error = Some("timed out".into());
        RunResults {
            format_version: FORMAT_VERSION,
            run: RunInfo {
                dialect: "nova".into(),
                endpoint: "http://h:1/v2.1/p".into(),
                embedded: true,
                started_at: "2026-01-01T00:00:00Z".into(),
                duration_ms: 1.0,
                metaconform_version: "0".into(),
                interrupted: true,
                partition: None,
                target: None,
                microversion: None,
                strict: false,
            },
            summary: Summary::default(),
            cases: vec![case, no_answer],
        }
    }

    /// Each case as its own derive writes it, exchanges unpacked.
    fn plain(results: &RunResults) -> serde_json::Value {
        serde_json::to_value(&results.cases).unwrap()
    }

    #[test]
    fn packing_is_lossless_and_writes_long_bodies_and_header_pairs_once() {
        let original = results();
        let text = serde_json::to_string(&original).unwrap();
        let back: RunResults = serde_json::from_str(&text).unwrap();
        assert_eq!(plain(&back), plain(&original));
        assert!(text.len() < 5_000, "{} bytes", text.len());
        let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            stored["bodies"].as_object().unwrap().len(),
            1,
            "the long body, once"
        );
        assert_eq!(stored["headers"].as_array().unwrap().len(), 5);
        assert_eq!(
            stored["cases"][0]["exchanges"][0]["request"]["url"],
            "/servers/s/metadata"
        );
        assert_eq!(
            stored["cases"][0]["exchanges"][2]["request"]["url"],
            "http://other/x"
        );
    }

    #[test]
    fn a_dangling_reference_or_another_format_is_an_error() {
        let text = serde_json::to_string(&results()).unwrap();
        let mut stored: serde_json::Value = serde_json::from_str(&text).unwrap();
        stored["headers"] = serde_json::json!([]);
        let e = serde_json::from_value::<RunResults>(stored.clone()).unwrap_err();
        assert!(e.to_string().contains("header index 0"), "{e}");
        stored["format_version"] = serde_json::json!(1);
        let e = serde_json::from_value::<RunResults>(stored).unwrap_err();
        assert!(e.to_string().contains("results.json format 1"), "{e}");
    }

    #[test]
    fn urls_under_the_endpoint_are_relative_and_come_back() {
        let ep = "http://h:1/v2.1/p";
        for url in [
            "http://h:1/v2.1/p/servers/x",
            "http://h:1/v2.1/other/servers",
            "http://h:1/v2.1/px",
        ] {
            let stored = relative_url(url.to_string(), ep);
            assert_eq!(absolute_url(stored.clone(), ep), url);
        }
        assert_eq!(
            relative_url("http://h:1/v2.1/p/servers".into(), ep),
            "/servers"
        );
        assert_eq!(
            relative_url("http://h:1/v2.1/px".into(), ep),
            "http://h:1/v2.1/px"
        );
    }
}
