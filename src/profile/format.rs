//! The dialect profile file format (YAML, `cases/dialects/<id>.yaml`).
//!
//! Every struct refuses unknown fields, so a typo is an error with a
//! location, never a silently ignored knob.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::model::microversion::Microversion;
use crate::model::outcome::OutcomeKind;
use crate::model::rules::LengthUnit;
use crate::model::server::VmState;

/// One dialect, as written in its file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// The dialect id (`nova`, `ecs-v1`, ...).
    pub id: String,
    pub description: String,
    /// Where the facts come from (spec sections, vendor pages).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Shape of error bodies.
    pub error_shape: ErrorShape,
    /// Legacy `/v2` semantics (spec §6.1).
    #[serde(default)]
    pub legacy: bool,
    /// Served microversion range; absent for APIs without microversions.
    #[serde(default)]
    #[schemars(with = "Option<MicroversionRange>")]
    pub microversions: Option<Spanned<MicroversionRange>>,
    /// From this microversion, list/get refuse unknown query parameters.
    #[serde(default)]
    pub strict_query_from: Option<Microversion>,
    pub max_body_bytes: usize,
    /// A blank body on an operation that takes one is `malformed-body`
    /// ("request body cannot be blank", Huawei v1 `Common.0002`, spec §5.5)
    /// instead of a body without its wrapper.
    #[serde(default)]
    pub blank_body_malformed: bool,
    /// The service-catalog endpoint, relative to the server root, with
    /// `{project}`: e.g. `/v2.1/{project}`, or `` for Huawei v1.
    pub endpoint_path: String,
    /// The endpoint also answers without its `{project}` segment
    /// (`/v2.1/servers/...`, as Nova does since 2.18); the mock serves both.
    #[serde(default)]
    pub project_optional: bool,
    /// Other first path segments the same API answers under, with the same
    /// servers (ecs-os: `[v2]` next to `v2.1`, spec §1.1).
    #[serde(default)]
    pub also_served_under: Vec<String>,
    /// The id of a built-in profile the mock serves alongside this one, at
    /// that profile's own endpoint and over the same servers (nova:
    /// `nova-legacy`, the legacy `/v2/{project}` API).
    #[serde(default)]
    pub served_with: Option<String>,
    /// A header every response carries (Nova: `x-openstack-request-id`,
    /// spec §1.2); the fuzzer's oracle flags an answer without it.
    #[serde(default)]
    pub request_id_header: Option<String>,
    /// A successful merge may answer with the request's pairs instead of the
    /// merged map (spec §8 row 11: Huawei's docs show an echo); the answer
    /// must then contain the request.
    #[serde(default)]
    pub merge_may_echo_request: bool,
    /// Metadata operations this dialect has; paths are relative to the
    /// endpoint and may use `{project}`, `{server}` and `{key}`.
    pub operations: Operations,
    /// How to read the stored map back.
    #[schemars(with = "ReadBack")]
    pub read_back: Spanned<ReadBack>,
    /// Server resources used to drive states.
    pub servers: ServerRoutes,
    pub keys: KeySpec,
    pub values: ValueSpec,
    /// Items per server; `null` for unlimited.
    pub quota: Option<usize>,
    /// vm_states that allow writes.
    pub write_states: Vec<VmState>,
    /// States this dialect's API cannot drive a server into (cases needing
    /// them are skipped, never passed).
    #[serde(default)]
    pub unreachable_states: Vec<VmState>,
    /// Whether the lock can be set through the API.
    pub lockable: bool,
    /// For each outcome: what the mock sends and what a real endpoint may send.
    #[schemars(with = "BTreeMap<OutcomeKind, OutcomeSpec>")]
    pub outcomes: Spanned<BTreeMap<OutcomeKind, Spanned<OutcomeSpec>>>,
    /// System-owned keys (exact names or `prefix*` patterns) never touched on
    /// real servers.
    #[serde(default)]
    pub system_keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorShape {
    /// `{"<faultName>": {"code": N, "message": "..."}}` (spec §5.2).
    NovaFault,
    /// `{"error": {"code": "Ecs.XXXX", "message": "..."}}` (spec §5.5).
    Huawei,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MicroversionRange {
    pub min: Microversion,
    pub max: Microversion,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ReadBack {
    /// `GET .../metadata`.
    List,
    /// `server.metadata` of the server show call (spec §1.4).
    ServerShow,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    #[serde(default)]
    pub list: Option<OpSpec>,
    #[serde(default)]
    pub merge: Option<OpSpec>,
    #[serde(default)]
    pub replace: Option<OpSpec>,
    #[serde(default)]
    pub get: Option<OpSpec>,
    #[serde(default)]
    pub set: Option<OpSpec>,
    #[serde(default)]
    pub delete: Option<OpSpec>,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    GET,
    POST,
    PUT,
    DELETE,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::GET => "GET",
            HttpMethod::POST => "POST",
            HttpMethod::PUT => "PUT",
            HttpMethod::DELETE => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpSpec {
    pub method: HttpMethod,
    pub path: String,
    /// Status on success.
    pub status: u16,
    /// Other success codes a real endpoint may send (e.g. 201 for a POST
    /// where the generated OpenAPI says so).
    #[serde(default)]
    pub also_accept: Vec<u16>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerRoutes {
    pub create: String,
    pub show: String,
    pub delete: String,
    pub action: String,
    /// `per-server` (Nova: `POST /servers/{id}/action`) or `batch` (Huawei v1:
    /// `{"os-stop": {"servers": [{"id": ...}]}}` answered with a job).
    #[serde(default)]
    pub action_form: ActionForm,
    /// Where the metadata-items limit is published.
    #[serde(default)]
    pub limits: Option<String>,
    /// Where flavors are listed: `GET {flavors}`, `{flavors}/detail` and
    /// `{flavors}/{flavor}` (resize names one).
    #[serde(default)]
    pub flavors: Option<String>,
    /// Huawei v1: where a batch action's job is shown (`{job}` is its id).
    #[serde(default)]
    pub jobs: Option<String>,
    /// ECS v1: the automatic-recovery setting of a server (spec §9).
    #[serde(default)]
    pub autorecovery: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ActionForm {
    #[default]
    PerServer,
    Batch,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// Body of a regex character class, e.g. `A-Za-z0-9 _:.\-`.
    pub charset: String,
    /// The class lists forbidden characters instead of allowed ones.
    #[serde(default)]
    pub negated: bool,
    pub min_length: usize,
    pub max_length: usize,
    pub unit: LengthUnit,
    #[serde(default)]
    pub reject_blank: bool,
    /// The key pattern ends in Python's `$`, which also matches before one
    /// final `\n`: a valid key plus one trailing newline is accepted.
    #[serde(default)]
    pub final_newline: bool,
    /// The pattern as the server names it in messages.
    #[serde(default)]
    pub display_pattern: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueSpec {
    pub max_length: usize,
    pub unit: LengthUnit,
    /// Body of a regex character class of forbidden characters.
    #[serde(default)]
    pub forbidden: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeSpec {
    /// What the mock sends.
    pub emit: Emit,
    /// Codes a real endpoint may answer with (must include `emit.status`).
    pub accept: Vec<u16>,
    /// Why the set has more than one code (a spec §8 row, a vendor page).
    #[serde(default)]
    pub why: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Emit {
    pub status: u16,
    /// Nova fault name (`badRequest`) or Huawei error code (`Ecs.0005`).
    #[serde(default)]
    pub code: Option<String>,
}
