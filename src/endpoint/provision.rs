//! Creating and deleting servers: the disposable servers a run creates for
//! itself (`run --create-servers N --image REF --flavor REF [--network
//! none|auto|ID]`) and those a case's `op: create` step creates with the
//! metadata under test (spec §3.4); both are deleted at the end, after
//! failures and on Ctrl-C.
//!
//! Every create request goes through [`send_create`]: any 2xx answer that
//! names a server is recorded in the conversation's journal the moment the
//! endpoint answers, so `metaconform restore JOURNAL` deletes it after a
//! crash or `kill -9` too, and [`delete`] drops it from the journal once
//! it is gone. Servers are created at microversion 2.37 (the first that
//! takes `"networks": "none"` and `"auto"`) and waited for until active,
//! bounded by `--state-timeout`.

use serde_json::{Map, Value, json};

use crate::cases::format::Identity;
use crate::endpoint::http::{Exchange, RecordedRequest};
use crate::endpoint::servers::{Conversation, Goal, Housekeeping, Purpose, SetupError};
use crate::model::server::VmState;
use crate::profile::format::ActionForm;

/// The microversion servers are created at.
const CREATE_VERSION: &str = "2.37";

/// What the servers are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// Image id (`imageRef`).
    pub image: String,
    /// Flavor id (`flavorRef`).
    pub flavor: String,
    pub network: Network,
}

/// `--network`: Nova's `"networks"` of a create request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Network {
    /// `"none"`: no port (the default; metadata needs no network).
    #[default]
    None,
    /// `"auto"`: Nova allocates one.
    Auto,
    /// One port on this network.
    Id(String),
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Network, String> {
        match text {
            "" => Err("--network needs none, auto or a network id".into()),
            "none" => Ok(Network::None),
            "auto" => Ok(Network::Auto),
            id => Ok(Network::Id(id.to_string())),
        }
    }
}

impl Network {
    fn to_body(&self) -> Value {
        match self {
            Network::None => json!("none"),
            Network::Auto => json!("auto"),
            Network::Id(id) => json!([{ "uuid": id }]),
        }
    }
}

/// Whether the dialect creates servers the Nova way (`POST /servers`) at
/// microversion 2.37, with `"networks"` (`--create-servers`).
pub fn can_create(profile: &crate::profile::Profile) -> bool {
    can_create_unversioned(profile) && !profile.rules.legacy
}

/// Whether the dialect creates servers the Nova way, legacy `/v2` included
/// (which serves no microversion: its create body has no `"networks"`,
/// [`Recipe::body_for`]): what the cases' create steps need.
pub fn can_create_unversioned(profile: &crate::profile::Profile) -> bool {
    profile.file.servers.action_form == ActionForm::PerServer
        && profile.rules.microversions.is_some()
}

impl Recipe {
    /// The `{"server": ...}` body of a create request for a server named
    /// `name`: the recipe, `metadata` when given, then `fields`, each of
    /// which replaces the member of the same name.
    pub fn body(
        &self,
        name: &str,
        metadata: Option<Value>,
        fields: Option<&Map<String, Value>>,
    ) -> Value {
        let mut server = json!({
            "name": name,
            "imageRef": self.image,
            "flavorRef": self.flavor,
            "networks": self.network.to_body(),
        });
        if let Some(metadata) = metadata {
            server["metadata"] = metadata;
        }
        for (member, value) in fields.into_iter().flatten() {
            server[member] = value.clone();
        }
        json!({ "server": server })
    }

    /// [`Recipe::body`] for `profile`: legacy `/v2` knows no `"networks":
    /// "none"` (microversion 2.37), so its body has no `networks` (Nova
    /// then picks the project's network, if it has exactly one; Nova's
    /// functional-test Neutron has it), unless `fields` names one.
    pub fn body_for(
        &self,
        profile: &crate::profile::Profile,
        name: &str,
        metadata: Option<Value>,
        fields: Option<&Map<String, Value>>,
    ) -> Value {
        let mut body = self.body(name, metadata, fields);
        let named = fields.is_some_and(|f| f.contains_key("networks"));
        if profile.rules.legacy
            && !named
            && let Some(server) = body["server"].as_object_mut()
        {
            server.remove("networks");
        }
        body
    }
}

/// A create request's exchange, and the server it made: `Some` for any 2xx
/// answer naming an id, already in the conversation's journal.
#[derive(Debug)]
pub struct Created {
    pub exchange: Exchange,
    pub id: Option<String>,
}

/// `POST /servers` with `body` as the project member, for `purpose` (and
/// the case step it belongs to). A 2xx answer that names a server is
/// recorded in the conversation's journal before this returns; when that
/// record cannot be written the server is deleted at once and this fails.
pub async fn send_create<C: Conversation>(
    conversation: &mut C,
    body: &Value,
    purpose: Purpose,
    step: Option<usize>,
) -> Result<Created, SetupError> {
    let target = conversation.target();
    let request = RecordedRequest {
        method: "POST".into(),
        url: target.url(&target.profile.file.servers.create, "", None),
        headers: target
            .sender(Identity::Owner, Some(CREATE_VERSION))
            .headers(true),
        body: body.to_string().into_bytes(),
    };
    let exchange = conversation
        .exchange(request, purpose, step, Identity::Owner)
        .await;
    let id = exchange
        .response
        .as_ref()
        .filter(|r| (200..300).contains(&r.status))
        .and_then(|r| r.json())
        .and_then(|b| b["server"]["id"].as_str().map(str::to_string));
    if let (Some(id), Some(journal)) = (&id, conversation.journal())
        && let Err(e) = journal.record_created(id)
    {
        let deleted = delete(conversation, id).await;
        let outcome = match deleted {
            Ok(()) => "it was deleted at once".to_string(),
            Err(d) => format!("deleting it failed too ({d}): delete it by hand"),
        };
        return Err(SetupError(format!(
            "created server {id}, but {e}; {outcome}"
        )));
    }
    Ok(Created { exchange, id })
}

/// `POST /servers` for one server named `name`; its id once the endpoint
/// accepted it (202). Any server it made is in the journal, even when
/// this fails.
pub async fn create<C: Conversation>(
    conversation: &mut C,
    recipe: &Recipe,
    name: &str,
) -> Result<String, SetupError> {
    let body = recipe.body(name, None, None);
    let Created { exchange, id } = send_create(conversation, &body, Purpose::Setup, None).await?;
    let response = exchange.response.as_ref().ok_or_else(|| {
        let error = exchange.error.as_deref().unwrap_or("no answer");
        SetupError(format!("cannot create server {name}: {error}"))
    })?;
    if response.status != 202 {
        return Err(SetupError(format!(
            "cannot create server {name}: the endpoint answered {} {}",
            response.status,
            crate::run::check::snippet(&response.body)
        )));
    }
    id.ok_or_else(|| {
        SetupError(format!(
            "server {name} was accepted, but the answer names no id"
        ))
    })
}

/// Wait until a created server is active (or fail with its last view).
pub async fn await_active<C: Conversation>(
    conversation: &mut C,
    id: &str,
) -> Result<(), SetupError> {
    conversation
        .wait_until(id, Goal::In(VmState::Active), Purpose::Setup)
        .await
        .map(|_| ())
}

/// `DELETE /servers/{id}`, wait until showing it answers 404, then drop it
/// from the conversation's journal.
pub async fn delete<C: Conversation>(conversation: &mut C, id: &str) -> Result<(), SetupError> {
    send_delete(conversation, id).await?;
    await_gone(conversation, id).await?;
    match conversation.journal() {
        Some(journal) => journal
            .forget_created(id)
            .map_err(|e| SetupError(format!("created server {id} is deleted, but {e}"))),
        None => Ok(()),
    }
}

async fn send_delete<C: Conversation>(conversation: &mut C, id: &str) -> Result<(), SetupError> {
    let target = conversation.target();
    let request = RecordedRequest {
        method: "DELETE".into(),
        url: target.server_url(&target.profile.file.servers.delete, id),
        headers: target.sender(Identity::Owner, None).headers(false),
        body: Vec::new(),
    };
    let exchange = conversation
        .exchange(request, Purpose::Cleanup, None, Identity::Owner)
        .await;
    match exchange.response.as_ref().map(|r| r.status) {
        Some(204 | 202 | 404) => {}
        Some(status) => {
            return Err(SetupError(format!(
                "cannot delete created server {id}: the endpoint answered {status}"
            )));
        }
        None => {
            let error = exchange.error.as_deref().unwrap_or("no answer");
            return Err(SetupError(format!(
                "cannot delete created server {id}: {error}"
            )));
        }
    }
    Ok(())
}

/// Poll server show until it answers 404, backing off, bounded by the
/// state timeout.
async fn await_gone<C: Conversation>(conversation: &mut C, id: &str) -> Result<(), SetupError> {
    let deadline = std::time::Instant::now() + conversation.settings().state_timeout;
    let mut pause = std::time::Duration::from_millis(50);
    loop {
        let target = conversation.target();
        let request = crate::endpoint::requests::show_request(
            target,
            id,
            target.sender(Identity::Owner, None),
        );
        let exchange = conversation
            .exchange(request, Purpose::Cleanup, None, Identity::Owner)
            .await;
        if exchange.response.as_ref().is_some_and(|r| r.status == 404) {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(SetupError(format!(
                "created server {id} is still there after the state timeout; delete it by hand"
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_flag_reads_nova_choices() {
        assert_eq!("none".parse(), Ok(Network::None));
        assert_eq!("auto".parse(), Ok(Network::Auto));
        assert_eq!("net-1".parse(), Ok(Network::Id("net-1".into())));
        assert!("".parse::<Network>().is_err());
        assert_eq!(Network::Id("n".into()).to_body(), json!([{"uuid": "n"}]));
    }

    #[test]
    fn a_legacy_create_body_has_no_networks_unless_asked() {
        let recipe = Recipe {
            image: "i".into(),
            flavor: "1".into(),
            network: Network::None,
        };
        let nova = crate::profile::builtin("nova").unwrap();
        let legacy = crate::profile::builtin("nova-legacy").unwrap();
        let metadata = Some(json!({"a": "1"}));
        let body = recipe.body_for(&nova, "n", metadata.clone(), None);
        assert_eq!(body["server"]["networks"], json!("none"));
        assert_eq!(body["server"]["metadata"], json!({"a": "1"}));
        let body = recipe.body_for(&legacy, "n", metadata, None);
        assert!(body["server"].get("networks").is_none(), "{body}");
        let fields: Map<String, Value> = [
            ("networks".to_string(), json!("auto")),
            ("metadata".to_string(), json!("x")),
        ]
        .into_iter()
        .collect();
        let body = recipe.body_for(&legacy, "n", None, Some(&fields));
        assert_eq!(body["server"]["networks"], json!("auto"));
        assert_eq!(body["server"]["metadata"], json!("x"));
        assert!(can_create_unversioned(&legacy) && !can_create(&legacy));
    }
}
