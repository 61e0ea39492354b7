//! From steps to HTTP requests, through the dialect profile.
//!
//! Abstract operations take their method and path from the profile
//! (`Profile::op`), keys are percent-encoded into the URL, bodies use the
//! shared wrappers of spec §1.2 (`{"metadata": ...}`, `{"meta": ...}`).
//! Raw steps are sent exactly as written, plus the caller's token.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::cases::format::{Generated, Identity, RawRequest, Step, StepOp, UrlProject};
use crate::endpoint::Target;
use crate::endpoint::http::RecordedRequest;
use crate::model::pipeline::Op;
use crate::model::server::{ServerAction, VmState};
use crate::profile::format::ActionForm;

/// A step the runner cannot turn into a request (the case file is wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("step needs `{0}`")]
    Missing(&'static str),
    #[error("`body_hex` is not hex: {0}")]
    BadHex(String),
    #[error("unknown server action '{0}'")]
    UnknownAction(String),
    #[error("{dialect} can only send os-stop and os-start as batch actions, not '{action}'")]
    BatchAction { dialect: String, action: String },
    #[error("the dialect has no '{0}' operation")]
    NoOperation(&'static str),
    #[error("`url_project: other` needs the project id in the URL; this endpoint has none")]
    NoProjectInUrl,
    #[error("`{0}` cannot be sent concurrently; use merge or set")]
    NotConcurrent(&'static str),
}

/// The abstract operation of a step kind (`None` for action, raw and
/// concurrent). Per-key operations take the step's key (empty if absent).
pub fn abstract_op(op: StepOp, key: Option<&str>) -> Option<Op> {
    let key = || key.unwrap_or_default().to_string();
    Some(match op {
        StepOp::List => Op::List,
        StepOp::Merge => Op::Merge,
        StepOp::Replace => Op::Replace,
        StepOp::Get => Op::Get(key()),
        StepOp::Set => Op::Set(key()),
        StepOp::Delete => Op::Delete(key()),
        StepOp::Action | StepOp::Raw | StepOp::Concurrent => return None,
    })
}

/// Who sends a request and with which version headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sender<'a> {
    pub token: Option<&'a str>,
    pub microversion: Option<&'a str>,
    /// `X-Project-Id` for a request the transport signs with AK/SK (spec
    /// §7.4: added before signing, and signed).
    pub project_header: Option<&'a str>,
}

impl Sender<'_> {
    fn headers(&self, json_body: bool) -> Vec<(String, String)> {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        if json_body {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        if let Some(token) = self.token {
            headers.push(("X-Auth-Token".into(), token.into()));
        }
        if let Some(project) = self.project_header {
            headers.push(("X-Project-Id".into(), project.into()));
        }
        if let Some(v) = self.microversion {
            headers.push(("OpenStack-API-Version".into(), format!("compute {v}")));
            headers.push(("X-OpenStack-Nova-API-Version".into(), v.into()));
        }
        headers
    }
}

fn with_query(url: String, query: Option<&str>) -> String {
    match query {
        Some(q) if !q.is_empty() => format!("{url}?{q}"),
        _ => url,
    }
}

/// A metadata operation on `server`, with an optional JSON body.
pub fn metadata_request(
    target: &Target,
    op: &Op,
    server: &str,
    body: Option<&Value>,
    sender: Sender<'_>,
    query: Option<&str>,
) -> Result<RecordedRequest, BuildError> {
    let spec = target
        .profile
        .op(op)
        .ok_or(BuildError::NoOperation(op.name()))?;
    let url = with_query(target.url(&spec.path, server, op.key()), query);
    Ok(RecordedRequest {
        method: spec.method.as_str().to_string(),
        url,
        headers: sender.headers(body.is_some()),
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    })
}

/// The JSON body of an abstract step (`None` for list, get, delete).
pub fn step_body(step: &Step) -> Result<Option<Value>, BuildError> {
    match step.op {
        StepOp::Merge | StepOp::Replace => {
            let mut map: Map<String, Value> = step
                .metadata
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect();
            if let Some(generated) = &step.generated_items {
                map.extend(generate(generated));
            }
            Ok(Some(json!({ "metadata": map })))
        }
        StepOp::Set => {
            if let Some(meta) = &step.meta {
                return Ok(Some(json!({ "meta": meta })));
            }
            let key = step.key.clone().ok_or(BuildError::Missing("key"))?;
            let value = step.value.clone().ok_or(BuildError::Missing("value"))?;
            Ok(Some(json!({ "meta": { key: value } })))
        }
        _ => Ok(None),
    }
}

/// Generated items: `{prefix}{i:03}` = value (default `v`).
pub fn generate(generated: &Generated) -> impl Iterator<Item = (String, Value)> + '_ {
    let value = generated.value.clone().unwrap_or_else(|| "v".to_string());
    (0..generated.count).map(move |i| {
        (
            format!("{}{i:03}", generated.prefix),
            Value::String(value.clone()),
        )
    })
}

/// The `i`-th request of a concurrent fan-out: its own key, value `v`.
pub fn concurrent_request(
    target: &Target,
    op: StepOp,
    key: &str,
    server: &str,
    sender: Sender<'_>,
) -> Result<RecordedRequest, BuildError> {
    let (op, body) = match op {
        StepOp::Merge => (Op::Merge, json!({ "metadata": { key: "v" } })),
        StepOp::Set => (Op::Set(key.to_string()), json!({ "meta": { key: "v" } })),
        StepOp::Replace => (Op::Replace, json!({ "metadata": { key: "v" } })),
        _ => return Err(BuildError::NotConcurrent("that operation")),
    };
    metadata_request(target, &op, server, Some(&body), sender, None)
}

/// A raw request against `server`'s URL.
pub fn raw_request(
    target: &Target,
    raw: &RawRequest,
    server: &str,
    sender: Sender<'_>,
    query: Option<&str>,
) -> Result<RecordedRequest, BuildError> {
    let base = target.server_url(&target.profile.file.servers.show, server);
    let url = with_query(format!("{base}{}", raw.path), query);
    let mut headers = sender.headers(false);
    headers.retain(|(n, _)| {
        !raw.headers.keys().any(|r| r.eq_ignore_ascii_case(n)) && !n.eq_ignore_ascii_case("accept")
    });
    headers.extend(raw.headers.iter().map(|(n, v)| (n.clone(), v.clone())));
    Ok(RecordedRequest {
        method: raw.method.clone(),
        url,
        headers,
        body: raw_body(raw)?,
    })
}

fn raw_body(raw: &RawRequest) -> Result<Vec<u8>, BuildError> {
    if let Some(hex) = &raw.body_hex {
        return hex::decode(hex.replace(char::is_whitespace, ""))
            .map_err(|e| BuildError::BadHex(e.to_string()));
    }
    if let Some(size) = raw.body_size {
        return Ok(sized_merge_body(size));
    }
    Ok(raw.body.clone().unwrap_or_default().into_bytes())
}

/// A valid JSON merge body of exactly `size` bytes storing `k` = `v`,
/// padded with trailing whitespace (or the bare body, if `size` is below
/// its length).
pub fn sized_merge_body(size: usize) -> Vec<u8> {
    let mut body = br#"{"metadata": {"k": "v"}}"#.to_vec();
    if size > body.len() {
        body.resize(size, b' ');
    }
    body
}

/// The image a rebuild names when the server does not say its own.
pub use crate::model::server::PLACEHOLDER_IMAGE;

/// A project id that is well-formed but not the token's (`url_project:
/// other`); the second one is used if the first is the target's own.
const OTHER_PROJECTS: [&str; 2] = [
    "0123456789abcdef0123456789abcdef",
    "fedcba9876543210fedcba9876543210",
];

/// Apply a step's own headers (replacing defaults of the same name; an
/// empty value sends the header empty) and its URL project: the second
/// project's for `as: alt` (its user calls its own endpoint), another
/// well-formed one for `url_project: other`.
pub fn customize(
    mut request: RecordedRequest,
    step: &Step,
    target: &Target,
) -> Result<RecordedRequest, BuildError> {
    let project = target.project_id.as_str();
    if step.op != StepOp::Raw {
        for (name, value) in &step.headers {
            request
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            request.headers.push((name.clone(), value.clone()));
        }
    }
    let alt_project = target.credentials.alt_project_id.as_deref();
    if step.identity == Identity::Alt
        && step.url_project == UrlProject::Own
        && let Some(alt) = alt_project
        && let Some(url) = swap_project(&request.url, project, alt)
    {
        request.url = url;
    }
    if step.url_project == UrlProject::Other {
        let other = OTHER_PROJECTS
            .into_iter()
            .find(|p| *p != project)
            .unwrap_or(OTHER_PROJECTS[0]);
        request.url =
            swap_project(&request.url, project, other).ok_or(BuildError::NoProjectInUrl)?;
    }
    Ok(request)
}

/// `url` with its first `/<project>` path segment replaced by `/<other>`.
pub fn swap_project(url: &str, project: &str, other: &str) -> Option<String> {
    let needle = format!("/{project}");
    let mut from = 0;
    while let Some(found) = url[from..].find(&needle) {
        let start = from + found;
        let end = start + needle.len();
        if matches!(url[end..].chars().next(), None | Some('/' | '?')) {
            return Some(format!("{}/{other}{}", &url[..start], &url[end..]));
        }
        from = end;
    }
    None
}

/// A server action, as a name and its argument (spec §4.2), built from the
/// model's [`ServerAction`]; the runner may tune the argument (the flavor a
/// resize asks for, the image a rebuild names).
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: &'static str,
    pub args: Value,
    admin_only: bool,
}

impl Action {
    /// The action as the model writes its body.
    pub fn from_model(action: &ServerAction) -> Action {
        let name = action.name();
        let args = action.to_body().get(name).cloned().unwrap_or(Value::Null);
        Action {
            name,
            args,
            admin_only: action.admin_only(),
        }
    }

    /// The action a case names (`pause`, `stop`, `reset-state-error`, ...).
    pub fn parse(name: &str) -> Option<Action> {
        case_action(name).map(|action| Action::from_model(&action))
    }

    /// Whether only an admin may send it.
    pub fn admin_only(&self) -> bool {
        self.admin_only
    }
}

/// A case's action name: the API's own (`os-stop`, `confirmResize`, ...),
/// or the case format's spellings without `os-` and in kebab-case, where
/// resetState names its state.
pub fn case_action(name: &str) -> Option<ServerAction> {
    Some(match name {
        "stop" => ServerAction::Stop,
        "start" => ServerAction::Start,
        "confirm-resize" => ServerAction::ConfirmResize,
        "revert-resize" => ServerAction::RevertResize,
        "reset-state-error" => ServerAction::ResetState(VmState::Error),
        "reset-state-active" => ServerAction::ResetState(VmState::Active),
        "os-resetState" => return None,
        api => return ServerAction::ALL.into_iter().find(|a| a.name() == api),
    })
}

/// `POST` the action to `server` in the dialect's action form.
pub fn action_request(
    target: &Target,
    action: &Action,
    server: &str,
    sender: Sender<'_>,
) -> Result<RecordedRequest, BuildError> {
    let routes = &target.profile.file.servers;
    let body = match routes.action_form {
        ActionForm::PerServer => json!({ action.name: action.args }),
        ActionForm::Batch => batch_body(target, action, server)?,
    };
    Ok(RecordedRequest {
        method: "POST".into(),
        url: target.server_url(&routes.action, server),
        headers: sender.headers(true),
        body: body.to_string().into_bytes(),
    })
}

fn batch_body(target: &Target, action: &Action, server: &str) -> Result<Value, BuildError> {
    let servers = json!([{ "id": server }]);
    match action.name {
        "os-stop" => Ok(json!({"os-stop": {"type": "SOFT", "servers": servers}})),
        "os-start" => Ok(json!({"os-start": {"servers": servers}})),
        other => Err(BuildError::BatchAction {
            dialect: target.profile.id().to_string(),
            action: other.to_string(),
        }),
    }
}

/// `GET` the server resource (state, lock, and `server.metadata`).
pub fn show_request(target: &Target, server: &str, sender: Sender<'_>) -> RecordedRequest {
    RecordedRequest {
        method: "GET".into(),
        url: target.server_url(&target.profile.file.servers.show, server),
        headers: sender.headers(false),
        body: Vec::new(),
    }
}

/// A map of strings as a JSON object (seed and reset bodies).
pub fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_body_has_the_exact_size_and_parses() {
        for size in [100, 114_688, 114_689] {
            let body = sized_merge_body(size);
            assert_eq!(body.len(), size);
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v, json!({"metadata": {"k": "v"}}));
        }
    }

    #[test]
    fn project_segment_is_swapped_whole() {
        let url = "http://h:1/v2.1/abc/servers/abcd/metadata";
        assert_eq!(
            swap_project(url, "abc", "fff").as_deref(),
            Some("http://h:1/v2.1/fff/servers/abcd/metadata")
        );
        assert_eq!(swap_project("http://h/v2.1/servers/x", "abc", "fff"), None);
    }

    #[test]
    fn actions_have_nova_bodies() {
        assert_eq!(Action::parse("stop").unwrap().name, "os-stop");
        let reset = Action::parse("reset-state-error").unwrap();
        assert!(reset.admin_only());
        assert_eq!(reset.args, json!({"state": "error"}));
        assert_eq!(Action::parse("fly"), None);
    }
}
