//! Server resources the harness drives states with (spec §4.2): create,
//! show, list, delete, the per-server actions and `GET /limits`.
//!
//! Every route first passes the model's common stages
//! ([`crate::model::pipeline::admit`]); state changes are
//! [`crate::model::server::apply_action`]; refusals are the model's
//! outcomes rendered by the profile.

use serde_json::{Value, json};

use crate::model::Metadata;
use crate::model::caller::Caller;
use crate::model::microversion::Microversion;
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::pipeline::{self, Admission, policy_denied, visible_server};
use crate::model::pyjson::PyValue;
use crate::model::pyrepr;
use crate::model::server::{
    LOCK_REASON_FROM, LOCKED_SHOWN_FROM, ServerAction, ServerRecord, requested_flavor,
};

use super::app::Call;
use super::faults::Fault;
use super::flavors::{self, Links};
use super::message::HttpResponse;
use super::respond;
use super::routes::Family;

/// Servers one project may have (`maxTotalInstances`); bounds the world.
pub const MAX_INSTANCES: usize = 1000;

/// Servers the mock holds in all projects together. Any token names a
/// project, so the per-project cap alone would not bound memory.
pub const MAX_SERVERS_TOTAL: usize = 20 * MAX_INSTANCES;

/// What passed the common stages.
pub(crate) struct Admitted {
    pub(crate) caller: Caller,
    pub(crate) json: Option<PyValue>,
    pub(crate) version: Option<Microversion>,
}

/// Stages 1-6 for a server route; `Err` is the finished refusal.
pub(crate) fn admit(call: &Call<'_>, expects_body: bool) -> Result<Admitted, HttpResponse> {
    let mut version = None;
    let admission = Admission {
        caller: call.caller.as_ref(),
        url_project: call.url_project.as_deref(),
        body: &call.request.body,
        body_len: call.request.body_len(),
        content_type: call.request.header_value("Content-Type"),
        versions: &call.versions,
        expects_body,
    };
    match pipeline::admit(call.rules, &admission, &mut version) {
        Ok(ok) => Ok(Admitted {
            caller: ok.caller.clone(),
            json: ok.json,
            version,
        }),
        Err(outcome) => Err(call.refuse(&outcome, version)),
    }
}

/// A JSON document with the version headers.
pub(crate) fn answer(
    call: &Call<'_>,
    status: u16,
    value: &Value,
    version: Option<Microversion>,
) -> HttpResponse {
    let mut response = respond::document(status, value);
    respond::add_version_headers(&mut response, version, call.rules.legacy);
    response
}

pub(crate) fn empty(call: &Call<'_>, status: u16, version: Option<Microversion>) -> HttpResponse {
    let mut response = HttpResponse::new(status);
    respond::add_version_headers(&mut response, version, call.rules.legacy);
    response
}

/// The server as `GET /servers/{id}` shows it at `version`. `flavor_links`
/// is where its flavor's bookmark points (`None`: a dialect that shows no
/// Nova flavor, Huawei v1).
pub fn server_json(
    server: &ServerRecord,
    version: Option<Microversion>,
    flavor_links: Option<&Links>,
) -> Value {
    let mut shown = json!({
        "id": server.id,
        "name": server.name,
        "status": server.vm_state.status(),
        "tenant_id": server.project_id,
        "metadata": server.metadata,
        "OS-EXT-STS:vm_state": server.vm_state.as_str(),
        "OS-EXT-STS:task_state": null,
        "links": [],
    });
    let version = version.unwrap_or(Microversion::BASE);
    if let Some(links) = flavor_links {
        shown["flavor"] = flavors::in_server(&server.flavor, version, links);
    }
    if version >= LOCKED_SHOWN_FROM {
        shown["locked"] = json!(server.locked);
    }
    if version >= LOCK_REASON_FROM {
        shown["locked_reason"] = json!(server.locked_reason);
    }
    shown
}

/// Where a Nova-family server's flavor links point; `None` for Huawei v1.
fn flavor_links(call: &Call<'_>) -> Option<Links> {
    (Family::of(call.profile()) == Family::Nova).then(|| Links::for_call(call))
}

/// `POST /servers`: `{"server": {"name": ..., "metadata"?: {...}}}` → 202.
pub fn create(call: &Call<'_>) -> HttpResponse {
    let admitted = match admit(call, true) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let body = admitted.json.unwrap_or(PyValue::None);
    let (name, metadata) = match create_request(call, &body) {
        Ok(parts) => parts,
        Err(outcome) => return call.refuse(&outcome, version),
    };
    if !admitted.caller.may_write() {
        return call.refuse(&policy_denied("os_compute_api:servers:create"), version);
    }
    let mut world = call.world();
    if world.len() >= MAX_SERVERS_TOTAL {
        let message =
            format!("The mock holds at most {MAX_SERVERS_TOTAL} servers; delete some first");
        return call.refuse(&Outcome::refused(OutcomeKind::OverQuota, message), version);
    }
    let used = world.in_project(&admitted.caller.project).count();
    if used >= MAX_INSTANCES {
        let message = format!(
            "Quota exceeded for instances: Requested 1, but already used {used} of {MAX_INSTANCES} instances"
        );
        return call.refuse(&Outcome::refused(OutcomeKind::OverQuota, message), version);
    }
    let id = world.create(&admitted.caller.project, &name, metadata);
    let Some(server) = world.get(&id) else {
        return call.refuse(&pipeline::server_not_found(&id), version);
    };
    let mut shown = server_json(server, version, flavor_links(call).as_ref());
    shown["adminPass"] = json!(admin_pass());
    answer(call, 202, &json!({ "server": shown }), version)
}

/// The name and metadata of a create body, checked by the model's rules.
fn create_request(call: &Call<'_>, body: &PyValue) -> Result<(String, Metadata), Outcome> {
    let invalid = |message: String| Outcome::refused(OutcomeKind::InvalidInput, message);
    let Some(server) = body.get("server") else {
        return Err(invalid(match body {
            PyValue::Dict(_) => "'server' is a required property".into(),
            other => format!("{} is not of type 'object'", pyrepr::repr(other)),
        }));
    };
    let name = match server.get("name") {
        Some(PyValue::Str(n)) if !n.trim().is_empty() && n.chars().count() <= 255 => n.clone(),
        Some(other) => {
            return Err(invalid(format!(
                "Invalid input for field/attribute name. Value: {}. {} is not a valid server name",
                pyrepr::str(other),
                pyrepr::repr(other)
            )));
        }
        None => return Err(invalid("'name' is a required property".into())),
    };
    let metadata = match server.get("metadata") {
        None => Metadata::new(),
        Some(map) if call.faults().has(&Fault::CreateSkipsMetadataRules) => unchecked(map),
        Some(map) => pipeline::server_metadata(call.rules, map)?,
    };
    Ok((name, metadata))
}

/// A create body's metadata as the `create-skips-metadata-rules` fault
/// stores it: every member of an object, values that are not strings as
/// Python's `repr`; anything but an object as no metadata.
fn unchecked(map: &PyValue) -> Metadata {
    let PyValue::Dict(members) = map else {
        return Metadata::new();
    };
    members
        .iter()
        .map(|(key, value)| {
            let value = match value {
                PyValue::Str(text) => text.clone(),
                other => pyrepr::repr(other),
            };
            (key.clone(), value)
        })
        .collect()
}

fn admin_pass() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// `GET /servers` and `/servers/detail`: the caller's project.
pub fn list(call: &Call<'_>, detail: bool) -> HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let links = flavor_links(call);
    let world = call.world();
    let servers: Vec<Value> = world
        .in_project(&admitted.caller.project)
        .map(|s| {
            if detail {
                server_json(s, version, links.as_ref())
            } else {
                json!({"id": s.id, "name": s.name, "links": []})
            }
        })
        .collect();
    answer(call, 200, &json!({ "servers": servers }), version)
}

/// `GET /servers/{id}`.
pub fn show(call: &Call<'_>) -> HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let id = call.captures.server.as_deref().unwrap_or_default();
    let world = call.world();
    let seen = world
        .get(id)
        .map(|s| call.faults().server(s, Some(&admitted.caller)));
    match visible_server(seen.as_deref(), &admitted.caller, id) {
        Ok(server) => answer(
            call,
            200,
            &json!({ "server": server_json(server, version, flavor_links(call).as_ref()) }),
            version,
        ),
        Err(outcome) => call.refuse(&outcome, version),
    }
}

/// `DELETE /servers/{id}` → 204 (hard delete: `reclaim_instance_interval`
/// is 0 by default).
pub fn delete(call: &Call<'_>) -> HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let caller = &admitted.caller;
    let id = call.captures.server.as_deref().unwrap_or_default();
    let mut world = call.world();
    let refusal = match visible_server(world.get(id), caller, id) {
        Err(outcome) => Some(outcome),
        Ok(_) if !caller.may_write() => Some(policy_denied("os_compute_api:servers:delete")),
        Ok(server) if server.locked && !caller.is_admin() => Some(pipeline::locked(id)),
        Ok(_) => None,
    };
    if let Some(outcome) = refusal {
        return call.refuse(&outcome, version);
    }
    world.remove(id);
    empty(call, 204, version)
}

/// `POST /servers/{id}/action`.
pub fn action(call: &Call<'_>) -> HttpResponse {
    let admitted = match admit(call, true) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let caller = &admitted.caller;
    let id = call.captures.server.as_deref().unwrap_or_default();
    let body = admitted.json.unwrap_or(PyValue::None);
    let action = match ServerAction::from_body(&body) {
        Ok(ServerAction::Rebuild { .. }) => match rebuild_metadata(call, &body) {
            Ok(metadata) => ServerAction::Rebuild { metadata },
            Err(outcome) => return call.refuse(&outcome, version),
        },
        Ok(a) => a.at_version(version.unwrap_or(Microversion::BASE)),
        Err(e) => return call.refuse(&e.outcome("action", id), version),
    };
    let mut world = call.world();
    let flavor_ref = requested_flavor(&body);
    let next =
        match pipeline::decide_action(world.get(id), caller, id, &action, flavor_ref.as_deref()) {
            Ok(next) => next,
            Err(outcome) => return call.refuse(&outcome, version),
        };
    let Some(server) = world.get_mut(id) else {
        return call.refuse(&pipeline::server_not_found(id), version);
    };
    *server = next;
    match action {
        ServerAction::Rescue => {
            let pass = body
                .get("rescue")
                .and_then(|r| r.get("adminPass"))
                .and_then(PyValue::as_str)
                .map(str::to_string)
                .unwrap_or_else(admin_pass);
            answer(call, 200, &json!({ "adminPass": pass }), version)
        }
        ServerAction::ConfirmResize => empty(call, 204, version),
        ServerAction::Rebuild { .. } => {
            let shown = server_json(server, version, flavor_links(call).as_ref());
            answer(call, 202, &json!({ "server": shown }), version)
        }
        _ => empty(call, 202, version),
    }
}

/// The map a rebuild replaces the server's metadata with, if it names one.
fn rebuild_metadata(call: &Call<'_>, body: &PyValue) -> Result<Option<Metadata>, Outcome> {
    match body.get("rebuild").and_then(|r| r.get("metadata")) {
        Some(map) => pipeline::server_metadata(call.rules, map).map(Some),
        None => Ok(None),
    }
}

/// `GET /limits`: `maxServerMeta` is the profile's quota (-1: unlimited).
pub fn limits(call: &Call<'_>) -> HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let quota = call
        .profile()
        .rules
        .metadata
        .quota
        .map_or(-1, |q| i64::try_from(q).unwrap_or(i64::MAX));
    let used = call.world().in_project(&admitted.caller.project).count();
    let mut absolute = json!({
        "maxServerMeta": quota,
        "maxPersonality": 5,
        "maxPersonalitySize": 10240,
        "maxTotalInstances": MAX_INSTANCES,
        "maxTotalCores": 2000,
        "maxTotalRAMSize": 5_120_000,
        "maxTotalKeypairs": 100,
        "maxServerGroups": 10,
        "maxServerGroupMembers": 10,
        "totalInstancesUsed": used,
        "totalCoresUsed": used,
        "totalRAMUsed": used * 512,
        "totalServerGroupsUsed": 0,
    });
    if version.unwrap_or(Microversion::BASE) < crate::model::server::IMAGE_META_UNTIL {
        absolute["maxImageMeta"] = json!(quota);
    }
    answer(
        call,
        200,
        &json!({"limits": {"absolute": absolute, "rate": []}}),
        version,
    )
}

/// `GET {endpoint}` (`/v2.1/{project}`): the version document, after the
/// common stages (so a wrong project or token is refused as anywhere else).
pub fn endpoint_version(call: &Call<'_>) -> HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let root = super::app::host_root(call.request);
    let mut response = super::versions::document(call.mount, &root);
    respond::add_version_headers(&mut response, admitted.version, call.rules.legacy);
    response
}
