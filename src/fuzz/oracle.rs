//! Comparing what an endpoint answered with what the model decided.
//!
//! A [`Mismatch`] says what is wrong; its [`Mismatch::class`] is a short
//! stable label used, with the step kind, to deduplicate findings and to
//! check that a shrunk sequence still fails *for the same reason*.
//! Invariants beyond the model: no 5xx ever, JSON where JSON is promised,
//! the stored map equals the model's after every write (read-your-writes).

use std::fmt;

use serde_json::Value;

use crate::endpoint::lossless_json;

use super::linearize::Unexplained;

use crate::endpoint::http::Exchange;
use crate::model::Metadata;
use crate::model::outcome::{Outcome, OutcomeKind, Success};
use crate::model::pipeline::{Decision, Op};
use crate::profile::{ErrorShape, Profile};

/// What is wrong with one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// No HTTP answer at all.
    Transport(String),
    /// Any 5xx (spec §5.1: always a finding).
    ServerError { status: u16 },
    /// A status outside the profile's accepted set for the model's outcome.
    Status {
        expected: OutcomeKind,
        accepted: Vec<u16>,
        got: u16,
    },
    /// The success body differs from the model's.
    Body { expected: String, got: String },
    /// An error body that is not the JSON the dialect promises.
    NotJson { status: u16 },
    /// A header every response of the dialect carries is absent.
    MissingHeader(String),
    /// The stored map (read back) differs from the model's.
    Stored { expected: Metadata, got: Metadata },
    /// The stored map could not be read back.
    ReadBack(String),
    /// A server action succeeded where the model refuses it, or the reverse.
    Action { model_allows: bool, got: u16 },
    /// After an accepted action the server is not in the model's state.
    State { expected: String, got: String },
    /// No order of a concurrent step's writes leaves the stored map read
    /// back: acknowledged writes were lost.
    LostWrites {
        /// The acknowledged writes, as `op {body}`.
        acknowledged: Vec<String>,
        stored: Metadata,
    },
    /// No order of a concurrent step's writes gives the answers (`what`:
    /// `statuses` or `bodies`) the endpoint sent.
    NotLinearizable {
        what: &'static str,
        /// Each write with its answer.
        answers: Vec<String>,
    },
    /// The answer holds unpaired surrogate escapes (`\udc80`): the
    /// endpoint stored something no Unicode string can hold.
    LoneSurrogate { count: usize },
}

impl Mismatch {
    /// The same mismatch with every known secret replaced in the text it
    /// quotes from the endpoint.
    pub fn scrubbed(self, scrubber: &crate::endpoint::secrets::Scrubber) -> Mismatch {
        let s = |text: String| scrubber.text(&text);
        match self {
            Mismatch::Transport(e) => Mismatch::Transport(s(e)),
            Mismatch::Body { expected, got } => Mismatch::Body {
                expected: s(expected),
                got: s(got),
            },
            Mismatch::ReadBack(e) => Mismatch::ReadBack(s(e)),
            Mismatch::State { expected, got } => Mismatch::State {
                expected: s(expected),
                got: s(got),
            },
            Mismatch::Stored { expected, got } => Mismatch::Stored {
                expected: scrub_map(expected, scrubber),
                got: scrub_map(got, scrubber),
            },
            Mismatch::LostWrites {
                acknowledged,
                stored,
            } => Mismatch::LostWrites {
                acknowledged: acknowledged.into_iter().map(s).collect(),
                stored: scrub_map(stored, scrubber),
            },
            Mismatch::NotLinearizable { what, answers } => Mismatch::NotLinearizable {
                what,
                answers: answers.into_iter().map(s).collect(),
            },
            other => other,
        }
    }

    /// A short stable label: the same bug gives the same class.
    pub fn class(&self) -> String {
        match self {
            Mismatch::Transport(_) => "transport-error".into(),
            Mismatch::ServerError { status } => format!("5xx:{status}"),
            Mismatch::Status { expected, got, .. } => format!("status:{expected}->{got}"),
            Mismatch::Body { .. } => "body".into(),
            Mismatch::NotJson { status } => format!("not-json:{status}"),
            Mismatch::MissingHeader(name) => format!("missing-header:{name}"),
            Mismatch::Stored { .. } => "stored-map".into(),
            Mismatch::ReadBack(_) => "read-back".into(),
            Mismatch::Action { model_allows, got } => {
                format!(
                    "action:{}->{got}",
                    if *model_allows { "ok" } else { "refused" }
                )
            }
            Mismatch::State { .. } => "action-state".into(),
            Mismatch::LostWrites { .. } => "lost-writes".into(),
            Mismatch::NotLinearizable { what, .. } => format!("not-linearizable:{what}"),
            Mismatch::LoneSurrogate { .. } => "lone-surrogate".into(),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Transport(e) => write!(f, "no answer: {e}"),
            Mismatch::ServerError { status } => write!(f, "server error {status}"),
            Mismatch::Status {
                expected,
                accepted,
                got,
            } => write!(
                f,
                "model expects {expected} ({accepted:?}), endpoint answered {got}"
            ),
            Mismatch::Body { expected, got } => {
                write!(f, "body differs: expected {expected}, got {got}")
            }
            Mismatch::NotJson { status } => write!(f, "{status} answer is not a JSON error body"),
            Mismatch::MissingHeader(name) => write!(f, "response lacks the {name} header"),
            Mismatch::Stored { expected, got } => write!(
                f,
                "stored map differs: model {}, endpoint {}",
                show_map(expected),
                show_map(got)
            ),
            Mismatch::ReadBack(e) => write!(f, "cannot read the stored map back: {e}"),
            Mismatch::Action { model_allows, got } => write!(
                f,
                "action {} by the model, endpoint answered {got}",
                if *model_allows { "allowed" } else { "refused" }
            ),
            Mismatch::State { expected, got } => {
                write!(f, "server should be {expected}, endpoint shows {got}")
            }
            Mismatch::LostWrites {
                acknowledged,
                stored,
            } => write!(
                f,
                "acknowledged writes lost (or undone ones kept): no order of the concurrent writes leaves the stored map {}; acknowledged: {}",
                show_map(stored),
                acknowledged.join("; ")
            ),
            Mismatch::NotLinearizable { what, answers } => write!(
                f,
                "no order of the concurrent writes gives the {what} the endpoint answered: {}",
                answers.join("; ")
            ),
            Mismatch::LoneSurrogate { count } => write!(
                f,
                "the endpoint stored and returned {count} unpaired surrogate escape(s): no Unicode string holds them"
            ),
        }
    }
}

impl From<Unexplained> for Mismatch {
    fn from(unexplained: Unexplained) -> Mismatch {
        match unexplained {
            Unexplained::Statuses { answers } => Mismatch::NotLinearizable {
                what: "statuses",
                answers,
            },
            Unexplained::FinalMap {
                acknowledged,
                stored,
            } => Mismatch::LostWrites {
                acknowledged,
                stored,
            },
            Unexplained::Bodies { answers } => Mismatch::NotLinearizable {
                what: "bodies",
                answers,
            },
        }
    }
}

fn show_map(m: &Metadata) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

/// The header every response of a dialect carries, if its profile promises
/// one (`request_id_header`; Nova: `x-openstack-request-id`, spec §1.2).
pub fn request_id_header(profile: &Profile) -> Option<&str> {
    profile.file.request_id_header.as_deref()
}

/// Check one metadata answer against the model's decision. `request` is the
/// map the request carried (for dialects whose merge may echo it).
pub fn check_answer(
    profile: &Profile,
    op: &Op,
    decision: &Decision,
    exchange: &Exchange,
    request: Option<&Metadata>,
) -> Result<(), Mismatch> {
    let Some(response) = &exchange.response else {
        return Err(Mismatch::Transport(
            exchange.error.clone().unwrap_or_default(),
        ));
    };
    let status = response.status;
    if status >= 500 {
        return Err(Mismatch::ServerError { status });
    }
    let kind = decision.outcome.kind();
    let accepted = profile.accepted(kind, Some(op));
    if !accepted.contains(&status) {
        return Err(Mismatch::Status {
            expected: kind,
            accepted,
            got: status,
        });
    }
    if let Some(name) = request_id_header(profile)
        && response.header(name).is_none()
    {
        return Err(Mismatch::MissingHeader(name.to_string()));
    }
    let count = response.lone_surrogates();
    if count > 0 {
        return Err(Mismatch::LoneSurrogate { count });
    }
    match &decision.outcome {
        Outcome::Success(success) => {
            check_success_body(profile, op, success, &response.body, request)
        }
        Outcome::Refused { kind, .. } => check_error_body(profile, *kind, status, &response.body),
    }
}

fn check_success_body(
    profile: &Profile,
    op: &Op,
    success: &Success,
    body: &[u8],
    request: Option<&Metadata>,
) -> Result<(), Mismatch> {
    let Some(expected) = success_body(success) else {
        return Ok(());
    };
    let got: Option<Value> = lossless_json::parse(body).map(|p| p.value);
    let echo_allowed = profile.file.merge_may_echo_request && *op == Op::Merge;
    let fits = match (&got, echo_allowed) {
        (Some(got), false) => *got == expected,
        // spec §8 row 11 (`merge_may_echo_request`): the merge may echo the
        // request instead of the merged map: it must be in the answer.
        (Some(got), true) => contains_request(got, request),
        (None, _) => false,
    };
    if fits {
        return Ok(());
    }
    Err(Mismatch::Body {
        expected: expected.to_string(),
        got: String::from_utf8_lossy(body).into_owned(),
    })
}

/// The body the model's success answers with (`None`: no body).
pub fn success_body(success: &Success) -> Option<Value> {
    match success {
        Success::Metadata(m) => Some(serde_json::json!({ "metadata": m })),
        Success::Meta(k, v) => Some(serde_json::json!({ "meta": { k: v } })),
        Success::Empty => None,
    }
}

fn contains_request(got: &Value, request: Option<&Metadata>) -> bool {
    let Some(map) = got.get("metadata").and_then(Value::as_object) else {
        return false;
    };
    request.is_none_or(|r| {
        r.iter()
            .all(|(k, v)| map.get(k).and_then(Value::as_str) == Some(v.as_str()))
    })
}

/// Error bodies: JSON objects, except where the dialect's stack answers from
/// outside the API (Nova's 401 is keystone JSON, 413 is HTML, spec §5.2).
fn check_error_body(
    profile: &Profile,
    kind: OutcomeKind,
    status: u16,
    body: &[u8],
) -> Result<(), Mismatch> {
    if kind == OutcomeKind::TooLarge {
        return Ok(());
    }
    let json: Option<Value> = lossless_json::parse(body).map(|p| p.value);
    let Some(Value::Object(top)) = json else {
        return Err(Mismatch::NotJson { status });
    };
    if profile.error_shape() == ErrorShape::NovaFault && kind != OutcomeKind::Unauthorized {
        // `{"<faultName>": {"code": <status>, "message": "..."}}`
        let code = top
            .values()
            .next()
            .and_then(|inner| inner.get("code"))
            .and_then(Value::as_u64);
        if top.len() != 1 || code != Some(u64::from(status)) {
            return Err(Mismatch::NotJson { status });
        }
    }
    Ok(())
}

/// Read-your-writes: the map read back must equal the model's.
pub fn check_stored(expected: &Metadata, got: &Metadata) -> Result<(), Mismatch> {
    if expected == got {
        return Ok(());
    }
    Err(Mismatch::Stored {
        expected: expected.clone(),
        got: got.clone(),
    })
}

/// A map with every known secret replaced in its keys and values.
fn scrub_map(map: Metadata, scrubber: &crate::endpoint::secrets::Scrubber) -> Metadata {
    map.into_iter()
        .map(|(k, v)| (scrubber.text(&k), scrubber.text(&v)))
        .collect()
}
