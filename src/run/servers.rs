//! Bringing a server to a case's `given` state through the API, and back.
//!
//! Everything goes through the endpoint itself (spec §4.2): server actions,
//! then polling `GET` on the server until `OS-EXT-STS:vm_state` is the target
//! and `OS-EXT-STS:task_state` is null, with a timeout. Metadata is reset
//! first (replace-all `{}` where the dialect has it and owns no system keys
//! or the target is disposable,
//! else key by key), system keys are never touched.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cases::format::{Given, Identity};
use crate::model::pipeline::Op;
use crate::model::server::{ServerAction, VmState};

use super::check::stored_map;
use super::execute::Session;
use super::requests::{self, Action, Sender};
use super::results::Purpose;

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
}

impl ServerView {
    fn from_body(body: &Value) -> Option<ServerView> {
        let server = body.get("server")?;
        let text = |name: &str| server.get(name).and_then(Value::as_str).map(str::to_string);
        Some(ServerView {
            vm_state: text("OS-EXT-STS:vm_state"),
            task_state: text("OS-EXT-STS:task_state"),
            locked: server.get("locked").and_then(Value::as_bool),
        })
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
    fn met_by(self, view: &ServerView) -> bool {
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

impl Session<'_> {
    /// The identity for housekeeping reads and unlocks: admin if given.
    fn housekeeper(&self) -> Identity {
        if self.target.credentials.admin_token.is_some() {
            Identity::Admin
        } else {
            Identity::Owner
        }
    }

    /// `GET` the server as the housekeeper and parse its state.
    pub async fn show(&mut self, server: &str, purpose: Purpose) -> Result<ServerView, SetupError> {
        self.show_as(server, self.housekeeper(), purpose).await
    }

    /// `GET` the server as `identity` and parse its state.
    pub async fn show_as(
        &mut self,
        server: &str,
        identity: Identity,
        purpose: Purpose,
    ) -> Result<ServerView, SetupError> {
        let version = self.show_microversion();
        let sender = self.sender(identity, version.as_deref());
        let request = requests::show_request(self.target, server, sender);
        let exchange = self.send(request, purpose, None, identity).await;
        let response = exchange
            .response
            .ok_or_else(|| SetupError(format!("cannot read server {server}: transport error")))?;
        if response.status != 200 {
            return Err(SetupError(format!(
                "GET server {server} answered {}",
                response.status
            )));
        }
        response
            .json()
            .as_ref()
            .and_then(ServerView::from_body)
            .ok_or_else(|| SetupError(format!("GET server {server}: no `server` object")))
    }

    /// The arguments of a `rebuild` step: the server's own image (a real
    /// cloud needs one it has) and the step's `metadata`, if any.
    pub async fn rebuild_args(
        &mut self,
        server: &str,
        step: &crate::cases::format::Step,
        number: usize,
    ) -> Value {
        let identity = self.housekeeper();
        let sender = self.sender(identity, None);
        let request = requests::show_request(self.target, server, sender);
        let exchange = self
            .send(request, Purpose::Step, Some(number), identity)
            .await;
        let image = exchange
            .response
            .and_then(|r| r.json())
            .and_then(|b| b["server"]["image"]["id"].as_str().map(str::to_string))
            .unwrap_or_else(|| requests::PLACEHOLDER_IMAGE.to_string());
        let mut args = json!({ "imageRef": image });
        if let Some(metadata) = &step.metadata {
            args["metadata"] = json!(metadata);
        }
        args
    }

    /// Nova shows `locked` from 2.9: ask for it where the dialect serves it.
    fn show_microversion(&self) -> Option<String> {
        let lock_shown = crate::model::server::LOCKED_SHOWN_FROM;
        let (lo, hi) = self.target.profile.rules.microversions?;
        (lo <= lock_shown && lock_shown <= hi).then(|| lock_shown.to_string())
    }

    /// Apply run options to an action (the flavor `resize` asks for).
    pub fn tune(&self, action: &mut Action) {
        if action.name == "resize" {
            action.args = json!({ "flavorRef": self.options.resize_flavor });
        }
    }

    /// Send a server action; anything but 2xx is a setup error.
    pub async fn act(
        &mut self,
        server: &str,
        action: &ServerAction,
        identity: Identity,
        purpose: Purpose,
    ) -> Result<(), SetupError> {
        let mut action = Action::from_model(action);
        self.tune(&mut action);
        let identity = if action.admin_only() {
            Identity::Admin
        } else {
            identity
        };
        let sender = self.sender(identity, None);
        let request = requests::action_request(self.target, &action, server, sender)
            .map_err(|e| SetupError(e.to_string()))?;
        let exchange = self.send(request, purpose, None, identity).await;
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
    pub async fn wait_for(
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
    pub async fn wait_until(
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
            if view.task_state.is_none() && matches!(goal, Goal::In(_)) {
                let since = *settled_elsewhere.get_or_insert_with(Instant::now);
                if since.elapsed() > SETTLED_ELSEWHERE_GRACE {
                    return Err(SetupError(format!(
                        "server {server} settled in vm_state {} instead of {goal}",
                        view.vm_state.as_deref().unwrap_or("unknown"),
                    )));
                }
            } else {
                settled_elsewhere = None;
            }
            if started.elapsed() > self.options.state_timeout {
                return Err(SetupError(format!(
                    "server {server} did not reach {goal} within {:?}: vm_state {:?}, task_state {:?}",
                    self.options.state_timeout, view.vm_state, view.task_state
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Bring the server to `given` (metadata first, while it is writable).
    pub async fn prepare(&mut self, server: &str, given: &Given) -> Result<(), SetupError> {
        self.reset_metadata(server).await?;
        self.seed(server, &seed_map(given)).await?;
        if let Some(state) = given.vm_state.filter(|s| *s != VmState::Active) {
            let action = ServerAction::reaching(state)
                .ok_or_else(|| SetupError(format!("no action leads to {state}")))?;
            self.act(server, &action, Identity::Owner, Purpose::Setup)
                .await?;
            self.wait_for(server, Some(state), Purpose::Setup).await?;
        }
        if given.locked {
            let by = given.locked_by.unwrap_or(Identity::Owner);
            self.act(
                server,
                &ServerAction::Lock { reason: None },
                by,
                Purpose::Setup,
            )
            .await?;
        }
        Ok(())
    }

    /// Back to active and unlocked, whatever the case did. `may_be_locked`:
    /// the case locked the server, so unlock it even if the answer does not
    /// say it is locked (a faulty endpoint may hide the lock). `actor` sends
    /// the undo actions: the owner for the case's server, the admin for the
    /// second project's (an admin may act on any project's server).
    pub async fn restore(
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
        let lockable = self.target.profile.file.lockable;
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
    pub async fn reset_metadata(&mut self, server: &str) -> Result<(), SetupError> {
        let profile = &self.target.profile;
        let has_replace = profile.op(&Op::Replace).is_some();
        // On a disposable target (the embedded server) no system key is
        // worth keeping; elsewhere replace-all would delete them.
        if has_replace && (profile.file.system_keys.is_empty() || self.target.disposable) {
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
        if profile.op(&Op::Delete(String::new())).is_none() {
            return Err(SetupError(format!(
                "cannot reset metadata: {} has neither replace-all (without system keys) nor delete",
                profile.id()
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

    /// Write the starting map (merge, else replace-all, else key by key).
    async fn seed(
        &mut self,
        server: &str,
        map: &BTreeMap<String, String>,
    ) -> Result<(), SetupError> {
        if map.is_empty() {
            return Ok(());
        }
        let profile = &self.target.profile;
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
    pub async fn expect_2xx(
        &mut self,
        server: &str,
        op: &Op,
        body: Option<&Value>,
        identity: Identity,
        what: &str,
    ) -> Result<(), SetupError> {
        let sender = self.sender(identity, None);
        let request = requests::metadata_request(self.target, op, server, body, sender, None)
            .map_err(|e| SetupError(format!("{what}: {e}")))?;
        let exchange = self.send(request, Purpose::Setup, None, identity).await;
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
    pub async fn read_stored(
        &mut self,
        server: &str,
        identity: Identity,
        purpose: Purpose,
        step: Option<usize>,
    ) -> Result<BTreeMap<String, String>, SetupError> {
        use crate::profile::ReadBack;
        let sender = self.sender(identity, None);
        let request = match self.target.profile.file.read_back.value {
            ReadBack::List => {
                requests::metadata_request(self.target, &Op::List, server, None, sender, None)
                    .map_err(|e| SetupError(format!("read back: {e}")))?
            }
            ReadBack::ServerShow => requests::show_request(self.target, server, sender),
        };
        let exchange = self.send(request, purpose, step, identity).await;
        let response = exchange
            .response
            .ok_or_else(|| SetupError("read back: transport error".to_string()))?;
        if response.status != 200 {
            return Err(SetupError(format!(
                "read back answered {}",
                response.status
            )));
        }
        response
            .json()
            .and_then(|body| stored_map(&body, &self.target.profile))
            .ok_or_else(|| {
                SetupError(format!(
                    "read back: no metadata object in {:?}",
                    super::check::snippet(&response.body)
                ))
            })
    }

    pub(crate) fn sender<'s>(
        &'s self,
        identity: Identity,
        microversion: Option<&'s str>,
    ) -> Sender<'s> {
        let signed = super::signing_key(&self.target.credentials, identity).is_some();
        Sender {
            token: super::token_of(&self.target.credentials, identity)
                .ok()
                .flatten(),
            microversion,
            project_header: signed.then_some(self.target.project_id.as_str()),
        }
    }
}

/// The starting map of `given`: explicit items plus generated `gNNN` = `v`.
pub fn seed_map(given: &Given) -> BTreeMap<String, String> {
    let mut map = given.metadata.clone();
    for i in 0..given.generated_items {
        map.insert(format!("g{i:03}"), "v".to_string());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_settles_only_without_task() {
        let body = json!({"server": {"OS-EXT-STS:vm_state": "paused", "OS-EXT-STS:task_state": null, "locked": true}});
        let view = ServerView::from_body(&body).unwrap();
        assert!(view.locked == Some(true) && Goal::In(VmState::Paused).met_by(&view));
        assert!(!Goal::In(VmState::Active).met_by(&view));
        let busy = json!({"server": {"OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": "pausing"}});
        assert!(!Goal::Settled.met_by(&ServerView::from_body(&busy).unwrap()));
    }

    #[test]
    fn confirm_resize_waits_until_the_server_leaves_resized() {
        // Nova answers 204 while the server is still `resized`, no task set.
        let still =
            json!({"server": {"OS-EXT-STS:vm_state": "resized", "OS-EXT-STS:task_state": null}});
        let still = ServerView::from_body(&still).unwrap();
        let goal = Goal::after(&ServerAction::ConfirmResize);
        assert!(Goal::Settled.met_by(&still) && !goal.met_by(&still));
        let done =
            json!({"server": {"OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": null}});
        assert!(goal.met_by(&ServerView::from_body(&done).unwrap()));
    }

    #[test]
    fn seed_adds_generated_items() {
        let given = Given {
            metadata: [("a".to_string(), "1".to_string())].into(),
            generated_items: 2,
            ..Given::default()
        };
        let map = seed_map(&given);
        assert_eq!(map.len(), 3);
        assert_eq!(map["g001"], "v");
    }
}
