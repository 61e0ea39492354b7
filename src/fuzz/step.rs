//! One fuzz step: an operation on a server as some identity, with its body.
//!
//! Steps are plain data, generated up front from a seed, so a sequence can be
//! replayed, shrunk, printed as curl commands and saved as a case file. What a
//! step *should* get is never stored here: [`crate::fuzz::world`] asks the
//! model each time the step runs.

use serde_json::Value;

use crate::cases::format::Identity;
use crate::model::pipeline::Op;
use crate::model::server::ServerAction;

use super::mutate::Mutation;

/// Which server a step addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerPick {
    /// The n-th server this worker owns.
    Own(usize),
    /// A well-formed id that names no server.
    Missing,
    /// The second project's server (never visible to a non-admin).
    Alt,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A JSON document, serialised compactly.
    Json(Value),
    /// Bytes a JSON value cannot carry (see [`crate::fuzz::mutate`]).
    Raw { bytes: Vec<u8>, mutation: Mutation },
}

impl Body {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Body::Raw { bytes, .. } => bytes.clone(),
        }
    }
}

/// How the writers of a concurrent step write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConcurrentVia {
    /// `PUT .../metadata/{k}` with `{"meta": {k: v}}`.
    Set,
    /// `POST .../metadata` with `{"metadata": {k: v}}`.
    Merge,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// A metadata operation; `body` for writes (absent: no body at all).
    Meta { op: Op, body: Option<Body> },
    /// A server action (state change, lock, unlock).
    Action(ServerAction),
    /// Several single-key writes sent at once, each to a distinct new key.
    Concurrent {
        via: ConcurrentVia,
        writes: Vec<(String, String)>,
    },
}

/// One step of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub who: Identity,
    pub server: ServerPick,
    pub call: Call,
}

impl Step {
    /// A short stable label of what the step does: `merge`,
    /// `set(raw:invalid-utf8)`,
    /// `action:lock`, `concurrent:set`. Findings are deduplicated on it.
    pub fn kind(&self) -> String {
        match &self.call {
            // the mutation is part of the kind: a body that is not UTF-8
            // and one nested 5,000 deep are two bugs even when the
            // endpoint's 500 reads the same
            Call::Meta {
                op,
                body: Some(Body::Raw { mutation, .. }),
            } => format!("{}(raw:{})", op.name(), mutation.name()),
            Call::Meta { op, .. } => op.name().to_string(),
            Call::Action(a) => format!("action:{}", a.name()),
            Call::Concurrent { via, .. } => match via {
                ConcurrentVia::Set => "concurrent:set".into(),
                ConcurrentVia::Merge => "concurrent:merge".into(),
            },
        }
    }

    /// The metadata operation, for metadata steps.
    pub fn op(&self) -> Option<&Op> {
        match &self.call {
            Call::Meta { op, .. } => Some(op),
            _ => None,
        }
    }

    /// Body bytes as sent (empty when there is none).
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.call {
            Call::Meta { body: Some(b), .. } => b.bytes(),
            _ => Vec::new(),
        }
    }

    /// A merge, replace or set step with a JSON body.
    pub fn meta(who: Identity, server: ServerPick, op: Op, body: Option<Value>) -> Step {
        Step {
            who,
            server,
            call: Call::Meta {
                op,
                body: body.map(Body::Json),
            },
        }
    }
}

/// The JSON body of a merge or replace: `{"metadata": map}`.
pub fn metadata_body(map: serde_json::Map<String, Value>) -> Value {
    let mut top = serde_json::Map::new();
    top.insert("metadata".into(), Value::Object(map));
    Value::Object(top)
}

/// The JSON body of a set: `{"meta": {key: value}}`.
pub fn meta_body(key: &str, value: Value) -> Value {
    let mut inner = serde_json::Map::new();
    inner.insert(key.to_string(), value);
    let mut top = serde_json::Map::new();
    top.insert("meta".into(), Value::Object(inner));
    Value::Object(top)
}

/// Whether `key` can be addressed in a URL path segment at all. Empty keys,
/// `.` and `..` are normalised away by URL parsers (also when written
/// `%2E`), and `%2F` routes as a path separator on Nova (spec §1.3), so such
/// keys never reach the metadata controller: the fuzzer only sends them in
/// bodies.
pub fn url_addressable(key: &str) -> bool {
    !key.is_empty() && key != "." && key != ".." && !key.contains('/')
}
