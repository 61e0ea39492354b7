//! Why a case failed or erred, as data (`CaseResult::failure`).
//!
//! Made where the checks are made ([`super::check`], [`super::execute`]) and
//! never turned into a sentence to be read back: every reporter renders it
//! (the human sentence is `crate::report::failure::sentence`). Secrets are
//! scrubbed from every string it holds through [`Failure::scrub`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::outcome::OutcomeKind;

/// The stored metadata map, as read back.
pub type StoredMap = BTreeMap<String, String>;

/// A failed or erred case: where it went wrong and what went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    pub at: Place,
    pub cause: Cause,
    /// Cleanup trouble after an earlier failure (the server may not be
    /// back in its state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
}

/// Where a case went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "place", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Place {
    /// Bringing the server to the case's `given` state.
    Setup,
    /// A step: its 1-based index and its operation (`merge`, `action lock`,
    /// `raw GET /servers/{id}`).
    Step { step: usize, op: String },
    /// Bringing the server back after a case that otherwise passed.
    Cleanup,
    /// The case or trial as a whole (not run, a property trial, a setup
    /// primitive of the runner).
    Case,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Cause {
    /// Expectations were broken (verdict `fail`): each one, and the map
    /// read back when a `stored*` expectation was checked.
    Broken {
        problems: Vec<Problem>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stored: Option<StoredMap>,
    },
    /// Nothing could be checked (verdict `error`): transport, setup or an
    /// unusable case.
    Trouble { message: String },
    /// A finding with its own account: a property trial's minimal
    /// counterexample, a broken setup primitive; `detail` is the report that
    /// comes with it (its repro, the requests it sent).
    Finding {
        summary: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A results file of format 2 held only a sentence (and the failing
    /// step beside it): kept as written, never parsed.
    LegacyReason {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
    },
}

/// One broken expectation: what was expected and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Problem {
    /// `status:` lists the codes allowed.
    Status { expected: Vec<u16>, got: u16 },
    /// `outcome:` through the profile: the codes it allows (the accept set,
    /// or the one status and error code the reference mock emits; empty: the
    /// request addresses no operation of the dialect).
    Outcome {
        outcome: OutcomeKind,
        expected: Vec<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_code: Option<String>,
        got: u16,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        got_codes: Vec<String>,
    },
    /// A 5xx answer the step did not list (spec §5.1).
    ServerError { got: u16 },
    /// The answer carried unpaired surrogate escapes.
    LoneSurrogates { count: usize },
    /// A body expectation, but the body is not JSON.
    NotJson { got: String },
    /// `body:` (equal).
    Body { expected: Value, got: Value },
    /// `body_contains:` (a subset).
    BodyContains { expected: Value, got: Value },
    /// `headers:`.
    Header {
        name: String,
        expected: HeaderRule,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        got: Option<String>,
    },
    /// `message_contains:`; `got` is the error message (or the body).
    Message { expected: String, got: String },
    /// `error_code:`; `got` the codes the body carries.
    ErrorCode { expected: String, got: Vec<String> },
    /// `stored:` (the read-back map is [`Cause::Broken`]'s `stored`).
    Stored { expected: StoredMap },
    /// `stored_contains:`: the pairs missing from the map read back.
    StoredContains { missing: StoredMap },
    /// `stored_count:`.
    StoredCount { expected: usize, got: usize },
    /// The map could not be read back.
    Unreadable { message: String },
    /// `run --strict`: the answer broke `expect` (the problems after this
    /// one) but matched a `tolerate` entry, tolerated for `why`.
    Tolerated { why: String },
}

/// What a `headers:` entry asks of a response header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderRule {
    Present,
    Absent,
    Equals(String),
}

impl HeaderRule {
    /// From a case file's `present`, `absent` or exact value.
    pub fn parse(rule: &str) -> HeaderRule {
        match rule {
            "present" => HeaderRule::Present,
            "absent" => HeaderRule::Absent,
            value => HeaderRule::Equals(value.to_string()),
        }
    }
}

impl Failure {
    /// `cause` at `at`, with no cleanup trouble.
    pub fn new(at: Place, cause: Cause) -> Failure {
        Failure {
            at,
            cause,
            cleanup: None,
        }
    }

    /// Trouble at `at`: nothing was checked.
    pub fn trouble(at: Place, message: impl Into<String>) -> Failure {
        Failure::new(
            at,
            Cause::Trouble {
                message: message.into(),
            },
        )
    }

    /// The 1-based step that went wrong, if a step did.
    pub fn step(&self) -> Option<usize> {
        match (&self.at, &self.cause) {
            (Place::Step { step, .. }, _) => Some(*step),
            (_, Cause::LegacyReason { step, .. }) => *step,
            _ => None,
        }
    }

    /// Every string it holds (JSON keys included) passed through `scrub`,
    /// so no secret an answer quoted survives.
    pub fn scrub(&mut self, scrub: &dyn Fn(&str) -> String) {
        scrub_option(&mut self.cleanup, scrub);
        if let Place::Step { op, .. } = &mut self.at {
            *op = scrub(op);
        }
        match &mut self.cause {
            Cause::Broken { problems, stored } => {
                problems.iter_mut().for_each(|p| p.scrub(scrub));
                if let Some(map) = stored {
                    scrub_map(map, scrub);
                }
            }
            Cause::Trouble { message } => *message = scrub(message),
            Cause::Finding { summary, detail } => {
                *summary = scrub(summary);
                scrub_option(detail, scrub);
            }
            Cause::LegacyReason { text, .. } => *text = scrub(text),
        }
    }
}

impl Problem {
    fn scrub(&mut self, scrub: &dyn Fn(&str) -> String) {
        match self {
            Problem::Status { .. }
            | Problem::ServerError { .. }
            | Problem::LoneSurrogates { .. }
            | Problem::StoredCount { .. } => {}
            Problem::Outcome {
                expected_code,
                got_codes,
                ..
            } => {
                scrub_option(expected_code, scrub);
                got_codes.iter_mut().for_each(|c| *c = scrub(c));
            }
            Problem::NotJson { got }
            | Problem::Unreadable { message: got }
            | Problem::Tolerated { why: got } => *got = scrub(got),
            Problem::Body { expected, got } | Problem::BodyContains { expected, got } => {
                scrub_value(expected, scrub);
                scrub_value(got, scrub);
            }
            Problem::Header {
                name,
                expected,
                got,
            } => {
                *name = scrub(name);
                if let HeaderRule::Equals(value) = expected {
                    *value = scrub(value);
                }
                scrub_option(got, scrub);
            }
            Problem::Message { expected, got } => {
                *expected = scrub(expected);
                *got = scrub(got);
            }
            Problem::ErrorCode { expected, got } => {
                *expected = scrub(expected);
                got.iter_mut().for_each(|c| *c = scrub(c));
            }
            Problem::Stored { expected: map } | Problem::StoredContains { missing: map } => {
                scrub_map(map, scrub)
            }
        }
    }
}

fn scrub_option(text: &mut Option<String>, scrub: &dyn Fn(&str) -> String) {
    if let Some(text) = text {
        *text = scrub(text);
    }
}

fn scrub_map(map: &mut StoredMap, scrub: &dyn Fn(&str) -> String) {
    *map = std::mem::take(map)
        .into_iter()
        .map(|(k, v)| (scrub(&k), scrub(&v)))
        .collect();
}

fn scrub_value(value: &mut Value, scrub: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = scrub(s),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, scrub)),
        Value::Object(members) => {
            *members = std::mem::take(members)
                .into_iter()
                .map(|(k, mut v)| {
                    scrub_value(&mut v, scrub);
                    (scrub(&k), v)
                })
                .collect();
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_reaches_json_keys_map_keys_and_messages() {
        let mut failure = Failure {
            at: Place::Step {
                step: 1,
                op: "merge".into(),
            },
            cause: Cause::Broken {
                problems: vec![
                    Problem::Body {
                        expected: serde_json::json!({}),
                        got: serde_json::json!({"SECRET": ["a SECRET"]}),
                    },
                    Problem::Message {
                        expected: "x".into(),
                        got: "token SECRET invalid".into(),
                    },
                ],
                stored: Some([("SECRET".to_string(), "SECRET".to_string())].into()),
            },
            cleanup: Some("SECRET".into()),
        };
        failure.scrub(&|s| s.replace("SECRET", "$OS_TOKEN"));
        let text = serde_json::to_string(&failure).unwrap();
        assert!(!text.contains("SECRET"), "{text}");
        assert_eq!(text.matches("$OS_TOKEN").count(), 6, "{text}");
    }
}
