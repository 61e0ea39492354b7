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

/// How the writers of a concurrent step in the case-file form write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConcurrentVia {
    /// `PUT .../metadata/{k}` with `{"meta": {k: v}}`.
    Set,
    /// `POST .../metadata` with `{"metadata": {k: v}}`.
    Merge,
}

/// One write of a concurrent step: merge, replace-all, set-one or
/// delete-one, with its JSON body (none for a delete).
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub op: Op,
    pub body: Option<Value>,
}

impl Write {
    /// `POST .../metadata` with `{"metadata": {key: value}}`.
    pub fn merge(key: &str, value: &str) -> Write {
        let mut m = serde_json::Map::new();
        m.insert(key.to_string(), Value::String(value.to_string()));
        Write {
            op: Op::Merge,
            body: Some(metadata_body(m)),
        }
    }

    /// `PUT .../metadata/{key}` with `{"meta": {key: value}}`.
    pub fn set(key: &str, value: &str) -> Write {
        Write {
            op: Op::Set(key.to_string()),
            body: Some(meta_body(key, Value::String(value.to_string()))),
        }
    }

    /// `DELETE .../metadata/{key}`.
    pub fn delete(key: &str) -> Write {
        Write {
            op: Op::Delete(key.to_string()),
            body: None,
        }
    }

    /// The body as sent.
    pub fn body(&self) -> Option<Body> {
        self.body.clone().map(Body::Json)
    }

    /// The body bytes as sent (empty for a delete).
    pub fn bytes(&self) -> Vec<u8> {
        self.body().map(|b| b.bytes()).unwrap_or_default()
    }
}

/// The writes of the case-file form of a concurrent step (`concurrent:
/// {op, count, prefix}`): `count` writes via `via` of `{prefix}{i:03}` =
/// `v`, the keys and value `metaconform run` sends.
pub fn uniform_writes(via: ConcurrentVia, prefix: &str, count: usize) -> Vec<Write> {
    (0..count)
        .map(|i| {
            let key = format!("{prefix}{i:03}");
            match via {
                ConcurrentVia::Set => Write::set(&key, "v"),
                ConcurrentVia::Merge => Write::merge(&key, "v"),
            }
        })
        .collect()
}

/// The case-file form of `writes` (`via`, `prefix`, count), if they are in
/// it.
pub fn uniform_form(writes: &[Write]) -> Option<(ConcurrentVia, String)> {
    let first = writes.first()?;
    let via = match first.op {
        Op::Set(_) => ConcurrentVia::Set,
        Op::Merge => ConcurrentVia::Merge,
        _ => return None,
    };
    let key = match &first.op {
        Op::Set(k) => k.clone(),
        _ => first
            .body
            .as_ref()
            .and_then(|b| b.get("metadata")?.as_object()?.keys().next().cloned())?,
    };
    let prefix = key.get(..key.len().checked_sub(3)?)?.to_string();
    (uniform_writes(via, &prefix, writes.len()) == writes).then_some((via, prefix))
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// A metadata operation; `body` for writes (absent: no body at all).
    Meta { op: Op, body: Option<Body> },
    /// A server action (state change, lock, unlock).
    Action(ServerAction),
    /// Several writes sent at once (merges, replace-alls, sets, deletes;
    /// several may address the same key).
    Concurrent { writes: Vec<Write> },
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
    /// `set(raw:invalid-utf8)`, `action:lock`, `concurrent`. Findings are
    /// deduplicated on it.
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
            // One label for every mix, so a shrink to the case-file form
            // keeps the cause.
            Call::Concurrent { .. } => "concurrent".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_case_file_form_is_recognised_and_nothing_else() {
        let merges = uniform_writes(ConcurrentVia::Merge, "zx", 4);
        assert_eq!(
            uniform_form(&merges),
            Some((ConcurrentVia::Merge, "zx".into()))
        );
        let sets = uniform_writes(ConcurrentVia::Set, "zx", 2);
        assert_eq!(uniform_form(&sets), Some((ConcurrentVia::Set, "zx".into())));
        let mut mixed = sets.clone();
        mixed[1] = Write::delete("zx001");
        assert_eq!(uniform_form(&mixed), None);
        let same_key = vec![Write::set("zx000", "v"), Write::set("zx000", "v")];
        assert_eq!(uniform_form(&same_key), None);
        let other_value = vec![Write::set("zx000", "v"), Write::set("zx001", "w")];
        assert_eq!(uniform_form(&other_value), None);
    }
}
