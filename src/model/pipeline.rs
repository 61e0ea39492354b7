//! One metadata request through Nova's order of checks (spec §4.4).
//!
//! [`decide`] is a pure function: given the dialect's [`ApiRules`], the request
//! and the server it names (if any), it returns the [`Decision`]: the outcome,
//! the negotiated microversion and, for a successful write, the map to store.
//! The mock server stores it; the runner and the fuzzer compare a real
//! endpoint's answer against it.

use super::Metadata;
use super::body::{self, BodyError, Wrapper};
use super::caller::Caller;
use super::microversion::{self, Microversion, VersionError, VersionHeaders};
use super::outcome::{Outcome, OutcomeKind, Success};
use super::pyjson::{PyDict, PyValue};
use super::rules::{KeyRule, MetadataRules, merged_count};
use super::server::{ServerRecord, VmState};

/// The six metadata operations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    List,
    Merge,
    Replace,
    Get(String),
    Set(String),
    Delete(String),
}

impl Op {
    /// The operation as the server receives it when a client percent-encodes
    /// the key in UTF-8: on a server with `latin1_paths`, the key's UTF-8
    /// bytes, one Latin-1 character each (measured on Nova 34's `/v2`:
    /// `PUT .../metadata/%C3%A9` with `{"meta": {"é": "1"}}` is "Request
    /// body and URI mismatch", `%E9` sets `é`).
    pub fn as_served(&self, rules: &ApiRules) -> Op {
        let latin1 = |key: &str| key.bytes().map(char::from).collect::<String>();
        match self {
            Op::Get(k) if rules.latin1_paths => Op::Get(latin1(k)),
            Op::Set(k) if rules.latin1_paths => Op::Set(latin1(k)),
            Op::Delete(k) if rules.latin1_paths => Op::Delete(latin1(k)),
            other => other.clone(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Merge => "merge",
            Op::Replace => "replace",
            Op::Get(_) => "get",
            Op::Set(_) => "set",
            Op::Delete(_) => "delete",
        }
    }

    pub fn is_write(&self) -> bool {
        !matches!(self, Op::List | Op::Get(_))
    }

    /// The body wrapper a write expects; `None` for operations without a body.
    pub fn wrapper(&self) -> Option<Wrapper> {
        match self {
            Op::Merge | Op::Replace => Some(Wrapper::Metadata),
            Op::Set(_) => Some(Wrapper::Meta),
            _ => None,
        }
    }

    /// The operation on the key the route captures from the URL
    /// ([`KeyRule::routed`]).
    pub fn routed(&self, rule: &KeyRule) -> Op {
        match self {
            Op::Get(k) => Op::Get(rule.routed(k).to_string()),
            Op::Set(k) => Op::Set(rule.routed(k).to_string()),
            Op::Delete(k) => Op::Delete(rule.routed(k).to_string()),
            other => other.clone(),
        }
    }

    /// Nova's policy rule suffix (`os_compute_api:server-metadata:<rule>`).
    pub fn policy_rule(&self) -> &'static str {
        match self {
            Op::List => "index",
            Op::Get(_) => "show",
            Op::Merge => "create",
            Op::Replace => "update_all",
            Op::Set(_) => "update",
            Op::Delete(_) => "delete",
        }
    }

    /// The key in the URL, for per-key operations.
    pub fn key(&self) -> Option<&str> {
        match self {
            Op::Get(k) | Op::Set(k) | Op::Delete(k) => Some(k),
            _ => None,
        }
    }
}

/// The dialect-dependent rules the pipeline applies. Built from a profile.
#[derive(Debug, Clone)]
pub struct ApiRules {
    pub metadata: MetadataRules,
    /// vm_states in which writes are allowed.
    pub write_states: Vec<VmState>,
    /// Bodies larger than this get `too-large` before anything else.
    pub max_body_bytes: usize,
    /// Served microversion range; `None` where the API has none (Huawei v1).
    pub microversions: Option<(Microversion, Microversion)>,
    /// Legacy `/v2`: version headers ignored, unknown top-level members
    /// dropped, query strings never validated (spec §6.1).
    pub legacy: bool,
    /// From this microversion on, list and get refuse unknown query
    /// parameters (2.102, spec §6.2).
    pub strict_query_from: Option<Microversion>,
    /// A blank body where one is required is `malformed-body` ("request body
    /// cannot be blank", Huawei v1 `Common.0002`, spec §5.5), not a missing
    /// wrapper.
    pub blank_body_malformed: bool,
    /// The server reads a URL path's percent-escapes as Latin-1 bytes, as
    /// Nova does (eventlet's PEP 3333 `PATH_INFO`, which routes matches):
    /// a key sent UTF-8-encoded in the URL arrives as its bytes, one
    /// character each (`%C3%A9` is `Ã©`). See [`Op::as_served`].
    pub latin1_paths: bool,
}

/// One metadata request, already split out of HTTP.
#[derive(Debug, Clone)]
pub struct MetaRequest<'a> {
    pub op: &'a Op,
    /// `None`: no or unusable credentials.
    pub caller: Option<&'a Caller>,
    /// The project segment of the URL, if the route has one.
    pub url_project: Option<&'a str>,
    pub server_id: &'a str,
    /// The body as received (possibly cut at the size limit).
    pub body: &'a [u8],
    /// The full length the client sent (Content-Length or bytes read).
    pub body_len: usize,
    pub content_type: Option<&'a str>,
    pub versions: &'a VersionHeaders,
    pub query: &'a [(String, String)],
}

/// What the model decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// The negotiated microversion, when negotiation got that far.
    pub microversion: Option<Microversion>,
    /// For a successful write: the whole map to store.
    pub store: Option<Metadata>,
}

/// Content types accepted on any method (spec §5.4); parameters ignored.
pub fn content_type_accepted(content_type: Option<&str>) -> bool {
    let Some(full) = content_type else {
        return true;
    };
    // nova/api/openstack/wsgi.py `Request.get_content_type`: webob's
    // `content_type` is the header up to the first `;`, compared as it is:
    // no lower-casing, no trimming (`APPLICATION/JSON` and
    // `application/json ; charset=utf-8` are 415; measured on Nova 34). The
    // HTTP server has already stripped the value's outer whitespace.
    let media = full.split(';').next().unwrap_or("");
    matches!(
        media,
        "" | "text/plain" | "application/json" | "application/vnd.openstack.compute+json"
    )
}

type Stage<T> = Result<T, Outcome>;

/// Run `req` through the checks of spec §4.4, in order.
pub fn decide(rules: &ApiRules, req: &MetaRequest<'_>, server: Option<&ServerRecord>) -> Decision {
    let mut microversion = None;
    let (outcome, store) = match run_stages(rules, req, server, &mut microversion) {
        Ok((outcome, store)) => (outcome, store),
        Err(refusal) => (refusal, None),
    };
    Decision {
        outcome,
        microversion,
        store,
    }
}

/// The stages every request goes through before its route's own checks
/// (spec §4.4 stages 1-6), metadata routes and server routes alike.
#[derive(Debug, Clone)]
pub struct Admission<'a> {
    pub caller: Option<&'a Caller>,
    pub url_project: Option<&'a str>,
    pub body: &'a [u8],
    pub body_len: usize,
    pub content_type: Option<&'a str>,
    pub versions: &'a VersionHeaders,
    /// The route reads a JSON body (POST/PUT with a body schema).
    pub expects_body: bool,
}

/// A request that passed [`admit`].
#[derive(Debug, Clone)]
pub struct Admitted<'a> {
    pub caller: &'a Caller,
    /// The parsed body when the route expects one.
    pub json: Option<PyValue>,
}

/// Stage 1 of spec §4.4: a body over the dialect's limit is refused before
/// anything else is looked at (the mock applies it on every route).
pub fn admit_size(rules: &ApiRules, body_len: usize) -> Result<(), Outcome> {
    if body_len > rules.max_body_bytes {
        return Err(too_large());
    }
    Ok(())
}

/// Stages 1-6 of spec §4.4: size, authentication, microversion, media type,
/// JSON parse, URL project. `microversion` receives the negotiated version as
/// soon as negotiation succeeds, so a later refusal still carries it.
pub fn admit<'a>(
    rules: &ApiRules,
    req: &Admission<'a>,
    microversion: &mut Option<Microversion>,
) -> Result<Admitted<'a>, Outcome> {
    admit_size(rules, req.body_len)?;
    let caller = req.caller.ok_or_else(unauthenticated)?;
    let negotiated = negotiate(rules, req.versions);
    *microversion = match &negotiated {
        Ok(version) => *version,
        Err(_) => refused_version(rules, req.versions),
    };
    negotiated?;
    if !content_type_accepted(req.content_type) {
        return Err(Outcome::refused(
            OutcomeKind::BadMediaType,
            "Unsupported Content-Type",
        ));
    }
    let json = if req.expects_body && rules.blank_body_malformed {
        Some(body::required_json(req.body)?)
    } else if req.expects_body {
        Some(body::parse_json(req.body).map_err(|_| malformed_body())?)
    } else {
        None
    };
    check_project(req.url_project, caller)?;
    Ok(Admitted { caller, json })
}

/// 413 from the size limit, before anything else (spec §2.6; the `%s` is
/// literal in Nova's message).
pub fn too_large() -> Outcome {
    Outcome::refused(
        OutcomeKind::TooLarge,
        "Request is too large. Larger than max_request_body_size (%s).",
    )
}

/// 401: no or unusable credentials (keystonemiddleware's message).
pub fn unauthenticated() -> Outcome {
    Outcome::refused(
        OutcomeKind::Unauthorized,
        "The request you have made requires authentication.",
    )
}

/// 400 "Malformed request body" (spec §5.3).
pub fn malformed_body() -> Outcome {
    Outcome::refused(OutcomeKind::MalformedBody, "Malformed request body")
}

/// 404 for a server that is missing or not visible to the caller.
pub fn server_not_found(id: &str) -> Outcome {
    Outcome::refused(
        OutcomeKind::ServerNotFound,
        format!("Instance {id} could not be found."),
    )
}

/// 403 from the policy engine for `rule` (a full rule name).
pub fn policy_denied(rule: &str) -> Outcome {
    Outcome::refused(
        OutcomeKind::Forbidden,
        format!("Policy doesn't allow {rule} to be performed."),
    )
}

/// Stage 8: the server as the caller may see it (own project, or any
/// project for an admin).
pub fn visible_server<'s>(
    server: Option<&'s ServerRecord>,
    caller: &Caller,
    id: &str,
) -> Result<&'s ServerRecord, Outcome> {
    match server {
        Some(s) if s.project_id == caller.project || caller.is_admin() => Ok(s),
        _ => Err(server_not_found(id)),
    }
}

/// The order of checks for a server action, as Nova runs them: the server
/// must be visible to the caller (`common.get_instance`: 404), the caller
/// may act (policy: 403), then the lock (`check_instance_lock`: 409) and
/// the state (`check_instance_state`: 409) rules of
/// [`apply_action`](super::server::apply_action), and for a resize that
/// names `flavor_ref` the flavor rules of
/// [`apply_resize`](super::server::apply_resize) (400). On success, the
/// server as the action leaves it. The mock and the fuzzer's model both ask
/// here.
pub fn decide_action(
    server: Option<&ServerRecord>,
    caller: &Caller,
    id: &str,
    action: &super::server::ServerAction,
    flavor_ref: Option<&str>,
) -> Result<ServerRecord, Outcome> {
    use super::server::{Actor, ServerAction, apply_action, apply_resize};
    let server = visible_server(server, caller, id)?;
    if !caller.may_write() {
        let rule = format!("os_compute_api:servers:{}", action.name());
        return Err(policy_denied(&rule));
    }
    let mut next = server.clone();
    let actor = Actor::of(caller, &server.project_id);
    match (action, flavor_ref) {
        (ServerAction::Resize, Some(flavor)) => apply_resize(&mut next, flavor, actor),
        _ => apply_action(&mut next, action, actor),
    }
    .map_err(|e| e.outcome(action.name(), id))?;
    Ok(next)
}

fn run_stages(
    rules: &ApiRules,
    req: &MetaRequest<'_>,
    server: Option<&ServerRecord>,
    microversion: &mut Option<Microversion>,
) -> Stage<(Outcome, Option<Metadata>)> {
    let admission = Admission {
        caller: req.caller,
        url_project: req.url_project,
        body: req.body,
        body_len: req.body_len,
        content_type: req.content_type,
        versions: req.versions,
        expects_body: req.op.wrapper().is_some(),
    };
    let Admitted { caller, json } = admit(rules, &admission, microversion)?;
    let request_map = match (req.op.wrapper(), &json) {
        (Some(wrapper), Some(value)) => Some(
            body::extract(value, wrapper, rules.legacy, &rules.metadata).map_err(schema_refusal)?,
        ),
        _ => None,
    };
    check_query(rules, req, *microversion)?;
    let server = visible_server(server, caller, req.server_id)?;
    let op = req.op.routed(&rules.metadata.key);
    check_policy(&op, caller)?;
    apply(rules, &op, caller, server, request_map)
}

/// The version a refusal of an out-of-range microversion still echoes:
/// `Request.set_api_version_request` (nova/api/openstack/wsgi.py) stores the
/// parsed version before it raises `InvalidGlobalAPIVersion`, and
/// `Fault.__call__` writes the version headers of any non-null one. A badly
/// formed string is never stored, so it echoes nothing.
fn refused_version(rules: &ApiRules, headers: &VersionHeaders) -> Option<Microversion> {
    let (min, max) = rules.microversions.filter(|_| !rules.legacy)?;
    match microversion::negotiate(headers, min, max) {
        Err(VersionError::Unsupported(version)) => Some(version),
        _ => None,
    }
}

fn negotiate(rules: &ApiRules, headers: &VersionHeaders) -> Stage<Option<Microversion>> {
    let Some((min, max)) = rules.microversions else {
        return Ok(None);
    };
    if rules.legacy {
        return Ok(Some(min));
    }
    match microversion::negotiate(headers, min, max) {
        Ok(v) => Ok(Some(v)),
        Err(VersionError::BadFormat(text)) => Err(Outcome::refused(
            OutcomeKind::BadMicroversion,
            format!(
                "API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
            ),
        )),
        Err(VersionError::Unsupported(v)) => Err(Outcome::refused(
            OutcomeKind::UnsupportedMicroversion,
            format!(
                "Version {v} is not supported by the API. Minimum is {min} and maximum is {max}."
            ),
        )),
    }
}

fn check_project(url_project: Option<&str>, caller: &Caller) -> Stage<()> {
    match url_project {
        Some(p) if p != caller.project => Err(Outcome::refused(
            OutcomeKind::ProjectMismatch,
            format!(
                "Malformed request URL: URL's project_id '{p}' doesn't match Context's project_id '{}'",
                caller.project
            ),
        )),
        _ => Ok(()),
    }
}

fn schema_refusal(error: BodyError) -> Outcome {
    match error {
        BodyError::Malformed => malformed_body(),
        BodyError::Schema(message) => Outcome::refused(OutcomeKind::InvalidInput, message),
    }
}

fn check_query(
    rules: &ApiRules,
    req: &MetaRequest<'_>,
    version: Option<Microversion>,
) -> Stage<()> {
    let strict = match (rules.strict_query_from, version) {
        (Some(from), Some(v)) => !rules.legacy && v >= from,
        _ => false,
    };
    if !strict || req.op.is_write() {
        return Ok(());
    }
    match req.query.first() {
        Some((name, _)) => Err(Outcome::refused(
            OutcomeKind::InvalidInput,
            format!("Additional properties are not allowed ('{name}' was unexpected)"),
        )),
        None => Ok(()),
    }
}

fn check_policy(op: &Op, caller: &Caller) -> Stage<()> {
    let allowed = if op.is_write() {
        caller.may_write()
    } else {
        caller.may_read()
    };
    if allowed {
        return Ok(());
    }
    Err(policy_denied(&format!(
        "os_compute_api:server-metadata:{}",
        op.policy_rule()
    )))
}

/// Stages 10-13: the controller, the lock, the state, the quota.
fn apply(
    rules: &ApiRules,
    op: &Op,
    caller: &Caller,
    server: &ServerRecord,
    request: Option<Metadata>,
) -> Stage<(Outcome, Option<Metadata>)> {
    let current = &server.metadata;
    let request = request.unwrap_or_default();
    let (success, stored) = match op {
        Op::List => return Ok((Outcome::Success(Success::Metadata(current.clone())), None)),
        Op::Get(key) => {
            let value = current.get(key).ok_or_else(item_not_found)?;
            return Ok((
                Outcome::Success(Success::Meta(key.clone(), value.clone())),
                None,
            ));
        }
        Op::Merge => {
            let mut merged = current.clone();
            merged.extend(request.clone());
            (Success::Metadata(merged.clone()), merged)
        }
        Op::Replace => (Success::Metadata(request.clone()), request.clone()),
        Op::Set(key) => {
            let Some((body_key, value)) = request.iter().next().filter(|(k, _)| *k == key) else {
                return Err(Outcome::refused(
                    OutcomeKind::UriBodyMismatch,
                    "Request body and URI mismatch",
                ));
            };
            let mut updated = current.clone();
            updated.insert(body_key.clone(), value.clone());
            (Success::Meta(body_key.clone(), value.clone()), updated)
        }
        Op::Delete(key) => {
            if !current.contains_key(key) {
                return Err(item_not_found());
            }
            let mut remaining = current.clone();
            remaining.remove(key);
            (Success::Empty, remaining)
        }
    };
    check_writable(rules, op, caller, server)?;
    let counted = match op {
        Op::Merge => merged_count(current, &request),
        Op::Replace => request.len(),
        Op::Set(_) => stored.len(),
        _ => 0,
    };
    if counted > 0 {
        rules.metadata.check_quota(counted).map_err(over_quota)?;
    }
    Ok((Outcome::Success(success), Some(stored)))
}

/// The `metadata` of a server create or rebuild body (spec §3.4): the same
/// schema as a merge body, and the quota counted on the map alone.
pub fn server_metadata(rules: &ApiRules, map: &PyValue) -> Result<Metadata, Outcome> {
    if rules.legacy {
        return legacy_server_metadata(rules, map);
    }
    let wrapped = PyValue::Dict(PyDict::from([("metadata".to_string(), map.clone())]));
    let metadata = body::extract(&wrapped, Wrapper::Metadata, rules.legacy, &rules.metadata)
        .map_err(schema_refusal)?;
    rules
        .metadata
        .check_quota(metadata.len())
        .map_err(over_quota)?;
    Ok(metadata)
}

/// [`server_metadata`] on legacy `/v2`: the schema with the soft validator
/// (keys outside the pattern pass when every key is outside it), then the
/// compute API's `_check_metadata_properties_quota`
/// (`nova/compute/api.py`): the quota, then each entry in the request's
/// order. Unlike the metadata controller, `servers.py`
/// `ServersController.create` catches its `InvalidMetadata` (400 "Invalid
/// metadata: …", measured on Nova 34: an empty key alone is 400 "Invalid
/// metadata:  has 0 characters, less than 1."). Its `InvalidMetadataSize`
/// (a key or value over 255 characters) is caught nowhere, a 500
/// `computeFault` on Nova 34; the mock answers the 400 it intends.
fn legacy_server_metadata(rules: &ApiRules, map: &PyValue) -> Result<Metadata, Outcome> {
    let entries =
        body::soft_validated_server_metadata(map, &rules.metadata).map_err(schema_refusal)?;
    rules
        .metadata
        .check_quota(entries.len())
        .map_err(over_quota)?;
    let invalid = |message: String| Outcome::refused(OutcomeKind::InvalidInput, message);
    let measure = |text: &str| rules.metadata.key.unit.measure(text);
    let mut metadata = Metadata::new();
    for (key, value) in entries {
        // oslo_utils.strutils.check_string_length(value), then (key, min_length=1)
        let PyValue::Str(text) = value else {
            let shown = crate::model::pyrepr::str(&value);
            return Err(invalid(format!(
                "Invalid metadata: {shown} is not a string or unicode"
            )));
        };
        if key.is_empty() {
            return Err(invalid(format!(
                "Invalid metadata: {key} has 0 characters, less than 1."
            )));
        }
        for (what, length) in [("key", measure(&key)), ("value", measure(&text))] {
            if length > LEGACY_SIZE_LIMIT {
                return Err(invalid(format!(
                    "Invalid metadata size: Metadata property {what} greater than {LEGACY_SIZE_LIMIT} characters"
                )));
            }
        }
        metadata.insert(key, text);
    }
    Ok(metadata)
}

/// What `_check_metadata_properties_quota` allows a key and a value
/// ("we hard-code the size limits", `nova/compute/api.py`).
const LEGACY_SIZE_LIMIT: usize = 255;

/// 403 "Maximum number of metadata items exceeds <limit>" (spec §2.5).
pub fn over_quota(limit: usize) -> Outcome {
    Outcome::refused(
        OutcomeKind::OverQuota,
        format!("Maximum number of metadata items exceeds {limit}"),
    )
}

/// 409 "Instance <id> is locked" (spec §4.3).
pub fn locked(id: &str) -> Outcome {
    Outcome::refused(OutcomeKind::Locked, format!("Instance {id} is locked"))
}

/// 409 "Cannot '<action>' instance <id> while it is in vm_state <state>".
pub fn wrong_state(action: &str, id: &str, state: VmState) -> Outcome {
    Outcome::refused(
        OutcomeKind::StateConflict,
        format!("Cannot '{action}' instance {id} while it is in vm_state {state}"),
    )
}

fn item_not_found() -> Outcome {
    Outcome::refused(OutcomeKind::ItemNotFound, "Metadata item was not found")
}

/// Stages 11-12: the lock (admins bypass it), then vm_state and launched_at.
fn check_writable(rules: &ApiRules, op: &Op, caller: &Caller, server: &ServerRecord) -> Stage<()> {
    if server.locked && !caller.is_admin() {
        return Err(locked(&server.id));
    }
    let action = if matches!(op, Op::Delete(_)) {
        "delete metadata"
    } else {
        "update metadata"
    };
    if !rules.write_states.contains(&server.vm_state) {
        return Err(wrong_state(action, &server.id, server.vm_state));
    }
    if !server.launched {
        return Err(Outcome::refused(
            OutcomeKind::StateConflict,
            format!(
                "Instance {} is in an invalid state for '{action}'",
                server.id
            ),
        ));
    }
    Ok(())
}
