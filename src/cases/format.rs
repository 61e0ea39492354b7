//! The case file format (YAML under `cases/<area>/`), documented for users in
//! `cases/README.md`.
//!
//! A file holds `cases:` and/or `tables:` (one template expanded over rows).
//! Every struct refuses unknown fields; fields whose combination is checked
//! after parsing (a step's `op` and its arguments) keep their location so the
//! loader can point at them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::model::microversion::Microversion;
use crate::model::outcome::OutcomeKind;
use crate::model::server::VmState;

/// One case file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    #[serde(default)]
    #[schemars(with = "Vec<Case>")]
    pub cases: Vec<Spanned<Case>>,
    #[serde(default)]
    #[schemars(with = "Vec<Table>")]
    pub tables: Vec<Spanned<Table>>,
}

/// One conformance case.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Stable id, never reused (history and baselines key on it).
    pub id: String,
    /// Human name.
    pub name: String,
    /// The spec section it checks, e.g. `"2.1"`.
    pub spec: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Dialects it applies to; absent means every dialect that has the
    /// operations its steps use.
    #[serde(default)]
    pub dialects: Option<Vec<String>>,
    #[serde(default)]
    pub requires: Vec<Requirement>,
    #[serde(default)]
    pub min_microversion: Option<Microversion>,
    #[serde(default)]
    pub max_microversion: Option<Microversion>,
    /// Skip with this reason (a case that can't run anywhere yet).
    #[serde(default)]
    pub skip: Option<String>,
    /// Whether a failure gates a run (`required`, the default) or is only
    /// reported (`advisory`), as OpenStack's interop guidelines flag tests.
    #[serde(default)]
    pub class: CaseClass,
    #[serde(default)]
    pub given: Given,
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
}

/// How much a case's verdict weighs in a run's exit code.
///
/// A required case gates: it must run and pass, or be listed in the
/// baseline; skipped for a reason the user did not choose (a missing
/// credential, a broken setup primitive, a `skip:` in its file) it gates as
/// a failure would. An advisory case is reported like any other but never
/// gates: a check of something clients must not rely on (the wording of an
/// error message) or of a documented behaviour nobody has verified yet.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CaseClass {
    #[default]
    Required,
    Advisory,
}

impl CaseClass {
    pub fn is_required(&self) -> bool {
        *self == CaseClass::Required
    }

    pub fn name(self) -> &'static str {
        match self {
            CaseClass::Required => "required",
            CaseClass::Advisory => "advisory",
        }
    }
}

/// What a case needs from the target; missing ones skip the case with a reason.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// An admin token (`--admin-token`).
    Admin,
    /// A read-only token (`--reader-token`).
    Reader,
    /// A second project's token and server (`--alt-token`).
    Alt,
    /// The target may change server states.
    StateChanges,
    /// The dialect can lock servers through the API.
    Lock,
    /// The run may create servers (`op: create`): the embedded server, or
    /// an endpoint given `--image` and `--flavor`.
    Create,
}

/// The server's state before the first step. Metadata is reset first.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Given {
    #[serde(default)]
    pub vm_state: Option<VmState>,
    #[serde(default)]
    pub locked: bool,
    /// Who locks it (default owner).
    #[serde(default)]
    pub locked_by: Option<Identity>,
    /// Starting metadata (default empty).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Also add this many generated items (`g000`, `g001`, ... = `v`).
    #[serde(default)]
    pub generated_items: usize,
}

/// Which credentials a step uses.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Identity {
    /// The main token (project member).
    #[default]
    Owner,
    Admin,
    Reader,
    /// The second project's member.
    Alt,
    /// No token at all.
    None,
}

/// Which server a step addresses.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ServerRef {
    /// The case's own server.
    #[default]
    Own,
    /// A server of the second project.
    Alt,
    /// A well-formed UUID that names no server.
    Missing,
    /// A server id that is not a UUID at all (`not-a-uuid`): 404 (spec §4.4
    /// stage 8).
    NotUuid,
}

/// Which project id the request URL carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UrlProject {
    /// The token's project (the endpoint as configured).
    #[default]
    Own,
    /// A well-formed project id (32 lower-case hex digits) that is not the
    /// token's: URL/token project mismatch (spec §4.4 stage 6, §5.3).
    Other,
}

/// Step operations. Abstract ones are mapped by the dialect profile.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum StepOp {
    List,
    Merge,
    Replace,
    Get,
    Set,
    Delete,
    /// A server action (`action:` names it).
    Action,
    /// Exact method, path suffix, headers and body bytes.
    Raw,
    /// Several requests at once (`concurrent:` says which).
    Concurrent,
    /// `POST /servers`: a server created with `metadata` (spec §3.4), read
    /// back, and deleted when the case ends.
    Create,
}

/// One step. Which fields are allowed depends on `op`; the loader checks.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub op: StepOp,
    /// merge/replace: the request map (values may be any JSON, to test
    /// non-string values).
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, Value>>,
    /// merge/replace: add this many generated items to `metadata`.
    #[serde(default)]
    pub generated_items: Option<Generated>,
    /// get/set/delete: the key in the URL (percent-encoded by the runner).
    #[serde(default)]
    pub key: Option<String>,
    /// set: the value; the body is `{"meta": {key: value}}`.
    #[serde(default)]
    pub value: Option<Value>,
    /// set: an explicit `meta` map instead (mismatch, zero or two keys).
    #[serde(default)]
    pub meta: Option<BTreeMap<String, Value>>,
    /// action: which one (`pause`, `lock`, `rebuild`, ...). `rebuild` may
    /// carry `metadata` (spec §3.4: rebuild with `metadata` replaces the map).
    #[serde(default)]
    pub action: Option<String>,
    /// raw: the request.
    #[serde(default)]
    pub raw: Option<RawRequest>,
    /// create: members put into the `server` object the runner sends,
    /// replacing its own of the same name (`metadata: "text"` sends a
    /// metadata that is not a map).
    #[serde(default)]
    pub server_fields: Option<serde_json::Map<String, Value>>,
    /// concurrent: the fan-out.
    #[serde(default)]
    pub concurrent: Option<Concurrent>,
    #[serde(rename = "as", default)]
    pub identity: Identity,
    #[serde(default)]
    pub server: ServerRef,
    /// The project id in the URL (default: the token's own).
    #[serde(default)]
    pub url_project: UrlProject,
    /// Extra request headers for an abstract op (e.g. another
    /// `Content-Type`); they replace the runner's defaults of the same name.
    /// An empty value sends the header empty. Not for `raw` (it has its own).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Send `OpenStack-API-Version: compute <v>` (and the older header).
    #[serde(default)]
    pub microversion: Option<String>,
    /// Query string appended to the URL (e.g. `foo=bar`).
    #[serde(default)]
    pub query: Option<String>,
    pub expect: Expect,
    /// Per-dialect replacement of `expect` (e.g. legacy `/v2` strips what
    /// v2.1 refuses).
    #[serde(default)]
    pub expect_for: BTreeMap<String, Expect>,
    /// Answers accepted besides `expect` (or `expect_for`), each with why:
    /// an endpoint arguably wrong but not broken (Nova accepting a key with
    /// a trailing newline). The step passes when one of them holds;
    /// `run --strict` fails it instead. Single requests only.
    #[serde(default)]
    pub tolerate: Vec<Tolerated>,
}

/// An answer a step tolerates though the spec intends another.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tolerated {
    /// Why it is tolerated: whose behaviour, why arguably wrong, why not
    /// broken (with the source). Required.
    pub why: String,
    /// The dialects whose behaviour it excuses; absent: every dialect the
    /// case runs on. Elsewhere the step must meet `expect`.
    #[serde(default)]
    pub dialects: Option<Vec<String>>,
    /// The tolerated answer, checked like `expect`.
    pub expect: Expect,
}

impl Tolerated {
    /// Whether this tolerance excuses `dialect`'s answer.
    pub fn applies_to(&self, dialect: &str) -> bool {
        self.dialects
            .as_ref()
            .is_none_or(|list| list.iter().any(|d| d == dialect))
    }
}

/// Generated map items: `{prefix}{i:03}` = `value` (default `v`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    pub count: usize,
    #[serde(default = "default_prefix")]
    pub prefix: String,
    #[serde(default)]
    pub value: Option<String>,
}

fn default_prefix() -> String {
    "k".into()
}

/// A raw request: what a `String` map cannot express.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub method: String,
    /// Appended to the server's URL: `/metadata`, `/metadata/a%20b`, ``.
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Body text, sent as UTF-8.
    #[serde(default)]
    pub body: Option<String>,
    /// Or: body bytes in hex (invalid UTF-8).
    #[serde(default)]
    pub body_hex: Option<String>,
    /// Or: this many bytes of a valid JSON merge body (size limits).
    #[serde(default)]
    pub body_size: Option<usize>,
}

/// Several writes sent at once, each with its own key.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Concurrent {
    /// `merge` or `set`.
    pub op: StepOp,
    pub count: usize,
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

/// What a step must answer. Every given field is checked.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Exact status code(s).
    #[serde(default)]
    pub status: Option<Codes>,
    /// An outcome; the profile's `accept` codes for it are allowed.
    #[serde(default)]
    pub outcome: Option<OutcomeKind>,
    /// The JSON body, exactly.
    #[serde(default)]
    pub body: Option<Value>,
    /// The JSON body contains at least this (objects recursively).
    #[serde(default)]
    pub body_contains: Option<Value>,
    /// Headers: `present`, `absent`, or an exact value.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The stored map read back afterwards through the dialect's read-back.
    #[serde(default)]
    pub stored: Option<BTreeMap<String, String>>,
    /// The stored map contains at least these entries.
    #[serde(default)]
    pub stored_contains: Option<BTreeMap<String, String>>,
    /// The stored map has exactly this many items.
    #[serde(default)]
    pub stored_count: Option<usize>,
    /// The error message contains this text (Nova messages are translatable:
    /// keep it short).
    #[serde(default)]
    pub message_contains: Option<String>,
    /// The fault name (`badRequest`) or Huawei code (`Ecs.0005`).
    #[serde(default)]
    pub error_code: Option<String>,
}

/// One status code or a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codes(pub Vec<u16>);

impl<'de> Deserialize<'de> for Codes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CodesVisitor;
        impl<'de> serde::de::Visitor<'de> for CodesVisitor {
            type Value = Codes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a status code (200) or a list of them ([200, 400])")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Codes, E> {
                code(v).map(|c| Codes(vec![c]))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Codes, E> {
                let v = u64::try_from(v).map_err(|_| E::custom("a status code is positive"))?;
                self.visit_u64(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Codes, A::Error> {
                let mut codes = Vec::new();
                while let Some(v) = seq.next_element::<u64>()? {
                    codes.push(code(v)?);
                }
                if codes.is_empty() {
                    return Err(serde::de::Error::custom(
                        "an empty list of status codes never matches",
                    ));
                }
                Ok(Codes(codes))
            }
        }
        fn code<E: serde::de::Error>(v: u64) -> Result<u16, E> {
            match u16::try_from(v) {
                Ok(c) if (100..600).contains(&c) => Ok(c),
                _ => Err(E::custom(format!(
                    "{v} is not an HTTP status code (100-599)"
                ))),
            }
        }
        d.deserialize_any(CodesVisitor)
    }
}

impl schemars::JsonSchema for Codes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Codes".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let code = serde_json::json!({"type": "integer", "minimum": 100, "maximum": 599});
        schemars::json_schema!({
            "description": "A status code (200) or a non-empty list of them ([200, 400]).",
            "oneOf": [code, {"type": "array", "items": code, "minItems": 1}]
        })
    }
}

/// A template expanded over rows into many cases.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Rows given explicitly: each maps variable names to strings.
    #[serde(default)]
    pub rows: Vec<BTreeMap<String, String>>,
    /// Or: one row per character of this string, with variables `char`
    /// (the character), `code` (its code point, upper-case hex padded to two
    /// digits, e.g. `2D`) and `hex` (the same in lower case, for ids).
    #[serde(default)]
    pub each_char: Option<String>,
    /// The case; every string in it (map keys included) may use `${var}`,
    /// `${var*N}` (the value repeated N times; N may name a variable) and, as a whole string,
    /// `${json:var}` (the value parsed as JSON: numbers, objects, ...). Its
    /// `id` must use at least one variable so each row gets its own id.
    pub case: Value,
}
