//! Comparing an answer with a step's expectations.
//!
//! Every field given in an [`Expect`] is checked; each broken one yields a
//! sentence saying what was expected and what came back, so a failure report
//! reads without the case file at hand.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cases::format::Expect;
use crate::endpoint::http::RecordedResponse;
use crate::model::pipeline::Op;
use crate::profile::Profile;

/// The status and body checks of `expect` against `response`.
pub fn response(
    expect: &Expect,
    response: &RecordedResponse,
    op: Option<&Op>,
    profile: &Profile,
) -> Vec<String> {
    let mut broken = Vec::new();
    if let Some(codes) = &expect.status
        && !codes.0.contains(&response.status)
    {
        broken.push(format!(
            "expected status {}, got {}",
            codes_text(&codes.0),
            response.status
        ));
    }
    if let Some(kind) = expect.outcome {
        let accepted = profile.accepted(kind, op);
        if !accepted.contains(&response.status) {
            broken.push(format!(
                "expected outcome {kind} ({}), got {}",
                if accepted.is_empty() {
                    "no code: the request addresses no operation of the dialect".to_string()
                } else {
                    codes_text(&accepted)
                },
                response.status
            ));
        }
    }
    if broken.is_empty()
        && let Some(finding) = server_error(expect, response)
    {
        broken.push(finding);
    }
    let lone = response.lone_surrogates();
    if lone > 0 {
        broken.push(format!(
            "the endpoint stored and returned {lone} unpaired surrogate escape(s) (\\uD800-\\uDFFF without a pair): no Unicode string holds them"
        ));
    }
    broken.extend(body(expect, response));
    broken.extend(headers(&expect.headers, response));
    broken.extend(error_fields(expect, response));
    broken
}

/// A 5xx answer is a finding, never a pass (spec §5.1), unless the step's
/// `status` lists that very code.
fn server_error(expect: &Expect, response: &RecordedResponse) -> Option<String> {
    let listed = expect
        .status
        .as_ref()
        .is_some_and(|codes| codes.0.contains(&response.status));
    (response.status >= 500 && !listed).then(|| {
        format!(
            "got {}: a 5xx answer is a server error, never a pass (list the code in `status` if it is expected)",
            response.status
        )
    })
}

fn codes_text(codes: &[u16]) -> String {
    let list: Vec<String> = codes.iter().map(u16::to_string).collect();
    list.join(" or ")
}

fn body(expect: &Expect, response: &RecordedResponse) -> Vec<String> {
    let mut broken = Vec::new();
    if expect.body.is_none() && expect.body_contains.is_none() {
        return broken;
    }
    let Some(got) = response.json() else {
        broken.push(format!(
            "expected a JSON body, got {:?}",
            snippet(&response.body)
        ));
        return broken;
    };
    if let Some(want) = expect.body.as_ref().filter(|want| **want != got) {
        broken.push(format!(
            "expected body {}, got {}",
            snippet(want.to_string().as_bytes()),
            snippet(got.to_string().as_bytes())
        ));
    }
    if let Some(want) = expect
        .body_contains
        .as_ref()
        .filter(|want| !contains(&got, want))
    {
        broken.push(format!(
            "expected body containing {}, got {}",
            snippet(want.to_string().as_bytes()),
            snippet(got.to_string().as_bytes())
        ));
    }
    broken
}

/// `got` contains `want`: objects recursively by member, anything else equal.
pub fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        _ => got == want,
    }
}

fn headers(want: &BTreeMap<String, String>, response: &RecordedResponse) -> Vec<String> {
    want.iter()
        .filter_map(|(name, rule)| {
            let got = response.header(name);
            match (rule.as_str(), got) {
                ("present", None) => Some(format!("expected header {name}, it is absent")),
                ("present", Some(_)) => None,
                ("absent", Some(v)) => Some(format!("expected no header {name}, got '{v}'")),
                ("absent", None) => None,
                (value, Some(v)) if v == value => None,
                (value, got) => Some(format!(
                    "expected header {name}: '{value}', got {}",
                    got.map_or("none".to_string(), |v| format!("'{v}'"))
                )),
            }
        })
        .collect()
}

fn error_fields(expect: &Expect, response: &RecordedResponse) -> Vec<String> {
    let mut broken = Vec::new();
    let json = response.json();
    if let Some(want) = &expect.message_contains {
        let message = json.as_ref().and_then(error_message);
        let haystack =
            message.unwrap_or_else(|| String::from_utf8_lossy(&response.body).into_owned());
        if !haystack.contains(want.as_str()) {
            broken.push(format!(
                "expected a message containing '{want}', got {:?}",
                snippet(haystack.as_bytes())
            ));
        }
    }
    if let Some(want) = &expect.error_code {
        let codes = json.as_ref().map(error_codes).unwrap_or_default();
        if !codes.iter().any(|c| c == want) {
            broken.push(format!(
                "expected error code {want}, got {}",
                if codes.is_empty() {
                    "none".to_string()
                } else {
                    codes.join(" / ")
                }
            ));
        }
    }
    broken
}

/// The message of an error body: a Nova fault's (`{"name": {"message"}}`),
/// keystone's and Huawei's (`error.message`), or the gateway's `error_msg`.
pub fn error_message(body: &Value) -> Option<String> {
    let object = body.as_object()?;
    if let Some(msg) = object.get("error_msg").and_then(Value::as_str) {
        return Some(msg.to_string());
    }
    let inner = if object.len() == 1 {
        object.values().next()
    } else {
        object.get("error")
    }?;
    inner
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The error codes an error body may carry: the Nova fault name (the single
/// top-level member), Huawei `error.code`, gateway `error_code`.
pub fn error_codes(body: &Value) -> Vec<String> {
    let Some(object) = body.as_object() else {
        return Vec::new();
    };
    let mut codes = Vec::new();
    if object.len() == 1
        && let Some((name, inner)) = object.iter().next()
        && (inner.get("code").is_some() || inner.get("message").is_some())
    {
        codes.push(name.clone());
    }
    if let Some(code) = object
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
    {
        codes.push(code.to_string());
    }
    if let Some(code) = object.get("error_code").and_then(Value::as_str) {
        codes.push(code.to_string());
    }
    codes
}

/// The `stored*` checks of `expect` against the map read back.
pub fn stored(expect: &Expect, stored: &BTreeMap<String, String>) -> Vec<String> {
    let mut broken = Vec::new();
    if let Some(want) = expect.stored.as_ref().filter(|want| *want != stored) {
        broken.push(format!(
            "expected stored map {}, read back {}",
            map_text(want),
            map_text(stored)
        ));
    }
    if let Some(want) = &expect.stored_contains {
        let missing: BTreeMap<String, String> = want
            .iter()
            .filter(|(k, v)| stored.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !missing.is_empty() {
            broken.push(format!(
                "expected stored map to contain {}, read back {}",
                map_text(&missing),
                map_text(stored)
            ));
        }
    }
    if let Some(want) = expect.stored_count.filter(|n| *n != stored.len()) {
        broken.push(format!(
            "expected {want} stored items, read back {}",
            stored.len()
        ));
    }
    broken
}

/// Whether `expect` has any `stored*` field.
pub fn wants_stored(expect: &Expect) -> bool {
    expect.stored.is_some() || expect.stored_contains.is_some() || expect.stored_count.is_some()
}

fn map_text(map: &BTreeMap<String, String>) -> String {
    const SHOWN: usize = 8;
    let mut parts: Vec<String> = map
        .iter()
        .take(SHOWN)
        .map(|(k, v)| format!("{k:?}: {v:?}"))
        .collect();
    if map.len() > SHOWN {
        parts.push(format!("... ({} items)", map.len()));
    }
    format!("{{{}}}", parts.join(", "))
}

/// The first 200 characters of a body, for messages.
pub fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

pub use crate::endpoint::servers::stored_map;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::format::Codes;
    use crate::model::outcome::OutcomeKind;
    use serde_json::json;

    fn nova() -> Profile {
        crate::profile::builtin("nova").unwrap()
    }

    fn answer(status: u16, body: Value) -> RecordedResponse {
        RecordedResponse {
            status,
            headers: vec![("Vary".into(), "OpenStack-API-Version".into())],
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn status_and_outcome_are_compared_with_the_profile() {
        let expect = Expect {
            status: Some(Codes(vec![200])),
            outcome: Some(OutcomeKind::Ok),
            ..Expect::default()
        };
        let ok = answer(200, json!({}));
        assert!(response(&expect, &ok, Some(&Op::Merge), &nova()).is_empty());
        let broken = response(&expect, &ok, Some(&Op::Delete("k".into())), &nova());
        assert_eq!(broken, vec!["expected outcome ok (204), got 200"]);
    }

    #[test]
    fn a_server_error_fails_unless_its_code_is_listed() {
        let open = Expect::default();
        let crash = answer(500, json!({"computeFault": {"code": 500}}));
        let broken = response(&open, &crash, Some(&Op::List), &nova());
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert!(broken[0].starts_with("got 500: a 5xx answer"), "{broken:?}");
        let listed = Expect {
            status: Some(Codes(vec![200, 503])),
            ..Expect::default()
        };
        let unavailable = answer(503, json!({}));
        assert!(response(&listed, &unavailable, Some(&Op::List), &nova()).is_empty());
        let other = response(&listed, &crash, Some(&Op::List), &nova());
        assert_eq!(other, vec!["expected status 200 or 503, got 500"]);
        assert!(response(&open, &answer(404, json!({})), None, &nova()).is_empty());
    }

    #[test]
    fn nova_fault_name_and_message_are_found() {
        let expect = Expect {
            error_code: Some("itemNotFound".into()),
            message_contains: Some("was not found".into()),
            ..Expect::default()
        };
        let body = json!({"itemNotFound": {"code": 404, "message": "Metadata item was not found"}});
        assert!(response(&expect, &answer(404, body), None, &nova()).is_empty());
        let huawei = json!({"error": {"code": "Ecs.0114", "message": "gone"}});
        let broken = response(&expect, &answer(404, huawei), None, &nova());
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(broken[1].contains("got error / Ecs.0114"), "{broken:?}");
    }

    #[test]
    fn body_subset_and_headers() {
        let expect = Expect {
            body_contains: Some(json!({"metadata": {"a": "1"}})),
            headers: [
                ("vary".to_string(), "present".to_string()),
                ("x-missing".to_string(), "absent".to_string()),
            ]
            .into(),
            ..Expect::default()
        };
        let got = answer(200, json!({"metadata": {"a": "1", "b": "2"}}));
        assert!(response(&expect, &got, None, &nova()).is_empty());
        let other = answer(200, json!({"metadata": {"a": "2"}}));
        assert_eq!(response(&expect, &other, None, &nova()).len(), 1);
    }

    #[test]
    fn stored_checks_and_read_back_shapes() {
        let profile = nova();
        let list = stored_map(&json!({"metadata": {"a": "1", "n": 3}}), &profile).unwrap();
        assert_eq!(list["n"], "3");
        let show = stored_map(&json!({"server": {"metadata": {"a": "1"}}}), &profile).unwrap();
        let expect = Expect {
            stored: Some([("a".to_string(), "1".to_string())].into()),
            stored_count: Some(2),
            ..Expect::default()
        };
        let broken = stored(&expect, &show);
        assert_eq!(broken, vec!["expected 2 stored items, read back 1"]);
        assert!(stored_map(&json!({"x": 1}), &profile).is_none());
    }
}
