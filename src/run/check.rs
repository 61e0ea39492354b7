//! Comparing an answer with a step's expectations.
//!
//! Every field given in an [`Expect`] is checked; each broken one yields a
//! [`Problem`]: what was expected and what came back, as data (the reports
//! render it), so a failure reads without the case file at hand.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cases::format::Expect;
use crate::endpoint::error_body;
use crate::endpoint::http::RecordedResponse;
use crate::model::outcome::OutcomeKind;
use crate::model::pipeline::Op;
use crate::profile::Profile;

use super::failure::{HeaderRule, Problem, StoredMap};

/// How a step's `outcome` is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judge {
    /// Any status of the profile's accept set: a real endpoint, where the
    /// sources may disagree (spec §8).
    Accepted,
    /// Exactly the status and error code the profile's `emit` names: the
    /// reference mock, where any other answer is a bug in the mock or the
    /// model that the accept set would hide.
    Emitted,
}

impl Judge {
    /// [`Judge::Emitted`] for the reference mock (a disposable target),
    /// [`Judge::Accepted`] for a real endpoint.
    pub fn for_target(target: &crate::endpoint::Target) -> Judge {
        if target.disposable {
            Judge::Emitted
        } else {
            Judge::Accepted
        }
    }
}

/// The status and body checks of `expect` against `response`.
pub fn response(
    expect: &Expect,
    response: &RecordedResponse,
    op: Option<&Op>,
    profile: &Profile,
    judge: Judge,
) -> Vec<Problem> {
    let mut broken = Vec::new();
    if let Some(codes) = &expect.status
        && !codes.0.contains(&response.status)
    {
        broken.push(Problem::Status {
            expected: codes.0.clone(),
            got: response.status,
        });
    }
    if let Some(kind) = expect.outcome {
        broken.extend(match judge {
            Judge::Accepted => accepted_outcome(kind, response, op, profile),
            Judge::Emitted => emitted_outcome(kind, response, op, profile),
        });
    }
    if broken.is_empty()
        && let Some(finding) = server_error(expect, response)
    {
        broken.push(finding);
    }
    let count = response.lone_surrogates();
    if count > 0 {
        broken.push(Problem::LoneSurrogates { count });
    }
    broken.extend(body(expect, response));
    broken.extend(headers(&expect.headers, response));
    broken.extend(error_fields(expect, response));
    broken
}

/// The error codes `response`'s body carries, if it is JSON.
fn codes_of(response: &RecordedResponse) -> Vec<String> {
    response
        .json()
        .as_ref()
        .map(error_body::fault_names)
        .unwrap_or_default()
}

/// `kind` judged by the profile's accept set.
fn accepted_outcome(
    kind: OutcomeKind,
    response: &RecordedResponse,
    op: Option<&Op>,
    profile: &Profile,
) -> Option<Problem> {
    let accepted = profile.accepted(kind, op);
    (!accepted.contains(&response.status)).then(|| Problem::Outcome {
        outcome: kind,
        expected: accepted,
        expected_code: None,
        got: response.status,
        got_codes: codes_of(response),
    })
}

/// `kind` judged by the one answer the reference mock emits: its status,
/// and its error code when the profile names one.
fn emitted_outcome(
    kind: OutcomeKind,
    response: &RecordedResponse,
    op: Option<&Op>,
    profile: &Profile,
) -> Option<Problem> {
    let got_codes = codes_of(response);
    let Some((status, code)) = profile.emitted(kind, op) else {
        return Some(Problem::Outcome {
            outcome: kind,
            expected: Vec::new(),
            expected_code: None,
            got: response.status,
            got_codes,
        });
    };
    let code_ok = code.is_none_or(|want| got_codes.iter().any(|c| c == want));
    (response.status != status || !code_ok).then(|| Problem::Outcome {
        outcome: kind,
        expected: vec![status],
        expected_code: code.map(str::to_string),
        got: response.status,
        got_codes,
    })
}

/// A 5xx answer is a finding, never a pass (spec §5.1), unless the step's
/// `status` lists that very code.
fn server_error(expect: &Expect, response: &RecordedResponse) -> Option<Problem> {
    let listed = expect
        .status
        .as_ref()
        .is_some_and(|codes| codes.0.contains(&response.status));
    (response.status >= 500 && !listed).then_some(Problem::ServerError {
        got: response.status,
    })
}

fn body(expect: &Expect, response: &RecordedResponse) -> Vec<Problem> {
    let mut broken = Vec::new();
    if expect.body.is_none() && expect.body_contains.is_none() {
        return broken;
    }
    let Some(got) = response.json() else {
        broken.push(Problem::NotJson {
            got: snippet(&response.body),
        });
        return broken;
    };
    if let Some(want) = expect.body.as_ref().filter(|want| **want != got) {
        broken.push(Problem::Body {
            expected: want.clone(),
            got: got.clone(),
        });
    }
    if let Some(want) = expect
        .body_contains
        .as_ref()
        .filter(|want| !contains(&got, want))
    {
        broken.push(Problem::BodyContains {
            expected: want.clone(),
            got,
        });
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

fn headers(want: &BTreeMap<String, String>, response: &RecordedResponse) -> Vec<Problem> {
    want.iter()
        .filter_map(|(name, rule)| {
            let expected = HeaderRule::parse(rule);
            let got = response.header(name);
            let holds = match &expected {
                HeaderRule::Present => got.is_some(),
                HeaderRule::Absent => got.is_none(),
                HeaderRule::Equals(value) => got == Some(value.as_str()),
            };
            (!holds).then(|| Problem::Header {
                name: name.clone(),
                expected,
                got: got.map(str::to_string),
            })
        })
        .collect()
}

fn error_fields(expect: &Expect, response: &RecordedResponse) -> Vec<Problem> {
    let mut broken = Vec::new();
    let json = response.json();
    if let Some(want) = &expect.message_contains {
        let message = json.as_ref().and_then(error_body::message);
        let haystack =
            message.unwrap_or_else(|| String::from_utf8_lossy(&response.body).into_owned());
        if !haystack.contains(want.as_str()) {
            broken.push(Problem::Message {
                expected: want.clone(),
                got: snippet(haystack.as_bytes()),
            });
        }
    }
    if let Some(want) = &expect.error_code {
        let codes = json
            .as_ref()
            .map(error_body::fault_names)
            .unwrap_or_default();
        if !codes.iter().any(|c| c == want) {
            broken.push(Problem::ErrorCode {
                expected: want.clone(),
                got: codes,
            });
        }
    }
    broken
}

/// The `stored*` checks of `expect` against the map read back.
pub fn stored(expect: &Expect, stored: &StoredMap) -> Vec<Problem> {
    let mut broken = Vec::new();
    if let Some(want) = expect.stored.as_ref().filter(|want| *want != stored) {
        broken.push(Problem::Stored {
            expected: want.clone(),
        });
    }
    if let Some(want) = &expect.stored_contains {
        let missing: StoredMap = want
            .iter()
            .filter(|(k, v)| stored.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !missing.is_empty() {
            broken.push(Problem::StoredContains { missing });
        }
    }
    if let Some(want) = expect.stored_count.filter(|n| *n != stored.len()) {
        broken.push(Problem::StoredCount {
            expected: want,
            got: stored.len(),
        });
    }
    broken
}

/// Whether `expect` has any `stored*` field.
pub fn wants_stored(expect: &Expect) -> bool {
    expect.stored.is_some() || expect.stored_contains.is_some() || expect.stored_count.is_some()
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
        assert!(response(&expect, &ok, Some(&Op::Merge), &nova(), Judge::Accepted).is_empty());
        let broken = response(
            &expect,
            &ok,
            Some(&Op::Delete("k".into())),
            &nova(),
            Judge::Accepted,
        );
        assert_eq!(
            broken,
            vec![Problem::Outcome {
                outcome: OutcomeKind::Ok,
                expected: vec![204],
                expected_code: None,
                got: 200,
                got_codes: vec![],
            }]
        );
    }

    #[test]
    fn the_reference_mock_must_answer_exactly_what_the_profile_emits() {
        let expect = Expect {
            outcome: Some(OutcomeKind::OverQuota),
            ..Expect::default()
        };
        let quota = |status, name: &str| answer(status, json!({ name: {"code": status} }));
        let op = Some(&Op::Merge);
        // spec §8 row 10: a real Nova may answer 413, the mock emits 403
        let too_large = quota(413, "overLimit");
        assert!(response(&expect, &too_large, op, &nova(), Judge::Accepted).is_empty());
        let broken = response(&expect, &too_large, op, &nova(), Judge::Emitted);
        assert_eq!(
            broken,
            vec![Problem::Outcome {
                outcome: OutcomeKind::OverQuota,
                expected: vec![403],
                expected_code: Some("forbidden".into()),
                got: 413,
                got_codes: vec!["overLimit".into()],
            }]
        );
        let forbidden = quota(403, "forbidden");
        assert!(response(&expect, &forbidden, op, &nova(), Judge::Emitted).is_empty());
        let wrong_code = quota(403, "badRequest");
        assert_eq!(
            response(&expect, &wrong_code, op, &nova(), Judge::Emitted).len(),
            1
        );
        let ok = Expect {
            outcome: Some(OutcomeKind::Ok),
            ..Expect::default()
        };
        let delete = Some(&Op::Delete("k".into()));
        assert!(
            response(
                &ok,
                &answer(204, json!({})),
                delete,
                &nova(),
                Judge::Emitted
            )
            .is_empty()
        );
        assert_eq!(
            response(
                &ok,
                &answer(200, json!({})),
                delete,
                &nova(),
                Judge::Emitted
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_server_error_fails_unless_its_code_is_listed() {
        let open = Expect::default();
        let crash = answer(500, json!({"computeFault": {"code": 500}}));
        let broken = response(&open, &crash, Some(&Op::List), &nova(), Judge::Accepted);
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(broken[0], Problem::ServerError { got: 500 });
        let listed = Expect {
            status: Some(Codes(vec![200, 503])),
            ..Expect::default()
        };
        let unavailable = answer(503, json!({}));
        assert!(
            response(
                &listed,
                &unavailable,
                Some(&Op::List),
                &nova(),
                Judge::Accepted
            )
            .is_empty()
        );
        let other = response(&listed, &crash, Some(&Op::List), &nova(), Judge::Accepted);
        assert_eq!(
            other,
            vec![Problem::Status {
                expected: vec![200, 503],
                got: 500
            }]
        );
        assert!(
            response(
                &open,
                &answer(404, json!({})),
                None,
                &nova(),
                Judge::Accepted
            )
            .is_empty()
        );
    }

    #[test]
    fn nova_fault_name_and_message_are_found() {
        let expect = Expect {
            error_code: Some("itemNotFound".into()),
            message_contains: Some("was not found".into()),
            ..Expect::default()
        };
        let body = json!({"itemNotFound": {"code": 404, "message": "Metadata item was not found"}});
        assert!(response(&expect, &answer(404, body), None, &nova(), Judge::Accepted).is_empty());
        let huawei = json!({"error": {"code": "Ecs.0114", "message": "gone"}});
        let broken = response(
            &expect,
            &answer(404, huawei),
            None,
            &nova(),
            Judge::Accepted,
        );
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert_eq!(
            broken[1],
            Problem::ErrorCode {
                expected: "itemNotFound".into(),
                got: vec!["error".into(), "Ecs.0114".into()],
            }
        );
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
        assert!(response(&expect, &got, None, &nova(), Judge::Accepted).is_empty());
        let other = answer(200, json!({"metadata": {"a": "2"}}));
        assert_eq!(
            response(&expect, &other, None, &nova(), Judge::Accepted).len(),
            1
        );
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
        assert_eq!(
            broken,
            vec![Problem::StoredCount {
                expected: 2,
                got: 1
            }]
        );
        assert!(stored_map(&json!({"x": 1}), &profile).is_none());
    }
}
