//! Driving servers through the endpoint, for every user of it: `run`'s
//! cases, the property trials, `fuzz` and the data-safety restore.
//!
//! Everything goes through the API (spec §4.2): server show, server
//! actions, then polling `GET` on the server with backoff until
//! `OS-EXT-STS:task_state` is null and the state is the one wanted, bounded
//! by the state timeout (a timeout is an error with the server's last view,
//! never a pass). Metadata is reset with replace-all `{}` where the dialect
//! has it and owns no system keys (or the target is disposable), else key by
//! key; system-owned keys are never touched.
//!
//! The one place for this is [`Housekeeping`], implemented for anything that
//! can hold a [`Conversation`] with the endpoint: the runner's session
//! records each exchange for reports, the fuzzer's driver paces and logs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cases::format::Identity;
use crate::endpoint::http::{Exchange, RecordedRequest};
use crate::endpoint::requests::{self, Action, Sender};
use crate::endpoint::{Target, flavors};
use crate::model::pipeline::Op;
use crate::model::server::{ServerAction, VmState};
use crate::profile::Profile;

/// Why a request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Bringing the server to the case's `given` state.
    Setup,
    /// A step of the case.
    Step,
    /// Reading the stored map back for `stored` expectations.
    ReadBack,
    /// Bringing the server back to active and unlocked.
    Cleanup,
}

/// How server driving behaves, beyond the target.
#[derive(Debug, Clone)]
pub struct StateSettings {
    /// How long a server may take to settle after an action.
    pub state_timeout: Duration,
    /// The flavor `resize` asks for (must differ from the server's).
    /// `--resize-flavor`; `None`: pick one from the flavor list.
    pub resize_flavor: Option<String>,
}

/// A conversation with the endpoint: whoever holds one sends through it
/// (and records, paces, signs as it must).
#[allow(async_fn_in_trait)]
pub trait Conversation {
    fn target(&self) -> &Target;
    fn settings(&self) -> StateSettings;
    /// Send `request` as `identity`, for `purpose` (and the case step it
    /// belongs to, if any).
    async fn exchange(
        &mut self,
        request: RecordedRequest,
        purpose: Purpose,
        step: Option<usize>,
        identity: Identity,
    ) -> Exchange;
    /// The journal a server created through this conversation is recorded
    /// in (`None`: nothing to put back, e.g. the embedded server).
    fn journal(&self) -> Option<&crate::endpoint::journal::SharedJournal> {
        None
    }
}

/// How long a server may sit, without a task, in a state other than the one
/// an action should lead to before the runner stops waiting.
const SETTLED_ELSEWHERE_GRACE: Duration = Duration::from_secs(5);

/// Setup or cleanup could not be done: the case's verdict is `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// What `GET /servers/{id}` says about the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerView {
    pub vm_state: Option<String>,
    pub task_state: Option<String>,
    /// `None` when the answer does not say (Nova before 2.9).
    pub locked: Option<bool>,
    /// The flavor's id, where the answer names one (Nova before 2.47).
    pub flavor: Option<String>,
}

impl ServerView {
    pub fn from_body(body: &Value) -> Option<ServerView> {
        let server = body.get("server")?;
        let text = |name: &str| server.get(name).and_then(Value::as_str).map(str::to_string);
        // Without the extended status attribute, the coarse `status`
        // (`SHUTOFF`, `PAUSED`, ...) says the state.
        let from_status = || {
            let status = server.get("status").and_then(Value::as_str)?;
            let state = VmState::ALL.into_iter().find(|s| s.status() == status)?;
            Some(state.as_str().to_string())
        };
        Some(ServerView {
            vm_state: text("OS-EXT-STS:vm_state").or_else(from_status),
            task_state: text("OS-EXT-STS:task_state"),
            flavor: server
                .get("flavor")
                .and_then(|f| f.get("id"))
                .and_then(|id| match id {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                }),
            locked: server.get("locked").and_then(Value::as_bool),
        })
    }

    /// The state, when the endpoint named one the model knows.
    pub fn state(&self) -> Option<VmState> {
        self.vm_state.as_deref().and_then(VmState::parse)
    }
}

/// What waiting for a server waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// No task running, whatever the state.
    Settled,
    /// No task running, in this state.
    In(VmState),
    /// No task running, out of this state: Nova answers `confirmResize`
    /// and `revertResize` while the server is still `resized`, without a
    /// task, and the compute host moves it on later.
    LeftFrom(VmState),
}

impl Goal {
    pub fn met_by(self, view: &ServerView) -> bool {
        let state = view.vm_state.as_deref();
        view.task_state.is_none()
            && match self {
                Goal::Settled => true,
                Goal::In(s) => state == Some(s.as_str()),
                Goal::LeftFrom(s) => state != Some(s.as_str()),
            }
    }

    /// The goal after `action` was accepted.
    pub fn after(action: &ServerAction) -> Goal {
        action.leaves().map_or(Goal::Settled, Goal::LeftFrom)
    }
}

impl std::fmt::Display for Goal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Goal::Settled => f.write_str("a settled state"),
            Goal::In(s) => f.write_str(s.as_str()),
            Goal::LeftFrom(s) => write!(f, "a state other than {}", s.as_str()),
        }
    }
}

/// Server show, actions, waiting for a state, metadata reset, seed and
/// read-back: written once, for every [`Conversation`].
#[allow(async_fn_in_trait)]
pub trait Housekeeping: Conversation {
    /// The identity for housekeeping reads and unlocks: admin if given.
    fn housekeeper(&self) -> Identity {
        if self.target().credentials.admin_token.is_some() {
            Identity::Admin
        } else {
            Identity::Owner
        }
    }

    /// `GET` the server as the housekeeper and parse its state.
    async fn show(&mut self, server: &str, purpose: Purpose) -> Result<ServerView, SetupError> {
        self.show_as(server, self.housekeeper(), purpose).await
    }

    /// `GET` the server as `identity` and parse its state.
    async fn show_as(
        &mut self,
        server: &str,
        identity: Identity,
        purpose: Purpose,
    ) -> Result<ServerView, SetupError> {
        let version = self.show_microversion();
        let sender = self.sender(identity, version.as_deref());
        let request = requests::show_request(self.target(), server, sender);
        let exchange = self.exchange(request, purpose, None, identity).await;
        let response = exchange
            .response
            .ok_or_else(|| SetupError(format!("cannot read server {server}: transport error")))?;
        if response.status != 200 {
            return Err(SetupError(format!(
                "GET server {server} answered {}",
                response.status
            )));
        }
        let body = response.json().ok_or_else(|| {
            SetupError(format!(
                "GET server {server}: answer is not JSON ({} bytes)",
                response.body.len()
            ))
        })?;
        ServerView::from_body(&body)
            .ok_or_else(|| SetupError(format!("GET server {server}: no `server` object")))
    }

    /// Nova shows `locked` from 2.9: ask for it where the dialect serves it.
    fn show_microversion(&self) -> Option<String> {
        let lock_shown = crate::model::server::LOCKED_SHOWN_FROM;
        let (lo, hi) = self.target().profile.rules.microversions?;
        (lo <= lock_shown && lock_shown <= hi).then(|| lock_shown.to_string())
    }

    /// The argument of a `resize` of `server`: `--resize-flavor` if given,
    /// else a flavor other than the server's own from the endpoint's flavor
    /// list (Nova refuses a resize to the same flavor with 400).
    async fn resize_args(&mut self, server: &str, purpose: Purpose) -> Result<Value, SetupError> {
        let flavor = match self.settings().resize_flavor {
            Some(flavor) => flavor,
            None => self.pick_resize_flavor(server, purpose).await?,
        };
        Ok(json!({ "flavorRef": flavor }))
    }

    /// Read the server's flavor and the flavor list; pick another flavor.
    async fn pick_resize_flavor(
        &mut self,
        server: &str,
        purpose: Purpose,
    ) -> Result<String, SetupError> {
        let identity = Identity::Owner;
        let show = requests::show_request(self.target(), server, self.sender(identity, None));
        let shown = self.exchange(show, purpose, None, identity).await;
        let current = json_200(&shown, "resize: GET server")
            .and_then(|b| flavors::parse_server_flavor(&b).map_err(|e| SetupError(e.0)))?;
        let list = RecordedRequest {
            method: "GET".into(),
            url: flavors::flavor_detail_url(self.target()),
            headers: self.sender(identity, None).headers(false),
            body: Vec::new(),
        };
        let listed = self.exchange(list, purpose, None, identity).await;
        let offered = json_200(&listed, "resize: GET flavors")
            .and_then(|b| flavors::parse_flavor_list(&b).map_err(|e| SetupError(e.0)))?;
        flavors::pick_resize_flavor(&current, &offered).map_err(|e| {
            SetupError(format!(
                "resize of {server}: {e}; pass --resize-flavor ID (a flavor the server does not have)"
            ))
        })
    }

    /// Send a server action; anything but 2xx is a setup error.
    async fn act(
        &mut self,
        server: &str,
        action: &ServerAction,
        identity: Identity,
        purpose: Purpose,
    ) -> Result<(), SetupError> {
        let mut action = Action::from_model(action);
        if action.name == "resize" {
            action.args = self.resize_args(server, purpose).await?;
        }
        self.send_action(server, &action, identity, purpose).await
    }

    /// Send `action` as built (arguments included); anything but 2xx is a
    /// setup error.
    async fn send_action(
        &mut self,
        server: &str,
        action: &Action,
        identity: Identity,
        purpose: Purpose,
    ) -> Result<(), SetupError> {
        let identity = if action.admin_only() {
            Identity::Admin
        } else {
            identity
        };
        let sender = self.sender(identity, None);
        let request = requests::action_request(self.target(), action, server, sender)
            .map_err(|e| SetupError(e.to_string()))?;
        let exchange = self.exchange(request, purpose, None, identity).await;
        match exchange.response.map(|r| r.status) {
            Some(status) if (200..300).contains(&status) => Ok(()),
            Some(status) => Err(SetupError(format!(
                "action {} on {server} answered {status}",
                action.name
            ))),
            None => Err(SetupError(format!(
                "action {} on {server}: transport error",
                action.name
            ))),
        }
    }

    /// Poll until the server settles (in `state`, if given).
    async fn wait_for(
        &mut self,
        server: &str,
        state: Option<VmState>,
        purpose: Purpose,
    ) -> Result<ServerView, SetupError> {
        let goal = state.map_or(Goal::Settled, Goal::In);
        self.wait_until(server, goal, purpose).await
    }

    /// Poll, backing off, until the server meets `goal`; a timeout is an
    /// error with the server's last view, never a pass.
    async fn wait_until(
        &mut self,
        server: &str,
        goal: Goal,
        purpose: Purpose,
    ) -> Result<ServerView, SetupError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        let mut settled_elsewhere: Option<Instant> = None;
        loop {
            let view = self.show(server, purpose).await?;
            if goal.met_by(&view) {
                return Ok(view);
            }
            // No task and another state: the action ended elsewhere (e.g.
            // shelve going straight to shelved_offloaded). Allow a grace
            // period for clouds that set the task late, then give up. Not
            // for a state left without a task (confirmResize).
            // A disposable target (the embedded server) applies actions at
            // once: settled elsewhere is final there.
            if view.task_state.is_none() && matches!(goal, Goal::In(_)) {
                let since = *settled_elsewhere.get_or_insert_with(Instant::now);
                if since.elapsed() > SETTLED_ELSEWHERE_GRACE || self.target().disposable {
                    return Err(SetupError(format!(
                        "server {server} settled in vm_state {} instead of {goal}",
                        view.vm_state.as_deref().unwrap_or("unknown"),
                    )));
                }
            } else {
                settled_elsewhere = None;
            }
            if started.elapsed() > self.settings().state_timeout {
                return Err(SetupError(format!(
                    "server {server} did not reach {goal} within {:?}: vm_state {:?}, task_state {:?}",
                    self.settings().state_timeout,
                    view.vm_state,
                    view.task_state
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Back to active and unlocked, whatever a case or trial did. `may_be_locked`:
    /// the case locked the server, so unlock it even if the answer does not
    /// say it is locked (a faulty endpoint may hide the lock). `actor` sends
    /// the undo actions: the owner for the case's server, the admin for the
    /// second project's (an admin may act on any project's server).
    async fn bring_back(
        &mut self,
        server: &str,
        may_be_locked: bool,
        actor: Identity,
    ) -> Result<(), SetupError> {
        let view = self.show(server, Purpose::Cleanup).await?;
        let view = if view.task_state.is_some() {
            self.wait_for(server, None, Purpose::Cleanup).await?
        } else {
            view
        };
        let lockable = self.target().profile.file.lockable;
        let locked =
            view.locked == Some(true) || (lockable && (may_be_locked || view.locked.is_none()));
        if locked {
            let who = self.housekeeper();
            self.act(server, &ServerAction::Unlock, who, Purpose::Cleanup)
                .await?;
        }
        let state = view.vm_state.as_deref().and_then(VmState::parse);
        if let Some(back) = state.and_then(ServerAction::undoing) {
            self.act(server, &back, actor, Purpose::Cleanup).await?;
            self.wait_for(server, Some(VmState::Active), Purpose::Cleanup)
                .await?;
        }
        Ok(())
    }

    /// Empty the user metadata, leaving system keys alone.
    async fn reset_metadata(&mut self, server: &str) -> Result<(), SetupError> {
        let target = self.target();
        let profile = &target.profile;
        let replace_clears = target.replace_clears_metadata();
        let can_delete = profile.op(&Op::Delete(String::new())).is_some();
        let dialect = profile.id().to_string();
        if replace_clears {
            let body = json!({"metadata": {}});
            return self
                .expect_2xx(
                    server,
                    &Op::Replace,
                    Some(&body),
                    Identity::Owner,
                    "reset metadata",
                )
                .await;
        }
        let stored = self
            .read_stored(server, Identity::Owner, Purpose::Setup, None)
            .await?;
        if stored.is_empty() {
            return Ok(());
        }
        if !can_delete {
            return Err(SetupError(format!(
                "cannot reset metadata: {dialect} has neither replace-all (without system keys) nor delete"
            )));
        }
        for key in stored.keys() {
            self.expect_2xx(
                server,
                &Op::Delete(key.clone()),
                None,
                Identity::Owner,
                "reset metadata",
            )
            .await?;
        }
        Ok(())
    }

    /// Make the user metadata exactly `map`: one replace-all where it
    /// cannot remove system keys (or the target is disposable), else an
    /// emptying reset and then the seed.
    async fn reset_to(
        &mut self,
        server: &str,
        map: &BTreeMap<String, String>,
    ) -> Result<(), SetupError> {
        let target = self.target();
        if !target.replace_clears_metadata() {
            self.reset_metadata(server).await?;
            return self.seed(server, map).await;
        }
        let body = json!({ "metadata": requests::string_map(map) });
        let what = "reset metadata";
        self.expect_2xx(server, &Op::Replace, Some(&body), Identity::Owner, what)
            .await
    }

    /// Write the starting map (merge, else replace-all, else key by key).
    async fn seed(
        &mut self,
        server: &str,
        map: &BTreeMap<String, String>,
    ) -> Result<(), SetupError> {
        if map.is_empty() {
            return Ok(());
        }
        let profile = &self.target().profile;
        let body = json!({"metadata": requests::string_map(map)});
        for op in [Op::Merge, Op::Replace] {
            if profile.op(&op).is_some() {
                return self
                    .expect_2xx(server, &op, Some(&body), Identity::Owner, "seed metadata")
                    .await;
            }
        }
        for (key, value) in map {
            let body = json!({"meta": {key: value}});
            self.expect_2xx(
                server,
                &Op::Set(key.clone()),
                Some(&body),
                Identity::Owner,
                "seed metadata",
            )
            .await?;
        }
        Ok(())
    }

    /// Send a metadata operation as `identity`; anything but 2xx is an error.
    async fn expect_2xx(
        &mut self,
        server: &str,
        op: &Op,
        body: Option<&Value>,
        identity: Identity,
        what: &str,
    ) -> Result<(), SetupError> {
        let sender = self.sender(identity, None);
        let request = requests::metadata_request(self.target(), op, server, body, sender, None)
            .map_err(|e| SetupError(format!("{what}: {e}")))?;
        let exchange = self.exchange(request, Purpose::Setup, None, identity).await;
        match exchange.response.map(|r| r.status) {
            Some(status) if (200..300).contains(&status) => Ok(()),
            Some(status) => Err(SetupError(format!(
                "{what}: {} answered {status}",
                op.name()
            ))),
            None => Err(SetupError(format!("{what}: transport error"))),
        }
    }

    /// The stored user map, read through the dialect's read-back.
    async fn read_stored(
        &mut self,
        server: &str,
        identity: Identity,
        purpose: Purpose,
        step: Option<usize>,
    ) -> Result<BTreeMap<String, String>, SetupError> {
        use crate::profile::ReadBack;
        let sender = self.sender(identity, None);
        let request = match self.target().profile.file.read_back.value {
            ReadBack::List => {
                requests::metadata_request(self.target(), &Op::List, server, None, sender, None)
                    .map_err(|e| SetupError(format!("read back: {e}")))?
            }
            ReadBack::ServerShow => requests::show_request(self.target(), server, sender),
        };
        let exchange = self.exchange(request, purpose, step, identity).await;
        let response = exchange
            .response
            .ok_or_else(|| SetupError("read back: transport error".to_string()))?;
        if response.status != 200 {
            return Err(SetupError(format!(
                "read back answered {}",
                response.status
            )));
        }
        // Housekeeping (snapshot, reset, restore) must hold the map
        // exactly: an unpaired surrogate read as text could not be written
        // back as it was. A case's read-back reports it as a finding.
        let lone = response.lone_surrogates();
        if lone > 0 && matches!(purpose, Purpose::Setup | Purpose::Cleanup) {
            return Err(SetupError(format!(
                "server {server} stores {lone} unpaired surrogate escape(s) (\\udc80): no Unicode string holds them, so metaconform could not put them back exactly and leaves this server alone"
            )));
        }
        response
            .json()
            .and_then(|body| stored_map(&body, &self.target().profile))
            .ok_or_else(|| {
                SetupError(format!(
                    "read back: no metadata object in {:?}",
                    crate::run::check::snippet(&response.body)
                ))
            })
    }

    fn sender<'s>(&'s self, identity: Identity, microversion: Option<&'s str>) -> Sender<'s> {
        self.target().sender(identity, microversion)
    }
}

impl<C: Conversation> Housekeeping for C {}

/// The JSON body of a 200 answer, or what went wrong, for `what`.
fn json_200(exchange: &Exchange, what: &str) -> Result<Value, SetupError> {
    let response = exchange.response.as_ref().ok_or_else(|| {
        SetupError(format!(
            "{what}: {}",
            exchange.error.as_deref().unwrap_or("no answer")
        ))
    })?;
    if response.status != 200 {
        return Err(SetupError(format!("{what} answered {}", response.status)));
    }
    response
        .json()
        .ok_or_else(|| SetupError(format!("{what}: answer is not JSON")))
}

/// The user metadata in a list or server-show body, system-owned keys left
/// out; values that are not strings shown as JSON.
pub fn stored_map(body: &Value, profile: &Profile) -> Option<BTreeMap<String, String>> {
    let map = body
        .get("metadata")
        .or_else(|| body.get("server").and_then(|s| s.get("metadata")))?
        .as_object()?;
    Some(
        map.iter()
            .filter(|(k, _)| !profile.is_system_key(k))
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect(),
    )
}
