//! Deliberate deviations, for users testing their own clients and for the
//! suite's self-test (`--fault NAME`, `--list-faults`).
//!
//! A fault is data applied *around* the model: it changes the rules handed
//! to [`crate::model::pipeline::decide`], the caller or server it sees, the
//! operation or body it gets, or the outcome and response it produced. The
//! model itself is never changed. Transport faults that need a socket
//! (latency, reset) are applied by the listener; rates are drawn from a
//! generator seeded by `--seed`, so a sequential client sees the same faults
//! on every run.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::model::Metadata;
use crate::model::caller::Caller;
use crate::model::outcome::{Outcome, OutcomeKind, Success};
use crate::model::pipeline::{ApiRules, Op};
use crate::model::rules::{CharSet, LengthUnit};
use crate::model::server::{ServerRecord, VmState};

/// One fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    PutMerges,
    KeyLimitOffByOne,
    ValueLimitOffByOne,
    BytesNotChars,
    AllowShelvedWrites,
    IgnoreLock,
    QuotaOffByOne,
    WrongConflictCode,
    MissingRequestId,
    LostUpdate,
    MergeReturnsRequest,
    DeleteMissing204,
    CharsetAllowsSlashOrUnicode,
    CaseInsensitiveKeys,
    ReaderCanWrite,
    CrossProjectVisible,
    /// `POST /servers` stores its metadata unchecked (spec §3.4).
    CreateSkipsMetadataRules,
    /// Added latency in milliseconds, on every request.
    Latency(u64),
    /// Fraction of requests whose connection is closed without an answer.
    Reset(f64),
    /// Fraction of requests answered 500.
    Error500(f64),
    TruncateBody,
    NonJsonBody,
    /// The caller's credential is echoed back (see [`echo_secret`]).
    EchoToken,
    LoneSurrogate,
}

/// A fault's name, parameter, kind and one-line description
/// (`--list-faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultInfo {
    pub name: &'static str,
    /// `Some("MS")` when the fault takes `NAME=VALUE`.
    pub parameter: Option<&'static str>,
    pub kind: FaultKind,
    pub description: &'static str,
}

/// What a fault breaks: the metadata API's rules (the fuzzer's self-test
/// must find every one), the rules of another writer of the map that only
/// the catalogue's cases exercise (the fuzzer creates no servers), or the
/// transport (noise a client must survive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultKind {
    Semantic,
    Catalogue,
    Transport,
}

const CATALOGUE: &[FaultInfo] = &[
    info(
        "put-merges",
        None,
        "PUT .../metadata merges into the map instead of replacing it",
    ),
    info(
        "key-limit-off-by-one",
        None,
        "keys of max_length + 1 characters are accepted",
    ),
    info(
        "value-limit-off-by-one",
        None,
        "values of max_length + 1 characters are accepted",
    ),
    info(
        "bytes-not-chars",
        None,
        "key and value lengths are counted in UTF-8 bytes, not characters",
    ),
    info(
        "allow-shelved-writes",
        None,
        "metadata writes succeed on shelved and shelved_offloaded servers",
    ),
    info(
        "ignore-lock",
        None,
        "a locked server accepts metadata writes from non-admins",
    ),
    info(
        "quota-off-by-one",
        None,
        "one item more than the quota is accepted",
    ),
    info(
        "wrong-conflict-code",
        None,
        "lock and state conflicts answer 400 badRequest instead of 409",
    ),
    info(
        "missing-request-id",
        None,
        "responses carry no x-openstack-request-id / x-compute-request-id",
    ),
    info(
        "lost-update",
        None,
        "writes read, wait for a concurrent write to read too, then write: concurrent merges lose keys",
    ),
    info(
        "merge-returns-request",
        None,
        "POST .../metadata answers the request map, not the merged map",
    ),
    info(
        "delete-missing-204",
        None,
        "deleting a key that is not there answers 204 instead of 404",
    ),
    info(
        "charset-allows-slash-or-unicode",
        None,
        "keys may contain '/' and any non-ASCII character",
    ),
    info(
        "case-insensitive-keys",
        None,
        "keys are folded to lower case before they are stored or looked up",
    ),
    info(
        "reader-can-write",
        None,
        "the reader role may write metadata (policy not enforced)",
    ),
    info(
        "cross-project-visible",
        None,
        "another project's servers are visible and writable by non-admins",
    ),
    FaultInfo {
        kind: FaultKind::Catalogue,
        ..info(
            "create-skips-metadata-rules",
            None,
            "POST /servers stores its metadata unchecked (charset, lengths, value types, quota); the metadata API still checks",
        )
    },
    transport(
        "latency",
        Some("MS"),
        "every response is delayed by MS milliseconds",
    ),
    transport(
        "reset",
        Some("RATE"),
        "a fraction RATE (0-1) of connections is closed without an answer",
    ),
    transport(
        "error500",
        Some("RATE"),
        "a fraction RATE (0-1) of requests is answered 500 computeFault",
    ),
    transport(
        "truncate-body",
        None,
        "response bodies are cut in half (Content-Length matches the cut body)",
    ),
    transport(
        "non-json-body",
        None,
        "response bodies are replaced by an HTML page while Content-Type stays JSON",
    ),
    transport(
        "echo-token",
        None,
        "the caller's token (or AK/SK secret key) is echoed in an X-Echo-Token header and in every error message",
    ),
    transport(
        "lone-surrogate",
        None,
        "metadata answers end their first value with an unpaired surrogate escape (\\udc80), as a Python endpoint that stored one writes it",
    ),
];

const fn info(
    name: &'static str,
    parameter: Option<&'static str>,
    description: &'static str,
) -> FaultInfo {
    FaultInfo {
        name,
        parameter,
        kind: FaultKind::Semantic,
        description,
    }
}

const fn transport(
    name: &'static str,
    parameter: Option<&'static str>,
    description: &'static str,
) -> FaultInfo {
    FaultInfo {
        kind: FaultKind::Transport,
        ..info(name, parameter, description)
    }
}

/// Every fault the mock knows.
pub fn list_faults() -> &'static [FaultInfo] {
    CATALOGUE
}

/// Why a `--fault` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown fault '{0}' (see --list-faults)")]
    Unknown(String),
    #[error("fault '{name}' needs a value: write {name}={parameter}")]
    MissingValue { name: String, parameter: String },
    #[error("fault '{name}' takes no value")]
    UnexpectedValue { name: String },
    #[error("fault '{name}': '{value}' is not a valid {expected}")]
    BadValue {
        name: String,
        value: String,
        expected: &'static str,
    },
}

impl std::str::FromStr for Fault {
    type Err = FaultError;

    fn from_str(text: &str) -> Result<Fault, FaultError> {
        let (name, value) = match text.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (text.trim(), None),
        };
        let info = CATALOGUE
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| FaultError::Unknown(name.to_string()))?;
        match (info.parameter, value) {
            (Some(parameter), None) => Err(FaultError::MissingValue {
                name: name.into(),
                parameter: parameter.into(),
            }),
            (None, Some(_)) => Err(FaultError::UnexpectedValue { name: name.into() }),
            (Some(_), Some(value)) => parameterised(name, value),
            (None, None) => plain(name).ok_or_else(|| FaultError::Unknown(name.to_string())),
        }
    }
}

fn parameterised(name: &str, value: &str) -> Result<Fault, FaultError> {
    let bad = |expected| FaultError::BadValue {
        name: name.into(),
        value: value.into(),
        expected,
    };
    if name == "latency" {
        return value
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms <= 60_000)
            .map(Fault::Latency)
            .ok_or_else(|| bad("number of milliseconds (0-60000)"));
    }
    let rate = value
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| bad("rate between 0 and 1"))?;
    Ok(if name == "reset" {
        Fault::Reset(rate)
    } else {
        Fault::Error500(rate)
    })
}

fn plain(name: &str) -> Option<Fault> {
    Some(match name {
        "put-merges" => Fault::PutMerges,
        "key-limit-off-by-one" => Fault::KeyLimitOffByOne,
        "value-limit-off-by-one" => Fault::ValueLimitOffByOne,
        "bytes-not-chars" => Fault::BytesNotChars,
        "allow-shelved-writes" => Fault::AllowShelvedWrites,
        "ignore-lock" => Fault::IgnoreLock,
        "quota-off-by-one" => Fault::QuotaOffByOne,
        "wrong-conflict-code" => Fault::WrongConflictCode,
        "missing-request-id" => Fault::MissingRequestId,
        "lost-update" => Fault::LostUpdate,
        "merge-returns-request" => Fault::MergeReturnsRequest,
        "delete-missing-204" => Fault::DeleteMissing204,
        "charset-allows-slash-or-unicode" => Fault::CharsetAllowsSlashOrUnicode,
        "case-insensitive-keys" => Fault::CaseInsensitiveKeys,
        "reader-can-write" => Fault::ReaderCanWrite,
        "cross-project-visible" => Fault::CrossProjectVisible,
        "create-skips-metadata-rules" => Fault::CreateSkipsMetadataRules,
        "truncate-body" => Fault::TruncateBody,
        "non-json-body" => Fault::NonJsonBody,
        "echo-token" => Fault::EchoToken,
        "lone-surrogate" => Fault::LoneSurrogate,
        _ => return None,
    })
}

impl Fault {
    /// The name `--fault` takes (without the value).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::PutMerges => "put-merges",
            Fault::KeyLimitOffByOne => "key-limit-off-by-one",
            Fault::ValueLimitOffByOne => "value-limit-off-by-one",
            Fault::BytesNotChars => "bytes-not-chars",
            Fault::AllowShelvedWrites => "allow-shelved-writes",
            Fault::IgnoreLock => "ignore-lock",
            Fault::QuotaOffByOne => "quota-off-by-one",
            Fault::WrongConflictCode => "wrong-conflict-code",
            Fault::MissingRequestId => "missing-request-id",
            Fault::LostUpdate => "lost-update",
            Fault::MergeReturnsRequest => "merge-returns-request",
            Fault::DeleteMissing204 => "delete-missing-204",
            Fault::CharsetAllowsSlashOrUnicode => "charset-allows-slash-or-unicode",
            Fault::CaseInsensitiveKeys => "case-insensitive-keys",
            Fault::ReaderCanWrite => "reader-can-write",
            Fault::CrossProjectVisible => "cross-project-visible",
            Fault::CreateSkipsMetadataRules => "create-skips-metadata-rules",
            Fault::Latency(_) => "latency",
            Fault::Reset(_) => "reset",
            Fault::Error500(_) => "error500",
            Fault::TruncateBody => "truncate-body",
            Fault::NonJsonBody => "non-json-body",
            Fault::EchoToken => "echo-token",
            Fault::LoneSurrogate => "lone-surrogate",
        }
    }
}

/// The active faults of one server, with the seeded generator for rates.
#[derive(Debug, Default)]
pub struct FaultSet {
    faults: Vec<Fault>,
    seed: u64,
    draws: AtomicU64,
}

impl FaultSet {
    pub fn new(faults: Vec<Fault>, seed: u64) -> FaultSet {
        FaultSet {
            faults,
            seed,
            draws: AtomicU64::new(0),
        }
    }

    pub fn has(&self, fault: &Fault) -> bool {
        self.faults.contains(fault)
    }

    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// The next number in `[0, 1)` of the seeded sequence (splitmix64).
    fn draw(&self) -> f64 {
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let mut z = self
            .seed
            .wrapping_add(n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn rate(&self, pick: impl Fn(&Fault) -> Option<f64>) -> Option<f64> {
        self.faults.iter().find_map(pick)
    }

    /// Whether this request's connection is to be reset.
    pub fn roll_reset(&self) -> bool {
        let rate = self.rate(|f| match f {
            Fault::Reset(r) => Some(*r),
            _ => None,
        });
        rate.is_some_and(|r| self.draw() < r)
    }

    /// Whether this request is to be answered 500.
    pub fn roll_error500(&self) -> bool {
        let rate = self.rate(|f| match f {
            Fault::Error500(r) => Some(*r),
            _ => None,
        });
        rate.is_some_and(|r| self.draw() < r)
    }

    /// Added latency, if any.
    pub fn latency(&self) -> Option<std::time::Duration> {
        self.faults.iter().find_map(|f| match f {
            Fault::Latency(ms) => Some(std::time::Duration::from_millis(*ms)),
            _ => None,
        })
    }

    /// The rules handed to the model.
    pub fn rules(&self, base: &ApiRules) -> ApiRules {
        let mut rules = base.clone();
        let meta = &mut rules.metadata;
        if self.has(&Fault::KeyLimitOffByOne) {
            meta.key.max_len = meta.key.max_len.saturating_add(1);
        }
        if self.has(&Fault::ValueLimitOffByOne) {
            meta.value.max_len = meta.value.max_len.saturating_add(1);
        }
        if self.has(&Fault::BytesNotChars) {
            meta.key.unit = LengthUnit::Bytes;
            meta.value.unit = LengthUnit::Bytes;
        }
        if self.has(&Fault::QuotaOffByOne) {
            meta.quota = meta.quota.map(|q| q.saturating_add(1));
        }
        if self.has(&Fault::CharsetAllowsSlashOrUnicode)
            && let Some(wider) = widened_charset(&meta.key.charset)
        {
            meta.key.charset = wider;
        }
        if self.has(&Fault::AllowShelvedWrites) {
            rules
                .write_states
                .extend([VmState::Shelved, VmState::ShelvedOffloaded]);
        }
        rules
    }

    /// The caller the model sees.
    pub fn caller(&self, mut caller: Caller) -> Caller {
        if self.has(&Fault::ReaderCanWrite) && !caller.may_write() && caller.may_read() {
            caller.roles.push("member".into());
        }
        caller
    }

    /// The server the model sees (borrowed unless a fault changes it).
    pub fn server<'s>(
        &self,
        server: &'s ServerRecord,
        caller: Option<&Caller>,
    ) -> Cow<'s, ServerRecord> {
        let mut seen = Cow::Borrowed(server);
        if self.has(&Fault::IgnoreLock) {
            seen.to_mut().locked = false;
        }
        if let (true, Some(caller)) = (self.has(&Fault::CrossProjectVisible), caller) {
            seen.to_mut().project_id = caller.project.clone();
        }
        seen
    }

    /// The operation the model sees.
    pub fn op(&self, op: Op) -> Op {
        let op = match op {
            Op::Replace if self.has(&Fault::PutMerges) => Op::Merge,
            other => other,
        };
        if !self.has(&Fault::CaseInsensitiveKeys) {
            return op;
        }
        match op {
            Op::Get(k) => Op::Get(k.to_lowercase()),
            Op::Set(k) => Op::Set(k.to_lowercase()),
            Op::Delete(k) => Op::Delete(k.to_lowercase()),
            other => other,
        }
    }

    /// The body the model sees: with `case-insensitive-keys`, the keys of
    /// the `metadata`/`meta` wrapper are folded to lower case.
    pub fn body(&self, body: Vec<u8>) -> Vec<u8> {
        if !self.has(&Fault::CaseInsensitiveKeys) {
            return body;
        }
        let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
            return body;
        };
        for wrapper in ["metadata", "meta"] {
            if let Some(Value::Object(map)) = value.get_mut(wrapper) {
                let folded = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.to_lowercase(), v))
                    .collect();
                *map = folded;
            }
        }
        value.to_string().into_bytes()
    }

    /// The outcome the client gets. `request` is the request's own map, for
    /// `merge-returns-request`.
    pub fn outcome(
        &self,
        op: &Op,
        outcome: Outcome,
        request: impl FnOnce() -> Option<Metadata>,
    ) -> Outcome {
        match (op, outcome) {
            (
                _,
                Outcome::Refused {
                    kind: OutcomeKind::Locked | OutcomeKind::StateConflict,
                    message,
                },
            ) if self.has(&Fault::WrongConflictCode) => {
                Outcome::refused(OutcomeKind::InvalidInput, message)
            }
            (
                Op::Delete(_),
                Outcome::Refused {
                    kind: OutcomeKind::ItemNotFound,
                    ..
                },
            ) if self.has(&Fault::DeleteMissing204) => Outcome::Success(Success::Empty),
            (Op::Merge, Outcome::Success(Success::Metadata(merged)))
                if self.has(&Fault::MergeReturnsRequest) =>
            {
                Outcome::Success(Success::Metadata(request().unwrap_or(merged)))
            }
            (_, other) => other,
        }
    }
}

/// `response` with `secret` (the caller's credential) echoed, as a careless
/// endpoint does in its error messages (`echo-token`): in an `X-Echo-Token`
/// header, and appended to every `message` of an error body.
pub fn echo_secret(response: &mut crate::serve::message::HttpResponse, secret: &str) {
    response
        .headers
        .push(("X-Echo-Token".into(), secret.to_string()));
    if response.status < 400 {
        return;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&response.body) else {
        return;
    };
    append_to_messages(&mut body, &format!(" (credential {secret})"));
    response.body = body.to_string().into_bytes();
}

fn append_to_messages(value: &mut Value, tail: &str) {
    match value {
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                match field {
                    Value::String(text) if name == "message" || name == "error_msg" => {
                        text.push_str(tail)
                    }
                    other => append_to_messages(other, tail),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| append_to_messages(i, tail)),
        _ => {}
    }
}

/// The key charset plus `/` and every non-ASCII character (allow-lists only).
fn widened_charset(base: &CharSet) -> Option<CharSet> {
    let described = base.describe();
    let inner = described.strip_prefix('[')?.strip_suffix(']')?;
    if inner.starts_with('^') {
        return None;
    }
    CharSet::new(&format!(r"{inner}/\x{{80}}-\x{{10FFFF}}"), false).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile;

    #[test]
    fn every_listed_fault_parses() {
        assert!(list_faults().len() >= 17);
        for info in list_faults() {
            let text = match info.parameter {
                Some("MS") => format!("{}=5", info.name),
                Some(_) => format!("{}=0.5", info.name),
                None => info.name.to_string(),
            };
            let fault: Fault = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(fault.name(), info.name, "{text} parses to another fault");
        }
    }

    #[test]
    fn bad_fault_arguments_say_why() {
        assert_eq!(
            "nope".parse::<Fault>(),
            Err(FaultError::Unknown("nope".into()))
        );
        assert!(matches!(
            "latency".parse::<Fault>(),
            Err(FaultError::MissingValue { .. })
        ));
        assert!(matches!(
            "reset=2".parse::<Fault>(),
            Err(FaultError::BadValue { .. })
        ));
        assert!(matches!(
            "ignore-lock=1".parse::<Fault>(),
            Err(FaultError::UnexpectedValue { .. })
        ));
        assert_eq!("error500=0.25".parse::<Fault>(), Ok(Fault::Error500(0.25)));
    }

    #[test]
    fn rule_faults_change_only_the_rules_handed_over() {
        let nova = profile::builtin("nova").expect("nova");
        let faults = FaultSet::new(
            vec![
                Fault::KeyLimitOffByOne,
                Fault::QuotaOffByOne,
                Fault::CharsetAllowsSlashOrUnicode,
            ],
            0,
        );
        let rules = faults.rules(&nova.rules);
        assert_eq!(rules.metadata.key.max_len, 256);
        assert_eq!(rules.metadata.quota, Some(129));
        assert!(rules.metadata.key.check("a/é").is_ok());
        assert!(nova.rules.metadata.key.check("a/é").is_err());
    }

    #[test]
    fn seeded_draws_repeat() {
        let a = FaultSet::new(vec![Fault::Error500(0.5)], 7);
        let b = FaultSet::new(vec![Fault::Error500(0.5)], 7);
        let seq_a: Vec<bool> = (0..64).map(|_| a.roll_error500()).collect();
        let seq_b: Vec<bool> = (0..64).map(|_| b.roll_error500()).collect();
        assert_eq!(seq_a, seq_b);
        let hits = seq_a.iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits} of 64");
    }

    #[test]
    fn outcome_faults() {
        let faults = FaultSet::new(vec![Fault::WrongConflictCode, Fault::DeleteMissing204], 0);
        let locked = Outcome::refused(OutcomeKind::Locked, "Instance x is locked");
        assert_eq!(
            faults.outcome(&Op::Merge, locked, || None).kind(),
            OutcomeKind::InvalidInput
        );
        let missing = Outcome::refused(OutcomeKind::ItemNotFound, "Metadata item was not found");
        assert_eq!(
            faults.outcome(&Op::Delete("k".into()), missing, || None),
            Outcome::Success(Success::Empty)
        );
    }
}
