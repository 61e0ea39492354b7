//! What is compared of an answer, normalised so two peers can agree: the
//! status, the fault name and message of an error body, the headers that
//! matter, the body, with ids, request ids and endpoints replaced by
//! template names.
//!
//! A JSON body is compared as JSON (written again with sorted keys, so
//! Python's `", "` spacing and `\u00e9` escapes are not differences; the
//! order of a dict *inside a message* still is). A body or message longer
//! than [`LONG`] characters is kept as its SHA-256 only, so the recording
//! stays small.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::scenario::{Peer, Sent};
use crate::endpoint::error_body;
use crate::endpoint::http::RecordedResponse;
use sha2::{Digest, Sha256};

/// Headers compared (by lower-case name; several of one name are joined
/// with `, `, as HTTP reads them).
pub const COMPARED_HEADERS: &[&str] = &[
    "content-type",
    "openstack-api-version",
    "x-openstack-nova-api-version",
    "vary",
    "x-openstack-request-id",
    "x-compute-request-id",
    "www-authenticate",
    "allow",
];

/// One answer as compared (`status: None`: no answer).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    pub status: Option<u16>,
    /// The error body's one top-level key (`badRequest`, `itemNotFound`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

/// Bodies and messages longer than this (in characters) are kept as
/// `sha256:<hex> (<n> chars)`.
pub const LONG: usize = 1024;

/// `text`, or its digest when it is longer than [`LONG`].
fn kept(text: String) -> String {
    let chars = text.chars().count();
    if chars <= LONG {
        return text;
    }
    format!(
        "sha256:{} ({chars} chars)",
        hex::encode(Sha256::digest(text.as_bytes()))
    )
}

/// A JSON body written again (sorted keys, no spacing); other text as is.
fn canonical(text: String) -> String {
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) => value.to_string(),
        Err(_) => text,
    }
}

/// A whole scenario as compared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioObservation {
    pub steps: Vec<Observation>,
    /// Each named server's read-back answer.
    pub stored: BTreeMap<String, Observation>,
}

impl ScenarioObservation {
    pub fn from_sent(peer: &Peer, sent: &Sent) -> ScenarioObservation {
        ScenarioObservation {
            steps: sent
                .steps
                .iter()
                .map(|r| observe(peer, r.as_ref()))
                .collect(),
            stored: sent
                .stored
                .iter()
                .map(|(s, r)| (s.clone(), observe(peer, r.as_ref())))
                .collect(),
        }
    }
}

static REQUEST_ID: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        .expect("a fixed pattern")
});

static UUID: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        .expect("a fixed pattern")
});

/// `text` with the peer's names templated, then request ids and other
/// UUIDs replaced by their shape.
pub fn normalise(peer: &Peer, text: &str) -> String {
    let text = peer.templated(text);
    let text = REQUEST_ID.replace_all(&text, "req-<uuid>");
    UUID.replace_all(&text, "<uuid>").into_owned()
}

/// The compared form of one answer.
pub fn observe(peer: &Peer, response: Option<&RecordedResponse>) -> Observation {
    let Some(response) = response else {
        return Observation::default();
    };
    let body_text = normalise(peer, &String::from_utf8_lossy(&response.body));
    let (fault, message) = fault_of(&body_text);
    Observation {
        status: Some(response.status),
        fault,
        message: message.map(kept),
        headers: compared_headers(peer, response),
        body: kept(canonical(body_text)),
    }
}

fn compared_headers(peer: &Peer, response: &RecordedResponse) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &response.headers {
        let name = name.to_ascii_lowercase();
        if !COMPARED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = match name.as_str() {
            "www-authenticate" => auth_scheme(value),
            _ => normalise(peer, value),
        };
        out.entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// `WWW-Authenticate` without its URI, which is deployment configuration
/// (keystonemiddleware's `www_authenticate_uri`): `Keystone uri=<uri>`.
fn auth_scheme(value: &str) -> String {
    let scheme = value.split_whitespace().next().unwrap_or_default();
    match value.contains("uri=") {
        true => format!("{scheme} uri=<uri>"),
        false => scheme.to_string(),
    }
}

/// The fault name and message of an error body: Nova's `{"badRequest":
/// {"code": 400, "message": "..."}}`, keystonemiddleware's `{"error":
/// {"message": ...}}` (read by [`error_body`], the runner's reader).
fn fault_of(body: &str) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return (None, None);
    };
    let fault = error_body::fault_names(&value).into_iter().next();
    (fault, error_body::message(&value))
}

/// What may differ between two observations, coarsest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    Status,
    Fault,
    Message,
    /// The body beyond the fault and message.
    Body,
    Header,
    /// The map read back after the scenario.
    Stored,
}

/// One disagreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The 1-based step, `None` for a read-back.
    pub step: Option<usize>,
    pub field: Field,
    /// What differs: the header name, the server template, or empty.
    pub what: String,
    pub expected: String,
    pub got: String,
}

/// Every difference between `expected` (the recording) and `got`.
pub fn compare(expected: &ScenarioObservation, got: &ScenarioObservation) -> Vec<Difference> {
    let mut out = Vec::new();
    let steps = expected.steps.len().max(got.steps.len());
    let empty = Observation::default();
    for i in 0..steps {
        let e = expected.steps.get(i).unwrap_or(&empty);
        let g = got.steps.get(i).unwrap_or(&empty);
        compare_one(Some(i + 1), e, g, &mut out);
    }
    let servers: std::collections::BTreeSet<&String> =
        expected.stored.keys().chain(got.stored.keys()).collect();
    for server in servers {
        let e = expected.stored.get(server).unwrap_or(&empty);
        let g = got.stored.get(server).unwrap_or(&empty);
        if e.status != g.status || e.body != g.body {
            out.push(Difference {
                step: None,
                field: Field::Stored,
                what: server.clone(),
                expected: describe(e),
                got: describe(g),
            });
        }
    }
    out
}

fn compare_one(step: Option<usize>, e: &Observation, g: &Observation, out: &mut Vec<Difference>) {
    let mut push = |field, what: &str, expected: String, got: String| {
        out.push(Difference {
            step,
            field,
            what: what.to_string(),
            expected,
            got,
        });
    };
    if e.status != g.status {
        push(
            Field::Status,
            "",
            format!("{:?}", e.status),
            format!("{:?}", g.status),
        );
    }
    if e.fault != g.fault {
        push(
            Field::Fault,
            "",
            format!("{:?}", e.fault),
            format!("{:?}", g.fault),
        );
    } else if e.message != g.message {
        push(
            Field::Message,
            "",
            format!("{:?}", e.message),
            format!("{:?}", g.message),
        );
    } else if e.body != g.body {
        push(Field::Body, "", shorten(&e.body), shorten(&g.body));
    }
    let names: std::collections::BTreeSet<&String> =
        e.headers.keys().chain(g.headers.keys()).collect();
    for name in names {
        let (ev, gv) = (e.headers.get(name), g.headers.get(name));
        if ev != gv {
            push(Field::Header, name, format!("{ev:?}"), format!("{gv:?}"));
        }
    }
}

fn describe(o: &Observation) -> String {
    format!("{:?} {}", o.status, shorten(&o.body))
}

/// At most 300 characters of `text`.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(status: u16, body: &str, ct: &str) -> Observation {
        let (fault, message) = fault_of(body);
        Observation {
            status: Some(status),
            fault,
            message,
            headers: BTreeMap::from([("content-type".to_string(), ct.to_string())]),
            body: canonical(body.to_string()),
        }
    }

    #[test]
    fn each_field_is_told_apart() {
        let a = obs(
            400,
            r#"{"badRequest": {"code": 400, "message": "x"}}"#,
            "application/json",
        );
        let same = ScenarioObservation {
            steps: vec![a.clone()],
            stored: BTreeMap::new(),
        };
        assert!(compare(&same, &same).is_empty());
        let fields = |b: Observation| {
            let other = ScenarioObservation {
                steps: vec![b],
                stored: BTreeMap::new(),
            };
            compare(&same, &other)
                .into_iter()
                .map(|d| d.field)
                .collect::<Vec<_>>()
        };
        let message = obs(
            400,
            r#"{"badRequest": {"code": 400, "message": "y"}}"#,
            "application/json",
        );
        assert_eq!(fields(message), [Field::Message]);
        let status = obs(
            404,
            r#"{"itemNotFound": {"code": 404, "message": "x"}}"#,
            "text/plain",
        );
        assert_eq!(fields(status), [Field::Status, Field::Fault, Field::Header]);
        let body = obs(
            400,
            r#"{"badRequest": {"code": 401, "message": "x"}}"#,
            "application/json",
        );
        assert_eq!(fields(body), [Field::Body]);
        let spaced = obs(
            400,
            r#"{"badRequest":{"message":"x","code":400}}"#,
            "application/json",
        );
        assert_eq!(fields(spaced), []);
    }

    #[test]
    fn long_texts_are_digests() {
        assert_eq!(kept("ab".into()), "ab");
        let long = kept("x".repeat(LONG + 1));
        assert!(
            long.starts_with("sha256:") && long.ends_with("(1025 chars)"),
            "{long}"
        );
        assert_ne!(long, kept("y".repeat(LONG + 1)));
    }

    #[test]
    fn request_ids_and_uuids_are_shapes() {
        let peer = super::super::scenario::Peer {
            endpoint: "http://h:1/v2.1/0123456789abcdef0123456789abcdef".into(),
            project_id: "0123456789abcdef0123456789abcdef".into(),
            alt_project_id: "fedcba9876543210fedcba9876543210".into(),
            member: "m".into(),
            admin: "a".into(),
            reader: "r".into(),
            alt: "t".into(),
            servers: vec!["11111111-1111-1111-1111-111111111111".into()],
            alt_servers: vec![],
        };
        let text = "req-01431ef1-59ca-40cd-8c74-22333297344c 11111111-1111-1111-1111-111111111111 \
                    22222222-1111-1111-1111-111111111111";
        assert_eq!(normalise(&peer, text), "req-<uuid> {server0} <uuid>");
    }
}
