//! The reference model checked against the spec's tables, row by row.
//!
//! Expectations here are written from `shared/spec/metadata-api.md`
//! independently of the model's code: the 67-character set is spelled out,
//! boundaries are literal numbers, messages are the spec's texts.

use metaconform::model::Metadata;
use metaconform::model::caller::Caller;
use metaconform::model::microversion::VersionHeaders;
use metaconform::model::outcome::{Outcome, OutcomeKind, Success};
use metaconform::model::pipeline::{ApiRules, Decision, MetaRequest, Op, decide};
use metaconform::model::server::{ServerRecord, VmState};
use metaconform::profile;
use proptest::prelude::*;

const SERVER: &str = "7d0c2f3e-6a47-4e7e-9f00-0d7c1b2a3c4d";
const PROJECT: &str = "6f2b1c0d9e8a47b5a3c2d1e0f9a8b7c6";
/// Spec §2.1: space, `-`, `.`, digits, `:`, upper, `_`, lower.
const NOVA_ALLOWED: &str = " -.0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn rules(dialect: &str) -> ApiRules {
    profile::builtin(dialect)
        .unwrap_or_else(|d| panic!("{d}"))
        .rules
}

fn server(metadata: &[(&str, &str)]) -> ServerRecord {
    let map: Metadata = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ServerRecord::new(SERVER, PROJECT, "s", map)
}

fn member() -> Caller {
    Caller::from_token(&format!("demo:{PROJECT}")).expect("token")
}

struct Req {
    op: Op,
    body: Vec<u8>,
    caller: Option<Caller>,
    url_project: Option<String>,
    server_id: String,
    content_type: Option<String>,
    versions: VersionHeaders,
    query: Vec<(String, String)>,
    body_len: Option<usize>,
}

impl Req {
    fn new(op: Op, body: &str) -> Req {
        Req {
            op,
            body: body.as_bytes().to_vec(),
            caller: Some(member()),
            url_project: Some(PROJECT.into()),
            server_id: SERVER.into(),
            content_type: Some("application/json".into()),
            versions: VersionHeaders::default(),
            query: Vec::new(),
            body_len: None,
        }
    }

    fn with_token(mut self, token: &str) -> Req {
        self.caller = Caller::from_token(token);
        self
    }

    fn run(&self, rules: &ApiRules, server: &ServerRecord) -> Decision {
        let req = MetaRequest {
            op: &self.op,
            caller: self.caller.as_ref(),
            url_project: self.url_project.as_deref(),
            server_id: &self.server_id,
            body: &self.body,
            body_len: self.body_len.unwrap_or(self.body.len()),
            content_type: self.content_type.as_deref(),
            versions: &self.versions,
            query: &self.query,
        };
        let found = (self.server_id == server.id).then_some(server);
        decide(rules, &req, found)
    }
}

fn nova(req: Req, server: &ServerRecord) -> Decision {
    req.run(&rules("nova"), server)
}

fn kind(d: &Decision) -> OutcomeKind {
    d.outcome.kind()
}

fn message(d: &Decision) -> String {
    match &d.outcome {
        Outcome::Refused { message, .. } => message.clone(),
        Outcome::Success(s) => format!("success: {s:?}"),
    }
}

fn merge_body(key: &str, value: &str) -> String {
    serde_json::json!({"metadata": {key: value}}).to_string()
}

// ---- §2.1 key rule ----------------------------------------------------------

#[test]
fn spec_2_1_each_allowed_character_alone_and_inside_a_key() {
    assert_eq!(NOVA_ALLOWED.chars().count(), 67);
    for c in NOVA_ALLOWED.chars() {
        for key in [c.to_string(), format!("a{c}b")] {
            let d = nova(Req::new(Op::Merge, &merge_body(&key, "v")), &server(&[]));
            assert_eq!(kind(&d), OutcomeKind::Ok, "key {key:?}: {}", message(&d));
            assert_eq!(
                d.store
                    .as_ref()
                    .and_then(|m| m.get(&key))
                    .map(String::as_str),
                Some("v")
            );
        }
    }
}

#[test]
fn spec_2_1_every_other_printable_ascii_and_control_character_is_refused() {
    let others = (0u8..=127)
        .map(char::from)
        .filter(|c| !NOVA_ALLOWED.contains(*c));
    let mut count = 0;
    for c in others {
        count += 1;
        // Inside the key: a final "\n" alone passes (next test).
        let d = nova(
            Req::new(Op::Merge, &merge_body(&format!("k{c}k"), "v")),
            &server(&[]),
        );
        assert_eq!(kind(&d), OutcomeKind::InvalidInput, "char {c:?}");
        assert!(d.store.is_none());
    }
    assert_eq!(count, 128 - 67);
}

/// Python's `$` in `^[a-zA-Z0-9-_:. ]{1,255}$` also matches before one
/// final "\n" (jsonschema's `re.search`), so Nova 34 stores `k\n`
/// (tests/data/nova-recording.json, `wire.newline.*`).
#[test]
fn spec_2_1_one_final_newline_passes_as_in_python() {
    let long = format!("{}\n", "k".repeat(255));
    for key in ["k\n", " \n", long.as_str()] {
        let d = nova(Req::new(Op::Merge, &merge_body(key, "v")), &server(&[]));
        assert_eq!(kind(&d), OutcomeKind::Ok, "key {key:?}: {}", message(&d));
        assert_eq!(
            d.store
                .as_ref()
                .and_then(|m| m.get(key))
                .map(String::as_str),
            Some("v")
        );
    }
    for key in ["\n", "k\n\n", "\nk", "k\r\n", "k\nk"] {
        let d = nova(Req::new(Op::Merge, &merge_body(key, "v")), &server(&[]));
        assert_eq!(kind(&d), OutcomeKind::InvalidInput, "key {key:?}");
    }
}

/// The same `$` ends Nova's route regexes: a URL key's one final "\n" is
/// not part of the key (`a\n` names `a`; a lone "\n" stays).
#[test]
fn spec_2_1_a_url_key_loses_one_final_newline_as_routes_match_it() {
    let stored = server(&[("a", "1")]);
    let d = nova(Req::new(Op::Get("a\n".into()), ""), &stored);
    assert_eq!(kind(&d), OutcomeKind::Ok, "{}", message(&d));
    let d = nova(Req::new(Op::Delete("a\n".into()), ""), &stored);
    assert_eq!(d.store.as_ref().map(|m| m.contains_key("a")), Some(false));
    let d = nova(
        Req::new(Op::Set("a\n".into()), r#"{"meta": {"a\n": "v"}}"#),
        &stored,
    );
    assert_eq!(message(&d), "Request body and URI mismatch");
    let d = nova(Req::new(Op::Get("\n".into()), ""), &stored);
    assert_eq!(kind(&d), OutcomeKind::ItemNotFound, "{}", message(&d));
}

#[test]
fn spec_2_1_non_ascii_letters_digits_and_spaces_are_refused() {
    for key in ["é", "ａ", "😀", "٣", "\u{a0}", "k\u{3000}", "e\u{301}"] {
        let d = nova(Req::new(Op::Merge, &merge_body(key, "v")), &server(&[]));
        assert_eq!(kind(&d), OutcomeKind::InvalidInput, "key {key:?}");
    }
}

#[test]
fn spec_2_1_key_length_boundaries_and_message() {
    for (len, ok) in [
        (0, false),
        (1, true),
        (254, true),
        (255, true),
        (256, false),
    ] {
        let key = "a".repeat(len);
        let d = nova(Req::new(Op::Merge, &merge_body(&key, "v")), &server(&[]));
        assert_eq!(
            kind(&d) == OutcomeKind::Ok,
            ok,
            "len {len}: {}",
            message(&d)
        );
    }
    let d = nova(Req::new(Op::Merge, &merge_body("", "v")), &server(&[]));
    assert!(
        message(&d).contains("'' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"),
        "{}",
        message(&d)
    );
}

#[test]
fn spec_2_1_spaces_are_kept_verbatim() {
    let s = server(&[("sp", "1")]);
    let d = nova(
        Req::new(
            Op::Merge,
            r#"{"metadata": {"sp ": "2", " lead": "3", "   ": "4"}}"#,
        ),
        &s,
    );
    let stored = d.store.expect("stored");
    assert_eq!(stored.len(), 4, "{stored:?}");
    assert_eq!(stored["sp"], "1");
    assert_eq!(stored["sp "], "2");
}

// ---- §2.2 dialect rules -----------------------------------------------------

#[test]
fn spec_2_2_huawei_and_bms_charsets_differ_from_nova() {
    let ecs = rules("ecs-v1");
    let bms_os = rules("bms-os");
    let check = |r: &ApiRules, key: &str| r.metadata.key.check(key).is_ok();
    assert!(
        !check(&ecs, "a b"),
        "ECS strict set has no space (spec §8 row 5)"
    );
    assert!(check(&ecs, "a:b"));
    assert!(!check(&bms_os, "a:b"), "bms-os forbids ':' (spec §2.2)");
    assert!(
        check(&bms_os, "a b") && check(&bms_os, "é"),
        "bms-os is a deny-list"
    );
    for c in ":`~!@#$%^&*()=+<,>?/'\";{[]}|\\".chars() {
        assert!(!check(&bms_os, &format!("k{c}")), "bms-os forbids {c:?}");
    }
    let value_ok = |v: &str| {
        bms_os
            .metadata
            .value
            .check("k", &metaconform::model::pyjson::PyValue::Str(v.into()))
            .is_ok()
    };
    assert!(!value_ok("a\\b") && !value_ok("a\"b") && value_ok("a'b"));
    assert!(
        ecs.metadata.key.check("   ").is_err(),
        "ECS keys must not be blank"
    );
}

// ---- §2.3 length unit -------------------------------------------------------

#[test]
fn spec_2_3_values_count_code_points_not_bytes() {
    for unit in ["x", "é", "😀", "中"] {
        for (n, ok) in [(0, true), (255, true), (256, false)] {
            let value = unit.repeat(n);
            let d = nova(Req::new(Op::Merge, &merge_body("k", &value)), &server(&[]));
            assert_eq!(
                kind(&d) == OutcomeKind::Ok,
                ok,
                "{n} x {unit}: {}",
                message(&d)
            );
        }
    }
    let d = nova(
        Req::new(Op::Merge, &merge_body("k", &"x".repeat(256))),
        &server(&[]),
    );
    let long = "x".repeat(256);
    assert_eq!(
        message(&d),
        format!("Invalid input for field/attribute k. Value: {long}. '{long}' is too long")
    );
}

#[test]
fn spec_2_3_surrogate_pair_escape_is_one_code_point() {
    let value = "\\ud83d\\ude00".repeat(255);
    let body = format!(r#"{{"metadata": {{"k": "{value}"}}}}"#);
    assert_eq!(
        kind(&nova(Req::new(Op::Merge, &body), &server(&[]))),
        OutcomeKind::Ok
    );
}

#[test]
fn spec_5_3_non_string_value_is_reported_on_its_key() {
    let d = nova(
        Req::new(Op::Merge, r#"{"metadata": {"k": 5}}"#),
        &server(&[]),
    );
    assert_eq!(
        message(&d),
        "Invalid input for field/attribute k. Value: 5. 5 is not of type 'string'"
    );
}

#[test]
fn spec_2_2_non_string_values_are_refused() {
    for value in ["1", "1.5", "true", "null", "{}", "[]", r#"["a"]"#] {
        let body = format!(r#"{{"metadata": {{"k": {value}}}}}"#);
        let d = nova(Req::new(Op::Merge, &body), &server(&[]));
        assert_eq!(kind(&d), OutcomeKind::InvalidInput, "value {value}");
        assert!(
            message(&d).contains("is not of type 'string'"),
            "{}",
            message(&d)
        );
    }
}

// ---- §2.4 body shapes -------------------------------------------------------

#[test]
fn spec_2_4_body_shape_table() {
    let rows: &[(Op, &str, OutcomeKind, &str)] = &[
        (
            Op::Merge,
            "",
            OutcomeKind::InvalidInput,
            "None is not of type 'object'",
        ),
        (
            Op::Merge,
            "null",
            OutcomeKind::InvalidInput,
            "None is not of type 'object'",
        ),
        (
            Op::Merge,
            "[]",
            OutcomeKind::InvalidInput,
            "[] is not of type 'object'",
        ),
        (
            Op::Merge,
            r#"{"meta": {"a": "b"}}"#,
            OutcomeKind::InvalidInput,
            "'metadata' is a required property",
        ),
        (
            Op::Replace,
            "{}",
            OutcomeKind::InvalidInput,
            "'metadata' is a required property",
        ),
        (
            Op::Set("a".into()),
            r#"{"metadata": {"a": "b"}}"#,
            OutcomeKind::InvalidInput,
            "'meta' is a required property",
        ),
        (
            Op::Merge,
            r#"{"metadata": null}"#,
            OutcomeKind::InvalidInput,
            "Invalid input for field/attribute metadata. Value: None. None is not of type 'object'",
        ),
        (
            Op::Merge,
            r#"{"metadata": {}, "x": 1}"#,
            OutcomeKind::InvalidInput,
            "Additional properties are not allowed ('x' was unexpected)",
        ),
        (
            Op::Set("a".into()),
            r#"{"meta": {}}"#,
            OutcomeKind::InvalidInput,
            "should be non-empty",
        ),
        (
            Op::Set("a".into()),
            r#"{"meta": {"a": "1", "b": "2"}}"#,
            OutcomeKind::InvalidInput,
            "has too many properties",
        ),
        (
            Op::Merge,
            "{not json",
            OutcomeKind::MalformedBody,
            "Malformed request body",
        ),
        (
            Op::Merge,
            "\u{ff}",
            OutcomeKind::MalformedBody,
            "Malformed request body",
        ),
    ];
    for (op, body, expected, text) in rows {
        let d = nova(Req::new(op.clone(), body), &server(&[("a", "0")]));
        assert_eq!(kind(&d), *expected, "{op:?} {body:?}: {}", message(&d));
        assert!(
            message(&d).contains(text),
            "{op:?} {body:?}: {}",
            message(&d)
        );
        assert!(d.store.is_none());
    }
}

#[test]
fn spec_2_4_duplicate_members_last_one_wins() {
    let d = nova(
        Req::new(Op::Merge, r#"{"metadata": {"a": "1", "a": "2"}}"#),
        &server(&[]),
    );
    assert_eq!(d.store.expect("stored")["a"], "2");
}

#[test]
fn spec_6_1_legacy_strips_unknown_top_level_members_only() {
    let legacy = rules("nova-legacy");
    let s = server(&[]);
    let d = Req::new(Op::Merge, r#"{"metadata": {"a": "1"}, "x": 1}"#).run(&legacy, &s);
    assert_eq!(kind(&d), OutcomeKind::Ok);
    let d = Req::new(Op::Set("a".into()), r#"{"meta": {"a": "1"}, "x": 1}"#).run(&legacy, &s);
    assert_eq!(kind(&d), OutcomeKind::Ok);
    let d = Req::new(Op::Merge, r#"{"metadata": {"a": 1}}"#).run(&legacy, &s);
    assert_eq!(kind(&d), OutcomeKind::InvalidInput);
    let two = Req::new(Op::Set("a".into()), r#"{"meta": {"a": "1", "b": "2"}}"#).run(&legacy, &s);
    assert_eq!(kind(&two), OutcomeKind::InvalidInput);
}

/// Nova 34's `_SchemaValidator` on v2.1 checks the `metadata` schema's
/// keywords in order: values of keys inside the pattern, then the keys
/// outside it (all named, sorted), then `meta`'s counts; the top-level
/// extra member after the wrapped map (messages measured with Nova 34).
#[test]
fn spec_2_4_nova_reports_the_first_broken_keyword_in_schema_order() {
    let s = server(&[]);
    let message_of = |op: Op, body: &str| message(&nova(Req::new(op, body), &s));
    assert_eq!(
        message_of(Op::Set("a".into()), r#"{"meta": {"a": 1, "b": 2}}"#),
        "Invalid input for field/attribute a. Value: 1. 1 is not of type 'string'"
    );
    assert_eq!(
        message_of(Op::Merge, r#"{"metadata": {"a/b": "1", "c": 2}}"#),
        "Invalid input for field/attribute c. Value: 2. 2 is not of type 'string'"
    );
    assert_eq!(
        message_of(Op::Merge, r#"{"metadata": {"": "x", "a/b": "1"}}"#),
        "Invalid input for field/attribute metadata. Value: {'': 'x', 'a/b': '1'}. '', 'a/b' do not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"
    );
    assert!(
        message_of(Op::Merge, r#"{"metadata": {"a": 1}, "x": 1}"#)
            .ends_with("1 is not of type 'string'")
    );
}

/// Nova 34's soft validator (`_soft_validate_additional_properties`),
/// messages as its `_SchemaValidator(relax_additional_properties=True)`
/// gives them for the server_metadata schemas.
#[test]
fn spec_6_1_legacy_keys_outside_the_pattern_pass_when_every_key_is_outside() {
    let legacy = rules("nova-legacy");
    let s = server(&[]);
    let d = Req::new(Op::Merge, r#"{"metadata": {"a/b": "1", "é": "2"}}"#).run(&legacy, &s);
    assert_eq!(kind(&d), OutcomeKind::Ok);
    assert_eq!(d.store.expect("stored").len(), 2);
    let d = Req::new(Op::Set("a/b".into()), r#"{"meta": {"a/b": "1"}}"#).run(&legacy, &s);
    assert_eq!(kind(&d), OutcomeKind::Ok);
    let mixed = Req::new(Op::Merge, r#"{"metadata": {"a/b": "2", "c": "1"}}"#).run(&legacy, &s);
    assert_eq!(kind(&mixed), OutcomeKind::InvalidInput);
    assert_eq!(
        message(&mixed),
        "Invalid input for field/attribute metadata. Value: {'a/b': '2', 'c': '1'}. Additional properties are not allowed ('a/b' was unexpected)"
    );
    // patternProperties (values of keys inside the pattern) come first.
    let d = Req::new(Op::Merge, r#"{"metadata": {"a/b": "1", "c": 2}}"#).run(&legacy, &s);
    assert_eq!(
        message(&d),
        "Invalid input for field/attribute c. Value: 2. 2 is not of type 'string'"
    );
    // Two keys outside the pattern in `meta`: maxProperties, not the keys.
    let d = Req::new(
        Op::Set("a/b".into()),
        r#"{"meta": {"a/b": "1", "c/d": "2"}}"#,
    )
    .run(&legacy, &s);
    assert_eq!(
        message(&d),
        "Invalid input for field/attribute meta. Value: {'a/b': '1', 'c/d': '2'}. {'a/b': '1', 'c/d': '2'} has too many properties"
    );
    // What the compute API refuses (a 500 on Nova 34) stays a 400 here.
    let long = format!(r#"{{"metadata": {{"{}": "1"}}}}"#, "/".repeat(256));
    for body in [
        r#"{"metadata": {"": "1"}}"#,
        r#"{"metadata": {"a/b": 1}}"#,
        long.as_str(),
    ] {
        let d = Req::new(Op::Merge, body).run(&legacy, &s);
        assert_eq!(kind(&d), OutcomeKind::InvalidInput, "{body}");
    }
}

// ---- §2.5 quota -------------------------------------------------------------

fn full(n: usize) -> ServerRecord {
    let mut s = server(&[]);
    for i in 0..n {
        s.metadata.insert(format!("k{i:03}"), "v".into());
    }
    s
}

fn map_body(wrapper: &str, keys: impl Iterator<Item = String>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = keys.map(|k| (k, "v".into())).collect();
    serde_json::json!({ wrapper: map }).to_string()
}

#[test]
fn spec_2_5_quota_per_operation() {
    // M counts existing ∪ request.
    let at_limit = full(128);
    let overwrite = map_body("metadata", (0..128).map(|i| format!("k{i:03}")));
    assert_eq!(
        kind(&nova(Req::new(Op::Merge, &overwrite), &at_limit)),
        OutcomeKind::Ok
    );
    let d = nova(Req::new(Op::Merge, &merge_body("new", "v")), &at_limit);
    assert_eq!(kind(&d), OutcomeKind::OverQuota);
    assert_eq!(message(&d), "Maximum number of metadata items exceeds 128");
    assert_eq!(
        kind(&nova(
            Req::new(Op::Merge, &merge_body("new", "v")),
            &full(127)
        )),
        OutcomeKind::Ok
    );
    // R counts the request only.
    let r128 = map_body("metadata", (0..128).map(|i| format!("r{i:03}")));
    let r129 = map_body("metadata", (0..129).map(|i| format!("r{i:03}")));
    assert_eq!(
        kind(&nova(Req::new(Op::Replace, &r128), &at_limit)),
        OutcomeKind::Ok
    );
    assert_eq!(
        kind(&nova(Req::new(Op::Replace, &r129), &server(&[]))),
        OutcomeKind::OverQuota
    );
    // P counts existing ∪ {k}.
    let set_existing = Req::new(Op::Set("k000".into()), r#"{"meta": {"k000": "x"}}"#);
    assert_eq!(kind(&nova(set_existing, &at_limit)), OutcomeKind::Ok);
    let set_new = Req::new(Op::Set("new".into()), r#"{"meta": {"new": "x"}}"#);
    assert_eq!(kind(&nova(set_new, &at_limit)), OutcomeKind::OverQuota);
    // D is never checked; an empty replace is never over quota.
    let del = Req::new(Op::Delete("k000".into()), "");
    assert_eq!(kind(&nova(del, &full(129))), OutcomeKind::Ok);
    assert_eq!(
        kind(&nova(
            Req::new(Op::Replace, r#"{"metadata": {}}"#),
            &full(129)
        )),
        OutcomeKind::Ok
    );
}

// ---- §2.6 body size ---------------------------------------------------------

#[test]
fn spec_2_6_body_over_114688_bytes_is_too_large_before_auth() {
    let mut req = Req::new(Op::Merge, "{}").with_token("");
    req.body_len = Some(114_689);
    assert_eq!(kind(&nova(req, &server(&[]))), OutcomeKind::TooLarge);
    let mut req = Req::new(Op::Merge, r#"{"metadata": {}}"#);
    req.body_len = Some(114_688);
    assert_eq!(kind(&nova(req, &server(&[]))), OutcomeKind::Ok);
}

// ---- §3.1 / §3.2 semantics --------------------------------------------------

#[test]
fn spec_3_1_reference_model_table() {
    let s = server(&[("a", "1"), ("b", "2")]);
    let d = nova(
        Req::new(Op::Merge, r#"{"metadata": {"b": "3", "c": "4"}}"#),
        &s,
    );
    let merged: Metadata = [("a", "1"), ("b", "3"), ("c", "4")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        d.outcome,
        Outcome::Success(Success::Metadata(merged.clone()))
    );
    assert_eq!(d.store, Some(merged));

    let d = nova(Req::new(Op::Replace, r#"{"metadata": {"c": "4"}}"#), &s);
    let only_c: Metadata = [("c".to_string(), "4".to_string())].into();
    assert_eq!(
        d.outcome,
        Outcome::Success(Success::Metadata(only_c.clone()))
    );
    assert_eq!(d.store, Some(only_c));

    let d = nova(Req::new(Op::Replace, r#"{"metadata": {}}"#), &s);
    assert_eq!(d.store, Some(Metadata::new()));

    let d = nova(Req::new(Op::Set("a".into()), r#"{"meta": {"a": "9"}}"#), &s);
    assert_eq!(
        d.outcome,
        Outcome::Success(Success::Meta("a".into(), "9".into()))
    );
    assert_eq!(d.store.as_ref().map(|m| m["a"].as_str()), Some("9"));

    let d = nova(Req::new(Op::Get("b".into()), ""), &s);
    assert_eq!(
        d.outcome,
        Outcome::Success(Success::Meta("b".into(), "2".into()))
    );
    assert_eq!(d.store, None);

    let d = nova(Req::new(Op::Get("zz".into()), ""), &s);
    assert_eq!(message(&d), "Metadata item was not found");

    let d = nova(Req::new(Op::Delete("a".into()), ""), &s);
    assert_eq!(d.outcome, Outcome::Success(Success::Empty));
    assert_eq!(d.store.as_ref().map(|m| m.contains_key("a")), Some(false));

    let d = nova(Req::new(Op::List, ""), &s);
    assert_eq!(
        d.outcome,
        Outcome::Success(Success::Metadata(s.metadata.clone()))
    );
}

#[test]
fn spec_3_2_uri_body_mismatch_is_exact() {
    let s = server(&[]);
    for (url, body) in [
        ("a", r#"{"meta": {"b": "1"}}"#),
        ("K", r#"{"meta": {"k": "1"}}"#),
        ("k ", r#"{"meta": {"k": "1"}}"#),
    ] {
        let d = nova(Req::new(Op::Set(url.into()), body), &s);
        assert_eq!(kind(&d), OutcomeKind::UriBodyMismatch, "{url:?}");
        assert_eq!(message(&d), "Request body and URI mismatch");
    }
}

#[test]
fn spec_3_3_keys_are_case_sensitive() {
    let s = server(&[("k", "1")]);
    let d = nova(Req::new(Op::Merge, r#"{"metadata": {"K": "2"}}"#), &s);
    assert_eq!(d.store.map(|m| m.len()), Some(2));
    assert_eq!(
        kind(&nova(Req::new(Op::Get("K".into()), ""), &s)),
        OutcomeKind::ItemNotFound
    );
}

// ---- §4 states --------------------------------------------------------------

fn writes() -> Vec<Req> {
    vec![
        Req::new(Op::Merge, r#"{"metadata": {"a": "2"}}"#),
        Req::new(Op::Replace, r#"{"metadata": {"a": "2"}}"#),
        Req::new(Op::Set("a".into()), r#"{"meta": {"a": "2"}}"#),
        Req::new(Op::Delete("a".into()), ""),
    ]
}

#[test]
fn spec_4_1_write_states_per_dialect() {
    let allowed: &[(&str, &[VmState])] = &[
        (
            "nova",
            &[
                VmState::Active,
                VmState::Paused,
                VmState::Suspended,
                VmState::Stopped,
            ],
        ),
        (
            "ecs-os",
            &[
                VmState::Active,
                VmState::Paused,
                VmState::Suspended,
                VmState::Stopped,
            ],
        ),
        (
            "bms-os",
            &[VmState::Active, VmState::Paused, VmState::Stopped],
        ),
    ];
    for (dialect, states) in allowed {
        let r = rules(dialect);
        for state in VmState::ALL {
            let mut s = server(&[("a", "1")]);
            s.vm_state = state;
            for w in writes() {
                let d = w.run(&r, &s);
                let expected = if states.contains(&state) {
                    OutcomeKind::Ok
                } else {
                    OutcomeKind::StateConflict
                };
                assert_eq!(kind(&d), expected, "{dialect} {state} {:?}", w.op);
            }
            for read in [Req::new(Op::List, ""), Req::new(Op::Get("a".into()), "")] {
                assert_eq!(
                    kind(&read.run(&r, &s)),
                    OutcomeKind::Ok,
                    "reads are never gated"
                );
            }
        }
    }
}

#[test]
fn spec_4_3_conflict_messages() {
    let mut s = server(&[("a", "1")]);
    s.vm_state = VmState::Rescued;
    let d = nova(Req::new(Op::Merge, &merge_body("a", "2")), &s);
    assert_eq!(
        message(&d),
        format!("Cannot 'update metadata' instance {SERVER} while it is in vm_state rescued")
    );
    let d = nova(Req::new(Op::Delete("a".into()), ""), &s);
    assert_eq!(
        message(&d),
        format!("Cannot 'delete metadata' instance {SERVER} while it is in vm_state rescued")
    );
    s.vm_state = VmState::Active;
    s.launched = false;
    let d = nova(Req::new(Op::Merge, &merge_body("a", "2")), &s);
    assert_eq!(
        message(&d),
        format!("Instance {SERVER} is in an invalid state for 'update metadata'")
    );
    s.launched = true;
    s.locked = true;
    let d = nova(Req::new(Op::Merge, &merge_body("a", "2")), &s);
    assert_eq!(
        (kind(&d), message(&d)),
        (OutcomeKind::Locked, format!("Instance {SERVER} is locked"))
    );
}

#[test]
fn spec_4_3_admin_bypasses_lock_and_projects() {
    let mut s = server(&[("a", "1")]);
    s.locked = true;
    s.project_id = "otherproject".into();
    let mut req =
        Req::new(Op::Merge, &merge_body("a", "2")).with_token(&format!("admin:{PROJECT}"));
    req.url_project = Some(PROJECT.into());
    assert_eq!(kind(&nova(req, &s)), OutcomeKind::Ok);
}

// ---- §4.4 order of checks ---------------------------------------------------

#[test]
fn spec_4_4_check_order_consequences() {
    let s = server(&[("a", "1")]);
    let missing = |mut r: Req| {
        r.server_id = "00000000-0000-0000-0000-000000000000".into();
        r
    };
    // Invalid body for a missing server → 400; mismatch on a missing server → 404.
    assert_eq!(
        kind(&nova(missing(Req::new(Op::Merge, "[]")), &s)),
        OutcomeKind::InvalidInput
    );
    let mismatch = Req::new(Op::Set("a".into()), r#"{"meta": {"b": "1"}}"#);
    assert_eq!(
        kind(&nova(missing(mismatch), &s)),
        OutcomeKind::ServerNotFound
    );
    // Reader with a mismatching P → 403.
    let reader = Req::new(Op::Set("a".into()), r#"{"meta": {"b": "1"}}"#)
        .with_token(&format!("r:{PROJECT}:reader"));
    assert_eq!(kind(&nova(reader, &s)), OutcomeKind::Forbidden);
    // Cross-project member: invalid body 400, valid body 404, never 403.
    let mut alt = server(&[("a", "1")]);
    alt.project_id = "altproject".into();
    let other = |body: &str| {
        let mut r = Req::new(Op::Merge, body).with_token("demo2:altproject0");
        r.url_project = Some("altproject0".into());
        r
    };
    assert_eq!(kind(&nova(other("[]"), &s)), OutcomeKind::InvalidInput);
    assert_eq!(
        kind(&nova(other(&merge_body("a", "2")), &s)),
        OutcomeKind::ServerNotFound
    );
    // Locked: P mismatch 400 (not 409); over quota 409 (not 403).
    let mut locked = full(128);
    locked.locked = true;
    let mm = Req::new(Op::Set("a".into()), r#"{"meta": {"b": "1"}}"#);
    assert_eq!(kind(&nova(mm, &locked)), OutcomeKind::UriBodyMismatch);
    assert_eq!(
        kind(&nova(Req::new(Op::Merge, &merge_body("new", "v")), &locked)),
        OutcomeKind::Locked
    );
    // D of a missing key → 404 even when locked or in a disallowed state.
    assert_eq!(
        kind(&nova(Req::new(Op::Delete("zz".into()), ""), &locked)),
        OutcomeKind::ItemNotFound
    );
    let mut shelved = server(&[]);
    shelved.vm_state = VmState::ShelvedOffloaded;
    assert_eq!(
        kind(&nova(Req::new(Op::Delete("zz".into()), ""), &shelved)),
        OutcomeKind::ItemNotFound
    );
    // No token → 401 before anything but the size limit.
    assert_eq!(
        kind(&nova(Req::new(Op::Merge, "{bad").with_token(""), &s)),
        OutcomeKind::Unauthorized
    );
    // Content type before JSON parse; JSON parse before project mismatch.
    let mut xml = Req::new(Op::Merge, "{bad");
    xml.content_type = Some("application/xml".into());
    assert_eq!(kind(&nova(xml, &s)), OutcomeKind::BadMediaType);
    let mut wrong_project = Req::new(Op::Merge, "{bad");
    wrong_project.url_project = Some("ffff".into());
    assert_eq!(kind(&nova(wrong_project, &s)), OutcomeKind::MalformedBody);
    let mut wrong_project = Req::new(Op::Merge, "[]");
    wrong_project.url_project = Some("ffff".into());
    let d = nova(wrong_project, &s);
    assert_eq!(kind(&d), OutcomeKind::ProjectMismatch);
    assert!(message(&d).starts_with(
        "Malformed request URL: URL's project_id 'ffff' doesn't match Context's project_id"
    ));
}

// ---- §5.4 content types -----------------------------------------------------

#[test]
fn spec_5_4_content_types() {
    let s = server(&[]);
    for (ct, ok) in [
        (None, true),
        (Some(""), true),
        (Some("text/plain"), true),
        (Some("application/json;charset=UTF-8"), true),
        (Some("application/vnd.openstack.compute+json"), true),
        (Some("application/xml"), false),
        (Some("application/x-www-form-urlencoded"), false),
    ] {
        for op in [Op::Merge, Op::List] {
            let body = if op == Op::Merge {
                r#"{"metadata": {}}"#
            } else {
                ""
            };
            let mut r = Req::new(op.clone(), body);
            r.content_type = ct.map(str::to_string);
            let k = kind(&nova(r, &s));
            assert_eq!(k != OutcomeKind::BadMediaType, ok, "{ct:?} {op:?}");
        }
    }
}

// ---- §6.2 microversions -----------------------------------------------------

#[test]
fn spec_6_2_query_rule_from_2_102_on_reads_only() {
    let s = server(&[("a", "1")]);
    let with = |op: Op, body: &str, version: &str| {
        let mut r = Req::new(op, body);
        r.query = vec![("foo".into(), "bar".into())];
        r.versions.openstack = Some(format!("compute {version}"));
        r
    };
    assert_eq!(
        kind(&nova(with(Op::List, "", "2.101"), &s)),
        OutcomeKind::Ok
    );
    assert_eq!(
        kind(&nova(with(Op::List, "", "2.102"), &s)),
        OutcomeKind::InvalidInput
    );
    assert_eq!(
        kind(&nova(with(Op::Get("a".into()), "", "2.104"), &s)),
        OutcomeKind::InvalidInput
    );
    assert_eq!(
        kind(&nova(with(Op::Merge, r#"{"metadata": {}}"#, "2.102"), &s)),
        OutcomeKind::Ok
    );
    assert_eq!(
        kind(&nova(with(Op::Delete("a".into()), "", "2.102"), &s)),
        OutcomeKind::Ok
    );
    let legacy = with(Op::List, "", "2.102").run(&rules("nova-legacy"), &s);
    assert_eq!(
        kind(&legacy),
        OutcomeKind::Ok,
        "legacy ignores version headers and queries"
    );
    let bad = with(Op::List, "", "2.x");
    assert_eq!(kind(&nova(bad, &s)), OutcomeKind::BadMicroversion);
    let high = with(Op::List, "", "2.105");
    let d = nova(high, &s);
    assert_eq!(kind(&d), OutcomeKind::UnsupportedMicroversion);
    assert_eq!(
        message(&d),
        "Version 2.105 is not supported by the API. Minimum is 2.1 and maximum is 2.104."
    );
}

// ---- §1.5 / §7.3 policy -----------------------------------------------------

#[test]
fn spec_1_5_reader_reads_but_does_not_write() {
    let s = server(&[("a", "1")]);
    let token = format!("r:{PROJECT}:reader");
    assert_eq!(
        kind(&nova(Req::new(Op::List, "").with_token(&token), &s)),
        OutcomeKind::Ok
    );
    for w in writes() {
        let d = nova(w.with_token(&token), &s);
        assert_eq!(kind(&d), OutcomeKind::Forbidden);
        assert!(message(&d).starts_with("Policy doesn't allow os_compute_api:server-metadata:"));
    }
}

// ---- properties -------------------------------------------------------------

fn small_map() -> impl Strategy<Value = Metadata> {
    proptest::collection::btree_map("[a-c]{1,2}", "[x-z]{0,2}", 0..6)
}

fn body_of(wrapper: &str, map: &Metadata) -> String {
    serde_json::json!({ wrapper: map }).to_string()
}

proptest! {
    #[test]
    fn merge_is_union_with_request_winning(existing in small_map(), request in small_map()) {
        let mut s = server(&[]);
        s.metadata = existing.clone();
        let d = nova(Req::new(Op::Merge, &body_of("metadata", &request)), &s);
        let stored = d.store.expect("merge of valid keys succeeds");
        for (k, v) in &request {
            prop_assert_eq!(stored.get(k), Some(v));
        }
        for (k, v) in &existing {
            if !request.contains_key(k) {
                prop_assert_eq!(stored.get(k), Some(v));
            }
        }
        prop_assert_eq!(stored.len(), existing.keys().chain(request.keys()).collect::<std::collections::BTreeSet<_>>().len());
        prop_assert_eq!(d.outcome, Outcome::Success(Success::Metadata(stored)));
    }

    #[test]
    fn replace_stores_exactly_the_request(existing in small_map(), request in small_map()) {
        let mut s = server(&[]);
        s.metadata = existing;
        let d = nova(Req::new(Op::Replace, &body_of("metadata", &request)), &s);
        prop_assert_eq!(d.store, Some(request));
    }

    #[test]
    fn refused_requests_never_store(key in "\\PC{0,3}", value in "\\PC{0,3}", state_index in 0usize..11) {
        let mut s = server(&[]);
        s.vm_state = VmState::ALL[state_index];
        let d = nova(Req::new(Op::Merge, &merge_body(&key, &value)), &s);
        prop_assert_eq!(d.store.is_some(), d.outcome.kind() == OutcomeKind::Ok);
    }
}

// ---- §5.5 Huawei v1 codes ---------------------------------------------------

#[test]
fn spec_5_5_a_blank_v1_merge_body_cannot_be_blank() {
    let v1 = profile::builtin("ecs-v1").unwrap_or_else(|d| panic!("{d}"));
    for body in ["", "  \n"] {
        let d = Req::new(Op::Merge, body).run(&v1.rules, &server(&[]));
        assert_eq!(kind(&d), OutcomeKind::MalformedBody, "{body:?}");
        assert_eq!(message(&d), "Request body cannot be blank");
    }
    assert_eq!(
        v1.emit(OutcomeKind::MalformedBody),
        (400, Some("Common.0002"))
    );
    let not_json = Req::new(Op::Merge, "{").run(&v1.rules, &server(&[]));
    assert_eq!(kind(&not_json), OutcomeKind::MalformedBody);
}

// ---- §3.4 servers created with metadata --------------------------------------

/// `server_metadata` on `nova` and on legacy `/v2`, pinned to genuine Nova
/// 34's answers to `POST /servers` (measured on contrib/nova-peer,
/// 2026-12-05): `/v2`'s soft validator lets keys outside the pattern
/// through when every key is, and the compute API's
/// `_check_metadata_properties_quota` then checks them after the quota,
/// with its own messages, which `servers.py` `create` turns into 400.
#[test]
fn spec_3_4_create_metadata_on_v2_1_and_on_legacy_v2() {
    use metaconform::model::pipeline::server_metadata;
    use metaconform::model::pyjson::PyValue;
    let refusal = |rules: &ApiRules, map: serde_json::Value| match server_metadata(
        rules,
        &PyValue::from(&map),
    ) {
        Err(Outcome::Refused { kind, message }) => (kind, message),
        other => panic!("{map}: {other:?}"),
    };
    let nova = rules("nova");
    let legacy = rules("nova-legacy");
    let slash = serde_json::json!({"a/b": "v"});
    assert_eq!(refusal(&nova, slash.clone()).0, OutcomeKind::InvalidInput);
    let stored =
        server_metadata(&legacy, &PyValue::from(&slash)).unwrap_or_else(|o| panic!("{o:?}"));
    assert_eq!(stored.get("a/b").map(String::as_str), Some("v"));
    assert_eq!(
        refusal(&legacy, serde_json::json!({"": "v"})),
        (
            OutcomeKind::InvalidInput,
            "Invalid metadata:  has 0 characters, less than 1.".to_string()
        )
    );
    assert_eq!(
        refusal(&legacy, serde_json::json!({"a/b": 1})).1,
        "Invalid metadata: 1 is not a string or unicode"
    );
    // Nova 34: 500 (InvalidMetadataSize is caught nowhere); the 400 it intends.
    assert_eq!(
        refusal(&legacy, serde_json::json!({"k".repeat(256): "v"})).1,
        "Invalid metadata size: Metadata property key greater than 255 characters"
    );
    assert_eq!(
        refusal(&legacy, serde_json::json!({"a/b": "v".repeat(256)})).1,
        "Invalid metadata size: Metadata property value greater than 255 characters"
    );
    // The quota comes before the per-entry checks.
    let mut many: serde_json::Map<String, serde_json::Value> = (0..129)
        .map(|i| (format!("k/{i:03}"), serde_json::json!("v")))
        .collect();
    many.insert(String::new(), serde_json::json!("v"));
    let over = refusal(&legacy, serde_json::Value::Object(many));
    assert_eq!(over.0, OutcomeKind::OverQuota);
    assert_eq!(over.1, "Maximum number of metadata items exceeds 128");
    let mixed = refusal(&legacy, serde_json::json!({"a/b": "v", "ok": "1"}));
    assert!(
        mixed
            .1
            .contains("Additional properties are not allowed ('a/b' was unexpected)"),
        "{}",
        mixed.1
    );
}
