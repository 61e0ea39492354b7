//! Building the requests every user of an endpoint sends: metadata
//! operations through the dialect profile, server actions in the dialect's
//! action form, server show; who sends them ([`Sender`]: token, AK/SK
//! project header, microversion). Keys are percent-encoded into the URL and
//! bodies use the shared wrappers of spec §1.2.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::cases::format::Identity;
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
    pub fn headers(&self, json_body: bool) -> Vec<(String, String)> {
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

pub fn with_query(url: String, query: Option<&str>) -> String {
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

/// The second project's member calls its own endpoint: its requests carry
/// its project in the URL where the target's stands (a step that already
/// chose its URL project is left as it is).
pub fn in_project_of(
    mut request: RecordedRequest,
    identity: Identity,
    target: &Target,
) -> RecordedRequest {
    if identity == Identity::Alt
        && let Some(alt) = target.credentials.alt_project_id.as_deref()
        && let Some(url) = swap_project(&request.url, &target.project_id, alt)
    {
        request.url = url;
    }
    request
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
