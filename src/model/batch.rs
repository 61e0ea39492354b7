//! Huawei v1 batch server actions (spec §4.2): `POST
//! /v1/{p}/cloudservers/action` with `{"os-stop": {"type": "SOFT" | "HARD",
//! "servers": [{"id": "<s>"}]}}` or `{"os-start": {"servers": [...]}}`.
//!
//! Exactly one action member; `servers` a non-empty list of objects with a
//! string `id`, no id twice; `type` only on `os-stop`, `SOFT` when absent.
//! Unknown members inside the action are refused, so a client typo shows up
//! as a 400 rather than a silently different request.

use super::body;
use super::outcome::{Outcome, OutcomeKind};
use super::pyjson::{PyDict, PyValue};
use super::pyrepr;
use super::server::ServerAction;

/// How `os-stop` stops a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopType {
    Soft,
    Hard,
}

/// A parsed batch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchAction {
    /// [`ServerAction::Stop`] or [`ServerAction::Start`].
    pub action: ServerAction,
    /// For `os-stop`.
    pub stop_type: Option<StopType>,
    /// Server ids in request order.
    pub servers: Vec<String>,
}

/// Parse a batch action body.
pub fn parse(bytes: &[u8]) -> Result<BatchAction, Outcome> {
    let value = body::required_json(bytes)?;
    let PyValue::Dict(members) = &value else {
        return Err(invalid(format!(
            "{} is not of type 'object'",
            pyrepr::repr(&value)
        )));
    };
    let mut entries = members.iter();
    let (name, inner) = match (entries.next(), entries.next()) {
        (Some(entry), None) => entry,
        (None, _) => return Err(invalid("the body names no action; use os-stop or os-start")),
        (Some(_), Some(_)) => return Err(invalid("the body names more than one action")),
    };
    let action = match name.as_str() {
        "os-stop" => ServerAction::Stop,
        "os-start" => ServerAction::Start,
        other => {
            return Err(invalid(format!(
                "unsupported batch action '{other}'; use os-stop or os-start"
            )));
        }
    };
    let PyValue::Dict(inner) = inner else {
        return Err(invalid(format!(
            "{name}: {} is not of type 'object'",
            pyrepr::repr(inner)
        )));
    };
    let allowed: &[&str] = if action == ServerAction::Stop {
        &["servers", "type"]
    } else {
        &["servers"]
    };
    if let Some(extra) = inner.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(format!(
            "{name}: additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    let stop_type = match action {
        ServerAction::Stop => Some(stop_type(inner)?),
        _ => None,
    };
    Ok(BatchAction {
        action,
        stop_type,
        servers: server_ids(name, inner)?,
    })
}

fn stop_type(inner: &PyDict) -> Result<StopType, Outcome> {
    match inner.get("type") {
        None => Ok(StopType::Soft),
        Some(PyValue::Str(t)) if t == "SOFT" => Ok(StopType::Soft),
        Some(PyValue::Str(t)) if t == "HARD" => Ok(StopType::Hard),
        Some(other) => Err(invalid(format!(
            "os-stop: type {} is not one of ['SOFT', 'HARD']",
            pyrepr::repr(other)
        ))),
    }
}

fn server_ids(name: &str, inner: &PyDict) -> Result<Vec<String>, Outcome> {
    let list = match inner.get("servers") {
        Some(PyValue::List(list)) if !list.is_empty() => list,
        Some(other) => {
            return Err(invalid(format!(
                "{name}: servers {} is not a non-empty array",
                pyrepr::repr(other)
            )));
        }
        None => return Err(invalid(format!("{name}: 'servers' is a required property"))),
    };
    let mut ids: Vec<String> = Vec::with_capacity(list.len());
    for entry in list {
        let id = match entry {
            PyValue::Dict(server) if server.len() == 1 => match server.get("id") {
                Some(PyValue::Str(id)) if !id.is_empty() => id,
                _ => return Err(bad_entry(name, entry)),
            },
            _ => return Err(bad_entry(name, entry)),
        };
        if ids.contains(id) {
            return Err(invalid(format!("{name}: server {id} is listed twice")));
        }
        ids.push(id.clone());
    }
    Ok(ids)
}

fn bad_entry(name: &str, entry: &PyValue) -> Outcome {
    invalid(format!(
        "{name}: {} is not of the form {{\"id\": \"<server id>\"}}",
        pyrepr::repr(entry)
    ))
}

fn invalid(message: impl Into<String>) -> Outcome {
    Outcome::refused(OutcomeKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_start_parse() {
        let stop =
            parse(br#"{"os-stop": {"type": "HARD", "servers": [{"id": "a"}, {"id": "b"}]}}"#);
        assert_eq!(
            stop,
            Ok(BatchAction {
                action: ServerAction::Stop,
                stop_type: Some(StopType::Hard),
                servers: vec!["a".into(), "b".into()],
            })
        );
        let soft = parse(br#"{"os-stop": {"servers": [{"id": "a"}]}}"#).unwrap();
        assert_eq!(soft.stop_type, Some(StopType::Soft));
        let start = parse(br#"{"os-start": {"servers": [{"id": "a"}]}}"#).unwrap();
        assert_eq!((start.action, start.stop_type), (ServerAction::Start, None));
    }

    #[test]
    fn every_deviation_is_refused() {
        for bad in [
            r#"{}"#,
            r#"[]"#,
            r#"{"os-stop": null}"#,
            r#"{"os-stop": {"servers": []}}"#,
            r#"{"os-stop": {"servers": {"id": "a"}}}"#,
            r#"{"os-stop": {"type": "SOFT"}}"#,
            r#"{"os-stop": {"type": "soft", "servers": [{"id": "a"}]}}"#,
            r#"{"os-stop": {"type": null, "servers": [{"id": "a"}]}}"#,
            r#"{"os-stop": {"servers": [{"id": "a"}], "force": true}}"#,
            r#"{"os-start": {"type": "SOFT", "servers": [{"id": "a"}]}}"#,
            r#"{"os-stop": {"servers": [{"id": 1}]}}"#,
            r#"{"os-stop": {"servers": [{"id": ""}]}}"#,
            r#"{"os-stop": {"servers": ["a"]}}"#,
            r#"{"os-stop": {"servers": [{"id": "a", "name": "x"}]}}"#,
            r#"{"os-stop": {"servers": [{"id": "a"}, {"id": "a"}]}}"#,
            r#"{"reboot": {"type": "SOFT", "servers": [{"id": "a"}]}}"#,
            r#"{"os-stop": {"servers": [{"id": "a"}]}, "os-start": {"servers": [{"id": "a"}]}}"#,
        ] {
            let kind = parse(bad.as_bytes()).err().map(|o| o.kind());
            assert_eq!(kind, Some(OutcomeKind::InvalidInput), "{bad}");
        }
        for malformed in ["{not json", ""] {
            assert_eq!(
                parse(malformed.as_bytes()).err().map(|o| o.kind()),
                Some(OutcomeKind::MalformedBody),
                "{malformed:?}"
            );
        }
    }
}
