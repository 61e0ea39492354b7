//! Request bodies: JSON parsing and the wrapper schemas of spec §2.4.
//!
//! `metadata` bodies (merge, replace) and `meta` bodies (set one key) are
//! checked in the order Nova's JSON-schema validator reports them. On the
//! legacy `/v2` API unknown top-level members are dropped instead of refused
//! (spec §6.1).

use serde_json::Value;

use super::Metadata;
use super::outcome::{Outcome, OutcomeKind};
use super::pyrepr;
use super::rules::MetadataRules;

/// Which wrapper an operation expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    /// `{"metadata": {...}}`: merge and replace.
    Metadata,
    /// `{"meta": {k: v}}`: set one key, exactly one entry.
    Meta,
}

impl Wrapper {
    pub fn field(self) -> &'static str {
        match self {
            Wrapper::Metadata => "metadata",
            Wrapper::Meta => "meta",
        }
    }
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON at all (spec §2.4 last row).
    Malformed,
    /// Valid JSON that breaks the schema; the message is Nova's.
    Schema(String),
}

/// Parse the raw bytes as JSON. An empty body is JSON `null` (Nova treats an
/// absent body as `None`).
pub fn parse_json(bytes: &[u8]) -> Result<Value, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|_| BodyError::Malformed)
}

/// A body that must be present (Huawei v1 actions and settings): blank is
/// `malformed-body` ("request body cannot be blank", `Common.0002` in the
/// Huawei profiles), so is non-JSON.
pub fn required_json(bytes: &[u8]) -> Result<Value, Outcome> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Outcome::refused(
            OutcomeKind::MalformedBody,
            "Request body cannot be blank",
        ));
    }
    parse_json(bytes)
        .map_err(|_| Outcome::refused(OutcomeKind::MalformedBody, "Malformed request body"))
}

fn type_error(value: &Value) -> BodyError {
    BodyError::Schema(format!("{} is not of type 'object'", pyrepr::repr(value)))
}

/// Check `body` against the wrapper schema and the per-entry rules and return
/// the map it carries. `legacy` drops unknown top-level members (spec §6.1).
pub fn extract(
    body: &Value,
    wrapper: Wrapper,
    legacy: bool,
    rules: &MetadataRules,
) -> Result<Metadata, BodyError> {
    let Value::Object(top) = body else {
        return Err(type_error(body));
    };
    let field = wrapper.field();
    let Some(inner) = top.get(field) else {
        return Err(BodyError::Schema(format!(
            "'{field}' is a required property"
        )));
    };
    if let Some(extra) = top.keys().find(|k| !legacy && k.as_str() != field) {
        return Err(BodyError::Schema(format!(
            "Additional properties are not allowed ({} was unexpected)",
            pyrepr::repr_str(extra)
        )));
    }
    // Nova writes `Value: %(value)s` (str) and jsonschema `{instance!r}`.
    let shown = pyrepr::repr(inner);
    let Value::Object(entries) = inner else {
        let value = pyrepr::str(inner);
        return Err(BodyError::Schema(format!(
            "Invalid input for field/attribute {field}. Value: {value}. {shown} is not of type 'object'"
        )));
    };
    if wrapper == Wrapper::Meta {
        if entries.is_empty() {
            return Err(BodyError::Schema(format!(
                "Invalid input for field/attribute {field}. Value: {shown}. {shown} should be non-empty"
            )));
        }
        if entries.len() > 1 {
            return Err(BodyError::Schema(format!(
                "Invalid input for field/attribute {field}. Value: {shown}. {shown} has too many properties"
            )));
        }
    }
    let mut map = Metadata::new();
    for (key, value) in entries {
        rules
            .check_entry(key, value)
            .map_err(|v| BodyError::Schema(v.message(field, &shown, &rules.key.display_pattern)))?;
        if let Value::String(text) = value {
            map.insert(key.clone(), text.clone());
        }
    }
    Ok(map)
}
