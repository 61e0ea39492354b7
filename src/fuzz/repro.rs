//! Turning a (shrunk) failing sequence into a declarative case file in the
//! `src/cases/format.rs` format that `metaconform run --cases DIR` replays.
//! The finding's account for people, curl repros included, is
//! `crate::report::finding`'s.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::cases::format::Identity;
use crate::model::outcome::OutcomeKind;
use crate::model::pipeline::Op;
use crate::model::server::ServerAction;
use crate::profile::Profile;

use super::shrink::Shrunk;
use super::step::{Body, Call, ConcurrentVia, ServerPick, Step, uniform_form};

/// Why a sequence cannot be written as a case file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    #[error("the sequence uses two servers; case files address one")]
    TwoServers,
    #[error("`{0}` cannot be written as a case step")]
    Unexpressible(String),
    #[error("cannot write {path}: {reason}")]
    Io { path: PathBuf, reason: String },
}

/// The case file (YAML) for a shrunk finding.
pub fn case_file(shrunk: &Shrunk, profile: &Profile, seed: u64) -> Result<String, SaveError> {
    let servers: std::collections::BTreeSet<usize> = shrunk
        .steps
        .iter()
        .filter_map(|s| match s.server {
            ServerPick::Own(i) => Some(i),
            ServerPick::Missing | ServerPick::Alt => None,
        })
        .collect();
    if servers.len() > 1 {
        return Err(SaveError::TwoServers);
    }
    let run = &shrunk.execution;
    let mut steps = Vec::new();
    for (i, step) in shrunk.steps.iter().enumerate() {
        let expected = run.expected.get(i).copied().flatten();
        let body = run.bodies.get(i).cloned().flatten();
        let stored = run.stored.get(i).cloned().flatten();
        let mut value = case_step(step, profile, expected, body, stored)?;
        if i == shrunk.finding.step
            && let super::oracle::Mismatch::MissingHeader(name) = &shrunk.finding.mismatch
        {
            value["expect"]["headers"] = json!({ name.as_str(): "present" });
        }
        steps.push(value);
        if i == shrunk.finding.step
            && let Some(probe) = lock_probe(step, &shrunk.finding.mismatch)
        {
            steps.push(probe);
        }
    }
    let cause = shrunk.finding.cause();
    let id = format!("fuzz-{}-{seed:x}", slug(&cause.to_string()));
    let case = json!({
        "id": id,
        "name": format!("fuzz regression: {cause}"),
        "spec": spec_section(&shrunk.finding),
        "tags": ["fuzz", "regression"],
        "dialects": [profile.id()],
        "requires": requirements(&shrunk.steps),
        "given": {"metadata": run.initial},
        "steps": steps,
    });
    let header = format!(
        "# Found by `metaconform fuzz --seed {seed}`: {}\n# {}\n",
        cause, shrunk.finding.mismatch
    );
    let yaml = serde_saphyr::to_string(&json!({ "cases": [case] }))
        .map_err(|e| SaveError::Unexpressible(e.to_string()))?;
    Ok(format!("{header}{yaml}"))
}

/// The spec section a finding is about (case files must name one).
fn spec_section(finding: &super::stateful::Finding) -> &'static str {
    use super::oracle::Mismatch as M;
    match &finding.mismatch {
        M::Status { expected, .. } => match expected {
            OutcomeKind::Ok => "3.1",
            OutcomeKind::TooLarge => "2.6",
            OutcomeKind::MalformedBody => "2.4",
            OutcomeKind::InvalidInput => "2.2",
            OutcomeKind::OverQuota => "2.5",
            OutcomeKind::Locked | OutcomeKind::StateConflict => "4.1",
            OutcomeKind::Forbidden => "1.5",
            OutcomeKind::ServerNotFound | OutcomeKind::ProjectMismatch => "4.4",
            OutcomeKind::ItemNotFound | OutcomeKind::UriBodyMismatch => "3.2",
            _ => "5.1",
        },
        M::Body { .. } | M::Stored { .. } | M::LostWrites { .. } | M::NotLinearizable { .. } => {
            "3.1"
        }
        M::LoneSurrogate { .. } => "2.3",
        M::MissingHeader(_) => "1.2",
        M::Action { .. } | M::State { .. } => "4.2",
        M::NotJson { .. } => "5.2",
        M::ServerError { .. } | M::Transport(_) | M::ReadBack(_) => "5.1",
    }
}

/// Write the case file under `dir`; returns its path.
pub fn save(
    dir: &Path,
    shrunk: &Shrunk,
    profile: &Profile,
    seed: u64,
) -> Result<PathBuf, SaveError> {
    let text = case_file(shrunk, profile, seed)?;
    let name = format!(
        "fuzz-{}-{seed:x}.yaml",
        slug(&shrunk.finding.cause().to_string())
    );
    let path = dir.join(name);
    let io = |e: std::io::Error| SaveError::Io {
        path: path.clone(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(&path, text).map_err(io)?;
    Ok(path)
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(60).collect()
}

/// A lock or unlock that did not take effect is a finding about the
/// server's state, which a case step cannot read: the saved case follows
/// it with a write whose answer shows the lock (spec §4.3: refused for the
/// owner while locked), so replaying it fails where the lock is ignored.
fn lock_probe(step: &Step, mismatch: &super::oracle::Mismatch) -> Option<Value> {
    let expected = match (&step.call, mismatch) {
        (Call::Action(ServerAction::Lock { .. }), super::oracle::Mismatch::State { .. }) => {
            OutcomeKind::Locked
        }
        (Call::Action(ServerAction::Unlock), super::oracle::Mismatch::State { .. }) => {
            OutcomeKind::Ok
        }
        _ => return None,
    };
    Some(json!({
        "op": "merge",
        "metadata": {"lock-probe": "1"},
        "expect": {"outcome": expected.name()},
    }))
}

/// The case format's name of `action`: the API's, except resetState,
/// which the case format spells with its state.
fn case_action_name(action: &ServerAction) -> Result<&'static str, SaveError> {
    use crate::model::server::VmState;
    match action {
        ServerAction::ResetState(VmState::Error) => Ok("reset-state-error"),
        ServerAction::ResetState(VmState::Active) => Ok("reset-state-active"),
        ServerAction::ResetState(_) => Err(SaveError::Unexpressible(action.name().into())),
        other => Ok(other.name()),
    }
}

fn requirements(steps: &[Step]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut add = |r: &'static str| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    for step in steps {
        if step.server == ServerPick::Alt {
            add("alt");
        }
        match step.who {
            Identity::Admin => add("admin"),
            Identity::Reader => add("reader"),
            _ => {}
        }
        match &step.call {
            Call::Action(ServerAction::Lock { .. } | ServerAction::Unlock) => add("lock"),
            Call::Action(_) => add("state-changes"),
            _ => {}
        }
    }
    out
}

fn identity_name(who: Identity) -> &'static str {
    match who {
        Identity::Owner => "owner",
        Identity::Admin => "admin",
        Identity::Reader => "reader",
        Identity::Alt => "alt",
        Identity::None => "none",
    }
}

fn case_step(
    step: &Step,
    profile: &Profile,
    expected: Option<OutcomeKind>,
    body: Option<Value>,
    stored: Option<crate::model::Metadata>,
) -> Result<Value, SaveError> {
    let mut out = Map::new();
    let mut expect = Map::new();
    let raw = matches!(
        &step.call,
        Call::Meta {
            body: Some(Body::Raw { .. }),
            ..
        }
    );
    match (expected, step.op()) {
        // a raw step has no operation whose success codes `ok` could name
        (Some(OutcomeKind::Ok), Some(op)) if raw => {
            expect.insert(
                "status".into(),
                json!(profile.accepted(OutcomeKind::Ok, Some(op))),
            );
        }
        (Some(kind), _) => {
            expect.insert("outcome".into(), json!(kind.name()));
        }
        (None, _) => {}
    }
    match &step.call {
        Call::Meta { op, body: request } => {
            meta_fields(&mut out, op, request.as_ref(), profile)?;
            if expected == Some(OutcomeKind::Ok)
                && let Some(body) = body.filter(|_| exact_body(profile, op))
            {
                expect.insert("body".into(), body);
            }
            if op.is_write() && matches!(step.server, ServerPick::Own(_)) {
                expect.insert("stored".into(), json!(stored.unwrap_or_default()));
            }
        }
        Call::Action(action) => {
            out.insert("op".into(), json!("action"));
            out.insert("action".into(), json!(case_action_name(action)?));
            expect.insert("status".into(), json!([200, 202, 204]));
        }
        Call::Concurrent { writes } => {
            // Only the case-file form (`{prefix}{i:03}` = `v`, one op) has
            // a case-file step; the shrinker tries it first.
            let (via, prefix) = uniform_form(writes).ok_or_else(|| {
                SaveError::Unexpressible(
                    "a concurrent step that mixes operations or shares keys".into(),
                )
            })?;
            out.insert("op".into(), json!("concurrent"));
            let op = match via {
                ConcurrentVia::Set => "set",
                ConcurrentVia::Merge => "merge",
            };
            out.insert(
                "concurrent".into(),
                json!({"op": op, "count": writes.len(), "prefix": prefix}),
            );
            let written: Map<String, Value> = (0..writes.len())
                .map(|i| (format!("{prefix}{i:03}"), json!("v")))
                .collect();
            expect.insert("stored_contains".into(), Value::Object(written));
        }
    }
    if step.who != Identity::Owner {
        out.insert("as".into(), json!(identity_name(step.who)));
    }
    match step.server {
        ServerPick::Missing => {
            out.insert("server".into(), json!("missing"));
        }
        ServerPick::Alt => {
            out.insert("server".into(), json!("alt"));
        }
        ServerPick::Own(_) => {}
    }
    out.insert("expect".into(), Value::Object(expect));
    Ok(Value::Object(out))
}

/// Whether the success body is exact for this dialect and op (spec §8 row
/// 11: a Huawei merge may echo the request).
fn exact_body(profile: &Profile, op: &Op) -> bool {
    !(profile.error_shape() == crate::profile::ErrorShape::Huawei && *op == Op::Merge)
}

fn meta_fields(
    out: &mut Map<String, Value>,
    op: &Op,
    body: Option<&Body>,
    profile: &Profile,
) -> Result<(), SaveError> {
    match body {
        Some(Body::Raw { bytes, .. }) => {
            let spec = profile
                .op(op)
                .ok_or_else(|| SaveError::Unexpressible(op.name().into()))?;
            let show = &profile.file.servers.show;
            let suffix = spec.path.strip_prefix(show.as_str()).ok_or_else(|| {
                SaveError::Unexpressible(format!("{} path outside the server URL", op.name()))
            })?;
            let path = match op.key() {
                Some(k) => suffix.replace("{key}", &crate::endpoint::encode_segment(k)),
                None => suffix.to_string(),
            };
            let mut raw = json!({
                "method": spec.method.as_str(),
                "path": path,
                "headers": {"Content-Type": "application/json"},
            });
            match std::str::from_utf8(bytes) {
                Ok(text) => raw["body"] = json!(text),
                Err(_) => raw["body_hex"] = json!(hex::encode(bytes)),
            }
            out.insert("op".into(), json!("raw"));
            out.insert("raw".into(), raw);
        }
        Some(Body::Json(value)) => {
            out.insert("op".into(), json!(op.name()));
            if let Some(k) = op.key() {
                out.insert("key".into(), json!(k));
            }
            json_body_fields(out, op, value)?;
        }
        None => {
            out.insert("op".into(), json!(op.name()));
            if let Some(k) = op.key() {
                out.insert("key".into(), json!(k));
            }
        }
    }
    Ok(())
}

fn json_body_fields(out: &mut Map<String, Value>, op: &Op, body: &Value) -> Result<(), SaveError> {
    let field = if matches!(op, Op::Set(_)) {
        "meta"
    } else {
        "metadata"
    };
    let inner = body
        .as_object()
        .filter(|top| top.len() == 1)
        .and_then(|top| top.get(field))
        .and_then(Value::as_object)
        .ok_or_else(|| SaveError::Unexpressible(format!("{} body {body}", op.name())))?;
    match (op, inner.len()) {
        (Op::Set(k), 1) if inner.contains_key(k) => {
            out.insert("value".into(), inner[k].clone());
        }
        (Op::Set(_), _) => {
            out.insert("meta".into(), Value::Object(inner.clone()));
        }
        _ => {
            out.insert("metadata".into(), Value::Object(inner.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(
            slug("set: status:invalid-input->200"),
            "set-status-invalid-input-200"
        );
    }
}
