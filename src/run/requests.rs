//! From steps to HTTP requests, through the dialect profile.
//!
//! Abstract operations take their method and path from the profile
//! (`Profile::op`), keys are percent-encoded into the URL, bodies use the
//! shared wrappers of spec §1.2 (`{"metadata": ...}`, `{"meta": ...}`).
//! Raw steps are sent exactly as written, plus the caller's token.

use serde_json::{Map, Value, json};

use crate::cases::format::{Generated, Identity, RawRequest, Step, StepOp, UrlProject};
use crate::endpoint::Target;
use crate::endpoint::http::RecordedRequest;
pub use crate::endpoint::requests::{
    Action, BuildError, Sender, action_request, case_action, metadata_request, show_request,
    string_map, swap_project, with_query,
};
use crate::model::pipeline::Op;

/// The abstract operation of a step kind (`None` for action, raw,
/// concurrent and create). Per-key operations take the step's key (empty if absent).
pub fn abstract_op(op: StepOp, key: Option<&str>) -> Option<Op> {
    let key = || key.unwrap_or_default().to_string();
    Some(match op {
        StepOp::List => Op::List,
        StepOp::Merge => Op::Merge,
        StepOp::Replace => Op::Replace,
        StepOp::Get => Op::Get(key()),
        StepOp::Set => Op::Set(key()),
        StepOp::Delete => Op::Delete(key()),
        StepOp::Action | StepOp::Raw | StepOp::Concurrent | StepOp::Create => return None,
    })
}

/// The JSON body of an abstract step (`None` for list, get, delete).
pub fn step_body(step: &Step) -> Result<Option<Value>, BuildError> {
    match step.op {
        StepOp::Merge | StepOp::Replace => Ok(Some(json!({ "metadata": step_map(step) }))),
        StepOp::Set => {
            if let Some(meta) = &step.meta {
                return Ok(Some(json!({ "meta": meta })));
            }
            let key = step.key.clone().ok_or(BuildError::Missing("key"))?;
            let value = step.value.clone().ok_or(BuildError::Missing("value"))?;
            Ok(Some(json!({ "meta": { key: value } })))
        }
        _ => Ok(None),
    }
}

/// A step's `metadata` with its `generated_items` added.
fn step_map(step: &Step) -> Map<String, Value> {
    let mut map: Map<String, Value> = step
        .metadata
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    if let Some(generated) = &step.generated_items {
        map.extend(generate(generated));
    }
    map
}

/// The `metadata` of a create step's server: its map and generated items,
/// `None` when it states neither (the server object then has none).
pub fn create_metadata(step: &Step) -> Option<Value> {
    let stated = step.metadata.is_some() || step.generated_items.is_some();
    stated.then(|| Value::Object(step_map(step)))
}

/// Generated items: `{prefix}{i:03}` = value (default `v`).
pub fn generate(generated: &Generated) -> impl Iterator<Item = (String, Value)> + '_ {
    let value = generated.value.clone().unwrap_or_else(|| "v".to_string());
    (0..generated.count).map(move |i| {
        (
            format!("{}{i:03}", generated.prefix),
            Value::String(value.clone()),
        )
    })
}

/// The `i`-th request of a concurrent fan-out: its own key, value `v`.
pub fn concurrent_request(
    target: &Target,
    op: StepOp,
    key: &str,
    server: &str,
    sender: Sender<'_>,
) -> Result<RecordedRequest, BuildError> {
    let (op, body) = match op {
        StepOp::Merge => (Op::Merge, json!({ "metadata": { key: "v" } })),
        StepOp::Set => (Op::Set(key.to_string()), json!({ "meta": { key: "v" } })),
        StepOp::Replace => (Op::Replace, json!({ "metadata": { key: "v" } })),
        _ => return Err(BuildError::NotConcurrent("that operation")),
    };
    metadata_request(target, &op, server, Some(&body), sender, None)
}

/// A raw request against `server`'s URL.
pub fn raw_request(
    target: &Target,
    raw: &RawRequest,
    server: &str,
    sender: Sender<'_>,
    query: Option<&str>,
) -> Result<RecordedRequest, BuildError> {
    let base = target.server_url(&target.profile.file.servers.show, server);
    let url = with_query(format!("{base}{}", raw.path), query);
    let mut headers = sender.headers(false);
    headers.retain(|(n, _)| {
        !raw.headers.keys().any(|r| r.eq_ignore_ascii_case(n)) && !n.eq_ignore_ascii_case("accept")
    });
    headers.extend(raw.headers.iter().map(|(n, v)| (n.clone(), v.clone())));
    Ok(RecordedRequest {
        method: raw.method.clone(),
        url,
        headers,
        body: raw_body(raw)?,
    })
}

fn raw_body(raw: &RawRequest) -> Result<Vec<u8>, BuildError> {
    if let Some(hex) = &raw.body_hex {
        return hex::decode(hex.replace(char::is_whitespace, ""))
            .map_err(|e| BuildError::BadHex(e.to_string()));
    }
    if let Some(size) = raw.body_size {
        return Ok(sized_merge_body(size));
    }
    Ok(raw.body.clone().unwrap_or_default().into_bytes())
}

/// A valid JSON merge body of exactly `size` bytes storing `k` = `v`,
/// padded with trailing whitespace (or the bare body, if `size` is below
/// its length).
pub fn sized_merge_body(size: usize) -> Vec<u8> {
    let mut body = br#"{"metadata": {"k": "v"}}"#.to_vec();
    if size > body.len() {
        body.resize(size, b' ');
    }
    body
}

/// The image a rebuild names when the server does not say its own.
pub use crate::model::server::PLACEHOLDER_IMAGE;

/// A project id that is well-formed but not the token's (`url_project:
/// other`); the second one is used if the first is the target's own.
const OTHER_PROJECTS: [&str; 2] = [
    "0123456789abcdef0123456789abcdef",
    "fedcba9876543210fedcba9876543210",
];

/// Apply a step's own headers (replacing defaults of the same name; an
/// empty value sends the header empty) and its URL project: the second
/// project's for `as: alt` (its user calls its own endpoint), another
/// well-formed one for `url_project: other`.
pub fn customize(
    mut request: RecordedRequest,
    step: &Step,
    target: &Target,
) -> Result<RecordedRequest, BuildError> {
    let project = target.project_id.as_str();
    if step.op != StepOp::Raw {
        for (name, value) in &step.headers {
            request
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            request.headers.push((name.clone(), value.clone()));
        }
    }
    let alt_project = target.credentials.alt_project_id.as_deref();
    if step.identity == Identity::Alt
        && step.url_project == UrlProject::Own
        && let Some(alt) = alt_project
        && let Some(url) = swap_project(&request.url, project, alt)
    {
        request.url = url;
    }
    if step.url_project == UrlProject::Other {
        let other = OTHER_PROJECTS
            .into_iter()
            .find(|p| *p != project)
            .unwrap_or(OTHER_PROJECTS[0]);
        request.url =
            swap_project(&request.url, project, other).ok_or(BuildError::NoProjectInUrl)?;
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_body_has_the_exact_size_and_parses() {
        for size in [100, 114_688, 114_689] {
            let body = sized_merge_body(size);
            assert_eq!(body.len(), size);
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v, json!({"metadata": {"k": "v"}}));
        }
    }

    #[test]
    fn project_segment_is_swapped_whole() {
        let url = "http://h:1/v2.1/abc/servers/abcd/metadata";
        assert_eq!(
            swap_project(url, "abc", "fff").as_deref(),
            Some("http://h:1/v2.1/fff/servers/abcd/metadata")
        );
        assert_eq!(swap_project("http://h/v2.1/servers/x", "abc", "fff"), None);
    }

    #[test]
    fn actions_have_nova_bodies() {
        assert_eq!(Action::parse("stop").unwrap().name, "os-stop");
        let reset = Action::parse("reset-state-error").unwrap();
        assert!(reset.admin_only());
        assert_eq!(reset.args, json!({"state": "error"}));
        assert_eq!(Action::parse("fly"), None);
    }
}
