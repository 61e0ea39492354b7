//! Servers as the metadata API sees them: vm_state, task_state, the lock, and
//! the actions that move between states (spec §4.1-§4.2).
//!
//! Actions complete at once here (the mock has no hypervisor); a client still
//! polls `GET /servers/{id}` exactly as it would on a real cloud.

use std::fmt;

use super::Metadata;
use super::flavor::{self, Flavor};
use super::microversion::Microversion;
use super::outcome::{Outcome, OutcomeKind};
use super::pipeline;
use super::pyjson::PyValue;
use super::pyrepr;

/// `OS-EXT-STS:vm_state` values that matter to the metadata API.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Deserialize,
    schemars::JsonSchema,
    serde::Serialize,
)]
pub enum VmState {
    #[serde(rename = "active")]
    Active,
    #[serde(rename = "building")]
    Building,
    #[serde(rename = "stopped")]
    Stopped,
    #[serde(rename = "paused")]
    Paused,
    #[serde(rename = "suspended")]
    Suspended,
    #[serde(rename = "rescued")]
    Rescued,
    #[serde(rename = "resized")]
    Resized,
    #[serde(rename = "soft-delete")]
    SoftDeleted,
    #[serde(rename = "error")]
    Error,
    #[serde(rename = "shelved")]
    Shelved,
    #[serde(rename = "shelved_offloaded")]
    ShelvedOffloaded,
}

impl VmState {
    pub const ALL: [VmState; 11] = [
        VmState::Active,
        VmState::Building,
        VmState::Stopped,
        VmState::Paused,
        VmState::Suspended,
        VmState::Rescued,
        VmState::Resized,
        VmState::SoftDeleted,
        VmState::Error,
        VmState::Shelved,
        VmState::ShelvedOffloaded,
    ];

    /// The `vm_state` string.
    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Active => "active",
            VmState::Building => "building",
            VmState::Stopped => "stopped",
            VmState::Paused => "paused",
            VmState::Suspended => "suspended",
            VmState::Rescued => "rescued",
            VmState::Resized => "resized",
            VmState::SoftDeleted => "soft-delete",
            VmState::Error => "error",
            VmState::Shelved => "shelved",
            VmState::ShelvedOffloaded => "shelved_offloaded",
        }
    }

    /// The API `status` shown for this vm_state.
    pub fn status(self) -> &'static str {
        match self {
            VmState::Active => "ACTIVE",
            VmState::Building => "BUILD",
            VmState::Stopped => "SHUTOFF",
            VmState::Paused => "PAUSED",
            VmState::Suspended => "SUSPENDED",
            VmState::Rescued => "RESCUE",
            VmState::Resized => "VERIFY_RESIZE",
            VmState::SoftDeleted => "SOFT_DELETED",
            VmState::Error => "ERROR",
            VmState::Shelved => "SHELVED",
            VmState::ShelvedOffloaded => "SHELVED_OFFLOADED",
        }
    }

    pub fn parse(text: &str) -> Option<VmState> {
        VmState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Nova's `instance.locked_by`: `owner` when the locker's project is the
/// server's (an admin of that project included), `admin` only when it is
/// another project's (`nova/compute/api.py` `lock`; spec §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockedBy {
    Owner,
    Admin,
}

/// Who sends a server action, as Nova's checks see the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// `context.is_admin` (the `admin` role): bypasses locks, may
    /// `os-resetState`, may unlock any lock (`unlock:unlock_override`).
    pub is_admin: bool,
    /// The caller's project is the server's (`is_owner` in Nova's `lock`).
    pub same_project: bool,
}

impl Actor {
    /// A member of the server's project.
    pub const OWNER: Actor = Actor {
        is_admin: false,
        same_project: true,
    };
    /// An admin of the server's own project: its locks are owner locks.
    pub const PROJECT_ADMIN: Actor = Actor {
        is_admin: true,
        same_project: true,
    };
    /// An admin of another project: its locks are admin locks.
    pub const OTHER_ADMIN: Actor = Actor {
        is_admin: true,
        same_project: false,
    };

    /// `caller` acting on a server of `project`.
    pub fn of(caller: &super::caller::Caller, project: &str) -> Actor {
        Actor {
            is_admin: caller.is_admin(),
            same_project: caller.project == project,
        }
    }

    /// The `locked_by` this caller's lock records, and expects to unlock
    /// without the override (`is_expected_locked_by`).
    fn lock_kind(self) -> LockedBy {
        match self.same_project {
            true => LockedBy::Owner,
            false => LockedBy::Admin,
        }
    }
}

/// One server as the model keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRecord {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub vm_state: VmState,
    pub locked: bool,
    /// Who holds the lock (Nova's `instance.locked_by`); `None` unlocked.
    pub locked_by: Option<LockedBy>,
    pub locked_reason: Option<String>,
    /// `launched_at` is set (spec §4.3, fourth row).
    pub launched: bool,
    /// The state to go back to after `revertResize`/`confirmResize`.
    pub resized_from: Option<VmState>,
    /// The server's flavor (Nova's `instance.flavor`); during a resize the
    /// new one.
    pub flavor: Flavor,
    /// The flavor before a resize not yet confirmed or reverted (Nova's
    /// `instance.old_flavor`): `revertResize` goes back to it.
    pub old_flavor: Option<Flavor>,
    pub metadata: Metadata,
    /// ECS v1 automatic recovery (spec §9).
    pub auto_recovery: bool,
    /// Server tags, in the order they were added ([`super::tags`]).
    pub tags: Vec<String>,
}

impl ServerRecord {
    /// A freshly launched, active, unlocked server.
    pub fn new(id: &str, project_id: &str, name: &str, metadata: Metadata) -> Self {
        ServerRecord {
            id: id.to_string(),
            project_id: project_id.to_string(),
            name: name.to_string(),
            vm_state: VmState::Active,
            locked: false,
            locked_by: None,
            locked_reason: None,
            launched: true,
            resized_from: None,
            flavor: flavor::DEFAULT,
            old_flavor: None,
            metadata,
            auto_recovery: super::autorecovery::DEFAULT,
            tags: Vec::new(),
        }
    }
}

/// Server actions (`POST /servers/{id}/action`) the harness uses to reach
/// states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAction {
    Stop,
    Start,
    Reboot,
    Pause,
    Unpause,
    Suspend,
    Resume,
    Lock {
        reason: Option<String>,
    },
    Unlock,
    Shelve,
    Unshelve,
    Rescue,
    Unrescue,
    /// Resize to another flavor. The flavor a request names goes to
    /// [`apply_resize`]; [`apply_action`] takes this to mean "to another
    /// flavor" ([`flavor::other_than`] the current one), which is what the
    /// harness asks for to reach `resized`.
    Resize,
    ConfirmResize,
    RevertResize,
    /// Admin only; `active` or `error`.
    ResetState(VmState),
    /// Leave soft-delete.
    Restore,
    /// Rebuild from an image (spec §3.4): with `metadata` the map is
    /// replaced (`{}` clears it), without it the map is kept. The map is
    /// checked by `pipeline::server_metadata` before the action is built.
    Rebuild {
        metadata: Option<Metadata>,
    },
}

impl ServerAction {
    /// The action's name as it appears in the request body.
    pub fn name(&self) -> &'static str {
        match self {
            ServerAction::Stop => "os-stop",
            ServerAction::Start => "os-start",
            ServerAction::Reboot => "reboot",
            ServerAction::Pause => "pause",
            ServerAction::Unpause => "unpause",
            ServerAction::Suspend => "suspend",
            ServerAction::Resume => "resume",
            ServerAction::Lock { .. } => "lock",
            ServerAction::Unlock => "unlock",
            ServerAction::Shelve => "shelve",
            ServerAction::Unshelve => "unshelve",
            ServerAction::Rescue => "rescue",
            ServerAction::Unrescue => "unrescue",
            ServerAction::Resize => "resize",
            ServerAction::ConfirmResize => "confirmResize",
            ServerAction::RevertResize => "revertResize",
            ServerAction::ResetState(_) => "os-resetState",
            ServerAction::Restore => "restore",
            ServerAction::Rebuild { .. } => "rebuild",
        }
    }

    /// The vm_states this action may start from, and where it leads
    /// (`None`: stays). Lock, unlock and resetState are handled apart.
    fn transition(&self) -> (&'static [VmState], Option<VmState>) {
        use VmState::*;
        match self {
            ServerAction::Stop => (&[Active, Rescued, Error], Some(Stopped)),
            ServerAction::Start => (&[Stopped], Some(Active)),
            ServerAction::Reboot => (
                &[Active, Stopped, Paused, Suspended, Error, Rescued],
                Some(Active),
            ),
            ServerAction::Pause => (&[Active, Rescued], Some(Paused)),
            ServerAction::Unpause => (&[Paused], Some(Active)),
            ServerAction::Suspend => (&[Active], Some(Suspended)),
            ServerAction::Resume => (&[Suspended], Some(Active)),
            ServerAction::Shelve => (
                &[Active, Stopped, Paused, Suspended],
                Some(ShelvedOffloaded),
            ),
            ServerAction::Unshelve => (&[Shelved, ShelvedOffloaded], Some(Active)),
            ServerAction::Rescue => (&[Active, Stopped, Error], Some(Rescued)),
            ServerAction::Unrescue => (&[Rescued], Some(Active)),
            ServerAction::Resize => (&[Active, Stopped], Some(Resized)),
            ServerAction::ConfirmResize | ServerAction::RevertResize => (&[Resized], None),
            ServerAction::Restore => (&[SoftDeleted], Some(Active)),
            // Rebuild keeps a stopped server stopped and recovers an errored
            // one (spec §3.4: allowed in active, stopped and error).
            ServerAction::Rebuild { .. } => (&[Active, Stopped, Error], None),
            ServerAction::Lock { .. } | ServerAction::Unlock | ServerAction::ResetState(_) => {
                (&VmState::ALL, None)
            }
        }
    }
}

impl ServerAction {
    /// Read an action request body (`{"os-stop": null}`,
    /// `{"os-resetState": {"state": "error"}}`, ...). The first member that
    /// names a known action wins, as in Nova's dispatcher.
    pub fn from_body(body: &PyValue) -> Result<ServerAction, ActionError> {
        let Some(members) = body.as_dict() else {
            return Err(ActionError::BadRequest("Malformed request body".into()));
        };
        let Some((name, arg)) = members.iter().find(|(name, _)| is_action_name(name)) else {
            let shown = members.keys().next().map(String::as_str).unwrap_or("");
            return Err(ActionError::BadRequest(format!(
                "There is no such action: {shown}"
            )));
        };
        action_from_member(name, arg)
    }
}

impl ServerAction {
    /// One of each action (argument-free forms; `os-resetState` to active).
    pub const ALL: [ServerAction; 19] = [
        ServerAction::Stop,
        ServerAction::Start,
        ServerAction::Reboot,
        ServerAction::Pause,
        ServerAction::Unpause,
        ServerAction::Suspend,
        ServerAction::Resume,
        ServerAction::Lock { reason: None },
        ServerAction::Unlock,
        ServerAction::Shelve,
        ServerAction::Unshelve,
        ServerAction::Rescue,
        ServerAction::Unrescue,
        ServerAction::Resize,
        ServerAction::ConfirmResize,
        ServerAction::RevertResize,
        ServerAction::ResetState(VmState::Active),
        ServerAction::Restore,
        ServerAction::Rebuild { metadata: None },
    ];

    /// The action that takes an active server to `state`, read from the
    /// transitions; `error` is reached by resetState and `shelved` by shelve
    /// (here it offloads at once). `None` for active, building and
    /// soft-delete (no action leads there).
    /// The state an accepted action takes the server out of even though
    /// Nova answers first with the server still in it, and no task set:
    /// `confirmResize` and `revertResize` leave `resized` when the compute
    /// host gets to it (`nova/compute/api.py` `confirm_resize` casts).
    pub fn leaves(&self) -> Option<VmState> {
        match self {
            ServerAction::ConfirmResize | ServerAction::RevertResize => Some(VmState::Resized),
            _ => None,
        }
    }

    pub fn reaching(state: VmState) -> Option<ServerAction> {
        match state {
            VmState::Active => None,
            VmState::Error => Some(ServerAction::ResetState(VmState::Error)),
            VmState::Shelved => ServerAction::reaching(VmState::ShelvedOffloaded),
            _ => ServerAction::ALL.into_iter().find(|action| {
                let (from, to) = action.transition();
                from.contains(&VmState::Active) && to == Some(state)
            }),
        }
    }

    /// The action that takes a server in `state` back to active, read from
    /// the transitions (reboot aside: it is no undo); a resize is reverted and
    /// `error` reset. `None` for active and building.
    pub fn undoing(state: VmState) -> Option<ServerAction> {
        match state {
            VmState::Error => Some(ServerAction::ResetState(VmState::Active)),
            VmState::Resized => Some(ServerAction::RevertResize),
            _ => ServerAction::ALL
                .into_iter()
                .filter(|action| *action != ServerAction::Reboot)
                .find(|action| {
                    let (from, to) = action.transition();
                    from.contains(&state) && to == Some(VmState::Active)
                }),
        }
    }

    /// Whether only an admin may send it (policy, spec §4.2).
    pub fn admin_only(&self) -> bool {
        matches!(self, ServerAction::ResetState(_))
    }

    /// The request body that [`ServerAction::from_body`] reads back as this
    /// action. Required references get placeholders a client replaces:
    /// `flavorRef` [`PLACEHOLDER_FLAVOR`], `imageRef` [`PLACEHOLDER_IMAGE`].
    pub fn to_body(&self) -> serde_json::Value {
        use serde_json::{Value, json};
        let arg = match self {
            ServerAction::Reboot => json!({"type": "SOFT"}),
            ServerAction::Lock {
                reason: Some(reason),
            } => json!({ "locked_reason": reason }),
            ServerAction::Resize => json!({ "flavorRef": PLACEHOLDER_FLAVOR }),
            ServerAction::ResetState(state) => json!({ "state": state.as_str() }),
            ServerAction::Rebuild { metadata } => {
                let mut arg = json!({ "imageRef": PLACEHOLDER_IMAGE });
                if let Some(map) = metadata {
                    arg["metadata"] = json!(map);
                }
                arg
            }
            _ => Value::Null,
        };
        json!({ self.name(): arg })
    }
}

/// The flavor [`ServerAction::to_body`] asks a resize for.
pub const PLACEHOLDER_FLAVOR: &str = "2";
/// The image [`ServerAction::to_body`] asks a rebuild for.
pub const PLACEHOLDER_IMAGE: &str = "70a599e0-31e7-49b7-b260-868f441e862b";

/// `lock` takes a `locked_reason` and server show has one from 2.73;
/// `locked` appears in server show from 2.9 (spec §6.2).
pub const LOCK_REASON_FROM: Microversion = Microversion::new(2, 73);
pub const LOCKED_SHOWN_FROM: Microversion = Microversion::new(2, 9);
/// `maxImageMeta` leaves `GET /limits` at 2.39.
pub const IMAGE_META_UNTIL: Microversion = Microversion::new(2, 39);

impl ServerAction {
    /// The action as a server at `version` reads it: below 2.73 the lock
    /// body is not looked at, so a reason is dropped.
    pub fn at_version(self, version: Microversion) -> ServerAction {
        match self {
            ServerAction::Lock { .. } if version < LOCK_REASON_FROM => {
                ServerAction::Lock { reason: None }
            }
            other => other,
        }
    }
}

fn is_action_name(name: &str) -> bool {
    ServerAction::ALL.iter().any(|action| action.name() == name)
}

fn required_member<'v>(arg: &'v PyValue, field: &str) -> Result<&'v PyValue, ActionError> {
    arg.get(field)
        .ok_or_else(|| ActionError::BadRequest(format!("'{field}' is a required property")))
}

fn action_from_member(name: &str, arg: &PyValue) -> Result<ServerAction, ActionError> {
    Ok(match name {
        "os-stop" => ServerAction::Stop,
        "os-start" => ServerAction::Start,
        "reboot" => ServerAction::Reboot,
        "pause" => ServerAction::Pause,
        "unpause" => ServerAction::Unpause,
        "suspend" => ServerAction::Suspend,
        "resume" => ServerAction::Resume,
        "lock" => ServerAction::Lock {
            reason: lock_reason(arg)?,
        },
        "unlock" => ServerAction::Unlock,
        "shelve" => ServerAction::Shelve,
        "unshelve" => ServerAction::Unshelve,
        "rescue" => ServerAction::Rescue,
        "unrescue" => ServerAction::Unrescue,
        "resize" => {
            flavor_ref(required_member(arg, "flavorRef")?)?;
            ServerAction::Resize
        }
        "confirmResize" => ServerAction::ConfirmResize,
        "revertResize" => ServerAction::RevertResize,
        "os-resetState" => {
            let state = required_member(arg, "state")?;
            let text = state.as_str().unwrap_or("");
            match VmState::parse(text) {
                Some(s) => ServerAction::ResetState(s),
                None => {
                    return Err(ActionError::BadRequest(format!(
                        "Invalid input for field/attribute state. Value: {}. {} is not one of ['active', 'error']",
                        pyrepr::str(state),
                        pyrepr::repr(state)
                    )));
                }
            }
        }
        "rebuild" => {
            required_member(arg, "imageRef")?;
            ServerAction::Rebuild { metadata: None }
        }
        _ => ServerAction::Restore,
    })
}

/// `flavorRef` as `servers.py` `_resize` reads it: `str(flavorRef)` of a
/// string or integer of at least one character (`parameter_types.flavor_ref`).
/// A URL is not reduced to its id, unlike on create.
fn flavor_ref(value: &PyValue) -> Result<String, ActionError> {
    let shown = pyrepr::repr(value);
    let invalid = |why: String| {
        ActionError::BadRequest(format!(
            "Invalid input for field/attribute flavorRef. Value: {}. {why}",
            pyrepr::str(value)
        ))
    };
    match value {
        PyValue::Str(text) if text.is_empty() => {
            Err(invalid(format!("{shown} should be non-empty")))
        }
        PyValue::Str(text) => Ok(text.clone()),
        PyValue::Int(digits) => Ok(digits.clone()),
        _ => Err(invalid(format!(
            "{shown} is not of type 'string', 'integer'"
        ))),
    }
}

/// The flavor id a `{"resize": {"flavorRef": ...}}` body names, `None` when
/// it names none that [`ServerAction::from_body`] accepts.
pub fn requested_flavor(body: &PyValue) -> Option<String> {
    flavor_ref(body.get("resize")?.get("flavorRef")?).ok()
}

/// `{"lock": {"locked_reason": "..."}}` (2.73): 1-255 characters.
fn lock_reason(arg: &PyValue) -> Result<Option<String>, ActionError> {
    let Some(reason) = arg.get("locked_reason") else {
        return Ok(None);
    };
    match reason.as_str() {
        Some(text) if (1..=255).contains(&text.chars().count()) => Ok(Some(text.to_string())),
        _ => Err(ActionError::BadRequest(format!(
            "Invalid input for field/attribute locked_reason. Value: {}. {} is not a string of 1 to 255 characters",
            pyrepr::str(reason),
            pyrepr::repr(reason)
        ))),
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionError {
    /// 409 "Instance <id> is locked".
    Locked,
    /// 409 "Cannot '<action>' instance <id> while it is in vm_state <state>".
    WrongState(VmState),
    /// 403: policy (resetState by a non-admin, unlock of an admin lock).
    Forbidden(&'static str),
    /// 400: bad argument (resetState to a state other than active/error).
    BadRequest(String),
}

impl ActionError {
    /// The outcome a profile turns into a status code (spec §4.3 messages).
    pub fn outcome(&self, action: &str, server_id: &str) -> Outcome {
        match self {
            ActionError::Locked => pipeline::locked(server_id),
            ActionError::WrongState(state) => pipeline::wrong_state(action, server_id, *state),
            ActionError::Forbidden(rule) => pipeline::policy_denied(rule),
            ActionError::BadRequest(message) => {
                Outcome::refused(OutcomeKind::InvalidInput, message.clone())
            }
        }
    }
}

/// Apply `action` as `actor` to `server`. A [`ServerAction::Resize`] goes
/// to another flavor ([`flavor::other_than`] the current one); to resize to
/// the flavor a request names, use [`apply_resize`].
pub fn apply_action(
    server: &mut ServerRecord,
    action: &ServerAction,
    actor: Actor,
) -> Result<(), ActionError> {
    apply(server, action, None, actor)
}

/// `{"resize": {"flavorRef": flavor_ref}}` as `actor`. After the lock and
/// state checks (`nova/compute/api.py` `resize` runs `check_instance_lock`
/// and `check_instance_state` first), an unknown flavor is 400
/// `FlavorNotFound` and the current one 400 `CannotResizeToSameFlavor`
/// (`servers.py` `_resize` turns both into `HTTPBadRequest`).
pub fn apply_resize(
    server: &mut ServerRecord,
    flavor_ref: &str,
    actor: Actor,
) -> Result<(), ActionError> {
    apply(server, &ServerAction::Resize, Some(flavor_ref), actor)
}

/// The flavor a resize to `flavor_ref` (none: any other) takes `server` to.
fn resize_target(server: &ServerRecord, flavor_ref: Option<&str>) -> Result<Flavor, ActionError> {
    let Some(id) = flavor_ref else {
        return Ok(flavor::other_than(&server.flavor));
    };
    let target =
        flavor::find(id).ok_or_else(|| ActionError::BadRequest(flavor::not_found_message(id)))?;
    if target.id == server.flavor.id {
        return Err(ActionError::BadRequest(flavor::SAME_FLAVOR_MESSAGE.into()));
    }
    Ok(target)
}

fn apply(
    server: &mut ServerRecord,
    action: &ServerAction,
    flavor_ref: Option<&str>,
    actor: Actor,
) -> Result<(), ActionError> {
    let is_admin = actor.is_admin;
    match action {
        ServerAction::Lock { reason } => {
            // `nova/compute/api.py` `lock`: the owner's lock of a locked
            // server changes nothing; another project's admin takes it over.
            if server.locked && actor.same_project {
                return Ok(());
            }
            server.locked = true;
            server.locked_by = Some(actor.lock_kind());
            server.locked_reason = reason.clone();
            return Ok(());
        }
        ServerAction::Unlock => {
            // `lock_server.py` `_unlock`: a lock not of the caller's kind
            // (`is_expected_locked_by`) needs `unlock:unlock_override`,
            // which only admins have.
            let foreign = server.locked_by.is_some_and(|by| by != actor.lock_kind());
            if foreign && !is_admin {
                return Err(ActionError::Forbidden(
                    "os_compute_api:os-lock-server:unlock:unlock_override",
                ));
            }
            server.locked = false;
            server.locked_by = None;
            server.locked_reason = None;
            return Ok(());
        }
        ServerAction::ResetState(state) => {
            if !is_admin {
                return Err(ActionError::Forbidden(
                    "os_compute_api:os-admin-actions:reset_state",
                ));
            }
            if !matches!(state, VmState::Active | VmState::Error) {
                return Err(ActionError::BadRequest(format!(
                    "Invalid input for field/attribute state. Value: {state}. '{state}' is not one of ['active', 'error']"
                )));
            }
            server.vm_state = *state;
            return Ok(());
        }
        _ => {}
    }
    if server.locked && !is_admin {
        return Err(ActionError::Locked);
    }
    let (from, to) = action.transition();
    if !from.contains(&server.vm_state) {
        return Err(ActionError::WrongState(server.vm_state));
    }
    match action {
        ServerAction::Resize => {
            let target = resize_target(server, flavor_ref)?;
            server.resized_from = Some(server.vm_state);
            server.old_flavor = Some(server.flavor);
            server.flavor = target;
        }
        ServerAction::ConfirmResize | ServerAction::RevertResize => {
            server.vm_state = server.resized_from.take().unwrap_or(VmState::Active);
            let old = server.old_flavor.take();
            if let (ServerAction::RevertResize, Some(old)) = (action, old) {
                server.flavor = old;
            }
            return Ok(());
        }
        ServerAction::Rebuild { metadata } => {
            if server.vm_state == VmState::Error {
                server.vm_state = VmState::Active;
            }
            if let Some(map) = metadata {
                server.metadata = map.clone();
            }
            return Ok(());
        }
        _ => {}
    }
    if let Some(next) = to {
        server.vm_state = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ServerRecord {
        ServerRecord::new("s1", "p1", "one", Metadata::new())
    }

    #[test]
    fn every_state_is_reachable_from_active() {
        use ServerAction as A;
        let paths: &[(&[ServerAction], VmState)] = &[
            (&[A::Stop], VmState::Stopped),
            (&[A::Pause], VmState::Paused),
            (&[A::Suspend], VmState::Suspended),
            (&[A::Shelve], VmState::ShelvedOffloaded),
            (&[A::Rescue], VmState::Rescued),
            (&[A::Resize], VmState::Resized),
            (&[A::ResetState(VmState::Error)], VmState::Error),
            (&[A::Stop, A::Resize, A::RevertResize], VmState::Stopped),
            (&[A::Shelve, A::Unshelve], VmState::Active),
        ];
        for (steps, target) in paths {
            let mut s = server();
            for step in *steps {
                apply_action(&mut s, step, Actor::PROJECT_ADMIN).expect("action allowed");
            }
            assert_eq!(s.vm_state, *target, "{steps:?}");
        }
    }

    #[test]
    fn repeated_transition_and_lock_are_refused() {
        let mut s = server();
        apply_action(&mut s, &ServerAction::Pause, Actor::OWNER).expect("pause");
        assert_eq!(
            apply_action(&mut s, &ServerAction::Pause, Actor::OWNER),
            Err(ActionError::WrongState(VmState::Paused))
        );
        let lock = ServerAction::Lock { reason: None };
        apply_action(&mut s, &lock, Actor::OTHER_ADMIN).expect("lock");
        assert_eq!(s.locked_by, Some(LockedBy::Admin));
        assert_eq!(
            apply_action(&mut s, &ServerAction::Unpause, Actor::OWNER),
            Err(ActionError::Locked)
        );
        assert!(matches!(
            apply_action(&mut s, &ServerAction::Unlock, Actor::OWNER),
            Err(ActionError::Forbidden(_))
        ));
        apply_action(&mut s, &ServerAction::Unlock, Actor::PROJECT_ADMIN).expect("admin unlocks");
    }

    #[test]
    fn a_project_admins_lock_is_an_owner_lock() {
        // Nova: `locked_by` is `owner` when the locker's project is the
        // server's, admin or not; the owner may unlock it.
        let mut s = server();
        let lock = ServerAction::Lock { reason: None };
        apply_action(&mut s, &lock, Actor::PROJECT_ADMIN).expect("lock");
        assert_eq!(s.locked_by, Some(LockedBy::Owner));
        apply_action(&mut s, &ServerAction::Unlock, Actor::OWNER).expect("owner unlocks");
        assert!(!s.locked);
        // The owner relocking a locked server keeps the admin's lock.
        apply_action(&mut s, &lock, Actor::OTHER_ADMIN).expect("lock");
        apply_action(&mut s, &lock, Actor::OWNER).expect("no-op");
        assert_eq!(s.locked_by, Some(LockedBy::Admin));
        // An other-project admin unlocking an owner lock needs (and has) the override.
        let mut s = server();
        apply_action(&mut s, &lock, Actor::OWNER).expect("lock");
        apply_action(&mut s, &ServerAction::Unlock, Actor::OTHER_ADMIN).expect("admin unlocks");
    }

    #[test]
    fn every_action_body_reads_back_as_the_action() {
        for action in ServerAction::ALL {
            assert_eq!(
                ServerAction::from_body(&PyValue::from(&action.to_body())),
                Ok(action)
            );
        }
        let reason = ServerAction::Lock {
            reason: Some("why".into()),
        };
        assert_eq!(
            ServerAction::from_body(&PyValue::from(&reason.to_body())),
            Ok(reason)
        );
    }

    #[test]
    fn reaching_and_undoing_go_there_and_back() {
        for state in VmState::ALL {
            let (Some(there), Some(back)) =
                (ServerAction::reaching(state), ServerAction::undoing(state))
            else {
                let unreachable = [VmState::Active, VmState::Building, VmState::SoftDeleted];
                assert!(unreachable.contains(&state), "{state}");
                continue;
            };
            let mut s = server();
            apply_action(&mut s, &there, Actor::PROJECT_ADMIN).expect("there");
            let landed = s.vm_state;
            let shelved = [VmState::Shelved, VmState::ShelvedOffloaded];
            assert!(landed == state || shelved.contains(&state) && shelved.contains(&landed));
            apply_action(&mut s, &back, Actor::PROJECT_ADMIN).expect("back");
            assert_eq!(s.vm_state, VmState::Active, "{state}");
        }
        assert_eq!(
            ServerAction::undoing(VmState::SoftDeleted),
            Some(ServerAction::Restore)
        );
        assert_eq!(
            ServerAction::undoing(VmState::Stopped),
            Some(ServerAction::Start)
        );
    }

    #[test]
    fn action_bodies_are_read_like_novas_dispatcher() {
        use serde_json::json;
        let read = |v: serde_json::Value| ServerAction::from_body(&PyValue::from(&v));
        assert_eq!(read(json!({"os-stop": null})), Ok(ServerAction::Stop));
        assert_eq!(
            read(json!({"os-resetState": {"state": "error"}})),
            Ok(ServerAction::ResetState(VmState::Error))
        );
        assert_eq!(
            read(json!({"lock": {"locked_reason": "maintenance"}})),
            Ok(ServerAction::Lock {
                reason: Some("maintenance".into())
            })
        );
        assert!(
            matches!(read(json!({"fly": null})), Err(ActionError::BadRequest(m)) if m.contains("no such action: fly"))
        );
        assert!(
            matches!(read(json!({"resize": {}})), Err(ActionError::BadRequest(m)) if m.contains("flavorRef"))
        );
        assert!(matches!(
            read(json!({"os-resetState": {"state": "nope"}})),
            Err(ActionError::BadRequest(_))
        ));
        assert!(matches!(
            read(json!({"lock": {"locked_reason": ""}})),
            Err(ActionError::BadRequest(_))
        ));
        assert!(matches!(read(json!([])), Err(ActionError::BadRequest(_))));
    }

    #[test]
    fn lock_reason_counts_from_2_73() {
        let lock = ServerAction::Lock {
            reason: Some("r".into()),
        };
        assert_eq!(
            lock.clone().at_version(Microversion::new(2, 72)),
            ServerAction::Lock { reason: None }
        );
        assert_eq!(lock.clone().at_version(LOCK_REASON_FROM), lock);
    }

    #[test]
    fn action_errors_carry_novas_conflict_message() {
        let o = ActionError::WrongState(VmState::Paused).outcome("pause", "s1");
        assert_eq!(
            o,
            Outcome::refused(
                OutcomeKind::StateConflict,
                "Cannot 'pause' instance s1 while it is in vm_state paused"
            )
        );
        assert_eq!(
            ActionError::Locked.outcome("pause", "s1").kind(),
            OutcomeKind::Locked
        );
    }

    #[test]
    fn rebuild_replaces_or_keeps_metadata_and_recovers_error() {
        let mut s = server();
        s.metadata.insert("a".into(), "1".into());
        apply_action(
            &mut s,
            &ServerAction::Rebuild { metadata: None },
            Actor::OWNER,
        )
        .expect("rebuild");
        assert_eq!(s.metadata.len(), 1, "no metadata: the map is kept");
        let replace = ServerAction::Rebuild {
            metadata: Some(Metadata::from([("b".to_string(), "2".to_string())])),
        };
        apply_action(&mut s, &replace, Actor::OWNER).expect("rebuild");
        assert_eq!(s.metadata.keys().collect::<Vec<_>>(), ["b"]);
        s.vm_state = VmState::Error;
        apply_action(
            &mut s,
            &ServerAction::Rebuild {
                metadata: Some(Metadata::new()),
            },
            Actor::OWNER,
        )
        .expect("rebuild");
        assert!(s.metadata.is_empty() && s.vm_state == VmState::Active);
        s.vm_state = VmState::Paused;
        let refused = apply_action(
            &mut s,
            &ServerAction::Rebuild { metadata: None },
            Actor::OWNER,
        );
        assert_eq!(refused, Err(ActionError::WrongState(VmState::Paused)));
    }

    #[test]
    fn resize_must_name_a_known_other_flavor() {
        let mut s = server();
        assert_eq!(s.flavor.id, "1");
        assert_eq!(
            apply_resize(&mut s, "1", Actor::OWNER),
            Err(ActionError::BadRequest(
                "When resizing, instances must change flavor!".into()
            ))
        );
        assert_eq!(
            apply_resize(&mut s, "42", Actor::OWNER),
            Err(ActionError::BadRequest(
                "Flavor 42 could not be found.".into()
            ))
        );
        assert_eq!(
            apply_resize(&mut s, "m1.small", Actor::OWNER),
            Err(ActionError::BadRequest(
                "Flavor m1.small could not be found.".into()
            )),
            "flavorRef is an id, not a name"
        );
        assert_eq!(
            s.vm_state,
            VmState::Active,
            "a refused resize changes nothing"
        );
        assert_eq!(s.flavor.id, "1");
        apply_resize(&mut s, "2", Actor::OWNER).expect("resize");
        assert_eq!((s.vm_state, s.flavor.id), (VmState::Resized, "2"));
        assert_eq!(s.old_flavor.map(|f| f.id), Some("1"));
    }

    #[test]
    fn lock_and_state_are_checked_before_the_flavor() {
        // `nova/compute/api.py` `resize`: `check_instance_lock` and
        // `check_instance_state` decorate it, the flavor is looked up inside.
        let mut s = server();
        apply_action(&mut s, &ServerAction::Pause, Actor::OWNER).expect("pause");
        assert_eq!(
            apply_resize(&mut s, "1", Actor::OWNER),
            Err(ActionError::WrongState(VmState::Paused))
        );
        let mut s = server();
        let lock = ServerAction::Lock { reason: None };
        apply_action(&mut s, &lock, Actor::OWNER).expect("lock");
        assert_eq!(
            apply_resize(&mut s, "42", Actor::OWNER),
            Err(ActionError::Locked)
        );
    }

    #[test]
    fn revert_restores_the_old_flavor_and_confirm_keeps_the_new() {
        let mut s = server();
        apply_resize(&mut s, "3", Actor::OWNER).expect("resize");
        apply_action(&mut s, &ServerAction::RevertResize, Actor::OWNER).expect("revert");
        assert_eq!(
            (s.vm_state, s.flavor.id, s.old_flavor),
            (VmState::Active, "1", None)
        );
        apply_resize(&mut s, "3", Actor::OWNER).expect("resize");
        apply_action(&mut s, &ServerAction::ConfirmResize, Actor::OWNER).expect("confirm");
        assert_eq!(
            (s.vm_state, s.flavor.id, s.old_flavor),
            (VmState::Active, "3", None)
        );
        // Now "3" is the same flavor, and a resize naming none picks another.
        assert!(apply_resize(&mut s, "3", Actor::OWNER).is_err());
        apply_action(&mut s, &ServerAction::Resize, Actor::OWNER).expect("resize");
        assert_eq!(s.flavor.id, "1");
    }

    #[test]
    fn flavor_ref_is_a_string_or_integer_read_as_a_string() {
        use serde_json::json;
        let read = |v: serde_json::Value| ServerAction::from_body(&PyValue::from(&v));
        assert_eq!(
            requested_flavor(&PyValue::from(&json!({"resize": {"flavorRef": 2}}))),
            Some("2".into())
        );
        assert_eq!(
            requested_flavor(&PyValue::from(&json!({"resize": {"flavorRef": "3"}}))),
            Some("3".into())
        );
        assert_eq!(
            requested_flavor(&PyValue::from(&json!({"resize": {"flavorRef": ""}}))),
            None
        );
        assert_eq!(
            read(json!({"resize": {"flavorRef": 2}})),
            Ok(ServerAction::Resize)
        );
        assert_eq!(
            read(json!({"resize": {"flavorRef": ""}})),
            Err(ActionError::BadRequest(
                "Invalid input for field/attribute flavorRef. Value: . '' should be non-empty"
                    .into()
            ))
        );
        assert_eq!(
            read(json!({"resize": {"flavorRef": null}})),
            Err(ActionError::BadRequest(
                "Invalid input for field/attribute flavorRef. Value: None. None is not of type 'string', 'integer'".into()
            ))
        );
    }

    #[test]
    fn reset_state_is_admin_only() {
        let mut s = server();
        let reset = ServerAction::ResetState(VmState::Error);
        assert!(matches!(
            apply_action(&mut s, &reset, Actor::OWNER),
            Err(ActionError::Forbidden(_))
        ));
        let bad = ServerAction::ResetState(VmState::Paused);
        assert!(matches!(
            apply_action(&mut s, &bad, Actor::PROJECT_ADMIN),
            Err(ActionError::BadRequest(_))
        ));
    }
}
