//! Putting lent servers back exactly as the run found them.
//!
//! [`snapshot`] reads every server the run may change (metadata, `vm_state`,
//! lock) before the first write and writes a [`Journal`]; [`restore`] brings
//! each server back: settled, unlocked and active (writes allowed), then its
//! user metadata, then its original state and lock, then reads it all back
//! to prove it. System-owned keys are neither recorded nor written. Each
//! server carries the run's lease ([`lease`]) from before the snapshot
//! until it is back. The embedded server is disposable and needs none of
//! this.

use std::collections::BTreeMap;

use serde_json::json;

use crate::cases::format::Identity;
use crate::endpoint::journal::{JOURNAL_VERSION, Journal, JournalFile, ServerRole, ServerSnapshot};
use crate::endpoint::lease::{self, Taken};
use crate::endpoint::{Credentials, Target};
use crate::model::pipeline::Op;
use crate::model::server::{ServerAction, VmState};

use crate::endpoint::requests::Action;
use crate::endpoint::servers::{Conversation, Goal, Housekeeping, Purpose, SetupError};
use crate::run::results::{now_rfc3339, strip_endpoint_secrets};

/// The servers a run may change, each with its role.
pub fn servers_at_risk(target: &Target) -> Vec<(String, ServerRole)> {
    let with = |ids: &[String], role| {
        ids.iter()
            .map(move |s| (s.clone(), role))
            .collect::<Vec<_>>()
    };
    let mut seen = std::collections::BTreeSet::new();
    with(&target.servers, ServerRole::Project)
        .into_iter()
        .chain(with(&target.fresh_servers, ServerRole::Fresh))
        .chain(with(&target.alt_servers, ServerRole::Alt))
        .filter(|(id, _)| seen.insert(id.clone()))
        .collect()
}

/// Who reads and writes a server of `role`: the owner for the project's
/// servers; for the second project's, its member if known, else the admin.
pub fn keeper(credentials: &Credentials, role: ServerRole) -> Option<Identity> {
    match role {
        ServerRole::Project | ServerRole::Fresh | ServerRole::Created => Some(Identity::Owner),
        ServerRole::Alt if credentials.alt_token.is_some() => Some(Identity::Alt),
        ServerRole::Alt if credentials.admin_token.is_some() => Some(Identity::Admin),
        ServerRole::Alt => None,
    }
}

/// Lease and read every server at risk and write the journal to `path`;
/// also the notes on servers that could not be leased. Servers of the
/// second project that no identity can read are left out: no credential
/// the run holds can write to them either. When one server is leased by
/// another run, the leases taken so far are given back and nothing is
/// written.
pub async fn snapshot<C: Conversation>(
    session: &mut C,
    path: std::path::PathBuf,
) -> Result<(Journal, Vec<String>), SetupError> {
    let run = Journal::run_id(&path);
    let mut servers: Vec<ServerSnapshot> = Vec::new();
    let mut notes = Vec::new();
    for (id, role) in servers_at_risk(session.target()) {
        let Some(identity) = keeper(&session.target().credentials, role) else {
            continue;
        };
        let read = lease_and_read(session, &id, role, identity, &run, &mut notes).await;
        match read {
            Ok(server) => servers.push(server),
            Err(e) => {
                give_back_leases(session, &servers).await;
                return Err(e);
            }
        }
    }
    let target = session.target();
    let file = JournalFile {
        format_version: JOURNAL_VERSION,
        taken_at: now_rfc3339(),
        pid: std::process::id(),
        endpoint: strip_endpoint_secrets(&target.endpoint),
        dialect: target.profile.id().to_string(),
        project_id: target.project_id.clone(),
        alt_project_id: target.credentials.alt_project_id.clone(),
        servers: servers.clone(),
    };
    match Journal::create(path, file) {
        Ok(journal) => Ok((journal, notes)),
        Err(e) => {
            give_back_leases(session, &servers).await;
            Err(SetupError(e.to_string()))
        }
    }
}

/// Take the run's lease on one server, then read it.
async fn lease_and_read<C: Conversation>(
    session: &mut C,
    id: &str,
    role: ServerRole,
    identity: Identity,
    run: &str,
    notes: &mut Vec<String>,
) -> Result<ServerSnapshot, SetupError> {
    let lease = match lease::take(session, id, identity, run).await? {
        Taken::Held(tag) => Some(tag),
        Taken::Unleased(reason) => {
            notes.push(format!("server {id} is not leased: {reason}"));
            None
        }
    };
    match read_server(session, id, role, identity).await {
        Ok(server) => Ok(ServerSnapshot { lease, ..server }),
        Err(e) => {
            if let Some(tag) = &lease {
                let _ = lease::release(session, id, identity, tag).await;
            }
            Err(e)
        }
    }
}

/// Remove the leases of `servers` (a snapshot that could not finish).
async fn give_back_leases<C: Conversation>(session: &mut C, servers: &[ServerSnapshot]) {
    for server in servers {
        let identity = keeper(&session.target().credentials, server.role);
        if let (Some(tag), Some(identity)) = (&server.lease, identity) {
            let _ = lease::release(session, &server.id, identity, tag).await;
        }
    }
}

/// What `id` holds now, read as `identity` (reads only).
pub async fn read_server<C: Conversation>(
    session: &mut C,
    id: &str,
    role: ServerRole,
    identity: Identity,
) -> Result<ServerSnapshot, SetupError> {
    let view = session.show_as(id, identity, Purpose::Setup).await?;
    let metadata = session
        .read_stored(id, identity, Purpose::Setup, None)
        .await?;
    Ok(ServerSnapshot {
        id: id.to_string(),
        role,
        vm_state: view.vm_state,
        locked: view.locked,
        metadata,
        flavor: view.flavor,
        lease: None,
    })
}

/// How restoring one server ended.
#[derive(Debug)]
pub struct Restored {
    pub server: String,
    /// `Ok` with the keys a fresh server keeps because the dialect cannot
    /// delete a key (empty: exactly as found).
    pub outcome: Result<Vec<String>, SetupError>,
}

/// Put every server of `journal` back; each server is tried even when an
/// earlier one failed. The journal is removed only when all are back.
pub async fn restore<C: Conversation>(session: &mut C, journal: Journal) -> Vec<Restored> {
    let mut report = Vec::new();
    for snapshot in &journal.file.servers {
        let outcome = restore_server(session, snapshot).await;
        report.push(Restored {
            server: snapshot.id.clone(),
            outcome,
        });
    }
    if report.iter().all(|r| r.outcome.is_ok())
        && let Err(e) = journal.remove()
    {
        eprintln!("warning: every server is restored, but {e}");
    }
    report
}

async fn restore_server<C: Conversation>(
    session: &mut C,
    snapshot: &ServerSnapshot,
) -> Result<Vec<String>, SetupError> {
    let id = snapshot.id.as_str();
    let identity = keeper(&session.target().credentials, snapshot.role).ok_or_else(|| {
        SetupError(format!(
            "server {id}: no credential to restore it with (pass --alt-token or --admin-token)"
        ))
    })?;
    if snapshot.role == ServerRole::Created {
        crate::endpoint::provision::delete(session, id).await?;
        return Ok(Vec::new());
    }
    let kept = put_back_server(session, snapshot, identity).await?;
    if let Some(tag) = &snapshot.lease {
        lease::release(session, id, identity, tag).await?;
    }
    Ok(kept)
}

async fn put_back_server<C: Conversation>(
    session: &mut C,
    snapshot: &ServerSnapshot,
    identity: Identity,
) -> Result<Vec<String>, SetupError> {
    let id = snapshot.id.as_str();
    let found = read_server(session, id, snapshot.role, identity).await?;
    let found = ServerSnapshot {
        lease: snapshot.lease.clone(),
        ..found
    };
    if &found == snapshot {
        return Ok(Vec::new());
    }
    let kept = undeletable_keys(session, snapshot, &found)?;
    // Writable first: settled, unlocked, active.
    session.bring_back(id, true, identity).await?;
    if let (Some(was), Some(now)) = (&snapshot.flavor, &found.flavor)
        && was != now
    {
        resize_back(session, id, was, identity).await?;
    }
    if found.metadata != snapshot.metadata {
        write_metadata(session, id, &found.metadata, &snapshot.metadata, identity).await?;
    }
    let state = snapshot.vm_state.as_deref().and_then(VmState::parse);
    if let Some(state) = state.filter(|s| *s != VmState::Active) {
        let action = ServerAction::reaching(state).ok_or_else(|| {
            SetupError(format!(
                "server {id}: no API action leads back to vm_state {}",
                state.as_str()
            ))
        })?;
        session.act(id, &action, identity, Purpose::Cleanup).await?;
        session.wait_for(id, Some(state), Purpose::Cleanup).await?;
    }
    if snapshot.locked == Some(true) {
        let lock = ServerAction::Lock { reason: None };
        session.act(id, &lock, identity, Purpose::Cleanup).await?;
    }
    let mut now = read_server(session, id, snapshot.role, identity).await?;
    now.metadata.retain(|k, _| !kept.contains(k));
    now.lease = snapshot.lease.clone();
    if &now != snapshot {
        return Err(SetupError(format!(
            "server {id} is not as it was: found vm_state {:?}, locked {:?}, metadata {:?}; expected vm_state {:?}, locked {:?}, metadata {:?}",
            now.vm_state,
            now.locked,
            now.metadata,
            snapshot.vm_state,
            snapshot.locked,
            snapshot.metadata
        )));
    }
    Ok(kept)
}

/// Resize an active server back to flavor `flavor` and confirm it (a case
/// resized it and confirmed the resize).
async fn resize_back<C: Conversation>(
    session: &mut C,
    id: &str,
    flavor: &str,
    identity: Identity,
) -> Result<(), SetupError> {
    let mut resize = Action::from_model(&ServerAction::Resize);
    resize.args = json!({ "flavorRef": flavor });
    session
        .send_action(id, &resize, identity, Purpose::Cleanup)
        .await?;
    session
        .wait_for(id, Some(VmState::Resized), Purpose::Cleanup)
        .await?;
    session
        .act(id, &ServerAction::ConfirmResize, identity, Purpose::Cleanup)
        .await?;
    session
        .wait_until(id, Goal::LeftFrom(VmState::Resized), Purpose::Cleanup)
        .await?;
    Ok(())
}

/// The keys cases added that this dialect has no way to delete: allowed
/// on a fresh server (lent to be written to), an error anywhere else.
fn undeletable_keys<C: Conversation>(
    session: &C,
    snapshot: &ServerSnapshot,
    found: &ServerSnapshot,
) -> Result<Vec<String>, SetupError> {
    let profile = &session.target().profile;
    let can_delete = session.target().can_reset_metadata();
    let extra: Vec<String> = found
        .metadata
        .keys()
        .filter(|k| !snapshot.metadata.contains_key(*k))
        .cloned()
        .collect();
    if can_delete || extra.is_empty() {
        return Ok(Vec::new());
    }
    if snapshot.role == ServerRole::Fresh {
        return Ok(extra);
    }
    Err(SetupError(format!(
        "server {}: {} has no way to delete the keys {extra:?} a case added",
        snapshot.id,
        profile.id()
    )))
}

/// Turn `found` into `wanted` with as few writes as the dialect allows,
/// never touching system-owned keys: replace-all where it cannot remove
/// them, else delete what is extra and merge (or set) what differs.
async fn write_metadata<C: Conversation>(
    session: &mut C,
    id: &str,
    found: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
    identity: Identity,
) -> Result<(), SetupError> {
    let profile = &session.target().profile;
    let what = "restore metadata";
    if session.target().replace_clears_metadata() {
        let body = json!({ "metadata": wanted });
        return session
            .expect_2xx(id, &Op::Replace, Some(&body), identity, what)
            .await;
    }
    let has_merge = profile.op(&Op::Merge).is_some();
    let has_delete = profile.op(&Op::Delete(String::new())).is_some();
    for key in found
        .keys()
        .filter(|k| has_delete && !wanted.contains_key(*k))
    {
        session
            .expect_2xx(id, &Op::Delete(key.clone()), None, identity, what)
            .await?;
    }
    let changed: BTreeMap<&String, &String> = wanted
        .iter()
        .filter(|(k, v)| found.get(*k) != Some(*v))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    if has_merge {
        let body = json!({ "metadata": changed });
        return session
            .expect_2xx(id, &Op::Merge, Some(&body), identity, what)
            .await;
    }
    for (key, value) in changed {
        let body = json!({ "meta": { key: value } });
        session
            .expect_2xx(id, &Op::Set(key.clone()), Some(&body), identity, what)
            .await?;
    }
    Ok(())
}
