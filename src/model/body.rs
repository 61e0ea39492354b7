//! Request bodies: JSON parsing and the wrapper schemas of spec §2.4.
//!
//! `metadata` bodies (merge, replace) and `meta` bodies (set one key) are
//! checked in the order Nova's JSON-schema validator reports them. On the
//! legacy `/v2` API unknown top-level members are dropped instead of refused,
//! and keys outside the key pattern follow Nova's soft validator (spec
//! §6.1, [`extract_legacy`]).

use super::Metadata;
use super::outcome::{Outcome, OutcomeKind};
use super::pyjson::{self, PyDict, PyValue};
use super::pyrepr;
use super::rules::{MetadataRules, Violation};

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

/// Parse the raw bytes as Python's `json.loads` does ([`pyjson`]). An
/// empty body is `None`: Nova's `Resource._get_request_content` skips the
/// parse when `Content-Length` is 0 (or absent); a body of whitespace is
/// parsed, and malformed (`json.loads(" ")` raises).
pub fn parse_json(bytes: &[u8]) -> Result<PyValue, BodyError> {
    if bytes.is_empty() {
        return Ok(PyValue::None);
    }
    pyjson::loads(bytes).map_err(|_| BodyError::Malformed)
}

/// A body that must be present (Huawei v1 actions and settings): blank is
/// `malformed-body` ("request body cannot be blank", `Common.0002` in the
/// Huawei profiles), so is non-JSON.
pub fn required_json(bytes: &[u8]) -> Result<PyValue, Outcome> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Outcome::refused(
            OutcomeKind::MalformedBody,
            "Request body cannot be blank",
        ));
    }
    parse_json(bytes)
        .map_err(|_| Outcome::refused(OutcomeKind::MalformedBody, "Malformed request body"))
}

fn type_error(value: &PyValue) -> BodyError {
    BodyError::Schema(format!("{} is not of type 'object'", pyrepr::repr(value)))
}

/// Check `body` against the wrapper schema and the per-entry rules and return
/// the map it carries. `legacy` drops unknown top-level members (spec §6.1).
pub fn extract(
    body: &PyValue,
    wrapper: Wrapper,
    legacy: bool,
    rules: &MetadataRules,
) -> Result<Metadata, BodyError> {
    let PyValue::Dict(top) = body else {
        return Err(type_error(body));
    };
    let field = wrapper.field();
    let Some(inner) = top.get(field) else {
        return Err(BodyError::Schema(format!(
            "'{field}' is a required property"
        )));
    };
    // Nova writes `Value: %(value)s` (str) and jsonschema `{instance!r}`.
    let shown = pyrepr::repr(inner);
    let PyValue::Dict(entries) = inner else {
        let value = pyrepr::str(inner);
        return Err(BodyError::Schema(format!(
            "Invalid input for field/attribute {field}. Value: {value}. {shown} is not of type 'object'"
        )));
    };
    if legacy {
        return extract_legacy(entries, wrapper, &shown, rules);
    }
    let map = extract_entries(entries, wrapper, &shown, rules)?;
    // jsonschema checks the schema's keywords in order: `properties` (the
    // wrapped map) before `additionalProperties` (server_metadata.py
    // `create`/`update`/`update_all`).
    if let Some(extra) = top.keys().find(|k| k.as_str() != field) {
        return Err(BodyError::Schema(format!(
            "Additional properties are not allowed ({} was unexpected)",
            pyrepr::repr_str(extra)
        )));
    }
    Ok(map)
}

/// The wrapped map, checked in the order of the `metadata` schema's
/// keywords (`nova/api/validation/parameter_types.py` `metadata`, as
/// jsonschema applies them; measured with Nova 34's `_SchemaValidator`):
/// `patternProperties` (the values of keys inside the key pattern), then
/// `additionalProperties` (the keys outside it, all of them named), then
/// `meta`'s `minProperties`/`maxProperties`.
fn extract_entries(
    entries: &PyDict,
    wrapper: Wrapper,
    shown: &str,
    rules: &MetadataRules,
) -> Result<Metadata, BodyError> {
    let field = wrapper.field();
    let refusal = refusal(field, shown, rules);
    let outside = check_patterned_values(entries, rules, &refusal)?;
    match outside.as_slice() {
        [] => {}
        [(_, violation)] => return Err(refusal(violation.clone())),
        several => {
            return Err(BodyError::Schema(unmatched_keys(
                field, shown, several, rules,
            )));
        }
    }
    check_entry_count(wrapper, entries.len(), field, shown)?;
    let mut map = Metadata::new();
    for (key, value) in entries {
        if let PyValue::Str(text) = value {
            map.insert(key.clone(), text.clone());
        }
    }
    Ok(map)
}

/// A schema violation as Nova words it for the wrapped map `field`.
fn refusal<'r>(
    field: &'r str,
    shown: &'r str,
    rules: &'r MetadataRules,
) -> impl Fn(Violation) -> BodyError + 'r {
    move |v| BodyError::Schema(v.message(field, shown, &rules.key.display_pattern))
}

/// jsonschema's `patternProperties`: the value of every key inside the key
/// pattern, in the order sent (the first bad one refused). Returns the keys
/// outside the pattern, each with why, for `additionalProperties` or the
/// soft validator to judge.
fn check_patterned_values<'e>(
    entries: &'e PyDict,
    rules: &MetadataRules,
    refusal: &impl Fn(Violation) -> BodyError,
) -> Result<Vec<(&'e String, Violation)>, BodyError> {
    let outside: Vec<(&String, Violation)> = entries
        .keys()
        .filter_map(|k| rules.key.check(k).err().map(|v| (k, v)))
        .collect();
    for (key, value) in entries {
        if !outside.iter().any(|(k, _)| *k == key) {
            rules.value.check(key, value).map_err(refusal)?;
        }
    }
    Ok(outside)
}

/// jsonschema's `additionalProperties` message for several keys outside
/// the pattern: every one, sorted, with "do not match".
fn unmatched_keys(
    field: &str,
    shown: &str,
    keys: &[(&String, Violation)],
    rules: &MetadataRules,
) -> String {
    let mut names: Vec<&String> = keys.iter().map(|(k, _)| *k).collect();
    names.sort();
    let listed: Vec<String> = names.iter().map(|k| pyrepr::repr_str(k)).collect();
    format!(
        "Invalid input for field/attribute {field}. Value: {shown}. {} do not match any of the regexes: '{}'",
        listed.join(", "),
        rules.key.display_pattern
    )
}

/// `meta` holds exactly one entry (`minProperties`/`maxProperties` 1).
fn check_entry_count(
    wrapper: Wrapper,
    count: usize,
    field: &str,
    shown: &str,
) -> Result<(), BodyError> {
    if wrapper == Wrapper::Meta {
        if count == 0 {
            return Err(BodyError::Schema(format!(
                "Invalid input for field/attribute {field}. Value: {shown}. {shown} should be non-empty"
            )));
        }
        if count > 1 {
            return Err(BodyError::Schema(format!(
                "Invalid input for field/attribute {field}. Value: {shown}. {shown} has too many properties"
            )));
        }
    }
    Ok(())
}

/// The map of a legacy `/v2` body, checked as Nova's v2.1 schema with
/// `additionalProperties` replaced by the soft validator
/// (`nova/api/validation/validators.py` `_soft_validate_additional_properties`),
/// in jsonschema's order of the `metadata` schema's keywords
/// (`nova/api/validation/parameter_types.py` `metadata`):
///
/// 1. `patternProperties`: the values of keys inside the key pattern;
/// 2. the soft validator: keys outside the pattern pass unchecked when
///    *every* key is outside it (its "oneOf hack"), and are refused with
///    "Additional properties are not allowed" when the map mixes both;
/// 3. `minProperties`/`maxProperties` of `meta`;
/// 4. the compute API's own checks of what passed unchecked
///    (`nova/compute/api.py` `API._check_metadata_properties_quota`: key
///    length 1-255, value a string of at most 255). Nova raises
///    `InvalidMetadata`/`InvalidMetadataSize` there, which the metadata
///    controller does not catch (500 `computeFault` on Nova 34); the mock
///    refuses as Nova's validation intends, with the v2.1 schema's message.
fn extract_legacy(
    entries: &PyDict,
    wrapper: Wrapper,
    shown: &str,
    rules: &MetadataRules,
) -> Result<Metadata, BodyError> {
    let refusal = refusal(wrapper.field(), shown, rules);
    let outside = soft_validate(entries, wrapper, shown, rules)?;
    let mut map = Metadata::new();
    for (key, value) in entries {
        if outside.contains(&key) {
            check_unpatterned_entry(key, value, rules).map_err(&refusal)?;
        }
        if let PyValue::Str(text) = value {
            map.insert(key.clone(), text.clone());
        }
    }
    Ok(map)
}

/// Steps 1-3 of [`extract_legacy`]: what the schema and the soft validator
/// refuse; the keys outside the pattern they let through, unchecked.
fn soft_validate<'e>(
    entries: &'e PyDict,
    wrapper: Wrapper,
    shown: &str,
    rules: &MetadataRules,
) -> Result<Vec<&'e String>, BodyError> {
    let field = wrapper.field();
    let outside: Vec<&String> =
        check_patterned_values(entries, rules, &refusal(field, shown, rules))?
            .into_iter()
            .map(|(key, _)| key)
            .collect();
    if !outside.is_empty() && outside.len() < entries.len() {
        return Err(BodyError::Schema(unexpected_keys(field, shown, &outside)));
    }
    check_entry_count(wrapper, entries.len(), field, shown)?;
    Ok(outside)
}

/// The `metadata` of a legacy `/v2` server create or rebuild as the schema
/// and the soft validator pass it (steps 1-3 of [`extract_legacy`]): keys
/// outside the pattern and their values unchecked, for the compute API's
/// own checks (`crate::model::pipeline::server_metadata`).
pub fn soft_validated_server_metadata(
    map: &PyValue,
    rules: &MetadataRules,
) -> Result<PyDict, BodyError> {
    let field = Wrapper::Metadata.field();
    let shown = pyrepr::repr(map);
    let PyValue::Dict(entries) = map else {
        let value = pyrepr::str(map);
        return Err(BodyError::Schema(format!(
            "Invalid input for field/attribute {field}. Value: {value}. {shown} is not of type 'object'"
        )));
    };
    soft_validate(entries, Wrapper::Metadata, &shown, rules)?;
    Ok(entries.clone())
}

/// The soft validator's refusal of a map mixing keys inside and outside
/// the pattern. Nova lists the keys in the order of a Python `set` (varies
/// between processes); the mock lists them in the request's order.
fn unexpected_keys(field: &str, shown: &str, keys: &[&String]) -> String {
    let listed: Vec<String> = keys.iter().map(|k| pyrepr::repr_str(k)).collect();
    let verb = if keys.len() == 1 { "was" } else { "were" };
    format!(
        "Invalid input for field/attribute {field}. Value: {shown}. Additional properties are not allowed ({} {verb} unexpected)",
        listed.join(", ")
    )
}

/// What the compute API checks of an entry whose key is outside the
/// pattern (see [`extract_legacy`] step 4): the key's length and the value.
fn check_unpatterned_entry(
    key: &str,
    value: &PyValue,
    rules: &MetadataRules,
) -> Result<(), Violation> {
    let len = rules.key.unit.measure(key);
    if len < rules.key.min_len || len > rules.key.max_len {
        return Err(Violation::KeyLength {
            key: key.to_string(),
            len,
        });
    }
    rules.value.check(key, value)
}
